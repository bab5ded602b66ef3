//! The optional fields of DefectDojo's import and reimport forms, from the
//! settings, validated locally.
//!
//! Naming rule, so users can guess: the form field `x_y` is the variable
//! `DEFECTDOJO_X_Y` and, per scan, the annotation
//! `defectdojo.securecodebox.io/x-y`. Unset fields are not sent, so
//! DefectDojo's own defaults apply (`active`/`verified` unset mean "as the
//! scanner says"). Pure: takes a setting getter and the detected CI.

use crate::ci::Detected;

/// How a setting is checked and sent.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Bool,
    Text,
    Id,
    OneOf(&'static [&'static str]),
}

/// DefectDojo's `group_by` choices.
pub const GROUP_BY: &[&str] = &[
    "component_name",
    "component_name+component_version",
    "file_path",
    "finding_title",
    "vuln_id_from_tool",
];

/// DefectDojo's `deduplication_execution_mode` choices.
pub const DEDUP_MODES: &[&str] = &["async", "async_wait", "sync"];

/// The optional form fields, in the order they are sent.
const FIELDS: &[(&str, Kind)] = &[
    ("active", Kind::Bool),
    ("verified", Kind::Bool),
    ("push_to_jira", Kind::Bool),
    ("service", Kind::Text),
    ("environment", Kind::Text),
    ("group_by", Kind::OneOf(GROUP_BY)),
    ("create_finding_groups_for_all_findings", Kind::Bool),
    ("apply_tags_to_findings", Kind::Bool),
    ("apply_tags_to_endpoints", Kind::Bool),
    ("build_id", Kind::Text),
    ("commit_hash", Kind::Text),
    ("branch_tag", Kind::Text),
    ("api_scan_configuration", Kind::Id),
    ("endpoint_to_add", Kind::Id),
    ("deduplication_execution_mode", Kind::OneOf(DEDUP_MODES)),
    ("close_old_findings", Kind::Bool),
    ("close_old_findings_product_scope", Kind::Bool),
    ("do_not_reactivate", Kind::Bool),
];

/// Whether a run imports into a new test or reimports into the latest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A new test per run (the Java hook's behaviour and the default).
    Import,
    /// Into the latest test of the engagement with the same scan type and
    /// title; a new test when there is none.
    Reimport,
}

/// The annotation name of a form field: `close_old_findings` → `close-old-findings`.
pub fn annotation_name(field: &str) -> String {
    field.replace('_', "-")
}

/// The annotation names of the optional fields (for spotting typos).
pub fn annotation_names() -> impl Iterator<Item = String> {
    FIELDS.iter().map(|(name, _)| annotation_name(name))
}

/// Reads, checks and orders the optional fields. Returns the fields and
/// every problem found.
pub fn fields(
    setting: &dyn Fn(&str) -> Option<String>,
    ci: Option<&Detected>,
    mode: Mode,
    problems: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, kind) in FIELDS {
        let given = setting(&annotation_name(name));
        let value = given
            .or_else(|| ci_value(name, ci))
            .or_else(|| default(name, mode));
        let Some(value) = value else { continue };
        match check(&value, *kind) {
            Ok(v) => out.push((name.to_string(), v)),
            Err(expected) => problems.push(format!(
                "{name} (DEFECTDOJO_{} / annotation {}) must be {expected}, got '{value}'",
                name.to_ascii_uppercase(),
                annotation_name(name)
            )),
        }
    }
    if mode == Mode::Reimport && has(&out, "close_old_findings_product_scope") {
        log::warn!(
            "close_old_findings_product_scope has no effect on reimport (DefectDojo's own help \
             text says so): only the reimported test's findings are closed"
        );
    }
    if mode == Mode::Import && has(&out, "do_not_reactivate") {
        log::warn!("do_not_reactivate only applies to reimport (DEFECTDOJO_IMPORT_MODE=reimport)");
    }
    if let Some(tags) = setting("test-tags") {
        for tag in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            out.push(("tags".to_string(), tag.to_string()));
        }
    }
    out
}

fn has(fields: &[(String, String)], name: &str) -> bool {
    fields.iter().any(|(k, _)| k == name)
}

/// CI-detected values rank below explicit settings.
fn ci_value(field: &str, ci: Option<&Detected>) -> Option<String> {
    let ci = ci?;
    match field {
        "build_id" => ci.build_id.clone(),
        "commit_hash" => ci.commit_hash.clone(),
        "branch_tag" => ci.branch_tag.clone(),
        _ => None,
    }
}

fn default(field: &str, mode: Mode) -> Option<String> {
    // On reimport, fixed findings are what the mode is for (and DefectDojo's
    // own default there); say it explicitly so the form shows it.
    (mode == Mode::Reimport && field == "close_old_findings").then(|| "true".to_string())
}

fn check(value: &str, kind: Kind) -> Result<String, String> {
    match kind {
        Kind::Bool => crate::config::parse_bool(value)
            .map(|b| b.to_string())
            .ok_or_else(|| "true or false".to_string()),
        Kind::Text => Ok(value.to_string()),
        Kind::Id => value
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| n.to_string())
            .ok_or_else(|| "a DefectDojo id (a whole number)".to_string()),
        Kind::OneOf(choices) => choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value))
            .map(|c| c.to_string())
            .ok_or_else(|| format!("one of {}", choices.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(
        settings: &[(&str, &str)],
        ci: Option<&Detected>,
        mode: Mode,
    ) -> (Vec<(String, String)>, Vec<String>) {
        let map: HashMap<String, String> = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut problems = Vec::new();
        let f = fields(&|k| map.get(k).cloned(), ci, mode, &mut problems);
        (f, problems)
    }

    fn get<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
        f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn unset_fields_are_not_sent() {
        let (f, p) = run(&[], None, Mode::Import);
        assert!(f.is_empty() && p.is_empty());
    }

    #[test]
    fn values_are_checked_and_normalised() {
        let (f, p) = run(
            &[
                ("active", "YES"),
                ("group-by", "FILE_PATH"),
                ("api-scan-configuration", "3"),
                ("test-tags", "a, b,,c"),
            ],
            None,
            Mode::Import,
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(get(&f, "active"), Some("true"));
        assert_eq!(get(&f, "group_by"), Some("file_path"));
        assert_eq!(get(&f, "api_scan_configuration"), Some("3"));
        let tags: Vec<&str> = f
            .iter()
            .filter(|(k, _)| k == "tags")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(tags, ["a", "b", "c"]);
        let (_, p) = run(
            &[
                ("verified", "maybe"),
                ("group-by", "x"),
                ("deduplication-execution-mode", "later"),
            ],
            None,
            Mode::Import,
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].contains("DEFECTDOJO_VERIFIED"));
    }

    #[test]
    fn explicit_settings_beat_ci_values() {
        let ci = Detected {
            provider: "github",
            build_id: Some("42".into()),
            commit_hash: Some("abc".into()),
            branch_tag: Some("main".into()),
            ..Detected::default()
        };
        let (f, _) = run(&[("commit-hash", "override")], Some(&ci), Mode::Import);
        assert_eq!(get(&f, "build_id"), Some("42"));
        assert_eq!(get(&f, "commit_hash"), Some("override"));
        assert_eq!(get(&f, "branch_tag"), Some("main"));
    }

    #[test]
    fn reimport_closes_old_findings_unless_told_not_to() {
        let (f, _) = run(&[], None, Mode::Reimport);
        assert_eq!(get(&f, "close_old_findings"), Some("true"));
        let (f, _) = run(&[("close-old-findings", "false")], None, Mode::Reimport);
        assert_eq!(get(&f, "close_old_findings"), Some("false"));
    }
}
