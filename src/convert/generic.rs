//! secureCodeBox findings → DefectDojo "Generic Findings Import" JSON.
//!
//! This module owns the mapping of one secureCodeBox finding to one
//! DefectDojo generic finding ([`write_generic`]) and the streaming reader
//! that turns a whole findings.json into the upload body ([`GenericReader`]),
//! one finding at a time.
//!
//! Unlike the Java hook, the mapping is lossless and must not make
//! DefectDojo collapse findings:
//!
//! * `description` is the scanner's description followed by Markdown
//!   sections for the location, category, OSI layer, the `reference` object
//!   and the `attributes` (a nested list, keys in input order). DefectDojo's
//!   legacy dedup hash for this scan type is `title + cwe + line + file_path
//!   + description`, so findings that differ only in location stay apart.
//! * `mitigation`, `references` (a Markdown list), `cwe` and
//!   `vulnerability_ids` (from the typed references), `endpoints` (a location
//!   that is a URL DefectDojo can parse), `file_path`/`line` (a location or
//!   attribute that is a path), `component_name`/`component_version`,
//!   `vuln_id_from_tool` (a rule id attribute) and `unique_id_from_tool`.
//!
//! Only keys of [`ALLOWED_KEYS`] are ever written: DefectDojo rejects the
//! whole import for one unknown key. Severity is read in any letter case;
//! an unknown one is an input error naming the finding.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::io::{self, BufRead, Read};

use crate::convert::markdown::{self, Scalar, Sink};
use crate::error::Error;
use crate::json_array::ArrayElements;
use crate::scb::{self, Severity};
use crate::time;

/// Every key DefectDojo's generic JSON parser accepts in a finding
/// (`dojo/tools/generic/json_parser.py`, DefectDojo 3.2: the required and
/// allowed keys, plus the keys it removes before validating: `endpoints`,
/// `files`, `tags`, `vulnerability_ids`, `cwes`). Any other key aborts the
/// whole import with "Not allowed fields are present".
pub const ALLOWED_KEYS: &[&str] = &[
    // required
    "title",
    "severity",
    "description",
    // allowed
    "date",
    "cwe",
    "cve",
    "epss_score",
    "epss_percentile",
    "cvssv3",
    "cvssv3_score",
    "cvssv4",
    "cvssv4_score",
    "mitigation",
    "impact",
    "steps_to_reproduce",
    "severity_justification",
    "references",
    "active",
    "verified",
    "false_p",
    "out_of_scope",
    "risk_accepted",
    "under_review",
    "is_mitigated",
    "thread_id",
    "mitigated",
    "numerical_severity",
    "param",
    "payload",
    "line",
    "file_path",
    "component_name",
    "component_version",
    "static_finding",
    "dynamic_finding",
    "scanner_confidence",
    "unique_id_from_tool",
    "vuln_id_from_tool",
    "sast_source_object",
    "sast_sink_object",
    "sast_source_line",
    "sast_source_file_path",
    "nb_occurences",
    "publish_date",
    "service",
    "planned_remediation_date",
    "planned_remediation_version",
    "effort_for_fixing",
    "kev_date",
    "known_exploited",
    "ransomware_used",
    "fix_available",
    "fix_version",
    // removed by the parser before validation
    "endpoints",
    "files",
    "tags",
    "vulnerability_ids",
    "cwes",
];

/// `Finding.title` is `CharField(max_length=511)` in DefectDojo
/// (`dojo/models.py`, since 3.x `dojo/finding/models.py`); PostgreSQL
/// counts characters, and a longer title fails the import.
pub const TITLE_MAX_CHARS: usize = 511;

/// Title for a finding without a name.
pub const UNTITLED: &str = "Untitled finding";

/// Description for a finding that has nothing to describe it (DefectDojo
/// requires a non-empty one).
pub const NO_DESCRIPTION: &str = "No description provided.";

/// Field limits of DefectDojo's `Finding` (characters); longer values would
/// fail the database insert, so they are left out (they stay in the
/// description).
const UNIQUE_ID_MAX_CHARS: usize = 500;
const VULN_ID_FROM_TOOL_MAX_CHARS: usize = 500;
const FILE_PATH_MAX_CHARS: usize = 4000;
const COMPONENT_NAME_MAX_CHARS: usize = 200;
const COMPONENT_VERSION_MAX_CHARS: usize = 100;
/// `Vulnerability_Id.vulnerability_id` is declared with `max_length=50`.
const VULNERABILITY_ID_MAX_CHARS: usize = 50;

/// At most this many conversion warnings are logged per run.
const MAX_WARNINGS: u32 = 20;

/// Default limit for one finding's JSON (16 MiB).
pub const DEFAULT_MAX_FINDING_BYTES: usize = 16 << 20;

/// What the converter needs to know besides the finding: which finding it
/// is (for messages), and how many warnings were logged so far.
#[derive(Debug)]
pub struct Context {
    source: String,
    index: usize,
    warnings: Cell<u32>,
}

impl Context {
    /// A context for findings read from `source` (e.g. `findings.json`).
    pub fn new(source: impl Into<String>) -> Context {
        Context {
            source: source.into(),
            index: 0,
            warnings: Cell::new(0),
        }
    }

    /// Sets the 1-based index of the finding being converted.
    pub fn set_index(&mut self, index: usize) {
        self.index = index;
    }

    /// The 1-based index of the finding being converted.
    pub fn index(&self) -> usize {
        self.index
    }

    /// `findings.json finding #7`, for messages.
    pub fn what(&self) -> String {
        format!("{} finding #{}", self.source, self.index)
    }

    /// Logs a warning about the current finding, at most [`MAX_WARNINGS`]
    /// per run (a million bad dates must not flood the log).
    fn warn(&self, args: fmt::Arguments<'_>) {
        let n = self.warnings.get();
        self.warnings.set(n.saturating_add(1));
        if n < MAX_WARNINGS {
            log::warn!("{}: {args}", self.what());
        } else if n == MAX_WARNINGS {
            log::warn!("{}: further conversion warnings are not shown", self.source);
        }
    }
}

/// DefectDojo's name for a severity.
pub fn dojo_severity(s: Severity) -> &'static str {
    match s {
        Severity::Informational => "Info",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// The severity of `f`: absent, null or blank is informational; anything
/// unknown is an input error naming the finding.
pub fn severity_of(f: &scb::Finding<'_>, ctx: &Context) -> Result<Severity, Error> {
    match f.severity.as_deref() {
        None => Ok(Severity::Informational),
        Some(s) if s.trim().is_empty() => Ok(Severity::Informational),
        Some(s) => Severity::parse(s).map_err(|e| Error::input(ctx.what(), e.to_string())),
    }
}

/// Appends `f` as one DefectDojo generic finding (a compact JSON object) to
/// `out`. On error, `out` is left as it was.
pub fn write_generic(f: &scb::Finding<'_>, out: &mut Vec<u8>, ctx: &Context) -> Result<(), Error> {
    let start = out.len();
    let result = write_finding(f, out, ctx);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn write_finding(f: &scb::Finding<'_>, out: &mut Vec<u8>, ctx: &Context) -> Result<(), Error> {
    let severity = severity_of(f, ctx)?;
    let name = f.name.as_deref().unwrap_or("");
    let title = title_of(name);

    out.extend_from_slice(b"{\"title\":");
    push_json_str(out, &title.text);
    out.extend_from_slice(b",\"severity\":\"");
    out.extend_from_slice(dojo_severity(severity).as_bytes());
    out.push(b'"');

    // Surrounding whitespace is not part of a location (and would make an
    // endpoint unparseable).
    let location = nonblank(&f.location).map(str::trim);
    let mut picks = Picks::default();
    out.extend_from_slice(b",\"description\":\"");
    write_description(f, &title, location, &mut picks, &mut JsonStr(out))
        .map_err(|e| Error::input(ctx.what(), e))?;
    out.push(b'"');

    if let Some(date) = date_of(f, ctx) {
        push_str_field(out, "date", &date);
    }
    if let Some(m) = nonblank(&f.mitigation) {
        out.extend_from_slice(b",\"mitigation\":");
        push_text(out, m, is_plain(f.mitigation.as_ref()));
    }

    let refs = f.references.as_deref().unwrap_or(&[]);
    if refs.iter().any(|r| nonblank(&r.value).is_some()) {
        out.extend_from_slice(b",\"references\":\"");
        // Writing into a Vec cannot fail.
        let _ = write_references(refs, &mut JsonStr(out));
        out.push(b'"');
    }
    let ids = vulnerability_ids(refs);
    if !ids.is_empty() {
        out.extend_from_slice(b",\"vulnerability_ids\":[");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_json_str(out, id);
        }
        out.push(b']');
    }
    let cwe = refs
        .iter()
        .filter(|r| {
            r.kind
                .as_deref()
                .is_some_and(|k| k.trim().eq_ignore_ascii_case("CWE"))
        })
        .find_map(|r| r.value.as_deref().and_then(parse_cwe))
        .or(picks.cwe);
    if let Some(cwe) = cwe {
        push_num_field(out, "cwe", u64::from(cwe));
    }

    let kind = location.map_or(Location::Other, classify_location);
    if let (Location::Endpoint, Some(loc)) = (&kind, location) {
        out.extend_from_slice(b",\"endpoints\":[");
        push_json_str(out, loc);
        out.push(b']');
    }
    let (file, line) = match kind {
        Location::File { path, line } => (Some(Cow::Borrowed(path)), line.or(picks.line)),
        _ => (picks.file.take(), picks.line),
    };
    if let Some(file) = file.filter(|p| fits(p, FILE_PATH_MAX_CHARS)) {
        push_str_field(out, "file_path", &file);
        if let Some(line) = line {
            push_num_field(out, "line", line);
        }
    }

    if let Some(rule) = picks.rule.filter(|r| fits(r, VULN_ID_FROM_TOOL_MAX_CHARS)) {
        push_str_field(out, "vuln_id_from_tool", &rule);
    }
    if let Some(pkg) = picks.package.filter(|p| fits(p, COMPONENT_NAME_MAX_CHARS)) {
        push_str_field(out, "component_name", &pkg);
        if let Some(v) = picks
            .version
            .filter(|v| fits(v, COMPONENT_VERSION_MAX_CHARS))
        {
            push_str_field(out, "component_version", &v);
        }
    }
    if let Some(id) = nonblank(&f.id) {
        if fits(id, UNIQUE_ID_MAX_CHARS) {
            out.extend_from_slice(b",\"unique_id_from_tool\":");
            push_text(out, id, is_plain(f.id.as_ref()));
        } else {
            ctx.warn(format_args!(
                "id is longer than {UNIQUE_ID_MAX_CHARS} characters; not sent as unique_id_from_tool"
            ));
        }
    }
    out.push(b'}');
    Ok(())
}

/// A DefectDojo title made from a secureCodeBox name.
struct Title<'a> {
    text: Cow<'a, str>,
    /// The title is not the name (cut short or control characters
    /// replaced), so the description must carry the full name.
    changed: bool,
}

/// `name` as a title: control characters become spaces, surrounding
/// whitespace goes, and it is cut to [`TITLE_MAX_CHARS`] characters at a
/// character boundary, ending in `…`. No name gives [`UNTITLED`].
fn title_of(name: &str) -> Title<'_> {
    let has_control = name.trim().chars().any(char::is_control);
    // Control characters at the ends would become blanks at the ends, and a
    // name of only those a blank title.
    let trimmed = name.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    if trimmed.is_empty() {
        return Title {
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
        return Title {
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
    Title {
        text: Cow::Owned(short),
        changed: true,
    }
}

/// Values picked from the top-level attributes while they are rendered.
#[derive(Default)]
struct Picks<'a> {
    file: Option<Cow<'a, str>>,
    line: Option<u64>,
    rule: Option<Cow<'a, str>>,
    cwe: Option<u32>,
    package: Option<Cow<'a, str>>,
    version: Option<Cow<'a, str>>,
}

impl<'a> Picks<'a> {
    /// Takes the first usable value of each kind (keys as secureCodeBox
    /// parsers write them: gitleaks `file`/`line_number`, trivy
    /// `foundIn`/`packageName`/`installedVersion`, ZAP `zap_pluginid`/
    /// `zap_cweid`, nikto `niktoId`, semgrep `cwe`, …).
    fn take(&mut self, key: &str, v: Scalar<'a>) {
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
fn one_line(v: Scalar<'_>) -> Option<Cow<'_, str>> {
    match v {
        Scalar::Str(s) if !s.trim().is_empty() && !markdown::is_multi_line(&s) => Some(s),
        _ => None,
    }
}

/// An identifier: a single-line string or an integer.
fn id_text(v: Scalar<'_>) -> Option<Cow<'_, str>> {
    match v {
        Scalar::U64(n) => Some(Cow::Owned(n.to_string())),
        Scalar::I64(n) => Some(Cow::Owned(n.to_string())),
        other => one_line(other),
    }
}

/// Writes the Markdown description (see the module docs for its layout).
fn write_description<'a>(
    f: &scb::Finding<'a>,
    title: &Title<'_>,
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
fn write_references(refs: &[scb::Reference<'_>], w: &mut JsonStr<'_>) -> fmt::Result {
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
fn vulnerability_ids<'r>(refs: &'r [scb::Reference<'_>]) -> Vec<&'r str> {
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
fn is_vulnerability_id(v: &str) -> bool {
    v.len() <= VULNERABILITY_ID_MAX_CHARS
        && v.starts_with(|c: char| c.is_ascii_alphabetic())
        && v.contains('-')
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

/// `CWE-79`, `cwe-79: Improper…`, `79` → 79. Zero and negatives (ZAP uses
/// `-1` and `0` for "none") are `None`.
fn parse_cwe(s: &str) -> Option<u32> {
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

/// The UTC date of `identified_at`, else of `parsed_at`; unparseable ones
/// are skipped with a warning, and without a date DefectDojo uses the import
/// date.
fn date_of(f: &scb::Finding<'_>, ctx: &Context) -> Option<String> {
    for (field, value) in [
        ("identified_at", &f.identified_at),
        ("parsed_at", &f.parsed_at),
    ] {
        if let Some(v) = nonblank(value) {
            match time::parse_rfc3339_to_utc_date(v.trim()) {
                Some(date) => return Some(date),
                None => ctx.warn(format_args!(
                    "{field} {:?} is not an ISO 8601 timestamp with a time zone; ignored",
                    truncate_chars(v, 64)
                )),
            }
        }
    }
    None
}

/// What a secureCodeBox location is, as far as DefectDojo cares.
#[derive(Debug, PartialEq, Eq)]
enum Location<'l> {
    /// A URL DefectDojo's endpoint parser accepts.
    Endpoint,
    /// A file path, maybe with a line (`src/app.py:10-12`, `file:///x`).
    File { path: &'l str, line: Option<u64> },
    /// Anything else (`host:443`, free text); only in the description.
    Other,
}

fn classify_location(loc: &str) -> Location<'_> {
    let loc = loc.trim();
    if loc.len() >= 7 && loc.is_char_boundary(7) && loc[..7].eq_ignore_ascii_case("file://") {
        let path = &loc[7..];
        let path = path.strip_prefix("localhost").unwrap_or(path);
        return if path.is_empty() || path.contains(char::is_control) {
            Location::Other
        } else {
            Location::File { path, line: None }
        };
    }
    if loc.contains("://") {
        return if is_endpoint_url(loc) {
            Location::Endpoint
        } else {
            Location::Other
        };
    }
    file_location(loc).map_or(Location::Other, |(path, line)| Location::File {
        path,
        line,
    })
}

/// Whether `s` is a URL with a scheme and host that DefectDojo's endpoint
/// parser (`Endpoint.from_uri`, Python `hyperlink`) takes without raising:
/// ASCII only, RFC 3986 characters only (no spaces, quotes, `<>`, `{}`, `|`,
/// `\`, `^`, backticks), valid `%XX` escapes, a plain host name or bracketed
/// IPv6 address, and a numeric port. `file:` URLs are paths, not endpoints.
fn is_endpoint_url(s: &str) -> bool {
    let Some(colon) = s.find("://") else {
        return false;
    };
    let scheme = &s[..colon];
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !scheme_ok || scheme.eq_ignore_ascii_case("file") {
        return false;
    }
    let rest = &s[colon + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_port = match authority.rfind('@') {
        Some(at) => {
            let userinfo_ok = valid_chars(&authority[..at], |c| {
                is_unreserved(c) || is_sub_delim(c) || c == b':'
            });
            if !userinfo_ok {
                return false;
            }
            &authority[at + 1..]
        }
        None => authority,
    };
    let bracketed = host_port.starts_with('[');
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            return false;
        };
        let ip = &inner[..end];
        let ip_ok = !ip.is_empty()
            && ip
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
        if !ip_ok {
            return false;
        }
        match &inner[end + 1..] {
            "" => (ip, None),
            p => match p.strip_prefix(':') {
                Some(port) => (ip, Some(port)),
                None => return false,
            },
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (bracketed
            || host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')));
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= 65_535)
    });
    if !host_ok || !port_ok {
        return false;
    }
    // path, query and fragment: one `#` at most, which starts the fragment
    let (before, fragment) = tail.split_once('#').unwrap_or((tail, ""));
    let pchar =
        |c: u8| is_unreserved(c) || is_sub_delim(c) || matches!(c, b':' | b'@' | b'/' | b'?');
    valid_chars(before, pchar) && valid_chars(fragment, pchar)
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Every byte satisfies `ok` or starts a `%XX` escape.
fn valid_chars(s: &str, ok: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !hex(i + 1) || !hex(i + 2) {
                return false;
            }
            i += 3;
        } else if ok(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// A location that is a file path, with the line of a `:line`, `:line-end`
/// or `:line:column` suffix (semgrep writes `/src/app.py:103-114`).
///
/// Paths are: absolute (`/`, `~/`, `C:\`), explicitly relative (`./`,
/// `../`), containing a `\`, containing a `/` where the part before the
/// first `/` is not a `host:port`, or a bare file name with a line range
/// (`app.py:10-12`). A bare `name:443` is not a path: it is the usual
/// `host:port` of TLS and network scanners.
fn file_location(loc: &str) -> Option<(&str, Option<u64>)> {
    if loc.is_empty() || loc.contains(char::is_control) {
        return None;
    }
    let (path, line, ranged) = split_line_suffix(loc);
    if path.is_empty() {
        return None;
    }
    let b = path.as_bytes();
    let drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    let first_segment = path.split('/').next().unwrap_or("");
    let host_port = first_segment.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())
    });
    let is_path = path.starts_with(['/', '~'])
        || path.starts_with("./")
        || path.starts_with("../")
        || drive
        || path.contains('\\')
        || (path.contains('/') && !host_port)
        || (ranged && path.contains('.') && !path.contains(':'));
    is_path.then_some((path, line))
}

/// Splits `path:10`, `path:10-12` and `path:10:5` into the path, the
/// (first) line, and whether the suffix was a `a-b` range.
fn split_line_suffix(loc: &str) -> (&str, Option<u64>, bool) {
    let number = |s: &str| -> Option<u64> {
        if !s.is_empty() && s.len() <= 9 && s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let Some((head, last)) = loc.rsplit_once(':') else {
        return (loc, None, false);
    };
    if let Some((a, b)) = last.split_once('-') {
        if let (Some(start), Some(_)) = (number(a), number(b)) {
            return (head, Some(start), true);
        }
        return (loc, None, false);
    }
    let Some(n) = number(last) else {
        return (loc, None, false);
    };
    // path:line:column
    if let Some((head2, line)) = head.rsplit_once(':') {
        if let Some(line) = number(line) {
            return (head2, Some(line), false);
        }
    }
    (head, Some(n), false)
}

/// `Some(s)` unless absent, null or only whitespace.
fn nonblank<'s>(v: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

/// At most `max` characters.
fn fits(s: &str, max: usize) -> bool {
    s.len() <= max || s.chars().count() <= max
}

fn truncate_chars(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

// ---------------------------------------------------------------------------
// JSON output

/// A `fmt::Write` that appends JSON string contents (escaped, no quotes).
struct JsonStr<'a>(&'a mut Vec<u8>);

impl fmt::Write for JsonStr<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_escaped(self.0, s);
        Ok(())
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        match c {
            '\n' => self.0.extend_from_slice(b"\\n"),
            ' '..='~' if c != '"' && c != '\\' => self.0.push(c as u8),
            _ => push_escaped(self.0, c.encode_utf8(&mut [0; 4])),
        }
        Ok(())
    }
}

impl Sink for JsonStr<'_> {
    fn write_plain(&mut self, s: &str) -> fmt::Result {
        debug_assert!(
            next_to_escape(s.as_bytes(), 0).is_none(),
            "not plain: {s:?}"
        );
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Whether a string from serde_json was borrowed from its input, which
/// makes it plain text in the sense of [`Sink`] (no escaping needed).
fn is_plain(s: Option<&Cow<'_, str>>) -> bool {
    matches!(s, Some(Cow::Borrowed(_)))
}

/// Appends `text` as a JSON string, copying it as it is when `plain`.
fn push_text(out: &mut Vec<u8>, text: &str, plain: bool) {
    out.push(b'"');
    if plain {
        debug_assert!(next_to_escape(text.as_bytes(), 0).is_none());
        out.extend_from_slice(text.as_bytes());
    } else {
        push_escaped(out, text);
    }
    out.push(b'"');
}

/// Appends `s` escaped for a JSON string. NUL becomes U+FFFD: PostgreSQL
/// text cannot hold it, and DefectDojo would fail the whole import.
fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(hit) = next_to_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..hit]);
        let c = bytes[hit];
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0 => out.extend_from_slice("\u{FFFD}".as_bytes()),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xF)]);
            }
        }
        start = hit + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Position of the first byte at or after `from` that needs escaping (a
/// control character, `"` or `\`), testing eight bytes per step.
fn next_to_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        // The tail is padded with spaces, which need no escaping.
        let mut w = [b' '; 8];
        let n = (bytes.len() - i).min(8);
        w[..n].copy_from_slice(&bytes[i..i + n]);
        let hits = escape_mask(u64::from_le_bytes(w));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    None
}

/// High bit set in each byte of `w` (little endian) that is below 0x20,
/// `"` or `\` (SWAR). Bits above the lowest hit may be false positives
/// (borrows), the lowest one is always exact.
fn escape_mask(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
    below_space | zero(w ^ (LO * u64::from(b'"'))) | zero(w ^ (LO * u64::from(b'\\')))
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Appends `,"key":"value"`.
fn push_str_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    push_json_str(out, value);
}

/// Appends `,"key":n`.
fn push_num_field(out: &mut Vec<u8>, key: &str, n: u64) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

// ---------------------------------------------------------------------------
// Streaming reader

/// Number of findings converted, in total and per severity.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// All findings.
    pub total: u64,
    by_severity: [u64; 5],
}

impl Counts {
    /// Findings of severity `s`.
    pub fn get(&self, s: Severity) -> u64 {
        self.by_severity[s.rank()]
    }

    /// Counts one finding of severity `s`.
    pub fn add(&mut self, s: Severity) {
        self.total += 1;
        self.by_severity[s.rank()] += 1;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    Body,
    Done,
    Failed,
}

/// Reads a secureCodeBox findings.json from `R` and yields the DefectDojo
/// Generic Findings Import JSON for it, `{"findings":[…]}` (compact),
/// converting one finding at a time as the output is pulled.
///
/// Errors (a malformed or oversized finding, an unknown severity, a broken
/// file) come out of `read` as `io::Error`s carrying an [`Error`]; get it
/// back with [`Error::from_io`]. After an error, reading fails for good.
///
/// ```
/// use std::io::Read;
/// use dojo_hook::convert::generic::GenericReader;
/// let input = br#"[{"name": "Open Port: 22", "severity": "LOW", "location": "tcp://h:22"}]"#;
/// let mut reader = GenericReader::new(&input[..], 1 << 20);
/// let mut json = String::new();
/// reader.read_to_string(&mut json)?;
/// assert!(json.starts_with(r#"{"findings":[{"title":"Open Port: 22","severity":"Low","#));
/// assert_eq!(reader.counts().total, 1);
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct GenericReader<R> {
    elements: ArrayElements<R>,
    out: Vec<u8>,
    pos: usize,
    phase: Phase,
    counts: Counts,
    ctx: Context,
    /// An error met after some bytes were already handed out in the same
    /// `read` call; returned by the next call.
    pending: Option<Error>,
}

impl<R: BufRead> GenericReader<R> {
    /// Converts the findings.json read from `reader`; a single finding over
    /// `max_finding_bytes` of JSON is an error.
    pub fn new(reader: R, max_finding_bytes: usize) -> Self {
        let elements = ArrayElements::new(reader, max_finding_bytes);
        let ctx = Context::new(elements.name());
        GenericReader {
            elements,
            out: Vec::with_capacity(4096),
            pos: 0,
            phase: Phase::Open,
            counts: Counts::default(),
            ctx,
            pending: None,
        }
    }

    /// Findings converted so far (all of them once `read` returned 0).
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Bytes held by the internal buffers (to check memory stays bounded).
    pub fn buffer_capacity(&self) -> usize {
        self.out.capacity() + self.elements.buffer_capacity()
    }

    /// Refills `out`; `false` when everything has been produced.
    fn refill(&mut self) -> Result<bool, Error> {
        self.pos = 0;
        if self.out.capacity() > 1 << 20 {
            // one huge finding must not pin a huge buffer
            self.out = Vec::with_capacity(4096);
        }
        self.out.clear();
        match self.phase {
            Phase::Open => {
                self.out.extend_from_slice(b"{\"findings\":[");
                self.phase = Phase::Body;
                Ok(true)
            }
            Phase::Body => {
                let result = self.convert_next();
                if result.is_err() {
                    self.phase = Phase::Failed;
                    self.out.clear();
                }
                result.map(|()| true)
            }
            Phase::Done => Ok(false),
            Phase::Failed => Err(Error::input(
                self.elements.name(),
                "conversion stopped after an earlier error",
            )),
        }
    }

    /// Converts the next finding into `out`, or closes the JSON.
    fn convert_next(&mut self) -> Result<(), Error> {
        let Some(element) = self.elements.next_element()? else {
            self.out.extend_from_slice(b"]}");
            self.phase = Phase::Done;
            return Ok(());
        };
        let (raw, index, start) = (element.raw, element.index, element.offset);
        self.ctx.set_index(index);
        if raw.first() != Some(&b'{') {
            return Err(Error::input(
                self.ctx.what(),
                format!("is not a JSON object (it starts at byte {start})"),
            ));
        }
        // One UTF-8 check of the whole element is far cheaper than
        // serde_json's check of every string in `from_slice`; invalid UTF-8
        // goes to `from_slice` for its error message.
        let parsed = match std::str::from_utf8(raw) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(raw),
        };
        let finding: scb::Finding<'_> = parsed.map_err(|e| {
            Error::input(
                self.ctx.what(),
                format!("is not a valid secureCodeBox finding (it starts at byte {start}): {e}"),
            )
        })?;
        let severity = severity_of(&finding, &self.ctx)?;
        if index > 1 {
            self.out.push(b',');
        }
        write_generic(&finding, &mut self.out, &self.ctx)?;
        self.counts.add(severity);
        Ok(())
    }
}

impl<R: BufRead> Read for GenericReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.pending.take() {
            return Err(e.into_io());
        }
        let mut written = 0;
        while written < buf.len() {
            let available = &self.out[self.pos..];
            if !available.is_empty() {
                let n = available.len().min(buf.len() - written);
                buf[written..written + n].copy_from_slice(&available[..n]);
                self.pos += n;
                written += n;
                continue;
            }
            match self.refill() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if written > 0 => {
                    self.pending = Some(e);
                    break;
                }
                Err(e) => return Err(e.into_io()),
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{IgnoredAny, SeqAccess, Visitor};
    use serde_json::{Map, Value};
    use std::io::{BufReader, Write as _};

    /// Converts `input` through the reader (with a small read buffer, to
    /// exercise the pull loop) and parses the result.
    fn convert(input: &[u8]) -> Result<(Value, Counts), Error> {
        let mut reader = GenericReader::new(BufReader::with_capacity(64, input), 1 << 20);
        let mut out = Vec::new();
        let mut buf = [0u8; 37];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return Err(Error::from_io("reading the converted findings", e)),
            }
        }
        let value = serde_json::from_slice(&out).expect("output is JSON");
        Ok((value, reader.counts().clone()))
    }

    fn findings(input: &str) -> Vec<Map<String, Value>> {
        let (v, _) = convert(input.as_bytes()).unwrap();
        let Value::Object(mut top) = v else {
            panic!("not an object")
        };
        assert_eq!(top.len(), 1, "only `findings` at the top");
        match top.remove("findings") {
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|f| match f {
                    Value::Object(m) => m,
                    other => panic!("finding is not an object: {other}"),
                })
                .collect(),
            other => panic!("no findings array: {other:?}"),
        }
    }

    fn one(input: &str) -> Map<String, Value> {
        let mut all = findings(&format!("[{input}]"));
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    fn s<'m>(f: &'m Map<String, Value>, key: &str) -> &'m str {
        f.get(key)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string {key} in {f:?}"))
    }

    fn error_of(input: &str) -> String {
        convert(input.as_bytes()).unwrap_err().to_string()
    }

    fn assert_allowed(f: &Map<String, Value>) {
        for key in f.keys() {
            assert!(
                ALLOWED_KEYS.contains(&key.as_str()),
                "key {key} is not allowed"
            );
        }
        for required in ["title", "severity", "description"] {
            assert!(!s(f, required).trim().is_empty(), "{required} is empty");
        }
        assert!(["Info", "Low", "Medium", "High", "Critical"].contains(&s(f, "severity")));
        assert!(s(f, "title").chars().count() <= TITLE_MAX_CHARS);
    }

    fn fixture(path: &str) -> Vec<u8> {
        let full = format!("{}/fixtures/generic/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    fn fixture_findings(path: &str) -> Vec<Map<String, Value>> {
        findings(std::str::from_utf8(&fixture(path)).unwrap())
    }

    /// Every non-empty scalar in a JSON value, as text.
    fn scalars(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Bool(b) => out.push(b.to_string()),
            Value::Array(a) => a.iter().for_each(|x| scalars(x, out)),
            Value::Object(m) => m.values().for_each(|x| scalars(x, out)),
            _ => {}
        }
    }

    #[test]
    fn kubehunter_fixture_matches_the_java_hooks_output_in_substance() {
        let scb: Vec<Value> =
            serde_json::from_slice(&fixture("kubehunter-scb-findings.json")).unwrap();
        let java: Value = serde_json::from_slice(&fixture("kubehunter-dd-findings.json")).unwrap();
        let java = java["findings"].as_array().unwrap();
        let (ours, counts) = convert(&fixture("kubehunter-scb-findings.json")).unwrap();
        let ours = ours["findings"].as_array().unwrap();
        assert_eq!(ours.len(), java.len());
        assert_eq!((counts.total, counts.get(Severity::Low)), (3, 3));
        for ((o, j), input) in ours.iter().zip(java).zip(&scb) {
            for key in [
                "title",
                "severity",
                "date",
                "unique_id_from_tool",
                "endpoints",
            ] {
                assert_eq!(o[key], j[key], "{key}");
            }
            let desc = o["description"].as_str().unwrap();
            let scb_desc = input["description"].as_str().unwrap();
            assert!(desc.starts_with(scb_desc.trim_end()), "{desc}");
            let mut values = Vec::new();
            scalars(&input["attributes"], &mut values);
            scalars(&input["reference"], &mut values);
            for v in values {
                assert!(desc.contains(&format!("`{v}`")), "{v} missing in {desc}");
            }
            assert!(desc.contains("**Location:** `tcp://10.1.0.1`"));
            assert!(desc.contains("**Category:** Access Risk"));
            assert!(desc.contains("- **kubeHunterRule:** `"));
        }
        assert_eq!(ours[0]["vuln_id_from_tool"], "KHV050");
        let second = ours[1]["description"].as_str().unwrap();
        assert!(second.contains("- **evidence:** *empty string*"));
    }

    #[test]
    fn every_sample_converts_one_to_one_with_allowed_keys_only() {
        let dir = format!("{}/fixtures/generic/samples", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let scb: Vec<Value> = serde_json::from_slice(&input).unwrap();
            let (out, counts) = convert(&input).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let out = out["findings"].as_array().unwrap();
            assert_eq!(out.len(), scb.len(), "{path:?}");
            assert_eq!(counts.total as usize, scb.len());
            let mut seen_pairs = std::collections::HashSet::new();
            for (o, i) in out.iter().zip(&scb) {
                let o = o.as_object().unwrap();
                assert_allowed(o);
                assert_eq!(o["unique_id_from_tool"], i["id"]);
                if let Some(loc) = i["location"].as_str() {
                    assert!(s(o, "description").contains(loc), "{path:?}: {loc}");
                }
                if let Some(m) = i.get("mitigation").and_then(Value::as_str) {
                    assert_eq!(s(o, "mitigation"), m);
                }
                let mut values = Vec::new();
                scalars(&i["attributes"], &mut values);
                for v in values.iter().filter(|v| !v.contains('\n')) {
                    assert!(s(o, "description").contains(v.as_str()), "{path:?}: {v}");
                }
                seen_pairs.insert((s(o, "title").to_owned(), s(o, "description").to_owned()));
            }
            // Findings that are distinct in secureCodeBox stay distinct for
            // DefectDojo's hash (title + description); only exact duplicates
            // in the input (apart from id and timestamps) may share one.
            let distinct_inputs: std::collections::HashSet<String> = scb
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    for k in ["id", "parsed_at", "identified_at"] {
                        f.as_object_mut().unwrap().remove(k);
                    }
                    f.to_string()
                })
                .collect();
            assert_eq!(seen_pairs.len(), distinct_inputs.len(), "{path:?}");
            seen += 1;
        }
        assert!(seen >= 11, "samples missing: {seen}");
    }

    #[test]
    fn sample_specific_mappings() {
        let semgrep = fixture_findings("samples/semgrep.findings.json");
        assert_eq!(s(&semgrep[1], "file_path"), "/test/flask/app/app.py");
        assert_eq!(semgrep[1]["line"], 103);
        let gitleaks = fixture_findings("samples/gitleaks.findings.json");
        assert_eq!(
            s(&gitleaks[0], "file_path"),
            "hooks/persistence-azure-monitor/hook/hook.test.js"
        );
        assert_eq!(gitleaks[0]["line"], 51);
        let trivy = fixture_findings("samples/trivy-repo.findings.json");
        assert_eq!(
            trivy[0]["vulnerability_ids"],
            serde_json::json!(["CVE-2023-28155"])
        );
        assert_eq!(s(&trivy[0], "component_name"), "request");
        assert_eq!(s(&trivy[0], "component_version"), "2.88.2");
        assert!(
            s(&trivy[0], "references")
                .starts_with("- CVE: CVE-2023-28155\n- <https://nvd.nist.gov/")
        );
        let zap = fixture_findings("samples/zap-xml-nginx.findings.json");
        assert_eq!(zap[0]["cwe"], 16);
        assert_eq!(s(&zap[0], "vuln_id_from_tool"), "10020");
        let sslyze = fixture_findings("samples/sslyze.findings.json");
        // host:port has no scheme: kept in the description only
        assert!(!sslyze[0].contains_key("endpoints") && !sslyze[0].contains_key("file_path"));
        assert_eq!(s(&sslyze[0], "date"), "2025-11-05");
        assert!(s(&sslyze[0], "description").starts_with("**Location:** `expired.badssl.com:443`"));
    }

    #[test]
    fn every_key_that_can_be_written_is_allowed() {
        let f = one(
            r#"{"id": "u-1", "name": "n", "location": "https://h.example/x?y=1",
                "description": "d", "category": "c", "severity": "critical",
                "mitigation": "m", "osi_layer": "o", "identified_at": "2024-01-01T00:00:00Z",
                "references": [{"type": "CVE", "value": "CVE-2024-1"}, {"type": "CWE", "value": "CWE-79"}],
                "reference": {"id": "R-1"},
                "attributes": {"file": "src/a.py", "line_number": 3, "rule_id": "r",
                               "packageName": "p", "installedVersion": "1"}}"#,
        );
        let mut got: Vec<&str> = f.keys().map(String::as_str).collect();
        got.sort_unstable();
        let mut want = vec![
            "title",
            "severity",
            "description",
            "date",
            "mitigation",
            "references",
            "vulnerability_ids",
            "cwe",
            "endpoints",
            "file_path",
            "line",
            "vuln_id_from_tool",
            "component_name",
            "component_version",
            "unique_id_from_tool",
        ];
        want.sort_unstable();
        assert_eq!(got, want);
        assert_allowed(&f);
        assert_eq!(s(&f, "severity"), "Critical");
        assert_eq!(f["cwe"], 79);
        assert_eq!(s(&f, "vuln_id_from_tool"), "r");
        // A path location wins over the attribute.
        let f = one(r#"{"location": "lib/b.rb:7", "attributes": {"file": "src/a.py", "line": 3}}"#);
        // surrounding whitespace is dropped, also from endpoints
        let g = one(r#"{"location": "  https://h.example/x \n"}"#);
        assert_eq!(g["endpoints"], serde_json::json!(["https://h.example/x"]));
        assert!(s(&g, "description").contains("**Location:** `https://h.example/x`"));
        assert_eq!(s(&f, "file_path"), "lib/b.rb");
        assert_eq!(f["line"], 7);
    }

    #[test]
    fn severities_in_any_case_and_defaults() {
        for (input, want) in [
            ("\"CRITICAL\"", "Critical"),
            ("\"critical\"", "Critical"),
            ("\"HIGH\"", "High"),
            ("\"High\"", "High"),
            ("\"medium\"", "Medium"),
            ("\"LOW\"", "Low"),
            ("\"INFORMATIONAL\"", "Info"),
            ("\"info\"", "Info"),
            ("null", "Info"),
            ("\"\"", "Info"),
        ] {
            let f = one(&format!(r#"{{"name": "x", "severity": {input}}}"#));
            assert_eq!(s(&f, "severity"), want, "{input}");
        }
        assert_eq!(s(&one(r#"{"name": "x"}"#), "severity"), "Info");
        let input = br#"[{"severity":"critical"},{"severity":"LOW"},{"severity":"low"},{}]"#;
        let (_, counts) = convert(input).unwrap();
        assert_eq!(counts.total, 4);
        assert_eq!(counts.get(Severity::Critical), 1);
        assert_eq!(counts.get(Severity::Low), 2);
        assert_eq!(counts.get(Severity::Informational), 1);
        assert_eq!(counts.get(Severity::High), 0);
    }

    #[test]
    fn unknown_severity_is_an_input_error_naming_finding_and_value() {
        let err = convert(br#"[{"severity": "LOW"}, {"severity": "URGENT"}]"#).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);
        assert_eq!(
            err.to_string(),
            "findings.json finding #2: unknown severity \"URGENT\"; allowed (in any letter case): \
             INFORMATIONAL (or INFO), LOW, MEDIUM, HIGH, CRITICAL"
        );
    }

    #[test]
    fn the_bytes_before_an_error_are_delivered_first() {
        let input = br#"[{"name": "ok"}, {"severity": "URGENT"}]"#;
        let mut reader = GenericReader::new(&input[..], 1 << 20);
        let mut buf = vec![0u8; 1 << 16];
        let n = reader.read(&mut buf).unwrap();
        let head = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(
            head.starts_with("{\"findings\":[{\"title\":\"ok\""),
            "{head}"
        );
        let err = Error::from_io("x", reader.read(&mut buf).unwrap_err());
        assert!(
            err.to_string()
                .starts_with("findings.json finding #2: unknown severity"),
            "{err}"
        );
        // and it stays failed
        assert!(reader.read(&mut buf).is_err());
    }

    #[test]
    fn findings_differing_only_in_location_stay_apart() {
        let all = findings(
            r#"[{"name": "Potential Backup File", "severity": "INFORMATIONAL", "location": "http://h/a.zip"},
                {"name": "Potential Backup File", "severity": "INFORMATIONAL", "location": "http://h/b.zip"},
                {"name": "Potential Backup File", "severity": "INFORMATIONAL", "location": "not a url at all"}]"#,
        );
        assert_eq!(all.len(), 3);
        assert_ne!(s(&all[0], "description"), s(&all[1], "description"));
        assert_ne!(s(&all[1], "description"), s(&all[2], "description"));
        assert_eq!(all[0]["endpoints"], serde_json::json!(["http://h/a.zip"]));
        assert!(!all[2].contains_key("endpoints"));
        assert!(s(&all[2], "description").contains("`not a url at all`"));
    }

    #[test]
    fn long_unicode_titles_are_cut_cleanly() {
        let name = "é🔥".repeat(400); // 800 characters, 2400 bytes
        let f = one(&format!(r#"{{"name": "{name}"}}"#));
        let title = s(&f, "title");
        assert_eq!(title.chars().count(), TITLE_MAX_CHARS);
        assert!(title.ends_with('…'));
        assert!(name.starts_with(title.trim_end_matches('…')));
        // the full name is kept in the description
        assert!(s(&f, "description").contains(&format!("**Name:** {name}")));
        // exactly at the limit: untouched
        let name = "ü".repeat(TITLE_MAX_CHARS);
        let f = one(&format!(r#"{{"name": "{name}"}}"#));
        assert_eq!(s(&f, "title"), name);
        assert!(!s(&f, "description").contains("**Name:**"));
        // one more: cut
        let f = one(&format!(r#"{{"name": "{name}x"}}"#));
        assert_eq!(s(&f, "title").chars().count(), TITLE_MAX_CHARS);
    }

    #[test]
    fn control_characters_at_the_ends_of_a_name_leave_no_blank_title() {
        // Found by tests/properties.rs: "\u007f" gave the title " ".
        let f = one(r#"{"name": "\u007f"}"#);
        assert_eq!(s(&f, "title"), UNTITLED);
        assert!(s(&f, "description").contains("**Name:**"));
        let f = one(r#"{"name": " \u0001Open\u0007Port\u001b "}"#);
        assert_eq!(s(&f, "title"), "Open Port");
    }

    #[test]
    fn missing_or_odd_names_and_empty_findings() {
        let f = one("{}");
        assert_eq!(s(&f, "title"), UNTITLED);
        assert_eq!(s(&f, "description"), NO_DESCRIPTION);
        assert_eq!(s(&f, "severity"), "Info");
        assert_eq!(f.len(), 3, "{f:?}");
        let f = one(r#"{"name": "  ", "description": "  "}"#);
        assert_eq!(
            (s(&f, "title"), s(&f, "description")),
            (UNTITLED, NO_DESCRIPTION)
        );
        let f = one(r#"{"name": "a\nb\u0000c", "description": "x\u0000y\u0001"}"#);
        assert_eq!(s(&f, "title"), "a b c");
        assert!(s(&f, "description").starts_with("x\u{FFFD}y\u{1}\n\n**Name:** a b"));
    }

    #[test]
    fn multibyte_text_never_splits_a_character() {
        // slicing at fixed byte offsets must check char boundaries
        let f = one(
            r#"{"location": "fi€e://x", "references": [{"type": "CWE", "value": "CW€-79"}],
                "attributes": {"cwe": "ab€", "zap_cweid": "€"}}"#,
        );
        assert!(!f.contains_key("cwe") && !f.contains_key("file_path"));
        assert_eq!(parse_cwe("ab€"), None);
        assert_eq!(classify_location("ab€d://x"), Location::Other);
    }

    #[test]
    fn dates_prefer_identified_at_and_skip_bad_ones() {
        let date = |json: &str| one(json).get("date").cloned();
        assert_eq!(
            date(
                r#"{"identified_at": "2024-01-01T23:30:00-01:00", "parsed_at": "2020-01-01T00:00:00Z"}"#
            ),
            Some("2024-01-02".into())
        );
        assert_eq!(
            date(r#"{"identified_at": "last tuesday", "parsed_at": "2020-01-01T00:00:00Z"}"#),
            Some("2020-01-01".into())
        );
        assert_eq!(
            date(r#"{"identified_at": "", "parsed_at": "2020-01-01T00:00:00.5+01:00"}"#),
            Some("2019-12-31".into())
        );
        assert_eq!(
            date(r#"{"identified_at": "bad", "parsed_at": "2020-01-01"}"#),
            None
        );
        assert_eq!(date(r#"{"parsed_at": null}"#), None);
    }

    #[test]
    fn references_cwe_and_vulnerability_ids() {
        let f = one(r#"{"references": [
                {"type": "CVE", "value": "CVE-2024-0001"}, {"type": "GHSA", "value": "GHSA-aaaa-bbbb-cccc"},
                {"type": "cve", "value": "CVE-2024-0001"}, {"type": "CWE", "value": "cwe-798"},
                {"type": "URL", "value": "https://example.com/a b"}, {"type": "URL", "value": null},
                {"type": "NOTE", "value": "see *docs*"}, {"value": "bare"}]}"#);
        assert_eq!(
            f["vulnerability_ids"],
            serde_json::json!(["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"])
        );
        assert_eq!(f["cwe"], 798);
        assert_eq!(
            s(&f, "references"),
            "- CVE: CVE-2024-0001\n- GHSA: GHSA-aaaa-bbbb-cccc\n- cve: CVE-2024-0001\n- CWE: cwe-798\n\
             - URL: https://example.com/a b\n- NOTE: see \\*docs\\*\n- bare"
        );
        assert!(!one(r#"{"references": []}"#).contains_key("references"));
        assert_eq!(parse_cwe("CWE-79: Improper Neutralization"), Some(79));
        assert_eq!(parse_cwe("-1"), None);
        assert_eq!(parse_cwe("0"), None);
        assert_eq!(
            one(r#"{"attributes": {"zap_cweid": "-1"}}"#).get("cwe"),
            None
        );
        assert_eq!(one(r#"{"attributes": {"cwe": "CWE-89"}}"#)["cwe"], 89);
    }

    #[test]
    fn locations_are_classified() {
        use Location::*;
        let file = |path, line| File { path, line };
        for (loc, want) in [
            ("https://juice-shop:3000/rest?q=1#top", Endpoint),
            ("tcp://scanme.nmap.org:22", Endpoint),
            ("tcp://10.1.0.1", Endpoint),
            ("ldap://[2001:db8::7]/c=GB?objectClass?one", Endpoint),
            ("http://user:pw@h.example:8080/%7Euser/", Endpoint),
            (
                "scb://trivy/?ArtifactName=https://github.com/secureCodeBox/secureCodeBox",
                Endpoint,
            ),
            ("https://h/a b", Other),
            ("https://h/\"x\"", Other),
            ("https://h/{id}", Other),
            ("https://h/%zz", Other),
            ("https://h/#a#b", Other),
            ("http://host:abc/", Other),
            ("http://host:99999/", Other),
            ("http://host:/", Other),
            ("http:///path", Other),
            ("http://[::1/", Other),
            ("http://[::1]x/", Other),
            ("https://bücher.example/", Other),
            ("1http://x", Other),
            ("file:///etc/passwd", file("/etc/passwd", None)),
            ("file://localhost/etc/hosts", file("/etc/hosts", None)),
            ("src/app.py", file("src/app.py", None)),
            (
                "/test/flask/app/app.py:103-114",
                file("/test/flask/app/app.py", Some(103)),
            ),
            ("app.py:10-12", file("app.py", Some(10))),
            ("./a/b.go:7:5", file("./a/b.go", Some(7))),
            ("src/x.rs:42", file("src/x.rs", Some(42))),
            ("C:\\repo\\a.cs", file("C:\\repo\\a.cs", None)),
            ("~/x", file("~/x", None)),
            ("expired.badssl.com:443", Other),
            ("juice-shop", Other),
            ("example.com:8080/login", Other),
            ("app.py:10", Other),
            ("line one\nline two/x", Other),
        ] {
            assert_eq!(classify_location(loc), want, "{loc}");
        }
    }

    #[test]
    fn json_escaping() {
        let mut out = Vec::new();
        push_json_str(&mut out, "a\"b\\c\nd\re\tf\u{1}g\u{1f}h\u{0}i/é\u{2028}");
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text,
            "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\u{FFFD}i/é\u{2028}\""
        );
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd\re\tf\u{1}g\u{1f}h\u{FFFD}i/é\u{2028}");
        let mut out = Vec::new();
        push_num_field(&mut out, "n", 0);
        push_num_field(&mut out, "m", u64::MAX);
        assert_eq!(out, b",\"n\":0,\"m\":18446744073709551615");
    }

    #[test]
    fn escaping_matches_serde_json_on_every_position() {
        // every special byte at every offset around the 8-byte steps
        let specials = ['"', '\\', '\n', '\u{1}', '\u{1f}', ' ', 'é', '\u{7f}', '€'];
        for len in 1..20 {
            for pos in 0..len {
                for c in specials {
                    let mut t: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    t.replace_range(pos..pos + 1, &c.to_string());
                    let mut ours = Vec::new();
                    push_json_str(&mut ours, &t);
                    assert_eq!(ours, serde_json::to_vec(&t).unwrap(), "{t:?}");
                }
            }
        }
    }

    #[test]
    fn escaped_and_borrowed_text_both_round_trip() {
        // Strings with escapes are copied by serde_json (escaped on output),
        // the others are borrowed (copied as they are); both must come out
        // as the same text.
        let f = one(
            r#"{"id": "i\"d", "description": "back\\slash \"q\" tab\t", "mitigation": "m\u0007",
                "category": "plain", "location": "x\"y",
                "references": [{"type": "T\"", "value": "v\\"}],
                "attributes": {"k\"ey": "v\\al", "plain": "text", "ctl": "\u0001"}}"#,
        );
        assert_eq!(s(&f, "unique_id_from_tool"), "i\"d");
        assert_eq!(s(&f, "mitigation"), "m\u{7}");
        assert_eq!(s(&f, "references"), "- T\": v\\\\");
        let d = s(&f, "description");
        assert!(d.starts_with("back\\slash \"q\" tab\n\n"), "{d}");
        assert!(d.contains("**Location:** `x\"y`"), "{d}");
        assert!(d.contains("- **k\"ey:** `v\\al`"), "{d}");
        assert!(d.contains("- **plain:** `text`"), "{d}");
        assert!(d.contains("- **ctl:** `\u{1}`"), "{d}");
    }

    #[test]
    fn write_generic_leaves_out_untouched_on_error() {
        let ctx = Context::new("findings.json");
        let f: scb::Finding = serde_json::from_str(r#"{"severity": "nope"}"#).unwrap();
        let mut out = b"prefix".to_vec();
        assert!(write_generic(&f, &mut out, &ctx).is_err());
        assert_eq!(out, b"prefix");
        let deep = format!(
            r#"{{"attributes": {}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let f: scb::Finding = serde_json::from_str(&deep).unwrap();
        let err = write_generic(&f, &mut out, &ctx).unwrap_err();
        assert!(
            err.to_string()
                .contains("attributes: recursion limit exceeded"),
            "{err}"
        );
        assert_eq!(out, b"prefix");
    }

    #[test]
    fn empty_arrays_bom_and_broken_input() {
        let (v, counts) = convert(b" [ ] ").unwrap();
        assert_eq!(v.to_string(), r#"{"findings":[]}"#);
        assert_eq!(counts.total, 0);
        let mut raw = Vec::new();
        GenericReader::new(&b"[]"[..], 10)
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw, br#"{"findings":[]}"#);

        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(br#"[{"name": "x"}]"#);
        assert_eq!(convert(&bom).unwrap().1.total, 1);

        let err = error_of(r#"[{"name": "x"}] {"name": "y"}"#);
        assert!(
            err.contains("unexpected data after the closing `]`"),
            "{err}"
        );
        let err = error_of(r#"[{"name": "x"}, {"name": "#);
        assert_eq!(
            err,
            "findings.json: ends in the middle of finding #2 (which starts at byte 16); \
             the file is truncated"
        );
        let err = error_of(r#"{"findings": []}"#);
        assert!(
            err.starts_with(
                "findings.json: expected a JSON array of findings, found a JSON object"
            ),
            "{err}"
        );
        let err = error_of("");
        assert!(err.contains("found an empty file"), "{err}");
        let err = error_of(r#"[{"name": 5}]"#);
        assert!(
            err.starts_with(
                "findings.json finding #1: is not a valid secureCodeBox finding \
                 (it starts at byte 1): invalid type"
            ),
            "{err}"
        );
        let err = error_of(r#"[{"name": "a"}, "just text"]"#);
        assert_eq!(
            err,
            "findings.json finding #2: is not a JSON object (it starts at byte 16)"
        );
        let err = error_of(r#"[null]"#);
        assert!(err.contains("finding #1: is not a JSON object"), "{err}");
        let mut reader = GenericReader::new(&br#"[{"name":"a"},{"name":"much too long"}]"#[..], 20);
        let err = Error::from_io("x", reader.read_to_end(&mut Vec::new()).unwrap_err());
        assert!(
            err.to_string()
                .contains("finding #2: is larger than the limit of 20 bytes"),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_gives_clean_errors() {
        let deep = |open: &str, inner: &str, close: &str| {
            format!("{}{inner}{}", open.repeat(10_000), close.repeat(10_000))
        };
        let arrays = deep("[", "", "]");
        let objects = deep("{\"a\":", "1", "}");
        let err = error_of(&format!("[{arrays}]"));
        assert!(err.contains("finding #1: is not a JSON object"), "{err}");
        let err = error_of(&format!(r#"[{{"attributes": {arrays}}}]"#));
        assert!(
            err.contains("finding #1: attributes: recursion limit exceeded"),
            "{err}"
        );
        let err = error_of(&format!(r#"[{{"attributes": {objects}}}]"#));
        assert!(err.contains("recursion limit exceeded"), "{err}");
        let err = error_of(&format!(r#"[{{"reference": {objects}}}]"#));
        assert!(
            err.contains("finding #1: reference: recursion limit exceeded"),
            "{err}"
        );
        let err = error_of(&format!(r#"[{{"name": {arrays}}}]"#));
        assert!(
            err.contains("finding #1: is not a valid secureCodeBox finding"),
            "{err}"
        );
        let err = error_of(&format!(r#"[{{"references": {arrays}}}]"#));
        assert!(
            err.contains("finding #1: is not a valid secureCodeBox finding"),
            "{err}"
        );
        // deep data in a field nobody reads is skipped without recursion
        let ok = convert(format!(r#"[{{"scan": {arrays}}}]"#).as_bytes()).unwrap();
        assert_eq!(ok.1.total, 1);
    }

    /// Generates `[f0,f1,…]` on the fly, never holding more than one finding.
    struct Generated {
        n: usize,
        next: usize,
        chunk: Vec<u8>,
        pos: usize,
    }

    impl Generated {
        fn new(n: usize) -> Self {
            Generated {
                n,
                next: 0,
                chunk: b"[".to_vec(),
                pos: 0,
            }
        }
    }

    impl Read for Generated {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.chunk.len() {
                self.chunk.clear();
                self.pos = 0;
                if self.next < self.n {
                    let i = self.next;
                    if i > 0 {
                        self.chunk.push(b',');
                    }
                    let sev = ["LOW", "medium", "HIGH", "Critical", "INFORMATIONAL"][i % 5];
                    write!(
                        self.chunk,
                        r#"{{"id":"id-{i}","name":"Open Port: {}","location":"tcp://10.0.{}.{}:{}",
                           "severity":"{sev}","category":"Open Port",
                           "parsed_at":"2024-01-01T12:00:00.000Z",
                           "attributes":{{"port":{},"state":"open","ip_addresses":["10.0.0.1"]}},
                           "scan":{{"name":"nmap","namespace":"default"}}}}"#,
                        i % 65536,
                        i / 65536 % 256,
                        i / 256 % 256,
                        i % 65536,
                        i % 65536
                    )?;
                    self.next += 1;
                } else if self.next == self.n {
                    self.chunk.push(b']');
                    self.next += 1;
                } else {
                    return Ok(0);
                }
            }
            let n = buf.len().min(self.chunk.len() - self.pos);
            buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// Counts the elements of `findings` while validating them, without
    /// keeping them.
    struct CountFindings(usize);

    impl<'de> serde::Deserialize<'de> for CountFindings {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_seq(CountVisitor).map(CountFindings)
        }
    }

    struct CountVisitor;

    impl<'de> Visitor<'de> for CountVisitor {
        type Value = usize;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
            let mut n = 0;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n += 1;
            }
            Ok(n)
        }
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Upload {
        findings: CountFindings,
    }

    /// Watches the reader's buffers while the output is pulled through it.
    struct Watch<'r, R> {
        inner: &'r mut GenericReader<R>,
        max_capacity: usize,
    }

    impl<R: BufRead> Read for Watch<'_, R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.max_capacity = self.max_capacity.max(self.inner.buffer_capacity());
            Ok(n)
        }
    }

    #[test]
    fn converts_100k_findings_with_bounded_memory() {
        const N: usize = 100_000;
        let input = BufReader::new(Generated::new(N));
        let mut reader = GenericReader::new(input, DEFAULT_MAX_FINDING_BYTES);
        let mut watch = Watch {
            inner: &mut reader,
            max_capacity: 0,
        };
        let upload: Upload = serde_json::from_reader(BufReader::new(&mut watch)).unwrap();
        let max_capacity = watch.max_capacity;
        assert_eq!(upload.findings.0, N);
        assert!(
            max_capacity <= 16 * 1024,
            "internal buffers grew to {max_capacity} bytes"
        );
        let counts = reader.counts();
        assert_eq!(counts.total, N as u64);
        for s in Severity::ALL {
            assert_eq!(counts.get(s), (N / 5) as u64, "{s}");
        }
    }
}
