//! The Markdown description and the references of a generic finding, its
//! title, and the values picked from the attributes while they are rendered.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use super::NO_DESCRIPTION;
use super::json::{JsonStr, is_plain};
use super::{TITLE_MAX_CHARS, UNTITLED};
use crate::convert::generic::markdown::{self, Scalar, Sink};
use crate::scan::finding as scb;

/// Writes the Markdown description (see the module docs for its layout).
pub(super) fn write_description<'a>(
    f: &scb::Finding<'a>,
    title: &DojoTitle<'_>,
    location: Option<&str>,
    picks: &mut Picks<'a>,
    w: &mut JsonStr<'_>,
) -> Result<(), String> {
    // JsonStr cannot fail; the fmt::Results below are only for `?`.
    let fmt_err = |_| "writing the description failed".to_owned();
    let mut sep = "";
    let plain = |v: &Option<Cow<'_, str>>| is_plain(v.as_ref());
    if let Some(d) = nonblank(&f.description) {
        // Leading blank lines and trailing whitespace carry nothing; inner
        // indentation may (code), so the rest is kept as the scanner wrote it.
        let d = d.trim_end().trim_start_matches(['\n', '\r']);
        if plain(&f.description) {
            w.write_plain(d).map_err(fmt_err)?;
        } else {
            w.write_str(d).map_err(fmt_err)?;
        }
        sep = "\n\n";
    }
    if title.changed {
        w.write_str(sep).map_err(fmt_err)?;
        w.write_plain("**Name:** ").map_err(fmt_err)?;
        let name = f.name.as_deref().unwrap_or("");
        markdown::text(w, name, plain(&f.name)).map_err(fmt_err)?;
        sep = "\n\n";
    }
    if let Some(loc) = location {
        w.write_str(sep).map_err(fmt_err)?;
        w.write_plain("**Location:** ").map_err(fmt_err)?;
        if markdown::is_multi_line(loc) {
            markdown::text(w, loc, false).map_err(fmt_err)?;
        } else {
            markdown::inline_code(w, loc, plain(&f.location)).map_err(fmt_err)?;
        }
        sep = "\n\n";
    }
    for (label, value) in [("Category", &f.category), ("OSI layer", &f.osi_layer)] {
        if let Some(v) = nonblank(value) {
            w.write_str(sep).map_err(fmt_err)?;
            w.write_plain("**").map_err(fmt_err)?;
            w.write_plain(label).map_err(fmt_err)?;
            w.write_plain(":** ").map_err(fmt_err)?;
            markdown::text(w, v, plain(value)).map_err(fmt_err)?;
            sep = "\n\n";
        }
    }
    if let Some(raw) = f.reference {
        // kube-hunter writes {"id": "KHV050", "source": "https://…"}
        let mut reference_id = None;
        let wrote = markdown::render_section(w, sep, "Reference", raw.get(), &mut |k, v| {
            if k == "id" && reference_id.is_none() {
                reference_id = id_text(v);
            }
        })
        .map_err(|e| format!("reference: {e}"))?;
        if wrote {
            sep = "\n\n";
        }
        picks.rule = reference_id;
    }
    if let Some(raw) = f.attributes {
        // A rule id among the attributes wins over the reference's id.
        let from_reference = picks.rule.take();
        let wrote = markdown::render_section(w, sep, "Attributes", raw.get(), &mut |k, v| {
            picks.take(k, v)
        })
        .map_err(|e| format!("attributes: {e}"))?;
        if wrote {
            sep = "\n\n";
        }
        picks.rule = picks.rule.take().or(from_reference);
    }
    if sep.is_empty() {
        w.write_str(NO_DESCRIPTION).map_err(fmt_err)?;
    }
    Ok(())
}

/// The references as a Markdown list: URLs as autolinks, others as
/// `TYPE: value`.
pub(super) fn write_references(refs: &[scb::Reference<'_>], w: &mut JsonStr<'_>) -> fmt::Result {
    let mut first = true;
    for r in refs {
        let Some(value) = nonblank(&r.value) else {
            continue;
        };
        let value = value.trim();
        if !first {
            w.write_char('\n')?;
        }
        first = false;
        let value_plain = is_plain(r.value.as_ref());
        let kind_plain = is_plain(r.kind.as_ref());
        w.write_plain("- ")?;
        let kind = nonblank(&r.kind).map(str::trim);
        let is_url = value.starts_with("https://") || value.starts_with("http://");
        if is_url && !value.contains(|c: char| c.is_whitespace() || c == '<' || c == '>') {
            if let Some(kind) = kind.filter(|k| !k.eq_ignore_ascii_case("URL")) {
                markdown::text(w, kind, kind_plain)?;
                w.write_plain(": ")?;
            }
            w.write_plain("<")?;
            if value_plain {
                w.write_plain(value)?;
            } else {
                w.write_str(value)?;
            }
            w.write_plain(">")?;
        } else {
            if let Some(kind) = kind {
                markdown::text(w, kind, kind_plain)?;
                w.write_plain(": ")?;
            }
            markdown::text(w, value, value_plain)?;
        }
    }
    Ok(())
}

/// Vulnerability ids (`CVE-…`, `GHSA-…`, …) from references that are
/// neither URLs nor CWEs, without duplicates.
pub(super) fn vulnerability_ids<'r>(refs: &'r [scb::Reference<'_>]) -> Vec<&'r str> {
    let mut ids: Vec<&str> = Vec::new();
    for r in refs {
        let kind = r.kind.as_deref().unwrap_or("").trim();
        if ["URL", "CWE", "LINK"]
            .iter()
            .any(|k| kind.eq_ignore_ascii_case(k))
        {
            continue;
        }
        if let Some(v) = r
            .value
            .as_deref()
            .map(str::trim)
            .filter(|v| is_vulnerability_id(v))
        {
            if !ids.contains(&v) {
                ids.push(v);
            }
        }
    }
    ids
}

/// An advisory identifier: starts with a letter, has a `-`, and is made of
/// letters, digits, `-`, `_`, `.` and `:` (CVE-2024-1, GHSA-xxxx-…, RUSTSEC-…).
pub(super) fn is_vulnerability_id(v: &str) -> bool {
    v.len() <= VULNERABILITY_ID_MAX_CHARS
        && v.starts_with(|c: char| c.is_ascii_alphabetic())
        && v.contains('-')
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

/// `CWE-79`, `cwe-79: Improper…`, `79` → 79. Zero and negatives (ZAP uses
/// `-1` and `0` for "none") are `None`.
pub(super) fn parse_cwe(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = if s.len() >= 4 && s.is_char_boundary(4) && s[..4].eq_ignore_ascii_case("CWE-") {
        &s[4..]
    } else {
        s
    };
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    s[..digits]
        .parse::<u32>()
        .ok()
        .filter(|&n| n > 0 && n <= i32::MAX as u32)
}

/// `Vulnerability_Id.vulnerability_id` is declared with `max_length=50`.
pub(super) const VULNERABILITY_ID_MAX_CHARS: usize = 50;

/// A DefectDojo title made from a secureCodeBox name.
pub(super) struct DojoTitle<'a> {
    pub(super) text: Cow<'a, str>,
    /// The title is not the name (cut short or control characters
    /// replaced), so the description must carry the full name.
    pub(super) changed: bool,
}

/// `name` as a title: control characters become spaces, surrounding
/// whitespace goes, and it is cut to [`TITLE_MAX_CHARS`] characters at a
/// character boundary, ending in `…`. No name gives [`UNTITLED`].
pub(super) fn title_of(name: &str) -> DojoTitle<'_> {
    let has_control = name.trim().chars().any(char::is_control);
    // Control characters at the ends would become blanks at the ends, and a
    // name of only those a blank title.
    let trimmed = name.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    if trimmed.is_empty() {
        return DojoTitle {
            text: Cow::Borrowed(UNTITLED),
            changed: has_control,
        };
    }
    let text: Cow<'_, str> = if has_control {
        Cow::Owned(
            trimmed
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(trimmed)
    };
    if text.len() <= TITLE_MAX_CHARS || text.chars().count() <= TITLE_MAX_CHARS {
        return DojoTitle {
            text,
            changed: has_control,
        };
    }
    // Keep TITLE_MAX_CHARS - 1 characters and add the ellipsis.
    let cut = text
        .char_indices()
        .nth(TITLE_MAX_CHARS - 1)
        .map_or(text.len(), |(i, _)| i);
    let mut short = text[..cut].trim_end().to_owned();
    short.push('…');
    DojoTitle {
        text: Cow::Owned(short),
        changed: true,
    }
}

/// Values picked from the top-level attributes while they are rendered.
#[derive(Default)]
pub(super) struct Picks<'a> {
    pub(super) file: Option<Cow<'a, str>>,
    pub(super) line: Option<u64>,
    pub(super) rule: Option<Cow<'a, str>>,
    pub(super) cwe: Option<u32>,
    pub(super) package: Option<Cow<'a, str>>,
    pub(super) version: Option<Cow<'a, str>>,
}

impl<'a> Picks<'a> {
    /// Takes the first usable value of each kind (keys as secureCodeBox
    /// parsers write them: gitleaks `file`/`line_number`, trivy
    /// `foundIn`/`packageName`/`installedVersion`, ZAP `zap_pluginid`/
    /// `zap_cweid`, nikto `niktoId`, semgrep `cwe`, …).
    pub(super) fn take(&mut self, key: &str, v: Scalar<'a>) {
        match key {
            "file" | "file_path" | "filePath" | "filename" | "foundIn" if self.file.is_none() => {
                self.file = one_line(v);
            }
            // gitleaks' `line` is the matched text, not a number; DefectDojo
            // stores the line in an IntegerField (i32).
            "line_number" | "lineNumber" | "line" | "start_line" | "startLine"
                if self.line.is_none() =>
            {
                if let Scalar::U64(n) = v {
                    self.line = (n <= i32::MAX as u64).then_some(n);
                }
            }
            "rule_id" | "ruleId" | "rule" | "check_id" | "checkId" | "zap_pluginid"
            | "pluginId" | "plugin_id" | "niktoId" | "template_id" | "templateId"
            | "template-id"
                if self.rule.is_none() =>
            {
                self.rule = id_text(v);
            }
            "cwe" | "cwe_id" | "cweId" | "cweid" | "zap_cweid" if self.cwe.is_none() => {
                self.cwe = match v {
                    Scalar::Str(s) => parse_cwe(&s),
                    Scalar::U64(n) => u32::try_from(n)
                        .ok()
                        .filter(|&n| n > 0 && n <= i32::MAX as u32),
                    _ => None,
                };
            }
            "packageName" | "package_name" if self.package.is_none() => {
                self.package = one_line(v);
            }
            "installedVersion" | "installed_version" if self.version.is_none() => {
                self.version = one_line(v);
            }
            _ => {}
        }
    }
}

/// A non-empty, single-line string value.
pub(super) fn one_line(v: Scalar<'_>) -> Option<Cow<'_, str>> {
    match v {
        Scalar::Str(s) if !s.trim().is_empty() && !markdown::is_multi_line(&s) => Some(s),
        _ => None,
    }
}

/// An identifier: a single-line string or an integer.
pub(super) fn id_text(v: Scalar<'_>) -> Option<Cow<'_, str>> {
    match v {
        Scalar::U64(n) => Some(Cow::Owned(n.to_string())),
        Scalar::I64(n) => Some(Cow::Owned(n.to_string())),
        other => one_line(other),
    }
}

/// `Some(s)` unless absent, null or only whitespace.
pub(super) fn nonblank<'s>(v: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}
