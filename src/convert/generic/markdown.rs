//! Markdown for DefectDojo descriptions: escaping, inline code, and arbitrary
//! JSON (secureCodeBox `attributes`) rendered as a readable nested list.
//!
//! This module owns how text looks inside a description; it knows nothing
//! about DefectDojo fields. The output is meant for both renderers it meets:
//! DefectDojo's (Python-Markdown, where nested lists need four spaces of
//! indentation and fenced code does not work inside lists) and CommonMark
//! (GitHub, most viewers). Hence: nested items are indented by four spaces
//! per level, multi-line strings become indented code blocks, and every
//! scalar value is an inline code span, so a value never turns into
//! emphasis, links or HTML.
//!
//! JSON is rendered while it is parsed ([`render_section`] drives a serde
//! visitor over the raw text): no `serde_json::Value` tree is built, and keys
//! keep their input order (a `Value` map would sort them). Nesting is bounded
//! by serde_json's recursion limit (128), which also bounds the recursion
//! here.
//!
//! Output goes to a [`Sink`]: text the sink may copy without escaping
//! (Markdown syntax, numbers, strings serde_json borrowed from its input) is
//! marked as plain, which lets the JSON writer skip its escaping pass for
//! most of a description.

use std::borrow::Cow;
use std::fmt::{self, Write};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::convert::generic::decimal::decimal;

/// A scalar found at the top level of a rendered object, handed to the
/// caller's capture callback (to pick a file path, a rule id, …).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// A string, borrowed from the raw JSON when it had no escapes.
    Str(Cow<'a, str>),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// A number with a fraction or exponent.
    F64(f64),
    /// `true` or `false`.
    Bool(bool),
}

/// Where Markdown is written.
///
/// `write_plain` receives only text that contains no `"`, no `\` and no
/// control characters, so a sink that escapes (a JSON string writer) may
/// copy it as it is. Strings that serde_json hands out *borrowed* from its
/// input are such text: an escape sequence in the input forces a copy, and
/// raw control characters are rejected while parsing.
pub trait Sink: Write {
    /// Writes text known to contain no `"`, `\` or control characters.
    fn write_plain(&mut self, s: &str) -> fmt::Result {
        self.write_str(s)
    }
}

impl Sink for String {}

/// Writes through [`Sink::write_plain`] (for formatted numbers).
struct Plain<'w, W>(&'w mut W);

impl<W: Sink> Write for Plain<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_plain(s)
    }
}

/// `s` through `write_plain` when `plain`, else through `write_str`.
fn put<W: Sink>(w: &mut W, s: &str, plain: bool) -> fmt::Result {
    if plain {
        w.write_plain(s)
    } else {
        w.write_str(s)
    }
}

/// Writes `s` as text that Markdown shows literally: emphasis, code and
/// link characters are backslash-escaped (an `_` only where it could start
/// or end emphasis, so `NOT_APPLICABLE` stays readable in the raw text),
/// and line breaks become spaces. `plain`: `s` is plain text in the sense of
/// [`Sink`].
pub fn text<W: Sink>(w: &mut W, s: &str, plain: bool) -> fmt::Result {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let replacement = match c {
            b'\\' | b'`' | b'*' | b'[' | b']' => None,
            b'_' => {
                let word = |j: Option<&u8>| j.is_some_and(|b| b.is_ascii_alphanumeric());
                let inner = i > 0 && word(bytes.get(i - 1)) && word(bytes.get(i + 1));
                if inner {
                    continue;
                }
                None
            }
            b'\n' | b'\r' | b'\t' => Some(" "),
            _ => continue,
        };
        put(w, &s[start..i], plain)?;
        match replacement {
            Some(r) => w.write_plain(r)?,
            None => {
                w.write_char('\\')?;
                w.write_char(c as char)?;
            }
        }
        start = i + 1;
    }
    put(w, &s[start..], plain)
}

/// Writes `s` (one line) as an inline code span, with a backtick fence
/// longer than any backtick run inside it. `plain`: `s` is plain text in
/// the sense of [`Sink`].
pub fn inline_code<W: Sink>(w: &mut W, s: &str, plain: bool) -> fmt::Result {
    // `<[u8]>::contains` is memchr-backed; most values have no backtick.
    if !s.as_bytes().contains(&b'`') {
        w.write_plain("`")?;
        put(w, s, plain)?;
        return w.write_plain("`");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.bytes() {
        if c == b'`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    fence(w, longest + 1)?;
    w.write_plain(pad)?;
    put(w, s, plain)?;
    w.write_plain(pad)?;
    fence(w, longest + 1)
}

/// `` `{sign}{digits}` ``
fn code_number<W: Sink>(w: &mut W, sign: &str, digits: &str) -> fmt::Result {
    w.write_plain("`")?;
    w.write_plain(sign)?;
    w.write_plain(digits)?;
    w.write_plain("`")
}

fn fence<W: Sink>(w: &mut W, n: usize) -> fmt::Result {
    for _ in 0..n {
        w.write_plain("`")?;
    }
    Ok(())
}

/// Whether `s` has a line break (memchr-backed, unlike a `char` pattern).
pub fn is_multi_line(s: &str) -> bool {
    let b = s.as_bytes();
    b.contains(&b'\n') || b.contains(&b'\r')
}

/// Writes `s` as an indented code block (every line prefixed by `indent`
/// spaces), preceded by a blank line and followed by a line break, so the
/// next list item or section starts cleanly.
fn code_block<W: Sink>(w: &mut W, indent: usize, s: &str) -> fmt::Result {
    w.write_char('\n')?;
    for line in s.lines() {
        w.write_char('\n')?;
        if !line.is_empty() {
            spaces(w, indent)?;
            w.write_str(line)?;
        }
    }
    w.write_char('\n')
}

fn spaces<W: Sink>(w: &mut W, n: usize) -> fmt::Result {
    const SPACES: &str = "                                ";
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        w.write_plain(&SPACES[..k])?;
        left -= k;
    }
    Ok(())
}

/// Renders the JSON text `raw` as a section `**{heading}:** …` and returns
/// whether anything was written.
///
/// An object becomes a list (`- **key:** value`, nested objects and arrays
/// as nested lists), a scalar follows the heading on its line. `null`, an
/// empty string, an empty object or an empty array write nothing at all (not
/// even `prefix`, which the caller uses to separate sections). For an
/// object, `capture` receives each top-level entry whose value is a
/// non-empty scalar.
///
/// ```
/// use dojo_hook::convert::generic::markdown::render_section;
/// let mut md = String::new();
/// render_section(&mut md, "\n\n", "Attributes", r#"{"port": 22, "ips": ["10.0.0.1"]}"#, &mut |_, _| {})?;
/// assert_eq!(md, "\n\n**Attributes:**\n\n- **port:** `22`\n- **ips:**\n    - `10.0.0.1`");
/// # Ok::<_, serde_json::Error>(())
/// ```
pub fn render_section<'a, W: Sink>(
    w: &mut W,
    prefix: &str,
    heading: &str,
    raw: &'a str,
    capture: &mut dyn FnMut(&str, Scalar<'a>),
) -> Result<bool, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let render = Render {
        w,
        slot: Slot::Top { prefix, heading },
        level: 0,
        capture: Some(capture),
        key: "",
    };
    let wrote = render.deserialize(&mut de)?;
    de.end()?;
    Ok(wrote)
}

/// The callback that receives top-level scalars.
type Capture<'c, 'a> = dyn FnMut(&str, Scalar<'a>) + 'c;

/// Where the value being rendered sits.
#[derive(Clone, Copy)]
enum Slot<'s> {
    /// The section itself; its heading is written on the first output.
    Top { prefix: &'s str, heading: &'s str },
    /// After `- **key:**` of an item at `level`.
    AfterKey,
    /// After `- ` of the `n`th (1-based) element of an array, at `level`.
    Item(usize),
}

/// One value to render: a serde seed and visitor in one.
struct Render<'r, 'c, 'a, W> {
    w: &'r mut W,
    slot: Slot<'r>,
    /// Nesting level of the list item holding this value.
    level: usize,
    /// Only set for the entries of the top-level object (and the top level
    /// itself, which hands it on).
    capture: Option<&'r mut Capture<'c, 'a>>,
    /// The key of this value, when `capture` is set.
    key: &'r str,
}

/// A fmt error can only come from the writer; turn it into a serde error so
/// it travels through the visitor.
fn wr<E: de::Error>(r: fmt::Result) -> Result<(), E> {
    r.map_err(|_| E::custom("writing the description failed"))
}

impl<'a, W: Sink> Render<'_, '_, 'a, W> {
    /// Level of the items that hold this value's children.
    fn child_level(&self) -> usize {
        match self.slot {
            Slot::Top { .. } => 0,
            _ => self.level + 1,
        }
    }

    /// Writes the section heading (Top only) before the first output.
    fn open(&mut self) -> fmt::Result {
        if let Slot::Top { prefix, heading } = self.slot {
            self.w.write_str(prefix)?;
            self.w.write_plain("**")?;
            self.w.write_str(heading)?;
            self.w.write_plain(":**")?;
        }
        Ok(())
    }

    /// Writes what goes before a one-line value.
    fn before_inline(&mut self) -> fmt::Result {
        self.open()?;
        match self.slot {
            Slot::Item(_) => Ok(()),
            _ => self.w.write_plain(" "),
        }
    }

    /// A marker for an empty or null value; the top level writes nothing.
    fn marker<E: de::Error>(mut self, what: &str) -> Result<bool, E> {
        if let Slot::Top { .. } = self.slot {
            return Ok(false);
        }
        wr(self.before_inline())?;
        wr(self.w.write_plain("*"))?;
        wr(self.w.write_str(what))?;
        wr(self.w.write_plain("*"))?;
        Ok(true)
    }

    /// A number or boolean as a code span. Integers and booleans skip
    /// `fmt` (most attributes are ports, counts and flags).
    fn scalar<E: de::Error>(mut self, s: Scalar<'a>) -> Result<bool, E> {
        wr(self.before_inline())?;
        let mut digits = [0u8; 20];
        let w = &mut *self.w;
        wr(match &s {
            Scalar::Bool(true) => w.write_plain("`true`"),
            Scalar::Bool(false) => w.write_plain("`false`"),
            Scalar::U64(n) => code_number(w, "", decimal(*n, &mut digits)),
            Scalar::I64(n) if *n < 0 => code_number(w, "-", decimal(n.unsigned_abs(), &mut digits)),
            Scalar::I64(n) => code_number(w, "", decimal(n.unsigned_abs(), &mut digits)),
            // Debug keeps a short exponent form for big and small numbers
            // (`1e300`), where Display would print all the digits.
            Scalar::F64(v) => write!(Plain(&mut *w), "`{v:?}`"),
            Scalar::Str(v) => inline_code(w, v, false),
        })?;
        self.captured(s);
        Ok(true)
    }

    /// A string; `plain` when serde_json borrowed it (see [`Sink`]).
    fn string<E: de::Error>(
        mut self,
        v: &str,
        plain: bool,
        s: impl FnOnce() -> Scalar<'a>,
    ) -> Result<bool, E> {
        if v.is_empty() {
            return self.marker("empty string");
        }
        if is_multi_line(v) {
            wr(self.open())?;
            let indent = match self.slot {
                Slot::Top { .. } => 4,
                Slot::Item(n) => {
                    // An item cannot start with a code block: label it.
                    wr(write!(Plain(&mut *self.w), "**#{n}**"))?;
                    4 * self.level + 8
                }
                Slot::AfterKey => 4 * self.level + 8,
            };
            wr(code_block(self.w, indent, v))?;
        } else {
            wr(self.before_inline())?;
            wr(inline_code(self.w, v, plain))?;
        }
        if self.capture.is_some() {
            self.captured(s());
        }
        Ok(true)
    }

    /// Hands a scalar entry of the top-level object to the capture.
    fn captured(self, s: Scalar<'a>) {
        if let (Slot::AfterKey, Some(cap)) = (self.slot, self.capture) {
            cap(self.key, s);
        }
    }

    /// Writes what goes before the first child of an object or array.
    fn open_container(&mut self) -> fmt::Result {
        self.open()?;
        match self.slot {
            // blank line between heading and list
            Slot::Top { .. } => self.w.write_char('\n'),
            Slot::Item(n) => write!(Plain(&mut *self.w), "**#{n}**"),
            Slot::AfterKey => Ok(()),
        }
    }
}

impl<'de, W: Sink> DeserializeSeed<'de> for Render<'_, '_, 'de, W> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, W: Sink> Visitor<'de> for Render<'_, '_, 'de, W> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.scalar(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.scalar(Scalar::I64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.scalar(Scalar::U64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.scalar(Scalar::F64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.string(v, false, || Scalar::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<bool, E> {
        self.string(v, true, || Scalar::Str(Cow::Borrowed(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.marker("null")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        self.marker("null")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<bool, A::Error> {
        let level = self.child_level();
        let mut n = 0;
        // Each element writes its own bullet (and the first one the
        // container's opening), because the end of an array is only known
        // after asking for one more element.
        while seq
            .next_element_seed(ListItem {
                parent: &mut self,
                n: n + 1,
                level,
            })?
            .is_some()
        {
            n += 1;
        }
        if n == 0 {
            return self.marker("empty list");
        }
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<bool, A::Error> {
        let level = self.child_level();
        let mut any = false;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !any {
                wr(self.open_container())?;
                any = true;
            }
            wr(self.w.write_char('\n'))?;
            wr(spaces(self.w, 4 * level))?;
            wr(self.w.write_plain("- **"))?;
            wr(text(self.w, &key, matches!(key, Cow::Borrowed(_))))?;
            wr(self.w.write_plain(":**"))?;
            let capture = match (&self.slot, self.capture.as_deref_mut()) {
                (Slot::Top { .. }, Some(cap)) => Some(cap),
                _ => None,
            };
            let child = Render {
                w: &mut *self.w,
                slot: Slot::AfterKey,
                level,
                capture,
                key: &key,
            };
            map.next_value_seed(child)?;
        }
        if any {
            Ok(true)
        } else {
            self.marker("empty object")
        }
    }
}

/// The `n`th element of an array (1-based), rendered as a list item.
struct ListItem<'p, 'r, 'c, 'a, W> {
    parent: &'p mut Render<'r, 'c, 'a, W>,
    n: usize,
    level: usize,
}

impl<'de, W: Sink> DeserializeSeed<'de> for ListItem<'_, '_, '_, 'de, W> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.n == 1 {
            wr(self.parent.open_container())?;
        }
        let w = &mut *self.parent.w;
        wr(w.write_char('\n'))?;
        wr(spaces(w, 4 * self.level))?;
        wr(w.write_plain("- "))?;
        let child = Render {
            w,
            slot: Slot::Item(self.n),
            level: self.level,
            capture: None,
            key: "",
        };
        child.deserialize(d).map(|_| ())
    }
}

/// Reads an object key, borrowing it when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(raw: &str) -> String {
        let mut md = String::new();
        render_section(&mut md, "PREFIX", "Attributes", raw, &mut |_, _| {}).unwrap();
        md
    }

    #[test]
    fn nested_objects_and_arrays_keep_input_order() {
        let raw = r#"{"zeta": 1, "alpha": {"b": [1, "two", {"x": null}], "a": true},
                      "list": [[], [3]], "f": 1.5, "big": 1e300, "neg": -7, "empty": {}}"#;
        let want = "PREFIX**Attributes:**\n\
            \n- **zeta:** `1`\
            \n- **alpha:**\
            \n    - **b:**\
            \n        - `1`\
            \n        - `two`\
            \n        - **#3**\
            \n            - **x:** *null*\
            \n    - **a:** `true`\
            \n- **list:**\
            \n    - *empty list*\
            \n    - **#2**\
            \n        - `3`\
            \n- **f:** `1.5`\
            \n- **big:** `1e300`\
            \n- **neg:** `-7`\
            \n- **empty:** *empty object*";
        assert_eq!(render(raw), want);
    }

    #[test]
    fn strings_become_code_spans_or_code_blocks() {
        let raw = r#"{"evidence": "", "tick": "a`b", "edge": "`x", "multi": "line 1\n\n  line 3\r\nend", "after": "x"}"#;
        let want = "PREFIX**Attributes:**\n\
            \n- **evidence:** *empty string*\
            \n- **tick:** ``a`b``\
            \n- **edge:** `` `x ``\
            \n- **multi:**\
            \n\
            \n        line 1\
            \n\
            \n          line 3\
            \n        end\
            \n\
            \n- **after:** `x`";
        assert_eq!(render(raw), want);
        // in an array the code block needs a label to hang from
        assert_eq!(
            render(r#"{"a": ["x\ny"]}"#),
            "PREFIX**Attributes:**\n\n- **a:**\n    - **#1**\n\n            x\n            y\n"
        );
    }

    #[test]
    fn empty_or_null_sections_write_nothing() {
        for raw in ["null", "{}", "[]", "\"\"", " { } "] {
            let mut md = String::new();
            let wrote = render_section(&mut md, "PREFIX", "A", raw, &mut |_, _| {}).unwrap();
            assert!(!wrote && md.is_empty(), "{raw}: {md:?}");
        }
    }

    #[test]
    fn non_object_sections() {
        assert_eq!(render("42"), "PREFIX**Attributes:** `42`");
        assert_eq!(
            render("\"a\\nb\""),
            "PREFIX**Attributes:**\n\n    a\n    b\n"
        );
        assert_eq!(
            render(r#"["a", {"k": "v"}]"#),
            "PREFIX**Attributes:**\n\n- `a`\n- **#2**\n    - **k:** `v`"
        );
    }

    #[test]
    fn numbers_and_booleans_as_fmt_would_write_them() {
        let json = format!(
            r#"{{"a": 0, "b": {}, "c": {}, "d": -7, "e": true, "f": false, "g": 1.5, "h": 1e300}}"#,
            u64::MAX,
            i64::MIN
        );
        let mut md = String::new();
        render_section(&mut md, "", "A", &json, &mut |_, _| {}).unwrap();
        let want = format!(
            "**A:**\n\n- **a:** `0`\n- **b:** `{}`\n- **c:** `{}`\n- **d:** `-7`\n- **e:** `true`\
             \n- **f:** `false`\n- **g:** `1.5`\n- **h:** `1e300`",
            u64::MAX,
            i64::MIN
        );
        assert_eq!(md, want);
    }

    #[test]
    fn keys_are_escaped() {
        assert_eq!(
            render(r#"{"a*b_c [x]\n": 1, "_id": 2, "NOT_APPLICABLE": 3}"#),
            "PREFIX**Attributes:**\n\n- **a\\*b_c \\[x\\] :** `1`\n- **\\_id:** `2`\n- **NOT_APPLICABLE:** `3`"
        );
    }

    #[test]
    fn captures_top_level_scalars_only() {
        let raw = r#"{"file": "src/a.py", "line": 7, "esc": "a\"b", "n": null, "e": "",
                      "deep": {"file": "no"}, "arr": ["no"], "ok": true, "neg": -1, "f": 0.5}"#;
        let mut seen = Vec::new();
        let mut md = String::new();
        render_section(&mut md, "", "A", raw, &mut |k, v| {
            seen.push((k.to_owned(), v))
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                ("file".to_owned(), Scalar::Str(Cow::Borrowed("src/a.py"))),
                ("line".to_owned(), Scalar::U64(7)),
                ("esc".to_owned(), Scalar::Str(Cow::Owned("a\"b".to_owned()))),
                ("ok".to_owned(), Scalar::Bool(true)),
                ("neg".to_owned(), Scalar::I64(-1)),
                ("f".to_owned(), Scalar::F64(0.5)),
            ]
        );
        assert!(matches!(&seen[0].1, Scalar::Str(Cow::Borrowed(_))));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let raw = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let mut md = String::new();
        let err = render_section(&mut md, "", "A", &raw, &mut |_, _| {}).unwrap_err();
        assert!(
            err.to_string().contains("recursion limit exceeded"),
            "{err}"
        );
        // 100 levels are fine
        let raw = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(render_section(&mut String::new(), "", "A", &raw, &mut |_, _| {}).is_ok());
    }

    #[test]
    fn text_escaping() {
        let mut s = String::new();
        text(&mut s, "a*b `c` [d](e) \\ f_g _h_ x\ny\tz", false).unwrap();
        assert_eq!(s, "a\\*b \\`c\\` \\[d\\](e) \\\\ f_g \\_h\\_ x y z");
    }
}
