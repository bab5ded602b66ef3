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

mod decimal;
mod description;
mod fields;
mod json;
pub mod json_array;
mod location;
pub mod markdown;
mod reader;
#[cfg(test)]
mod tests;

pub use fields::{ConvertContext, dojo_severity, severity_of, write_generic};
pub use reader::{ConvertedCounts, GenericReader};

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

/// The largest single finding accepted in findings.json: a bound on memory
/// (one finding is held at a time), far above any real finding.
pub const MAX_FINDING_BYTES: usize = 16 << 20;
