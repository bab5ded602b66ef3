//! Where the results go in DefectDojo: product type, product, engagement
//! and test ([`Target`]), from the scan's settings, its name, the
//! ScheduledScan that owns it, or the CI's repository.
//!
//! A ScheduledScan's runs are one scan repeated under new names
//! (`nmap-nightly-28731940`), so in reimport mode its name, not the run's,
//! names the engagement and the test: every run then reimports into the
//! test of the run before ([`Schedule`] says so in the log and the summary).

use serde::Serialize;

use super::ImportMode;
use super::value::{is_date, parse_bool, tags};
use crate::config::ci::Detected;
use crate::scan::Scan;

/// Default product description, as the Java hook's.
pub const DEFAULT_PRODUCT_DESCRIPTION: &str =
    "Product was automatically created by the secureCodeBox DefectDojo integration";

/// Product type, product, engagement and test names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Product type name; `None` means product type id 1 (Java default).
    pub product_type_name: Option<String>,
    /// Product name.
    pub product_name: String,
    /// Product description (only used when the product is created).
    pub product_description: String,
    /// Product tags (only used when the product is created).
    pub product_tags: Vec<String>,
    /// Engagement name.
    pub engagement_name: String,
    /// Engagement version; also the engagement's branch tag and the test version.
    pub engagement_version: Option<String>,
    /// `deduplication_on_engagement` (only used when created).
    pub engagement_dedup: bool,
    /// Engagement tags (only used when created).
    pub engagement_tags: Vec<String>,
    /// Engagement end date (only used when created) [default: today].
    pub engagement_end_date: Option<String>,
    /// The repository URL, set on the engagement when it is created.
    pub source_code_management_uri: Option<String>,
    /// Test title.
    pub test_title: String,
    /// The names that took the owning ScheduledScan's name as their
    /// default (`product_name`, `engagement_name`, `test_title`).
    pub from_schedule: Vec<&'static str>,
}

/// What the owning ScheduledScan decided, for the log and the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// The ScheduledScan's name.
    pub name: String,
    /// The settings that took their default from it, in the order
    /// `product_name`, `import_mode`, `engagement_name`, `test_title`.
    pub defaults: Vec<&'static str>,
}

impl Schedule {
    /// The ScheduledScan `owner`'s part in the settings, if it had one.
    pub fn of(owner: Option<&str>, import_mode: bool, target: &Target) -> Option<Schedule> {
        let mut defaults = target.from_schedule.clone();
        if import_mode {
            let after_product = usize::from(defaults.first() == Some(&"product_name"));
            defaults.insert(after_product, "import_mode");
        }
        let name = owner.filter(|_| !defaults.is_empty())?;
        Some(Schedule {
            name: name.to_string(),
            defaults,
        })
    }

    /// One line for the log: what the ScheduledScan decided and how to
    /// decide otherwise.
    pub fn explain(&self) -> String {
        let named: Vec<&str> = self
            .defaults
            .iter()
            .filter_map(|d| d.strip_suffix("_name").or(d.strip_suffix("_title")))
            .collect();
        let mut text = format!("the scan belongs to ScheduledScan {}", self.name);
        if !named.is_empty() {
            text += &format!(": {} named after it", named.join(", "));
        }
        if self.defaults.contains(&"import_mode") {
            text += "; reimport, the default for a schedule's scans, so every run updates one \
                     test (annotation import-mode: import for a new test per run)";
        }
        text
    }
}

/// The names of product, engagement and test, and the names that have no
/// value (for one problem that says what to set). `one_argument_type` is
/// the scan type of `dojo-hook REPORT`, which names its test.
pub fn read_target(
    scan: &Scan,
    setting: &dyn Fn(&str) -> Option<String>,
    (ci, one_argument_type): (Option<&Detected>, Option<&str>),
    mode: ImportMode,
    problems: &mut Vec<String>,
) -> (Target, Vec<&'static str>) {
    // The name everything defaults to: the scan's, else the repository's.
    let default_name = scan
        .name
        .clone()
        .or_else(|| ci.and_then(|c| c.repository_name.clone()));
    let mut missing = Vec::new();
    let mut need_name = |what: &'static str| -> String {
        default_name.clone().unwrap_or_else(|| {
            missing.push(what);
            String::new()
        })
    };
    let owner = scan.scheduled_scan.as_deref();
    let mut from_schedule = Vec::new();
    let mut owned = |what: &'static str, o: &str| {
        from_schedule.push(what);
        o.to_string()
    };
    // Java: the ScheduledScan's name when the scan has owners, else the scan name.
    let product_name = match (setting("product-name"), owner) {
        (Some(name), _) => name,
        (None, Some(o)) => owned("product_name", o),
        (None, None) => need_name("product name"),
    };
    // A reimport finds the test of the schedule's previous run by its
    // engagement and title, which the run's own name would change.
    let per_schedule = owner.filter(|_| mode == ImportMode::Reimport);
    // Without a scan or repository name (a laptop), the engagement is named
    // after the product: one stable engagement per product, which the next
    // run finds again.
    let engagement_name = match (setting("engagement-name"), per_schedule) {
        (Some(name), _) => name,
        (None, Some(o)) => owned("engagement_name", o),
        (None, None) => default_name.clone().unwrap_or_else(|| product_name.clone()),
    };
    // A bare report's test is named after its scan type, so reimports find it.
    let test_title = match (setting("test-title"), per_schedule) {
        (Some(title), _) => title,
        (None, Some(o)) => owned("test_title", o),
        (None, None) => match one_argument_type {
            Some(t) if scan.name.is_none() => t.to_string(),
            _ => need_name("test title"),
        },
    };
    let target = Target {
        product_type_name: setting("product-type-name"),
        product_name,
        product_description: setting("product-description")
            .unwrap_or_else(|| DEFAULT_PRODUCT_DESCRIPTION.to_string()),
        product_tags: tags(setting("product-tags")),
        engagement_name,
        engagement_version: setting("engagement-version"),
        engagement_dedup: read_dedup(setting, problems),
        engagement_tags: tags(setting("engagement-tags")),
        engagement_end_date: read_end_date(setting, problems),
        source_code_management_uri: setting("source-code-management-uri")
            .or_else(|| ci.and_then(|c| c.repository_url.clone())),
        test_title,
        from_schedule,
    };
    problems.extend(length_problems(&target));
    (target, missing)
}

/// The names longer than DefectDojo takes (the `maxLength` of its OpenAPI
/// schema as recorded from 3.2.0, `101-openapi-schema.json`: product type,
/// product and test title 255 characters, engagement name 300, version
/// 100; the version is also the engagement's branch tag, 150).
fn length_problems(t: &Target) -> Vec<String> {
    let names = [
        ("the product type name", t.product_type_name.as_deref(), 255),
        ("the product name", Some(t.product_name.as_str()), 255),
        ("the engagement name", Some(t.engagement_name.as_str()), 300),
        (
            "the engagement version",
            t.engagement_version.as_deref(),
            100,
        ),
        ("the test title", Some(t.test_title.as_str()), 255),
    ];
    names
        .into_iter()
        .filter_map(|(what, value, max)| super::value::too_long(what, value?, max))
        .collect()
}

fn read_dedup(setting: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> bool {
    let Some(v) = setting("engagement-deduplicate-on-engagement") else {
        return false;
    };
    parse_bool(&v).unwrap_or_else(|| {
        problems.push(format!(
            "engagement-deduplicate-on-engagement must be true or false, got '{v}'"
        ));
        false
    })
}

fn read_end_date(
    setting: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> Option<String> {
    setting("engagement-end-date").filter(|d| {
        let ok = is_date(d);
        if !ok {
            problems.push(format!(
                "engagement end date '{d}' is not a date of the form YYYY-MM-DD"
            ));
        }
        ok
    })
}

/// The problems of the names [`read_target`] found missing: for
/// `dojo-hook REPORT` one instruction, else one problem per name.
pub fn missing_problems(
    one_argument: bool,
    no_type: bool,
    missing: &[&str],
    report: &str,
) -> Vec<String> {
    if one_argument {
        bare_report_problem(no_type, missing, report)
            .into_iter()
            .collect()
    } else {
        missing.iter().map(|what| missing_name(what)).collect()
    }
}

/// What `dojo-hook REPORT` still needs, as one instruction: on a first run
/// with only URL and key, the type and the product, in one line with the
/// command to type next (the engagement follows the product).
fn bare_report_problem(no_type: bool, missing: &[&str], report: &str) -> Option<String> {
    let no_product = missing.contains(&"product name");
    match (no_type, no_product) {
        (true, true) => Some(format!(
            "dojo-hook REPORT needs the report's DefectDojo scan type and the product it belongs \
             to: set DEFECTDOJO_SCAN_TYPE and DEFECTDOJO_PRODUCT_NAME, e.g. \
             DEFECTDOJO_SCAN_TYPE=\"Trivy Scan\" DEFECTDOJO_PRODUCT_NAME=shop dojo-hook {report}"
        )),
        (true, false) => Some(
            "dojo-hook REPORT needs the report's type: set DEFECTDOJO_SCAN_TYPE to a DefectDojo \
             scan type (e.g. \"Trivy Scan\", \"SARIF\") or SCAN_TYPE to a secureCodeBox scan type"
                .to_string(),
        ),
        (false, true) => Some(
            "dojo-hook REPORT needs the product it belongs to: set DEFECTDOJO_PRODUCT_NAME \
             (created in DefectDojo when missing)"
                .to_string(),
        ),
        (false, false) => None,
    }
}

fn missing_name(what: &str) -> String {
    format!(
        "no {what}: set SCAN_NAME, SCAN_FILE, or the {what} itself (annotation or DEFECTDOJO_ variable)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn target(
        settings: &[(&str, &str)],
        scan: &Scan,
        one_argument_type: Option<&str>,
    ) -> (Target, Vec<&'static str>, Vec<String>) {
        target_in(ImportMode::Import, settings, scan, one_argument_type)
    }

    fn target_in(
        mode: ImportMode,
        settings: &[(&str, &str)],
        scan: &Scan,
        one_argument_type: Option<&str>,
    ) -> (Target, Vec<&'static str>, Vec<String>) {
        let map: HashMap<&str, &str> = settings.iter().copied().collect();
        let setting = |k: &str| map.get(k).map(|v| v.to_string());
        let mut problems = Vec::new();
        let (t, missing) = read_target(
            scan,
            &setting,
            (None, one_argument_type),
            mode,
            &mut problems,
        );
        (t, missing, problems)
    }

    fn run_of(schedule: &str) -> Scan {
        Scan {
            name: Some(format!("{schedule}-1796090400")),
            scheduled_scan: Some(schedule.into()),
            has_owners: true,
            ..Scan::default()
        }
    }

    #[test]
    fn a_schedule_names_engagement_and_test_only_for_a_reimport() {
        let scan = run_of("zap-nightly");
        let (t, _, _) = target_in(ImportMode::Reimport, &[], &scan, None);
        let names = (t.product_name, t.engagement_name, t.test_title);
        assert_eq!(
            names,
            (
                "zap-nightly".into(),
                "zap-nightly".into(),
                "zap-nightly".into()
            )
        );
        assert_eq!(
            t.from_schedule,
            ["product_name", "engagement_name", "test_title"]
        );
        let (t, _, _) = target_in(ImportMode::Import, &[], &scan, None);
        assert_eq!(t.engagement_name, "zap-nightly-1796090400");
        assert_eq!(t.test_title, "zap-nightly-1796090400");
        assert_eq!(t.from_schedule, ["product_name"]);

        // Explicit settings win and are not the schedule's.
        let given = [("test-title", "ZAP"), ("product-name", "shop")];
        let (t, _, _) = target_in(ImportMode::Reimport, &given, &scan, None);
        assert_eq!(
            (t.test_title.as_str(), t.product_name.as_str()),
            ("ZAP", "shop")
        );
        assert_eq!(t.from_schedule, ["engagement_name"]);
        let schedule = Schedule::of(Some("zap-nightly"), true, &t).unwrap();
        assert_eq!(schedule.defaults, ["import_mode", "engagement_name"]);
        assert_eq!(
            schedule.explain(),
            "the scan belongs to ScheduledScan zap-nightly: engagement named after it; \
             reimport, the default for a schedule's scans, so every run updates one test \
             (annotation import-mode: import for a new test per run)"
        );
    }

    #[test]
    fn without_an_owner_nothing_comes_from_a_schedule() {
        let scan = Scan {
            name: Some("nmap-1".into()),
            ..Scan::default()
        };
        let (t, _, _) = target_in(ImportMode::Reimport, &[], &scan, None);
        assert_eq!(
            (t.engagement_name.as_str(), t.test_title.as_str()),
            ("nmap-1", "nmap-1")
        );
        assert!(t.from_schedule.is_empty());
        assert_eq!(Schedule::of(None, false, &t), None);
        let run = run_of("zap-nightly");
        let (t, _, _) = target_in(ImportMode::Import, &[("product-name", "p")], &run, None);
        assert_eq!(Schedule::of(Some("zap-nightly"), false, &t), None);
    }

    #[test]
    fn everything_defaults_to_the_scan_name() {
        let scan = Scan {
            name: Some("nmap-1".into()),
            ..Scan::default()
        };
        let (t, missing, p) = target(&[], &scan, None);
        assert!(missing.is_empty() && p.is_empty());
        assert_eq!(
            (
                t.product_name.as_str(),
                t.engagement_name.as_str(),
                t.test_title.as_str()
            ),
            ("nmap-1", "nmap-1", "nmap-1")
        );
        assert_eq!(t.product_description, DEFAULT_PRODUCT_DESCRIPTION);
        assert!(!t.engagement_dedup);
    }

    #[test]
    fn without_names_a_bare_report_needs_only_the_product() {
        let (t, missing, _) = target(&[], &Scan::default(), Some("Trivy Scan"));
        assert_eq!(missing, ["product name"]);
        assert_eq!(t.test_title, "Trivy Scan");
        let p = missing_problems(true, false, &missing, "r.json");
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("set DEFECTDOJO_PRODUCT_NAME"), "{p:?}");
        let (t, missing, _) = target(&[("product-name", "shop")], &Scan::default(), None);
        assert_eq!(t.engagement_name, "shop");
        assert_eq!(missing, ["test title"]);
        assert!(missing_problems(false, false, &missing, "")[0].starts_with("no test title"));
    }

    #[test]
    fn names_longer_than_defectdojo_takes_are_refused_cut() {
        let scan = Scan {
            name: Some("n".repeat(1 << 20)),
            ..Scan::default()
        };
        let (_, _, p) = target(&[("engagement-version", &"v".repeat(101))], &scan, None);
        assert_eq!(p.len(), 4, "product, engagement, version, test: {p:?}");
        assert!(
            p[0].starts_with(
                "the product name is 1048576 characters long, DefectDojo takes at most 255"
            ),
            "{p:?}"
        );
        assert!(p.iter().all(|m| m.len() < 200), "{p:?}");
        let ok = Scan {
            name: Some("é".repeat(255)),
            ..Scan::default()
        };
        let (_, _, p) = target(&[("engagement-version", &"v".repeat(100))], &ok, None);
        assert!(p.is_empty(), "characters, not bytes: {p:?}");
    }

    #[test]
    fn settings_are_checked() {
        let (t, _, p) = target(
            &[
                ("engagement-deduplicate-on-engagement", "perhaps"),
                ("engagement-end-date", "2024-02-30x"),
                ("product-tags", "a, b"),
            ],
            &Scan::default(),
            None,
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(t.engagement_end_date, None);
        assert_eq!(t.product_tags, ["a", "b"]);
    }
}
