//! Configuration: environment variables and the scan file, validated at once.
//!
//! Pure: [`Config::build`] takes a variable getter, the scan (already parsed
//! from `SCAN_FILE`) and the arguments, and returns either a complete config
//! or every problem it found. Nothing here touches the network.
//!
//! Precedence for every per-scan setting: annotation `defectdojo.securecodebox.io/x-y`
//! > variable `DEFECTDOJO_X_Y` > built-in default.
//!
//! One file per concern, each reading and checking its own settings:
//! [`settings`] (what no scan can change: URL, key, numbers, switches,
//! network), [`names`] (the [`Target`]), [`form`] (what is imported and
//! how), [`reporting`] (findings output, summary file, gate). [`value`] holds
//! the parsers they share. This file only composes them.

use std::time::Duration;

use crate::cli::Args;
use crate::error::Error;
use crate::http::Timeouts;
use crate::http::redact::Secret;
use crate::scan::Scan;
use ci::Detected;

pub mod annotations;
pub mod ci;
pub mod form;
pub mod names;
pub mod reporting;
pub mod settings;
pub mod value;

pub use form::{Import, ImportMode};
pub use names::{Schedule, Target};
pub use reporting::findings_upload_problem;
pub use settings::Settings;
pub use value::{Getter, variable_for};

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
    /// The CI report formats (SARIF, JUnit).
    pub reports: reporting::ReportSettings,
    /// The owning ScheduledScan, when it gave a setting its default.
    pub schedule: Option<Schedule>,
}

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

    /// True when the test is read back after the import: for the findings
    /// output or a CI report format (all from the same one read).
    pub fn reads_back(&self) -> bool {
        self.sync_back() || self.reports.sarif.is_some() || self.reports.junit.is_some()
    }

    /// True when the run needs final verdicts: deduplication must have
    /// finished before anything is read back.
    pub fn needs_final_verdicts(&self) -> bool {
        self.reads_back() || self.fail_on.is_some() || self.summary_file.is_some()
    }

    /// Builds and validates the configuration; reports every problem at once.
    pub fn build(get: Getter, scan: Scan, args: Args) -> Result<Config, Error> {
        let mut problems = Vec::new();
        let settings = Settings::read(get, &mut problems);
        let config = Config::per_scan(settings, get, scan, args, &mut problems);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(Error::Config(problems))
        }
    }

    /// Adds what the scan and the arguments decide to `settings`. The
    /// config is only valid when no problem was added.
    fn per_scan(
        settings: Settings,
        get: Getter,
        scan: Scan,
        mut args: Args,
        problems: &mut Vec<String>,
    ) -> Config {
        let var = |name: &str| value::nonblank(get, name);
        let one_argument = args.findings.is_empty() && args.findings_upload.is_none();
        let ci = ci::detect(get);
        let scan = with_environment(scan, &var);
        let setting = |name: &str| -> Option<String> {
            annotations::annotation(&scan, name).or_else(|| var(&variable_for(name)))
        };
        annotations::warn_unknown(&scan);

        let read = form::read_plan(&var, scan.scan_type.as_deref(), one_argument);
        if read.report_is_findings {
            args.findings = std::mem::take(&mut args.raw_result);
        }
        let plan = (read.plan, read.no_scan_type);
        let one_argument_type = one_argument.then(|| plan.0.dojo_type().to_string());
        let owner = scan.scheduled_scan.as_deref();
        let (mode, mode_from_owner) = form::read_mode(&setting, owner.is_some(), problems);
        let (target, missing) = names::read_target(
            &scan,
            &setting,
            (ci.as_ref(), one_argument_type.as_deref()),
            mode,
            problems,
        );
        let report = crate::http::redact::url(&(args.raw_result.clone() + &args.findings));
        problems.extend(names::missing_problems(
            one_argument,
            plan.1,
            &missing,
            &report,
        ));
        let schedule = Schedule::of(owner, mode_from_owner, &target);
        let import = form::read_import(&scan, &setting, &var, ci.as_ref(), (plan, mode), problems);
        problems.extend(form::input_problem(&args, one_argument, &import));
        reporting::read_findings_output(&mut args, &var, problems);
        let reports = reporting::read_reports(&setting, &var, problems);
        let mut config = Config::assemble(settings, target, import, scan, args, ci, reports);
        config.schedule = schedule;
        config
    }

    /// Puts the parts together, field by field.
    fn assemble(
        settings: Settings,
        target: Target,
        import: Import,
        scan: Scan,
        args: Args,
        ci: Option<Detected>,
        reports: reporting::ReportSettings,
    ) -> Config {
        let Settings {
            dojo_url,
            api_key,
            numbers,
            switches,
            gate,
            summary_file,
            tmpdir,
            network,
        } = settings;
        Config {
            dojo_url,
            api_key,
            user_id: numbers.user_id,
            low_privileged: switches.low_privileged,
            max_pages: numbers.max_pages,
            refetch_wait: numbers.refetch_wait,
            timeouts: numbers.timeouts,
            target,
            import,
            scan,
            args,
            ci,
            tmpdir,
            memory_spool_mb: numbers.memory_spool_mb,
            max_upload_mb: numbers.max_upload_mb,
            dry_run: switches.dry_run,
            generic_fallback: switches.generic_fallback,
            fail_on: gate.fail_on,
            fail_on_reactivated: gate.fail_on_reactivated,
            summary_file,
            network,
            reports,
            schedule: None,
        }
    }
}

/// The scan's name and type: the scan file's first, then `SCAN_NAME`;
/// `SCAN_TYPE` beats the scan file's type.
fn with_environment(mut scan: Scan, var: Getter) -> Scan {
    if scan.name.is_none() {
        scan.name = var("SCAN_NAME");
    }
    if let Some(t) = var("SCAN_TYPE") {
        scan.scan_type = Some(t);
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::names::DEFAULT_PRODUCT_DESCRIPTION;
    use super::settings::MAX_SECONDS;
    use super::value::is_date;
    use super::*;
    use crate::scan::types::Plan;
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
        let scan = Scan::from_json(include_str!("../../fixtures/k8s/scan-scheduled.json")).unwrap();
        let mut scan2 = scan.clone();
        scan2
            .annotations
            .remove("defectdojo.securecodebox.io/product-name");
        let c = build(&BASE, scan2).unwrap();
        assert_eq!(c.target.product_name, "zap-juiceshop");
        assert_eq!(c.import.plan.dojo_type(), "ZAP Scan");
        // Its engagement and title are annotated; the mode is the schedule's default.
        assert_eq!(c.import.mode, ImportMode::Reimport);
        assert_eq!(c.import.field("close_old_findings"), Some("true"));
        let defaults = c.schedule.map(|s| s.defaults);
        assert_eq!(
            defaults.as_deref(),
            Some(&["product_name", "import_mode"][..])
        );
        let mut env = BASE.to_vec();
        env.push(("DEFECTDOJO_IMPORT_MODE", "import"));
        let c = build(&env, scan.clone()).unwrap();
        assert_eq!((c.import.mode, c.schedule), (ImportMode::Import, None));
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
