//! JUnit XML for test-report widgets (GitLab, Jenkins), from the read-back
//! findings: one `<testcase>` per finding, failed when it fails the build
//! gate, skipped when DefectDojo triaged it, passed otherwise (with the
//! reason in `<system-out>`).
//!
//! Streaming: `<testsuite>` carries its counts in its start tag, so each
//! case goes to the [`Scratch`] as it comes and only the counts are kept;
//! [`JunitWriter::finish`] writes the head and copies the cases after it.
//! Pure: no file or network I/O of its own. The output is deterministic (no
//! timestamp, no timings).

use std::fmt;
use std::io::{self, BufWriter, Write};

use super::scratch::Scratch;
use super::sync::Seen;
use super::triage::{Baseline, Judged, RunInfo};

mod xml;

#[cfg(test)]
mod tests;

use xml::{XmlContext, escape, escape_capped};

/// A case's name, a title or a location, in characters.
const NAME_MAX: usize = 1_000;
/// A failure's description, in characters.
const DESCRIPTION_MAX: usize = 4_000;
/// A failure's mitigation, in characters.
const MITIGATION_MAX: usize = 2_000;

/// What the report holds, as its head says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct JunitStats {
    /// Test cases: one per finding.
    pub tests: u64,
    /// Findings that fail the build gate.
    pub failures: u64,
    /// Findings DefectDojo triaged (false positive, risk accepted, out of
    /// scope, duplicate).
    pub skipped: u64,
}

/// Writes a JUnit report one finding at a time.
pub(crate) struct JunitWriter<S: Scratch> {
    info: RunInfo,
    cases: BufWriter<S>,
    stats: JunitStats,
}

impl<S: Scratch> JunitWriter<S> {
    /// A report for the run `info`; the cases wait in `scratch`.
    pub fn new(info: RunInfo, scratch: S) -> JunitWriter<S> {
        JunitWriter {
            info,
            cases: BufWriter::new(scratch),
            stats: JunitStats::default(),
        }
    }

    /// One finding, in read-back order (up to 1,000,000 calls).
    pub fn add(&mut self, f: &Judged<'_>) -> io::Result<()> {
        let s = &f.seen;
        let w: &mut dyn Write = &mut self.cases;
        let link = self.info.finding_url(s.id);
        w.write_all(b"    <testcase classname=\"")?;
        escape(w, &self.info.scan_type, XmlContext::Attribute)?;
        w.write_all(b"\" name=\"")?;
        let name = format_args!("{}", Name(s));
        escape_capped(w, XmlContext::Attribute, NAME_MAX, name)?;
        w.write_all(b"\">\n")?;
        if f.fails_gate {
            self.stats.failures += 1;
            failure(w, s, &link)?;
        } else if let Some(t) = f.triage {
            self.stats.skipped += 1;
            w.write_all(b"      <skipped message=\"")?;
            escape(w, t.label(), XmlContext::Attribute)?;
            w.write_all(b" in DefectDojo: ")?;
            escape(w, &link, XmlContext::Attribute)?;
            w.write_all(b"\"/>\n")?;
        } else {
            w.write_all(b"      <system-out>State: ")?;
            escape(w, state(f), XmlContext::Text)?;
            w.write_all(b"\nDefectDojo: ")?;
            escape(w, &link, XmlContext::Text)?;
            w.write_all(b"</system-out>\n")?;
        }
        self.stats.tests += 1;
        w.write_all(b"    </testcase>\n")
    }

    /// Writes the whole document to `out`.
    pub fn finish(self, out: &mut dyn Write) -> io::Result<JunitStats> {
        let JunitWriter { info, cases, stats } = self;
        let mut cases = cases.into_inner().map_err(|e| e.into_error())?;
        let JunitStats {
            tests,
            failures,
            skipped,
        } = stats;
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"dojo-hook\" tests=\"{tests}\" failures=\"{failures}\" \
             errors=\"0\" skipped=\"{skipped}\">\n  <testsuite name=\""
        )?;
        let suite = match info.test_title.trim() {
            "" => format_args!("DefectDojo test {}", info.test_id),
            _ => format_args!("{}", info.test_title),
        };
        escape_capped(out, XmlContext::Attribute, NAME_MAX, suite)?;
        write!(
            out,
            "\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n    \
             <properties>\n"
        )?;
        property(out, "scan_type", &info.scan_type)?;
        property(out, "defectdojo_test", &info.test_url())?;
        property(
            out,
            "reimport",
            if info.reimport { "true" } else { "false" },
        )?;
        out.write_all(b"    </properties>\n")?;
        io::copy(&mut cases.reread()?, out)?;
        out.write_all(b"  </testsuite>\n</testsuites>\n")?;
        out.flush()?;
        Ok(stats)
    }
}

fn property(out: &mut dyn Write, name: &str, value: &str) -> io::Result<()> {
    write!(out, "      <property name=\"{name}\" value=\"")?;
    escape(out, value, XmlContext::Attribute)?;
    out.write_all(b"\"/>\n")
}

/// A failing finding: what it is and where, its link, then how to fix it.
fn failure(w: &mut dyn Write, s: &Seen<'_>, link: &str) -> io::Result<()> {
    w.write_all(b"      <failure type=\"")?;
    escape(w, s.severity, XmlContext::Attribute)?;
    w.write_all(b"\" message=\"")?;
    escape_capped(
        w,
        XmlContext::Attribute,
        NAME_MAX,
        format_args!("[{}] {}", s.severity, CaseName(s)),
    )?;
    w.write_all(b"\">")?;
    escape_capped(
        w,
        XmlContext::Text,
        NAME_MAX,
        format_args!("{}", CaseName(s)),
    )?;
    w.write_all(b"\nSeverity: ")?;
    escape(w, s.severity, XmlContext::Text)?;
    if let Some(l) = location(s) {
        w.write_all(b"\nLocation: ")?;
        escape_capped(w, XmlContext::Text, NAME_MAX, format_args!("{l}"))?;
    }
    w.write_all(b"\nDefectDojo: ")?;
    escape(w, link, XmlContext::Text)?;
    if let Some(cwe) = s.cwe {
        write!(w, "\nCWE: CWE-{cwe}")?;
    }
    if let Some(id) = s.vulnerability_id {
        w.write_all(b"\nVulnerability: ")?;
        escape_capped(w, XmlContext::Text, NAME_MAX, format_args!("{id}"))?;
    }
    if !s.description.is_empty() {
        w.write_all(b"\n\n")?;
        let d = s.description;
        escape_capped(w, XmlContext::Text, DESCRIPTION_MAX, format_args!("{d}"))?;
    }
    if !s.mitigation.is_empty() {
        w.write_all(b"\n\nMitigation:\n")?;
        let m = s.mitigation;
        escape_capped(w, XmlContext::Text, MITIGATION_MAX, format_args!("{m}"))?;
    }
    w.write_all(b"</failure>\n")
}

/// Why a finding that is neither failing nor triaged passes.
fn state(f: &Judged<'_>) -> &'static str {
    let s = &f.seen;
    match f.baseline {
        Baseline::Absent => "closed by this import: no longer in the report",
        _ if s.mitigated => "mitigated",
        _ if !s.active => "inactive",
        Baseline::Unchanged => "not new: already in the test",
        Baseline::New => "new, but does not fail the build gate",
    }
}

/// A finding's title; `finding <id>` when it has none.
struct CaseName<'s, 'a>(&'s Seen<'a>);

impl fmt::Display for CaseName<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.title {
            "" => write!(f, "finding {}", self.0.id),
            t => f.write_str(t),
        }
    }
}

/// A case's name: `<title> @ <location>`, or the title alone.
struct Name<'s, 'a>(&'s Seen<'a>);

impl fmt::Display for Name<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", CaseName(self.0))?;
        match location(self.0) {
            Some(l) => write!(f, " @ {l}"),
            None => Ok(()),
        }
    }
}

/// Where a finding is: its file (and line), else its endpoint.
enum FileOrEndpoint<'a> {
    File(&'a str, Option<u64>),
    Endpoint(&'a str),
}

fn location<'a>(s: &Seen<'a>) -> Option<FileOrEndpoint<'a>> {
    match (s.file_path, s.endpoint) {
        (Some(p), _) => Some(FileOrEndpoint::File(p, s.line)),
        (None, Some(e)) => Some(FileOrEndpoint::Endpoint(e)),
        (None, None) => None,
    }
}

impl fmt::Display for FileOrEndpoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FileOrEndpoint::File(p, Some(line)) => write!(f, "{p}:{line}"),
            FileOrEndpoint::File(p, None) => f.write_str(p),
            FileOrEndpoint::Endpoint(e) => f.write_str(e),
        }
    }
}
