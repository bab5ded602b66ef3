//! One secureCodeBox finding as one DefectDojo generic finding: the
//! fields, their limits, the title and the picks from the attributes.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use super::description::{
    Picks, nonblank, parse_cwe, title_of, vulnerability_ids, write_description, write_references,
};
use super::json::{JsonStr, is_plain, push_json_str, push_num_field, push_str_field, push_text};
use super::location::{LocationKind, classify_location};
use crate::error::Error;
use crate::scan::finding::{self as scb, Severity};
use crate::util::time;

/// Field limits of DefectDojo's `Finding` (characters); longer values would
/// fail the database insert, so they are left out (they stay in the
/// description).
const UNIQUE_ID_MAX_CHARS: usize = 500;
const VULN_ID_FROM_TOOL_MAX_CHARS: usize = 500;
const FILE_PATH_MAX_CHARS: usize = 4000;
const COMPONENT_NAME_MAX_CHARS: usize = 200;
const COMPONENT_VERSION_MAX_CHARS: usize = 100;

/// At most this many conversion warnings are logged per run.
const MAX_WARNINGS: u32 = 20;

/// What the converter needs to know besides the finding: which finding it
/// is (for messages), and how many warnings were logged so far.
#[derive(Debug)]
pub struct ConvertContext {
    source: String,
    index: usize,
    warnings: Cell<u32>,
}

impl ConvertContext {
    /// A context for findings read from `source` (e.g. `findings.json`).
    pub fn new(source: impl Into<String>) -> ConvertContext {
        ConvertContext {
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
    s.dojo_name()
}

/// The severity of `f`: absent, null or blank is informational; anything
/// unknown is an input error naming the finding.
pub fn severity_of(f: &scb::Finding<'_>, ctx: &ConvertContext) -> Result<Severity, Error> {
    match f.severity.as_deref() {
        None => Ok(Severity::Informational),
        Some(s) if s.trim().is_empty() => Ok(Severity::Informational),
        Some(s) => Severity::parse(s).map_err(|e| Error::input(ctx.what(), e.to_string())),
    }
}

/// Appends `f` as one DefectDojo generic finding (a compact JSON object) to
/// `out`. On error, `out` is left as it was.
pub fn write_generic(
    f: &scb::Finding<'_>,
    out: &mut Vec<u8>,
    ctx: &ConvertContext,
) -> Result<(), Error> {
    let start = out.len();
    let result = write_finding(f, out, ctx);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn write_finding(
    f: &scb::Finding<'_>,
    out: &mut Vec<u8>,
    ctx: &ConvertContext,
) -> Result<(), Error> {
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

    write_references_and_ids(f, out, picks.cwe);
    write_location(out, location, &mut picks);
    write_picks(f, out, picks, ctx);
    out.push(b'}');
    Ok(())
}

/// `references` (a Markdown list), `vulnerability_ids` and `cwe` from the
/// typed references (a CWE reference wins over one picked from attributes).
fn write_references_and_ids(f: &scb::Finding<'_>, out: &mut Vec<u8>, picked_cwe: Option<u32>) {
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
        .or(picked_cwe);
    if let Some(cwe) = cwe {
        push_num_field(out, "cwe", u64::from(cwe));
    }
}

/// `endpoints` for a URL location, else `file_path` and `line` from a path
/// location or the attributes.
fn write_location<'a>(out: &mut Vec<u8>, location: Option<&'a str>, picks: &mut Picks<'a>) {
    let kind = location.map_or(LocationKind::Other, classify_location);
    if let (LocationKind::Endpoint, Some(loc)) = (&kind, location) {
        out.extend_from_slice(b",\"endpoints\":[");
        push_json_str(out, loc);
        out.push(b']');
    }
    let (file, line) = match kind {
        LocationKind::File { path, line } => (Some(Cow::Borrowed(path)), line.or(picks.line)),
        _ => (picks.file.take(), picks.line),
    };
    if let Some(file) = file.filter(|p| fits(p, FILE_PATH_MAX_CHARS)) {
        push_str_field(out, "file_path", &file);
        if let Some(line) = line {
            push_num_field(out, "line", line);
        }
    }
}

/// The values picked from the attributes, and the scanner's own id, each
/// within DefectDojo's field limits.
fn write_picks(f: &scb::Finding<'_>, out: &mut Vec<u8>, picks: Picks<'_>, ctx: &ConvertContext) {
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
}

/// The UTC date of `identified_at`, else of `parsed_at`; unparseable ones
/// are skipped with a warning, and without a date DefectDojo uses the import
/// date.
fn date_of(f: &scb::Finding<'_>, ctx: &ConvertContext) -> Option<String> {
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

/// At most `max` characters.
pub(super) fn fits(s: &str, max: usize) -> bool {
    s.len() <= max || s.chars().count() <= max
}

pub(super) fn truncate_chars(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}
