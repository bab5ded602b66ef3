//! The import settings: what is imported (the [`Plan`]), how
//! ([`ImportMode`]), and the optional fields of DefectDojo's import and
//! reimport forms, validated locally. The form itself is
//! [`crate::dojo::import_call::ImportForm`].
//!
//! Naming rule, so users can guess: the form field `x_y` is the variable
//! `DEFECTDOJO_X_Y` and, per scan, the annotation
//! `defectdojo.securecodebox.io/x-y`. Unset fields are not sent, so
//! DefectDojo's own defaults apply (`active`/`verified` unset mean "as the
//! scanner says"). Pure: takes a setting getter and the detected CI.

use super::annotations::annotation;
use super::value::{Getter, dojo_severity, is_date, parse_bool};
use crate::cli::Args;
use crate::config::ci::Detected;
use crate::scan::Scan;
use crate::scan::types::{self, Plan};

/// What is imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Raw report or generic conversion, and the DefectDojo scan type.
    pub plan: Plan,
    /// True when no scan type was configured at all (generic with a warning).
    pub no_scan_type: bool,
    /// DefectDojo's `minimum_severity` (Info, Low, Medium, High, Critical).
    pub minimum_severity: Option<String>,
    /// `scan_date` (YYYY-MM-DD), only when configured.
    pub scan_date: Option<String>,
    /// New test per run, or reimport into the latest one.
    pub mode: ImportMode,
    /// The optional form fields, checked, in the order they are sent.
    pub fields: Vec<(String, String)>,
}

impl Import {
    /// The value of an optional form field, if set.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a setting is checked and sent.
#[derive(Clone, Copy, Debug)]
enum FieldKind {
    Bool,
    Text,
    /// Text of at most this many characters: DefectDojo's limit, the
    /// `maxLength` of the test's field in its recorded OpenAPI schema
    /// (`TestCreateRequest`; the import form itself declares none).
    Short(usize),
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
const FIELDS: &[(&str, FieldKind)] = &[
    ("active", FieldKind::Bool),
    ("verified", FieldKind::Bool),
    ("push_to_jira", FieldKind::Bool),
    ("service", FieldKind::Text),
    ("environment", FieldKind::Text),
    ("group_by", FieldKind::OneOf(GROUP_BY)),
    ("create_finding_groups_for_all_findings", FieldKind::Bool),
    ("apply_tags_to_findings", FieldKind::Bool),
    ("apply_tags_to_endpoints", FieldKind::Bool),
    ("build_id", FieldKind::Short(150)),
    ("commit_hash", FieldKind::Short(150)),
    ("branch_tag", FieldKind::Short(150)),
    ("api_scan_configuration", FieldKind::Id),
    ("endpoint_to_add", FieldKind::Id),
    (
        "deduplication_execution_mode",
        FieldKind::OneOf(DEDUP_MODES),
    ),
    ("close_old_findings", FieldKind::Bool),
    ("close_old_findings_product_scope", FieldKind::Bool),
    ("do_not_reactivate", FieldKind::Bool),
];

/// Whether a run imports into a new test or reimports into the latest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// A new test per run (the Java hook's behaviour and the default, but
    /// for a ScheduledScan's scans).
    Import,
    /// Into the latest test of the engagement with the same scan type and
    /// title; a new test when there is none.
    Reimport,
}

/// What [`read_plan`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRead {
    /// Raw or generic, and the DefectDojo scan type.
    pub plan: Plan,
    /// True when no scan type was configured at all.
    pub no_scan_type: bool,
    /// `dojo-hook REPORT` only: REPORT is a secureCodeBox findings.json to
    /// convert, not a raw report (the caller moves it to `Args::findings`).
    pub report_is_findings: bool,
}

/// The plan (raw or generic, and the DefectDojo scan type).
/// `DEFECTDOJO_SCAN_TYPE` beats the secureCodeBox scan type; an unknown
/// secureCodeBox type is warned about.
///
/// With one argument (`dojo-hook REPORT`), the report is uploaded as is with
/// `DEFECTDOJO_SCAN_TYPE` (any parser, even "Generic Findings Import") or a
/// native `SCAN_TYPE`; any other `SCAN_TYPE` means REPORT is a
/// secureCodeBox findings.json to convert.
pub fn read_plan(var: Getter, scb_type: Option<&str>, one_argument: bool) -> PlanRead {
    let dojo_override = var("DEFECTDOJO_SCAN_TYPE");
    let plan = types::plan(dojo_override.as_deref(), scb_type);
    let plan = match (&dojo_override, one_argument) {
        // One argument: the override is taken as a parser even when it names
        // the generic one, so REPORT is uploaded as it is.
        (Some(dojo), true) => Plan::Raw {
            dojo_type: dojo.to_string(),
        },
        _ => plan,
    };
    if let (None, Some(t)) = (&dojo_override, scb_type) {
        if let Some(warning) = types::unknown_type_warning(t) {
            log::warn!("{warning}");
        }
    }
    PlanRead {
        report_is_findings: one_argument
            && dojo_override.is_none()
            && scb_type.is_some()
            && plan == Plan::Generic,
        no_scan_type: dojo_override.is_none() && scb_type.is_none(),
        plan,
    }
}

/// The rest of the import settings, once the plan and the mode are known:
/// form fields, minimum severity and scan date, in this order of problems.
pub fn read_import(
    scan: &Scan,
    setting: &dyn Fn(&str) -> Option<String>,
    var: Getter,
    ci: Option<&Detected>,
    ((plan, no_scan_type), mode): ((Plan, bool), ImportMode),
    problems: &mut Vec<String>,
) -> Import {
    let fields = fields(setting, ci, mode, problems);
    Import {
        plan,
        no_scan_type,
        minimum_severity: read_minimum_severity(scan, var, problems),
        scan_date: read_scan_date(setting, problems),
        mode,
        fields,
    }
}

/// `import-mode`: import or reimport, any case, and whether the mode is
/// the default of a scan `owned` by a ScheduledScan.
///
/// Unset, a ScheduledScan's scans reimport: its runs are the same scan
/// repeated, and a new test per run (the Java hook's way) leaves DefectDojo
/// a copy of every finding per run, all but the first marked duplicate,
/// while fixed findings are never closed (secureCodeBox#2963). A reimport
/// keeps one test whose findings are created, closed and reactivated as the
/// runs find them, with every run in the import history. Other scans keep
/// the Java hook's new test per run. `import` brings either back.
pub fn read_mode(
    setting: &dyn Fn(&str) -> Option<String>,
    owned: bool,
    problems: &mut Vec<String>,
) -> (ImportMode, bool) {
    let mode = match setting("import-mode").map(|m| m.to_ascii_lowercase()) {
        None if owned => return (ImportMode::Reimport, true),
        None => ImportMode::Import,
        Some(m) if m == "import" => ImportMode::Import,
        Some(m) if m == "reimport" => ImportMode::Reimport,
        Some(m) => {
            problems.push(format!("import mode (DEFECTDOJO_IMPORT_MODE / annotation import-mode) must be import or reimport, got '{m}'"));
            ImportMode::Import
        }
    };
    (mode, false)
}

/// The minimum severity: annotation `minimum_severity` (the Java hook's
/// spelling) or `minimum-severity`, else `DEFECTDOJO_MINIMUM_SEVERITY`.
pub fn read_minimum_severity(
    scan: &Scan,
    var: Getter,
    problems: &mut Vec<String>,
) -> Option<String> {
    let v = annotation(scan, "minimum_severity")
        .or_else(|| annotation(scan, "minimum-severity"))
        .or_else(|| var("DEFECTDOJO_MINIMUM_SEVERITY"))?;
    match dojo_severity(&v) {
        Some(s) => Some(s.to_string()),
        None => {
            problems.push(format!(
                "minimum severity '{v}' is not one of Info, Low, Medium, High, Critical"
            ));
            None
        }
    }
}

/// `scan-date`, a YYYY-MM-DD date.
pub fn read_scan_date(
    setting: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> Option<String> {
    let d = setting("scan-date")?;
    if is_date(&d) {
        Some(d)
    } else {
        problems.push(format!(
            "scan date '{d}' is not a date of the form YYYY-MM-DD"
        ));
        None
    }
}

/// The problem with the inputs, if any: nothing to import, or not the
/// input the plan needs.
pub fn input_problem(args: &Args, one_argument: bool, import: &Import) -> Option<String> {
    let blank = |s: &str| s.trim().is_empty();
    let plan = &import.plan;
    if one_argument && blank(&args.raw_result) && blank(&args.findings) {
        Some("nothing to import: REPORT is empty".to_string())
    } else if one_argument && import.no_scan_type {
        // Said with the names: without a type there is no telling what REPORT is.
        None
    } else if blank(&args.raw_result) && blank(&args.findings) {
        Some("nothing to import: RAW_RESULT and FINDINGS are both empty".to_string())
    } else if *plan == Plan::Generic && blank(&args.findings) {
        Some(
            "the generic import needs FINDINGS (a findings.json path or URL), which is empty"
                .to_string(),
        )
    } else if *plan != Plan::Generic && blank(&args.raw_result) {
        Some(format!(
            "the '{}' import needs RAW_RESULT, which is empty",
            plan.dojo_type()
        ))
    } else {
        None
    }
}

/// The annotation name of a form field: `close_old_findings` → `close-old-findings`.
pub fn annotation_name(field: &str) -> String {
    field.replace('_', "-")
}

/// The annotation names of the optional fields (each must be on
/// [`super::annotations::ANNOTATIONS`]).
#[cfg(test)]
pub fn annotation_names() -> impl Iterator<Item = String> {
    FIELDS.iter().map(|(name, _)| annotation_name(name))
}

/// Reads, checks and orders the optional fields. Returns the fields and
/// every problem found.
pub fn fields(
    setting: &dyn Fn(&str) -> Option<String>,
    ci: Option<&Detected>,
    mode: ImportMode,
    problems: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, kind) in FIELDS {
        let given = setting(&annotation_name(name));
        let value = given
            .or_else(|| ci_value(name, ci))
            .or_else(|| default(name, mode));
        let Some(value) = value else { continue };
        let what = format!(
            "{name} (DEFECTDOJO_{} / annotation {})",
            name.to_ascii_uppercase(),
            annotation_name(name)
        );
        if let FieldKind::Short(max) = kind {
            if let Some(problem) = super::value::too_long(&what, &value, *max) {
                problems.push(problem);
                continue;
            }
        }
        match check(&value, *kind) {
            Ok(v) => out.push((name.to_string(), v)),
            Err(expected) => {
                let shown = crate::util::text::one_line(&crate::util::text::cut(&value, 40));
                problems.push(format!("{what} must be {expected}, got '{shown}'"));
            }
        }
    }
    if mode == ImportMode::Reimport && has(&out, "close_old_findings_product_scope") {
        log::warn!(
            "close_old_findings_product_scope has no effect on reimport (DefectDojo's own help \
             text says so): only the reimported test's findings are closed"
        );
    }
    if mode == ImportMode::Import && has(&out, "do_not_reactivate") {
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

fn default(field: &str, mode: ImportMode) -> Option<String> {
    // On reimport, fixed findings are what the mode is for (and DefectDojo's
    // own default there); say it explicitly so the form shows it.
    (mode == ImportMode::Reimport && field == "close_old_findings").then(|| "true".to_string())
}

fn check(value: &str, kind: FieldKind) -> Result<String, String> {
    match kind {
        FieldKind::Bool => parse_bool(value)
            .map(|b| b.to_string())
            .ok_or_else(|| "true or false".to_string()),
        FieldKind::Text | FieldKind::Short(_) => Ok(value.to_string()),
        FieldKind::Id => value
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| n.to_string())
            .ok_or_else(|| "a DefectDojo id (a whole number)".to_string()),
        FieldKind::OneOf(choices) => choices
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
        mode: ImportMode,
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
    fn build_fields_are_bounded_and_bad_values_shown_cut() {
        let long = "b".repeat(151);
        let (f, p) = run(
            &[("build-id", &long), ("commit-hash", &"c".repeat(150))],
            None,
            ImportMode::Import,
        );
        assert_eq!(get(&f, "build_id"), None);
        assert_eq!(get(&f, "commit_hash").map(str::len), Some(150));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(
                "build_id (DEFECTDOJO_BUILD_ID / annotation build-id) is 151 characters"
            ),
            "{p:?}"
        );
        let (_, p) = run(
            &[("active", &"x".repeat(1 << 20))],
            None,
            ImportMode::Import,
        );
        assert!(
            p[0].len() < 200 && p[0].contains("(1048576 characters)"),
            "{p:?}"
        );
    }

    #[test]
    fn unset_fields_are_not_sent() {
        let (f, p) = run(&[], None, ImportMode::Import);
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
            ImportMode::Import,
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
            ImportMode::Import,
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
        let (f, _) = run(
            &[("commit-hash", "override")],
            Some(&ci),
            ImportMode::Import,
        );
        assert_eq!(get(&f, "build_id"), Some("42"));
        assert_eq!(get(&f, "commit_hash"), Some("override"));
        assert_eq!(get(&f, "branch_tag"), Some("main"));
    }

    /// A getter on a map of settings (annotation names or variables).
    fn getter<'a>(map: &'a HashMap<&str, &str>) -> impl Fn(&str) -> Option<String> + 'a {
        |k| map.get(k).map(|v| v.to_string())
    }

    #[test]
    fn mode_severity_and_date_are_checked() {
        let mut problems = Vec::new();
        let ok = HashMap::from([("import-mode", "ReImport"), ("scan-date", "2024-02-29")]);
        assert_eq!(
            read_mode(&getter(&ok), false, &mut problems),
            (ImportMode::Reimport, false)
        );
        assert_eq!(
            read_scan_date(&getter(&ok), &mut problems).as_deref(),
            Some("2024-02-29")
        );
        assert!(problems.is_empty());
        // A ScheduledScan's scans reimport unless told otherwise.
        let none = HashMap::new();
        assert_eq!(
            read_mode(&getter(&none), true, &mut problems),
            (ImportMode::Reimport, true)
        );
        assert_eq!(
            read_mode(&getter(&none), false, &mut problems),
            (ImportMode::Import, false)
        );
        let import = HashMap::from([("import-mode", "import")]);
        assert_eq!(
            read_mode(&getter(&import), true, &mut problems),
            (ImportMode::Import, false)
        );
        let bad = HashMap::from([("import-mode", "append"), ("scan-date", "29.02.2024")]);
        assert_eq!(
            read_mode(&getter(&bad), true, &mut problems),
            (ImportMode::Import, false)
        );
        assert_eq!(read_scan_date(&getter(&bad), &mut problems), None);
        assert_eq!(problems.len(), 2, "{problems:?}");

        // The annotation beats the variable; both spellings of the annotation.
        let vars = HashMap::from([("DEFECTDOJO_MINIMUM_SEVERITY", "high")]);
        let mut scan = Scan::default();
        let mut problems = Vec::new();
        assert_eq!(
            read_minimum_severity(&scan, &getter(&vars), &mut problems).as_deref(),
            Some("High")
        );
        scan.annotations.insert(
            "defectdojo.securecodebox.io/minimum-severity".into(),
            "informational".into(),
        );
        assert_eq!(
            read_minimum_severity(&scan, &getter(&vars), &mut problems).as_deref(),
            Some("Info")
        );
        let urgent = HashMap::from([("DEFECTDOJO_MINIMUM_SEVERITY", "urgent")]);
        let none = read_minimum_severity(&Scan::default(), &getter(&urgent), &mut problems);
        assert_eq!((none, problems.len()), (None, 1));
    }

    #[test]
    fn the_plan_and_the_inputs_it_needs() {
        let mut args = Args {
            raw_result: "r.json".into(),
            findings: String::new(),
            raw_result_upload: None,
            findings_upload: None,
        };
        let none = HashMap::new();
        // `dojo-hook REPORT` with a secureCodeBox type without a parser: REPORT is
        // findings.json; the arguments are the caller's, untouched.
        let read = read_plan(&getter(&none), Some("kube-hunter"), true);
        assert_eq!(
            read,
            PlanRead {
                plan: Plan::Generic,
                no_scan_type: false,
                report_is_findings: true
            }
        );
        let plan = read.plan;
        assert_eq!(args.raw_result, "r.json");
        // Native, or an explicit DefectDojo type (even the generic one): uploaded as is.
        for (dojo, scb, want) in [
            (None, Some("nmap"), "Nmap Scan"),
            (
                Some("Generic Findings Import"),
                Some("kube-hunter"),
                "Generic Findings Import",
            ),
        ] {
            let vars: HashMap<&str, &str> = dojo
                .map(|d| ("DEFECTDOJO_SCAN_TYPE", d))
                .into_iter()
                .collect();
            let read = read_plan(&getter(&vars), scb, true);
            assert!(!read.report_is_findings, "{want}");
            assert_eq!(
                read.plan,
                Plan::Raw {
                    dojo_type: want.into()
                }
            );
        }
        assert!(!read_plan(&getter(&none), Some("kube-hunter"), false).report_is_findings);
        args.findings = std::mem::take(&mut args.raw_result);
        let import = |plan: Plan, no_scan_type: bool| Import {
            plan,
            no_scan_type,
            minimum_severity: None,
            scan_date: None,
            mode: ImportMode::Import,
            fields: Vec::new(),
        };
        assert_eq!(input_problem(&args, true, &import(plan, false)), None);

        let dojo = HashMap::from([("DEFECTDOJO_SCAN_TYPE", "SARIF")]);
        let read = read_plan(&getter(&dojo), Some("nmap"), false);
        assert_eq!(read.plan.dojo_type(), "SARIF");
        let problem = input_problem(&args, false, &import(read.plan, read.no_scan_type)).unwrap();
        assert_eq!(
            problem,
            "the 'SARIF' import needs RAW_RESULT, which is empty"
        );
        let read = read_plan(&getter(&none), None, false);
        assert!(read.no_scan_type);
        args.findings.clear();
        let problem = input_problem(&args, false, &import(read.plan, true)).unwrap();
        assert!(problem.starts_with("nothing to import"), "{problem}");
    }

    #[test]
    fn reimport_closes_old_findings_unless_told_not_to() {
        let (f, _) = run(&[], None, ImportMode::Reimport);
        assert_eq!(get(&f, "close_old_findings"), Some("true"));
        let (f, _) = run(
            &[("close-old-findings", "false")],
            None,
            ImportMode::Reimport,
        );
        assert_eq!(get(&f, "close_old_findings"), Some("false"));
    }
}
