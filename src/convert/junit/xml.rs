//! XML 1.0 escaping, written straight into a writer: the one place that
//! decides which characters of untrusted text (titles, descriptions, paths)
//! reach the JUnit report and how.
//!
//! No CDATA: everything is escaped character data, so `]]>` is harmless by
//! construction. Characters XML 1.0 cannot carry at all (C0 controls other
//! than tab, LF and CR; U+FFFE; U+FFFF), and the other control characters
//! (DEL, C1) and the bidirectional controls, are not dropped but written
//! as the visible text `\u0001`: even a character reference (`&#1;`) to the
//! former is not well-formed.

use std::fmt;
use std::io::{self, Write};

/// Where escaped text goes; attributes escape more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum XmlContext {
    /// Character data between tags.
    Text,
    /// A value in double quotes.
    Attribute,
}

/// What one character becomes.
enum Escaped {
    /// An entity or character reference.
    Reference(&'static str),
    /// A character XML 1.0 forbids, shown as `\uXXXX`.
    Visible(u32),
}

/// `Char` of XML 1.0 (5th ed.) §2.2 (Rust's `char` holds no surrogates),
/// less DEL and the C1 controls: XML 1.0 allows them but discourages them,
/// XML 1.1 requires them escaped, and a CI log that prints a report must
/// not get terminal control sequences (C1's CSI is one) from a scanner.
/// Less the bidirectional, separator and zero-width characters too
/// ([`crate::util::text::is_hidden`]): a test report shown in a pull request
/// must not read differently from what it holds.
fn allowed(c: char) -> bool {
    (matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}')
        && !crate::util::text::is_hidden(c)
}

fn escaped(c: char, context: XmlContext) -> Option<Escaped> {
    let attribute = context == XmlContext::Attribute;
    let reference = match c {
        '&' => "&amp;",
        '<' => "&lt;",
        '>' => "&gt;",
        '"' if attribute => "&quot;",
        '\'' if attribute => "&apos;",
        // Attribute-value normalisation turns a literal tab or LF into a
        // space; a reference survives it.
        '\t' if attribute => "&#9;",
        '\n' if attribute => "&#10;",
        // End-of-line handling turns a literal CR (or CR LF) into LF, in
        // text as well as in attributes; a reference survives it.
        '\r' => "&#13;",
        c if allowed(c) => return None,
        c => return Some(Escaped::Visible(c as u32)),
    };
    Some(Escaped::Reference(reference))
}

/// Writes `s` escaped for `context`.
///
/// In text, a `:` that starts a line (after spaces or tabs) and is followed
/// by another `:`, or ends `s`, is written as `&#58;`: a CI step that prints
/// the report must not see a line starting with `::`, which GitHub Actions
/// runs as a workflow command. (A reader of the XML gets the same `:`; an
/// attribute holds no line break at all.) `s` is taken to start a line.
pub(super) fn escape(out: &mut dyn Write, s: &str, context: XmlContext) -> io::Result<()> {
    escape_from(out, s, context, true).map(drop)
}

/// [`escape`] of a piece that starts a line when `line_start`; returns
/// whether the next piece does.
fn escape_from(
    out: &mut dyn Write,
    s: &str,
    context: XmlContext,
    mut line_start: bool,
) -> io::Result<bool> {
    let bytes = s.as_bytes();
    let mut clean = 0;
    let mut i = 0;
    while i < bytes.len() {
        // The common case first: printable ASCII that is never escaped and
        // does not keep a line's start (a space does, and changes nothing).
        match bytes[i] {
            b' ' => {
                i += 1;
                continue;
            }
            b'!'..=b'~' if !matches!(bytes[i], b'&' | b'<' | b'>' | b'"' | b'\'' | b':') => {
                line_start = false;
                i += 1;
                continue;
            }
            _ => {}
        }
        let c = s[i..].chars().next().expect("i is at a char boundary");
        let at_start = line_start;
        line_start = c == '\n' || (line_start && c == '\t');
        let command = c == ':'
            && at_start
            && context == XmlContext::Text
            && matches!(bytes.get(i + 1), None | Some(b':'));
        let e = match escaped(c, context) {
            None if command => Escaped::Reference("&#58;"),
            None => {
                i += c.len_utf8();
                continue;
            }
            Some(e) => e,
        };
        out.write_all(&bytes[clean..i])?;
        match e {
            Escaped::Reference(r) => out.write_all(r.as_bytes())?,
            Escaped::Visible(u) => write!(out, "\\u{u:04X}")?,
        }
        i += c.len_utf8();
        clean = i;
    }
    out.write_all(&bytes[clean..])?;
    Ok(line_start)
}

/// How many characters `c` is once escaped, as a reader of the parsed
/// document sees it: a forbidden character shows as six (`\u0001`).
fn width(c: char) -> usize {
    if allowed(c) { 1 } else { 6 }
}

/// Writes the formatted `args` escaped for `context`, cut to at most `max`
/// characters (`max` ≥ 1; counted by [`width`], never inside one), the last
/// of them `…` when the text was longer. Nothing is built in memory.
pub(super) fn escape_capped(
    out: &mut dyn Write,
    context: XmlContext,
    max: usize,
    args: fmt::Arguments<'_>,
) -> io::Result<()> {
    let mut capped = CappedWriter {
        out,
        context,
        line_start: true,
        left: max,
        tail: ['\0'; 6],
        tail_len: 0,
        tail_width: 0,
        cut: false,
        error: None,
    };
    if fmt::write(&mut capped, args).is_err() {
        // Only our write_str fails, and it keeps the reason.
        return Err(capped
            .error
            .unwrap_or_else(|| io::Error::other("formatting failed")));
    }
    let mut buf = [0; 4];
    if capped.cut {
        return escape(capped.out, "…", context);
    }
    let mut line_start = capped.line_start;
    for c in &capped.tail[..capped.tail_len] {
        line_start = escape_from(capped.out, c.encode_utf8(&mut buf), context, line_start)?;
    }
    Ok(())
}

/// The `fmt::Write` behind [`escape_capped`]. Characters go out at once
/// while they leave room for the `…`; the last few that would not wait in
/// `tail`, as they are written only if nothing follows them (else `…`
/// takes their place). `tail` ends up holding at most one `width` worth
/// of room, so six characters.
struct CappedWriter<'w> {
    out: &'w mut dyn Write,
    context: XmlContext,
    /// Whether what is written next starts a line ([`escape_from`]).
    line_start: bool,
    /// Room left, in characters, counting `tail`'s.
    left: usize,
    tail: [char; 6],
    tail_len: usize,
    tail_width: usize,
    cut: bool,
    error: Option<io::Error>,
}

impl fmt::Write for CappedWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.cut {
            return Ok(());
        }
        let mut split = s.len();
        if self.tail_len == 0 {
            for (i, c) in s.char_indices() {
                let w = width(c);
                if w >= self.left {
                    split = i;
                    break;
                }
                self.left -= w;
            }
        } else {
            split = 0;
        }
        let (now, later) = s.split_at(split);
        match escape_from(self.out, now, self.context, self.line_start) {
            Ok(line_start) => self.line_start = line_start,
            Err(e) => {
                self.error = Some(e);
                return Err(fmt::Error);
            }
        }
        for c in later.chars() {
            let w = width(c);
            if self.tail_width + w > self.left {
                self.cut = true;
                return Ok(());
            }
            self.tail[self.tail_len] = c;
            self.tail_len += 1;
            self.tail_width += w;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut out = Vec::new();
        escape(&mut out, s, XmlContext::Text).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn attribute(s: &str) -> String {
        let mut out = Vec::new();
        escape(&mut out, s, XmlContext::Attribute).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn capped(max: usize, s: &str) -> String {
        let mut out = Vec::new();
        escape_capped(&mut out, XmlContext::Text, max, format_args!("{s}")).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escaping_table() {
        // (input, as text, as attribute)
        let table = [
            ("", "", ""),
            ("plain", "plain", "plain"),
            ("&", "&amp;", "&amp;"),
            ("<", "&lt;", "&lt;"),
            (">", "&gt;", "&gt;"),
            ("\"", "\"", "&quot;"),
            ("'", "'", "&apos;"),
            ("&amp;", "&amp;amp;", "&amp;amp;"),
            (
                "a<b>&\"c'",
                "a&lt;b&gt;&amp;\"c'",
                "a&lt;b&gt;&amp;&quot;c&apos;",
            ),
            ("\t", "\t", "&#9;"),
            ("\n", "\n", "&#10;"),
            ("\r", "&#13;", "&#13;"),
            ("a\r\nb", "a&#13;\nb", "a&#13;&#10;b"),
            ("\u{0}", "\\u0000", "\\u0000"),
            ("\u{1}", "\\u0001", "\\u0001"),
            (
                "\u{8}\u{b}\u{c}",
                "\\u0008\\u000B\\u000C",
                "\\u0008\\u000B\\u000C",
            ),
            ("\u{1b}[31mred", "\\u001B[31mred", "\\u001B[31mred"),
            ("\u{1f}", "\\u001F", "\\u001F"),
            ("\u{FFFE}", "\\uFFFE", "\\uFFFE"),
            ("\u{FFFF}", "\\uFFFF", "\\uFFFF"),
            // Allowed, if discouraged, but control characters all the same.
            (
                "\u{7f}\u{85}\u{9b}",
                "\\u007F\\u0085\\u009B",
                "\\u007F\\u0085\\u009B",
            ),
            // Trojan Source: bidirectional controls, separators, zero width.
            (
                "a\u{202E}b\u{2028}\u{200B}",
                "a\\u202Eb\\u2028\\u200B",
                "a\\u202Eb\\u2028\\u200B",
            ),
            ("\u{a0}\u{FFFD}", "\u{a0}\u{FFFD}", "\u{a0}\u{FFFD}"),
            ("\u{D7FF}\u{E000}", "\u{D7FF}\u{E000}", "\u{D7FF}\u{E000}"),
            (
                "\u{10000}\u{10FFFF}",
                "\u{10000}\u{10FFFF}",
                "\u{10000}\u{10FFFF}",
            ),
            ("🔥 é 漢", "🔥 é 漢", "🔥 é 漢"),
            ("]]>", "]]&gt;", "]]&gt;"),
            (
                "<![CDATA[x]]>",
                "&lt;![CDATA[x]]&gt;",
                "&lt;![CDATA[x]]&gt;",
            ),
            ("&#1;", "&amp;#1;", "&amp;#1;"),
            // No line of the report starts with a workflow command.
            (
                "::error::x\n \t::add-mask::y a::b\n:z",
                "&#58;:error::x\n \t&#58;:add-mask::y a::b\n:z",
                "::error::x&#10; &#9;::add-mask::y a::b&#10;:z",
            ),
        ];
        for (input, as_text, as_attribute) in table {
            assert_eq!(text(input), as_text, "text {input:?}");
            assert_eq!(attribute(input), as_attribute, "attribute {input:?}");
        }
    }

    #[test]
    fn every_char_outside_xml_is_made_visible() {
        for u in (0..0x20).chain([0xFFFE, 0xFFFF]) {
            let c = char::from_u32(u).unwrap();
            let shown = format!("\\u{u:04X}");
            if matches!(c, '\t' | '\n' | '\r') {
                assert!(allowed(c));
                continue;
            }
            assert!(!allowed(c), "{u:#x}");
            assert_eq!(text(&format!("a{c}b")), format!("a{shown}b"));
            assert_eq!(attribute(&format!("a{c}b")), format!("a{shown}b"));
        }
    }

    #[test]
    fn escaped_output_holds_only_safe_chars() {
        let all: String = (0..0x11_0000).filter_map(char::from_u32).collect();
        for out in [text(&all), attribute(&all)] {
            assert!(out.chars().all(allowed));
            // Every `&` starts one of our references; no raw `<` or `>`.
            assert!(!out.contains(['<', '>']));
            for (i, _) in out.match_indices('&') {
                let rest = &out[i..];
                assert!(
                    [
                        "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#9;", "&#10;", "&#13;",
                        "&#58;"
                    ]
                    .iter()
                    .any(|r| rest.starts_with(r)),
                    "{:?}",
                    &rest[..8]
                );
            }
        }
        assert!(!attribute(&all).contains(['"', '\'', '\t', '\n', '\r']));
    }

    #[test]
    fn caps_at_a_char_boundary_with_an_ellipsis() {
        assert_eq!(capped(5, ""), "");
        assert_eq!(capped(5, "abcd"), "abcd");
        assert_eq!(capped(5, "abcde"), "abcde");
        assert_eq!(capped(5, "abcdef"), "abcd…");
        assert_eq!(capped(3, "ééé"), "ééé");
        assert_eq!(capped(3, "🔥🔥🔥🔥"), "🔥🔥…");
        assert_eq!(capped(1, "a"), "a");
        assert_eq!(capped(1, "ab"), "…");
        // References are not counted and never cut.
        assert_eq!(capped(3, "<<<<"), "&lt;&lt;…");
        assert_eq!(capped(3, "<<<"), "&lt;&lt;&lt;");
        // A forbidden char counts as the six it shows as, never cut.
        assert_eq!(capped(6, "\u{1}"), "\\u0001");
        assert_eq!(capped(6, "\u{1}x"), "…");
        assert_eq!(capped(7, "\u{1}x"), "\\u0001x");
        assert_eq!(capped(7, "ab\u{1}"), "ab…");
        assert_eq!(capped(8, "ab\u{1}"), "ab\\u0001");
        assert_eq!(capped(9, "ab\u{1}\u{1}"), "ab\\u0001…");
        assert_eq!(capped(2, "\u{1}\u{1}"), "…");
    }

    #[test]
    fn a_workflow_command_split_across_pieces_is_still_escaped() {
        struct Pieces<'p>(&'p [&'p str]);
        impl fmt::Display for Pieces<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.iter().try_for_each(|p| f.write_str(p))
            }
        }
        let write = |pieces: &[&str], max: usize| {
            let mut out = Vec::new();
            let args = format_args!("{}", Pieces(pieces));
            escape_capped(&mut out, XmlContext::Text, max, args).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(write(&["a\n:", ":error::x"], 100), "a\n&#58;:error::x");
        assert_eq!(write(&["src/db.rs", ":", "12"], 100), "src/db.rs:12");
        // Through the last characters held back for the ellipsis too.
        let shown = write(&["abcdef\n", "::x"], 10);
        assert!(shown.contains("\n&#58;:x"), "{shown}");
        assert!(shown.lines().all(|l| !l.starts_with("::")), "{shown}");
    }

    #[test]
    fn caps_across_formatted_pieces() {
        let mut out = Vec::new();
        let args = format_args!("{} @ {}:{}", "abc", "src/<x>.rs", 12);
        escape_capped(&mut out, XmlContext::Attribute, 12, args).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "abc @ src/&lt;…");

        let mut out = Vec::new();
        let args = format_args!("{}{}{}", "ab", "", "c");
        escape_capped(&mut out, XmlContext::Text, 3, args).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "abc");
    }

    #[test]
    fn write_errors_come_back() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let err = escape_capped(&mut Full, XmlContext::Text, 10, format_args!("x")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        let err = escape(&mut Full, "x", XmlContext::Text).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }
}
