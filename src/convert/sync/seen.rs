//! A read-back finding as the CI report formats see it ([`Seen`]): plain
//! borrowed fields, so that SARIF and JUnit do not depend on the shape of
//! DefectDojo's answers.

use super::finding_pages::DojoFinding;
use crate::scan::finding::Severity;

/// One finding as DefectDojo holds it after deduplication, handed to the
/// read-back's observer ([`super::Fetch::seen`]) as it is written. Empty
/// strings stand for absent text.
#[derive(Debug, Clone)]
pub struct Seen<'a> {
    /// DefectDojo's id.
    pub id: u64,
    /// Its title.
    pub title: &'a str,
    /// DefectDojo's severity, normalised (`Critical` … `Info`; unknown is
    /// `Info`).
    pub severity: &'static str,
    /// The severity's rank: 0 Critical … 4 Info.
    pub rank: usize,
    /// Markdown description.
    pub description: &'a str,
    /// How to fix it.
    pub mitigation: &'a str,
    /// References (free text, often URLs).
    pub references: &'a str,
    /// The file it is in, as the scanner named it.
    pub file_path: Option<&'a str>,
    /// Its line in that file (1-based).
    pub line: Option<u64>,
    /// The endpoint (2.x) or location (3.x) URL of a network finding.
    pub endpoint: Option<&'a str>,
    /// CWE number (DefectDojo's 0 is absent).
    pub cwe: Option<u64>,
    /// The first vulnerability id (CVE, GHSA, …).
    pub vulnerability_id: Option<&'a str>,
    /// DefectDojo's deduplication hash.
    pub hash_code: Option<&'a str>,
    /// CVSS v3 base score.
    pub cvss_score: Option<f64>,
    /// The vulnerable component and its version.
    pub component: Option<&'a str>,
    pub component_version: Option<&'a str>,
    /// Triage flags.
    pub false_p: bool,
    pub risk_accepted: bool,
    pub out_of_scope: bool,
    pub duplicate: bool,
    /// Lifecycle flags.
    pub active: bool,
    pub mitigated: bool,
    /// The finding this one duplicates.
    pub original: Option<u64>,
}

fn text<'a>(t: &'a Option<super::finding_pages::JsonText<'_>>) -> Option<&'a str> {
    t.as_ref()
        .map(|t| t.as_str())
        .filter(|s| !s.trim().is_empty())
}

/// The view of `f`; `location` is its endpoint's URL, if it has one.
pub(super) fn seen<'a>(f: &'a DojoFinding<'_>, location: Option<&'a str>) -> Seen<'a> {
    let severity = text(&f.severity)
        .and_then(Severity::from_dojo_name)
        .unwrap_or(Severity::Informational);
    Seen {
        id: f.id,
        title: text(&f.title).unwrap_or(""),
        severity: severity.dojo_name(),
        rank: Severity::Critical.rank() - severity.rank(),
        description: text(&f.description).unwrap_or(""),
        mitigation: text(&f.mitigation).unwrap_or(""),
        references: text(&f.references).unwrap_or(""),
        file_path: text(&f.file_path),
        line: f.line,
        endpoint: location,
        cwe: f.cwe.filter(|&c| c > 0),
        vulnerability_id: f
            .vulnerability_ids
            .as_ref()
            .and_then(|ids| ids.iter().find_map(|v| text(&v.vulnerability_id))),
        hash_code: text(&f.hash_code),
        cvss_score: f.cvssv3_score,
        component: text(&f.component_name),
        component_version: text(&f.component_version),
        false_p: f.false_p == Some(true),
        risk_accepted: f.risk_accepted == Some(true),
        out_of_scope: f.out_of_scope == Some(true),
        duplicate: f.duplicate == Some(true),
        active: f.active != Some(false),
        mitigated: f.is_mitigated == Some(true),
        original: f.original_id(),
    }
}

#[cfg(test)]
impl<'a> Seen<'a> {
    /// For tests: an active finding with an id, a title and a severity rank
    /// (0 Critical … 4 Info), nothing else.
    pub(crate) fn example(id: u64, title: &'a str, rank: usize) -> Seen<'a> {
        let severity = Severity::ALL[Severity::Critical.rank() - rank.min(4)];
        Seen {
            id,
            title,
            severity: severity.dojo_name(),
            rank,
            description: "",
            mitigation: "",
            references: "",
            file_path: None,
            line: None,
            endpoint: None,
            cwe: None,
            vulnerability_id: None,
            hash_code: None,
            cvss_score: None,
            component: None,
            component_version: None,
            false_p: false,
            risk_accepted: false,
            out_of_scope: false,
            duplicate: false,
            active: true,
            mitigated: false,
            original: None,
        }
    }
}
