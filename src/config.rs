//! Configuration: environment variables and the scan file, validated at once.
//!
//! Pure: [`Config::build`] takes a variable getter, the scan (already parsed
//! from `SCAN_FILE`) and the arguments, and returns either a complete config
//! or every problem it found. Nothing here touches the network.
//!
//! Precedence for every per-scan setting: annotation `defectdojo.securecodebox.io/x-y`
//! > variable `DEFECTDOJO_X_Y` > built-in default.

use std::time::Duration;

use crate::ci::{self, Detected};
use crate::cli::Args;
use crate::error::Error;
use crate::form::{self, Mode};
use crate::http::Timeouts;
use crate::http::redact::Secret;
use crate::scan::Scan;
use crate::scantype::{self, Plan};

/// Default product description, as the Java hook's.
pub const DEFAULT_PRODUCT_DESCRIPTION: &str =
    "Product was automatically created by the secureCodeBox DefectDojo integration";

/// A variable getter: returns the value of an environment variable.
pub type Getter<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DEFECTDOJO_URL` without trailing slashes.
    pub dojo_url: String,
    /// `DEFECTDOJO_APIKEY`, or the contents of `DEFECTDOJO_APIKEY_FILE`.
    pub api_key: Secret,
    /// `DEFECTDOJO_USER_ID`: skips the user lookup.
    pub user_id: Option<u64>,
    /// `DEFECTDOJO_LOW_PRIVILEGED_MODE`.
    pub low_privileged: bool,
    /// `DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS`: a safety limit, unlimited by default.
    pub max_pages: Option<u64>,
    /// `DEFECTDOJO_REFETCH_WAIT_SECONDS` (deprecated, still honoured).
    pub refetch_wait: Duration,
    /// Timeouts of ordinary calls and of the import.
    pub timeouts: Timeouts,
    /// Where the product, engagement and test go.
    pub target: Target,
    /// What is imported and how.
    pub import: Import,
    /// The scan, for names and the test description.
    pub scan: Scan,
    /// The positional arguments (`findings_upload` also from
    /// `DEFECTDOJO_FINDINGS_OUTPUT`).
    pub args: Args,
    /// The CI system the run is in, if any.
    pub ci: Option<Detected>,
    /// `TMPDIR` (default `/tmp`): where bodies are spooled.
    pub tmpdir: String,
    /// `DEFECTDOJO_MEMORY_SPOOL_MB`: in-memory spool limit without a temp dir.
    pub memory_spool_mb: u64,
    /// `DEFECTDOJO_MAX_UPLOAD_MB`: the largest report sent (DefectDojo's
    /// `DD_SCAN_FILE_MAX_SIZE`, in MiB as DefectDojo counts).
    pub max_upload_mb: u64,
    /// `DEFECTDOJO_DRY_RUN`: check and plan with GET requests only.
    pub dry_run: bool,
    /// `DEFECTDOJO_GENERIC_FALLBACK`: import findings.json as generic when
    /// DefectDojo's native parser crashes [default: true].
    pub generic_fallback: bool,
    /// `DEFECTDOJO_FAIL_ON`: the build gate's severity (DefectDojo's spelling).
    pub fail_on: Option<String>,
    /// `DEFECTDOJO_FAIL_ON_REACTIVATED`: reactivated findings count for the gate.
    pub fail_on_reactivated: bool,
    /// Where the Markdown summary goes: (`$GITHUB_STEP_SUMMARY`, append) or
    /// (`DEFECTDOJO_SUMMARY_FILE`, overwrite).
    pub summary_file: Option<(String, bool)>,
    /// Trust (CA files), proxies and DefectDojo's extra headers.
    pub network: crate::http::Network,
}

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
}

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
    pub mode: Mode,
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

/// The largest number of seconds any time variable accepts: 30 days. More
/// is a configuration error (exit 2), not a panic of instant arithmetic.
pub const MAX_SECONDS: u64 = 30 * 24 * 60 * 60;

impl Config {
    /// `DEFECTDOJO_MAX_UPLOAD_MB` in bytes; a value too large for bytes is
    /// no limit at all rather than an overflow.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb.saturating_mul(1024 * 1024)
    }

    /// True when DefectDojo's verdicts are written back (four arguments).
    pub fn sync_back(&self) -> bool {
        self.args.findings_upload.is_some()
    }

    /// True when the run needs final verdicts: deduplication must have
    /// finished before anything is read back.
    pub fn needs_final_verdicts(&self) -> bool {
        self.sync_back() || self.fail_on.is_some() || self.summary_file.is_some()
    }

    /// Builds and validates the configuration; reports every problem at once.
    pub fn build(get: Getter, scan: Scan, args: Args) -> Result<Config, Error> {
        let mut args = args;
        let one_argument = args.findings.is_empty() && args.findings_upload.is_none();
        let mut problems = Vec::new();
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let dojo_url = match var("DEFECTDOJO_URL") {
            None => {
                problems.push("DEFECTDOJO_URL is not set: set it to DefectDojo's base URL, e.g. https://defectdojo.example.com".to_string());
                String::new()
            }
            Some(url) => {
                let url = url.trim_end_matches('/').to_string();
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.split("://").nth(1).is_none_or(str::is_empty)
                {
                    problems.push(format!(
                        "DEFECTDOJO_URL '{}' is not an http:// or https:// URL",
                        crate::http::redact::url(&url)
                    ));
                } else if url.contains('?') || url.contains('#') {
                    problems.push(
                        "DEFECTDOJO_URL must not contain a query string or fragment".to_string(),
                    );
                }
                url
            }
        };
        let api_key = crate::credentials::api_key(&var, &mut problems);

        let mut num = |name: &str, default: Option<u64>, min: u64, max: u64| -> Option<u64> {
            match var(name) {
                None => default,
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Some(n),
                    _ => {
                        problems.push(if max == u64::MAX {
                            format!("{name} must be a whole number of at least {min}, got '{v}'")
                        } else {
                            format!(
                                "{name} must be a whole number of seconds from {min} to {max} \
                                 (30 days), got '{v}'"
                            )
                        });
                        default
                    }
                },
            }
        };
        let user_id = num("DEFECTDOJO_USER_ID", None, 1, u64::MAX);
        let max_pages = num("DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS", None, 1, u64::MAX);
        // Seconds are capped: a Duration near u64::MAX overflows every
        // instant it is added to (in ureq too), which panics.
        let refetch_wait =
            num("DEFECTDOJO_REFETCH_WAIT_SECONDS", Some(0), 0, MAX_SECONDS).unwrap_or(0);
        let call = num("DEFECTDOJO_TIMEOUT_SECONDS", Some(60), 1, MAX_SECONDS).unwrap_or(60);
        let import_timeout = num(
            "DEFECTDOJO_IMPORT_TIMEOUT_SECONDS",
            Some(1800),
            1,
            MAX_SECONDS,
        )
        .unwrap_or(1800);
        let deadline =
            num("DEFECTDOJO_DEADLINE_SECONDS", None, 1, MAX_SECONDS).map(Duration::from_secs);
        let memory_spool_mb = num("DEFECTDOJO_MEMORY_SPOOL_MB", Some(8), 0, u64::MAX).unwrap_or(8);
        let max_upload_mb = num("DEFECTDOJO_MAX_UPLOAD_MB", Some(100), 1, u64::MAX).unwrap_or(100);

        let low_privileged =
            boolean(&var, "DEFECTDOJO_LOW_PRIVILEGED_MODE", &mut problems).unwrap_or(false);
        let dry_run = boolean(&var, "DEFECTDOJO_DRY_RUN", &mut problems).unwrap_or(false);
        let generic_fallback =
            boolean(&var, "DEFECTDOJO_GENERIC_FALLBACK", &mut problems).unwrap_or(true);
        let fail_on = var("DEFECTDOJO_FAIL_ON").and_then(|v| match dojo_severity(&v) {
            Some(s) => Some(s.to_string()),
            None => {
                problems.push(format!(
                    "DEFECTDOJO_FAIL_ON '{v}' is not one of Info, Low, Medium, High, Critical"
                ));
                None
            }
        });
        let fail_on_reactivated =
            boolean(&var, "DEFECTDOJO_FAIL_ON_REACTIVATED", &mut problems).unwrap_or(false);
        let summary_file = var("GITHUB_STEP_SUMMARY")
            .map(|f| (f, true))
            .or_else(|| var("DEFECTDOJO_SUMMARY_FILE").map(|f| (f, false)));
        for ignored in ["DEFECTDOJO_IS_DEV", "IS_DEV", "DEFECTDOJO_USERNAME"] {
            if get(ignored).is_some() {
                log::debug!(
                    "{ignored} is set and ignored (the Java hook's development mode / username are not used)"
                );
            }
        }

        let ci = ci::detect(get);
        // Scan name and type: the scan file first, then the environment.
        let mut scan = scan;
        if scan.name.is_none() {
            scan.name = var("SCAN_NAME");
        }
        if let Some(t) = var("SCAN_TYPE") {
            scan.scan_type = Some(t);
        }
        let setting = |name: &str| -> Option<String> {
            scan.annotation(name).or_else(|| var(&variable_for(name)))
        };

        warn_unknown_annotations(&scan);
        let dojo_override = var("DEFECTDOJO_SCAN_TYPE");
        let no_scan_type = dojo_override.is_none() && scan.scan_type.is_none();
        let plan = if one_argument {
            one_argument_plan(
                dojo_override.as_deref(),
                scan.scan_type.as_deref(),
                &mut args,
            )
        } else {
            scantype::plan(dojo_override.as_deref(), scan.scan_type.as_deref())
        };
        if let (None, Some(t)) = (&dojo_override, &scan.scan_type) {
            if let Some(warning) = scantype::unknown_type_warning(t) {
                log::warn!("{warning}");
            }
        }
        let (target, missing) = target(
            &scan,
            &setting,
            ci.as_ref(),
            one_argument.then(|| plan.dojo_type()),
            &mut problems,
        );
        if one_argument {
            let report = crate::http::redact::url(&(args.raw_result.clone() + &args.findings));
            problems.extend(bare_report_problem(no_scan_type, &missing, &report));
        } else {
            problems.extend(missing.iter().map(|what| missing_name(what)));
        }
        let mode = match setting("import-mode").map(|m| m.to_ascii_lowercase()) {
            None => Mode::Import,
            Some(m) if m == "import" => Mode::Import,
            Some(m) if m == "reimport" => Mode::Reimport,
            Some(m) => {
                problems.push(format!("import mode (DEFECTDOJO_IMPORT_MODE / annotation import-mode) must be import or reimport, got '{m}'"));
                Mode::Import
            }
        };
        let fields = form::fields(&setting, ci.as_ref(), mode, &mut problems);
        match (&args.findings_upload, var("DEFECTDOJO_FINDINGS_OUTPUT")) {
            (None, from_env) => args.findings_upload = from_env,
            (Some(arg), Some(env)) if *arg != env => log::warn!(
                "FINDINGS_UPLOAD (the fourth argument) and DEFECTDOJO_FINDINGS_OUTPUT are both \
                 set and differ: writing to the argument, DEFECTDOJO_FINDINGS_OUTPUT is ignored"
            ),
            _ => {}
        }
        let minimum_severity = scan
            .annotation("minimum_severity")
            .or_else(|| scan.annotation("minimum-severity"))
            .or_else(|| var("DEFECTDOJO_MINIMUM_SEVERITY"))
            .and_then(|v| match dojo_severity(&v) {
                Some(s) => Some(s.to_string()),
                None => {
                    problems.push(format!(
                        "minimum severity '{v}' is not one of Info, Low, Medium, High, Critical"
                    ));
                    None
                }
            });
        let scan_date = setting("scan-date").and_then(|d| {
            if is_date(&d) {
                Some(d)
            } else {
                problems.push(format!(
                    "scan date '{d}' is not a date of the form YYYY-MM-DD"
                ));
                None
            }
        });

        if one_argument && args.raw_result.trim().is_empty() && args.findings.trim().is_empty() {
            problems.push("nothing to import: REPORT is empty".to_string());
        } else if one_argument && no_scan_type {
            // Said above: without a type there is no telling what REPORT is.
        } else if args.raw_result.trim().is_empty() && args.findings.trim().is_empty() {
            problems.push("nothing to import: RAW_RESULT and FINDINGS are both empty".to_string());
        } else if plan == Plan::Generic && args.findings.trim().is_empty() {
            problems.push(
                "the generic import needs FINDINGS (a findings.json path or URL), which is empty"
                    .to_string(),
            );
        } else if plan != Plan::Generic && args.raw_result.trim().is_empty() {
            problems.push(format!(
                "the '{}' import needs RAW_RESULT, which is empty",
                plan.dojo_type()
            ));
        }
        if let Some(out) = &args.findings_upload {
            if out.trim().is_empty() {
                problems.push("FINDINGS_UPLOAD is empty: give a URL, a path or -".to_string());
            }
        }

        let network = crate::http::Network::from_env(&var, &mut problems);

        if !problems.is_empty() {
            return Err(Error::Config(problems));
        }
        Ok(Config {
            dojo_url,
            api_key,
            user_id,
            low_privileged,
            max_pages,
            refetch_wait: Duration::from_secs(refetch_wait),
            timeouts: Timeouts {
                call: Duration::from_secs(call),
                import: Duration::from_secs(import_timeout),
                deadline,
            },
            target,
            import: Import {
                plan,
                no_scan_type,
                minimum_severity,
                scan_date,
                mode,
                fields,
            },
            scan,
            args,
            ci,
            tmpdir: var("TMPDIR").unwrap_or_else(|| "/tmp".to_string()),
            memory_spool_mb,
            max_upload_mb,
            dry_run,
            generic_fallback,
            fail_on,
            fail_on_reactivated,
            summary_file,
            network,
        })
    }
}

/// The plan of `dojo-hook REPORT`: the report is uploaded as is with
/// `DEFECTDOJO_SCAN_TYPE` (any parser, even "Generic Findings Import") or a
/// native `SCAN_TYPE`; any other `SCAN_TYPE` means REPORT is a secureCodeBox
/// findings.json to convert.
fn one_argument_plan(dojo_override: Option<&str>, scb_type: Option<&str>, args: &mut Args) -> Plan {
    if let Some(dojo) = dojo_override {
        return Plan::Raw {
            dojo_type: dojo.to_string(),
        };
    }
    let plan = scantype::plan(None, scb_type);
    if scb_type.is_some() && plan == Plan::Generic {
        args.findings = std::mem::take(&mut args.raw_result);
    }
    plan
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

/// Annotations read under their own names (the form fields' are in
/// [`form::annotation_names`]).
const ANNOTATIONS: &[&str] = &[
    "product-type-name",
    "product-name",
    "product-description",
    "product-tags",
    "engagement-name",
    "engagement-version",
    "engagement-deduplicate-on-engagement",
    "engagement-tags",
    "engagement-end-date",
    "source-code-management-uri",
    "test-title",
    "test-tags",
    "import-mode",
    "scan-date",
    "minimum_severity",
    "minimum-severity",
];

/// Warns about `defectdojo.securecodebox.io/…` annotations (and flat scan
/// file keys) dojo-hook does not read: most likely a typo, which would
/// otherwise leave the default in place without a word.
fn warn_unknown_annotations(scan: &Scan) {
    let known: Vec<String> = ANNOTATIONS
        .iter()
        .map(|a| a.to_string())
        .chain(form::annotation_names())
        .collect();
    for key in scan.annotations.keys() {
        let Some(name) = key.strip_prefix(crate::scan::ANNOTATION_PREFIX) else {
            continue;
        };
        if known.iter().any(|k| k == name) {
            continue;
        }
        let hint = match crate::dryrun::nearest(name, &known) {
            Some(near) => format!(": did you mean {}{near}?", crate::scan::ANNOTATION_PREFIX),
            None => " (see dojo-hook --help for the annotations)".to_string(),
        };
        log::warn!("unknown annotation {key} is ignored{hint}");
    }
}

/// The names of product, engagement and test, and the names that have no
/// value (for one problem that says what to set).
fn target(
    scan: &Scan,
    setting: &dyn Fn(&str) -> Option<String>,
    ci: Option<&Detected>,
    one_argument_type: Option<&str>,
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
    // Java: the ScheduledScan's name when the scan has owners, else the scan name.
    let product_name = setting("product-name").unwrap_or_else(|| match &scan.scheduled_scan {
        Some(owner) => owner.clone(),
        None => need_name("product name"),
    });
    // Without a scan or repository name (a laptop), the engagement is named
    // after the product: one stable engagement per product, which the next
    // run finds again.
    let engagement_name = setting("engagement-name")
        .or_else(|| default_name.clone())
        .unwrap_or_else(|| product_name.clone());
    // A bare report's test is named after its scan type, so reimports find it.
    let test_title = setting("test-title").unwrap_or_else(|| match one_argument_type {
        Some(t) if scan.name.is_none() => t.to_string(),
        _ => need_name("test title"),
    });
    let dedup = match setting("engagement-deduplicate-on-engagement") {
        None => false,
        Some(v) => parse_bool(&v).unwrap_or_else(|| {
            problems.push(format!(
                "engagement-deduplicate-on-engagement must be true or false, got '{v}'"
            ));
            false
        }),
    };
    let engagement_end_date = setting("engagement-end-date").filter(|d| {
        let ok = is_date(d);
        if !ok {
            problems.push(format!(
                "engagement end date '{d}' is not a date of the form YYYY-MM-DD"
            ));
        }
        ok
    });
    let target = Target {
        product_type_name: setting("product-type-name"),
        product_name,
        product_description: setting("product-description")
            .unwrap_or_else(|| DEFAULT_PRODUCT_DESCRIPTION.to_string()),
        product_tags: tags(setting("product-tags")),
        engagement_name,
        engagement_version: setting("engagement-version"),
        engagement_dedup: dedup,
        engagement_tags: tags(setting("engagement-tags")),
        engagement_end_date,
        source_code_management_uri: setting("source-code-management-uri")
            .or_else(|| ci.and_then(|c| c.repository_url.clone())),
        test_title,
    };
    (target, missing)
}

/// `product-type-name` → `DEFECTDOJO_PRODUCT_TYPE_NAME`.
pub fn variable_for(annotation: &str) -> String {
    format!(
        "DEFECTDOJO_{}",
        annotation.replace('-', "_").to_ascii_uppercase()
    )
}

fn tags(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn boolean(
    var: &dyn Fn(&str) -> Option<String>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<bool> {
    let v = var(name)?;
    let parsed = parse_bool(&v);
    if parsed.is_none() {
        problems.push(format!("{name} must be true or false, got '{v}'"));
    }
    parsed
}

/// `true`/`false` and the usual spellings, any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// A severity in any case and spelling → DefectDojo's form value.
pub fn dojo_severity(v: &str) -> Option<&'static str> {
    match v.trim().to_ascii_lowercase().as_str() {
        "info" | "informational" => Some("Info"),
        "low" => Some("Low"),
        "medium" => Some("Medium"),
        "high" => Some("High"),
        "critical" => Some("Critical"),
        _ => None,
    }
}

fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&d[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&d[8..10].parse::<u32>().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn args() -> Args {
        Args {
            raw_result: "raw.xml".into(),
            findings: "findings.json".into(),
            raw_result_upload: None,
            findings_upload: None,
        }
    }

    fn build(env: &[(&str, &str)], scan: Scan) -> Result<Config, Error> {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::build(&|k| map.get(k).cloned(), scan, args())
    }

    const BASE: [(&str, &str); 3] = [
        ("DEFECTDOJO_URL", "https://dojo.example/"),
        ("DEFECTDOJO_APIKEY", "k"),
        ("SCAN_NAME", "nmap-1"),
    ];

    #[test]
    fn debug_output_redacts_the_key_and_presigned_urls() {
        let map: HashMap<String, String> = BASE
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("DEFECTDOJO_APIKEY".to_string(), "key-4711".to_string())])
            .collect();
        let signed = "https://minio/b/f.json?X-Amz-Credential=AKIA&X-Amz-Signature=cafe";
        let args = Args {
            raw_result: signed.into(),
            findings: signed.into(),
            raw_result_upload: Some(signed.into()),
            findings_upload: Some(signed.into()),
        };
        let c = Config::build(&|k| map.get(k).cloned(), Scan::default(), args).unwrap();
        let debug = format!("{c:?}");
        for secret in ["key-4711", "X-Amz-Signature", "X-Amz-Credential", "cafe"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn defaults_follow_the_java_hook() {
        let c = build(&BASE, Scan::default()).unwrap();
        assert_eq!(c.dojo_url, "https://dojo.example");
        assert_eq!(c.target.product_name, "nmap-1");
        assert_eq!(c.target.engagement_name, "nmap-1");
        assert_eq!(c.target.test_title, "nmap-1");
        assert_eq!(c.target.product_type_name, None);
        assert_eq!(c.target.product_description, DEFAULT_PRODUCT_DESCRIPTION);
        assert_eq!(c.import.plan, Plan::Generic);
        assert!(c.import.no_scan_type);
        assert_eq!(c.timeouts.call, Duration::from_secs(60));
        assert_eq!(c.max_pages, None);
    }

    #[test]
    fn seconds_are_capped_at_30_days_and_sizes_saturate() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut env = BASE.to_vec();
            env.extend_from_slice(extra);
            build(&env, Scan::default())
        };
        let c = with(&[
            ("DEFECTDOJO_DEADLINE_SECONDS", "2592000"),
            ("DEFECTDOJO_MAX_UPLOAD_MB", "18446744073709551615"),
        ])
        .unwrap();
        assert_eq!(c.timeouts.deadline, Some(Duration::from_secs(MAX_SECONDS)));
        assert_eq!(c.max_upload_bytes(), u64::MAX);
        let err = with(&[("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", "2592001")]).unwrap_err();
        assert!(
            err.to_string().contains("from 1 to 2592000 (30 days)"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = build(
            &[
                ("DEFECTDOJO_TIMEOUT_SECONDS", "soon"),
                ("DEFECTDOJO_LOW_PRIVILEGED_MODE", "maybe"),
            ],
            Scan::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "DEFECTDOJO_URL",
            "DEFECTDOJO_APIKEY",
            "DEFECTDOJO_TIMEOUT_SECONDS",
            "LOW_PRIVILEGED",
            "product name",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn annotation_beats_variable_beats_default() {
        let mut scan = Scan::default();
        scan.annotations.insert(
            "defectdojo.securecodebox.io/product-name".into(),
            "from-annotation".into(),
        );
        let mut env = BASE.to_vec();
        env.push(("DEFECTDOJO_PRODUCT_NAME", "from-variable"));
        env.push(("DEFECTDOJO_ENGAGEMENT_NAME", "eng-var"));
        let c = build(&env, scan).unwrap();
        assert_eq!(c.target.product_name, "from-annotation");
        assert_eq!(c.target.engagement_name, "eng-var");
    }

    #[test]
    fn minimum_severity_both_spellings_any_case() {
        for key in ["minimum_severity", "minimum-severity"] {
            for (given, want) in [
                ("INFORMATIONAL", "Info"),
                ("low", "Low"),
                ("Critical", "Critical"),
            ] {
                let mut scan = Scan::default();
                scan.annotations
                    .insert(format!("defectdojo.securecodebox.io/{key}"), given.into());
                let c = build(&BASE, scan).unwrap();
                assert_eq!(c.import.minimum_severity.as_deref(), Some(want));
            }
        }
        let mut env = BASE.to_vec();
        env.push(("DEFECTDOJO_MINIMUM_SEVERITY", "urgent"));
        assert!(build(&env, Scan::default()).is_err());
    }

    #[test]
    fn scheduled_scan_names_the_product() {
        let scan = Scan::from_json(include_str!("../fixtures/k8s/scan-scheduled.json")).unwrap();
        let mut scan2 = scan.clone();
        scan2
            .annotations
            .remove("defectdojo.securecodebox.io/product-name");
        let c = build(&BASE, scan2).unwrap();
        assert_eq!(c.target.product_name, "zap-juiceshop");
        assert_eq!(c.import.plan.dojo_type(), "ZAP Scan");
        let c = build(&BASE, scan).unwrap();
        assert_eq!(c.target.product_name, "Juice Shop");
        assert_eq!(c.target.engagement_tags, vec!["automated", "daily"]);
        assert_eq!(c.import.minimum_severity.as_deref(), Some("Low"));
    }

    #[test]
    fn scan_type_variables() {
        let mut env = BASE.to_vec();
        env.push(("SCAN_TYPE", "nmap"));
        assert_eq!(
            build(&env, Scan::default())
                .unwrap()
                .import
                .plan
                .dojo_type(),
            "Nmap Scan"
        );
        env.push(("DEFECTDOJO_SCAN_TYPE", "SARIF"));
        assert_eq!(
            build(&env, Scan::default())
                .unwrap()
                .import
                .plan
                .dojo_type(),
            "SARIF"
        );
    }

    #[test]
    fn network_problems_join_the_others() {
        let mut env = BASE.to_vec();
        env.push(("DEFECTDOJO_CA_FILE", "/nonexistent/ca.pem"));
        env.push(("HTTPS_PROXY", "socks5://proxy:1080"));
        env.push(("DEFECTDOJO_EXTRA_HEADERS", "Authorization: x"));
        env.push(("DEFECTDOJO_TIMEOUT_SECONDS", "soon"));
        let text = build(&env, Scan::default()).unwrap_err().to_string();
        for needle in [
            "DEFECTDOJO_CA_FILE",
            "HTTPS_PROXY",
            "DEFECTDOJO_EXTRA_HEADERS line 1",
            "DEFECTDOJO_TIMEOUT_SECONDS",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        let mut env = BASE.to_vec();
        env.push(("DEFECTDOJO_EXTRA_HEADERS", "X-A: 1\nX-B: 2"));
        env.push(("no_proxy", "localhost"));
        let c = build(&env, Scan::default()).unwrap();
        assert_eq!(c.network.dojo_headers.len(), 2);
        assert!(c.network.proxies.is_empty());
        assert!(c.network.trust.sources().is_empty());
    }

    #[test]
    fn dates_and_urls_are_checked() {
        let mut env = BASE.to_vec();
        env.push(("DEFECTDOJO_SCAN_DATE", "2024-13-01"));
        assert!(build(&env, Scan::default()).is_err());
        let env = [
            ("DEFECTDOJO_URL", "dojo.example"),
            ("DEFECTDOJO_APIKEY", "k"),
            ("SCAN_NAME", "s"),
        ];
        assert!(build(&env, Scan::default()).is_err());
        assert!(is_date("2024-02-29"));
    }
}
