//! Where the results go: the findings output (the fourth argument or
//! `DEFECTDOJO_FINDINGS_OUTPUT`), the Markdown summary file, and the build
//! gate (`DEFECTDOJO_FAIL_ON`).

use super::value::{Getter, boolean, dojo_severity, nonblank};
use crate::cli::Args;

/// The variable that stands in for the fourth argument.
pub const FINDINGS_OUTPUT: &str = "DEFECTDOJO_FINDINGS_OUTPUT";

/// The build gate's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSettings {
    /// `DEFECTDOJO_FAIL_ON`, in DefectDojo's spelling.
    pub fail_on: Option<String>,
    /// `DEFECTDOJO_FAIL_ON_REACTIVATED` [default: false].
    pub fail_on_reactivated: bool,
}

/// Where the findings with DefectDojo's verdicts are written, if anywhere:
/// the fourth argument (`FINDINGS_UPLOAD`), else `DEFECTDOJO_FINDINGS_OUTPUT`
/// (trimmed; blank is unset). `-` means stdout. The one place this
/// fallback is decided.
fn findings_output(args: &Args, get: Getter) -> Option<String> {
    args.findings_upload
        .clone()
        .or_else(|| nonblank(get, FINDINGS_OUTPUT))
}

/// The problem of an empty fourth argument, if it is one (the variable
/// cannot be empty: blank is unset).
pub fn findings_upload_problem(args: &Args) -> Option<String> {
    let out = args.findings_upload.as_deref()?;
    out.trim()
        .is_empty()
        .then(|| "FINDINGS_UPLOAD is empty: give a URL, a path or -".to_string())
}

/// Sets `args.findings_upload` to [`findings_output`], warns when argument
/// and variable disagree, and checks it.
pub fn read_findings_output(args: &mut Args, get: Getter, problems: &mut Vec<String>) {
    if let (Some(arg), Some(env)) = (&args.findings_upload, nonblank(get, FINDINGS_OUTPUT)) {
        if *arg != env {
            log::warn!(
                "FINDINGS_UPLOAD (the fourth argument) and DEFECTDOJO_FINDINGS_OUTPUT are both \
                 set and differ: writing to the argument, DEFECTDOJO_FINDINGS_OUTPUT is ignored"
            );
        }
    }
    args.findings_upload = findings_output(args, get);
    problems.extend(findings_upload_problem(args));
}

/// The Markdown summary's file: (`$GITHUB_STEP_SUMMARY`, append) before
/// (`DEFECTDOJO_SUMMARY_FILE`, overwrite).
pub fn read_summary_file(var: Getter) -> Option<(String, bool)> {
    var("GITHUB_STEP_SUMMARY")
        .map(|f| (f, true))
        .or_else(|| var("DEFECTDOJO_SUMMARY_FILE").map(|f| (f, false)))
}

/// `DEFECTDOJO_FAIL_ON` (a severity) and `DEFECTDOJO_FAIL_ON_REACTIVATED`.
pub fn read_gate(var: Getter, problems: &mut Vec<String>) -> GateSettings {
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
        boolean(var, "DEFECTDOJO_FAIL_ON_REACTIVATED", problems).unwrap_or(false);
    GateSettings {
        fail_on,
        fail_on_reactivated,
    }
}

/// The CI report formats: where they go and what bounds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportSettings {
    /// `DEFECTDOJO_SARIF_OUTPUT` (annotation `sarif-output`): path, URL or `-`.
    pub sarif: Option<String>,
    /// `DEFECTDOJO_JUNIT_OUTPUT` (annotation `junit-output`): path, URL or `-`.
    pub junit: Option<String>,
    /// `DEFECTDOJO_SARIF_MAX_RESULTS` [default: 25,000, GitHub's limit per
    /// run; 0 = no limit]: the most severe open findings are kept first.
    pub sarif_max_results: u64,
    /// The repository root that absolute file paths are made relative to:
    /// `DEFECTDOJO_SOURCE_ROOT`, `GITHUB_WORKSPACE`, `CI_PROJECT_DIR`
    /// (GitLab) or `WORKSPACE` (Jenkins); `None`: the working directory.
    pub source_root: Option<String>,
}

use crate::convert::sarif::GITHUB_MAX_RESULTS as SARIF_MAX_RESULTS;

/// Reads [`ReportSettings`]; `setting` is annotation > variable, `var` a variable.
pub fn read_reports(
    setting: &dyn Fn(&str) -> Option<String>,
    var: Getter,
    problems: &mut Vec<String>,
) -> ReportSettings {
    // Blank is unset, as for every variable.
    let path = |name: &str| {
        setting(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let sarif_max_results = match setting("sarif-max-results") {
        None => SARIF_MAX_RESULTS,
        Some(v) => v.trim().parse().unwrap_or_else(|_| {
            problems.push(format!(
                "DEFECTDOJO_SARIF_MAX_RESULTS '{v}' is not a whole number (0 = no limit)"
            ));
            SARIF_MAX_RESULTS
        }),
    };
    let source_root = [
        "DEFECTDOJO_SOURCE_ROOT",
        "GITHUB_WORKSPACE",
        "CI_PROJECT_DIR",
        "WORKSPACE",
    ]
    .into_iter()
    .find_map(var);
    ReportSettings {
        sarif: path("sarif-output"),
        junit: path("junit-output"),
        sarif_max_results,
        source_root,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn args(upload: Option<&str>) -> Args {
        Args {
            raw_result: "raw".into(),
            findings: "findings".into(),
            raw_result_upload: None,
            findings_upload: upload.map(str::to_string),
        }
    }

    #[test]
    fn the_argument_beats_the_variable() {
        let vars = HashMap::from([(FINDINGS_OUTPUT, " out.json ")]);
        let get = |k: &str| vars.get(k).map(|v| v.to_string());
        assert_eq!(
            findings_output(&args(None), &get).as_deref(),
            Some("out.json")
        );
        assert_eq!(
            findings_output(&args(Some("-")), &get).as_deref(),
            Some("-")
        );
        let blank = HashMap::from([(FINDINGS_OUTPUT, "  ")]);
        let get = |k: &str| blank.get(k).map(|v| v.to_string());
        assert_eq!(findings_output(&args(None), &get), None);

        let mut problems = Vec::new();
        let mut a = args(Some(" "));
        read_findings_output(&mut a, &get, &mut problems);
        assert_eq!(
            problems,
            ["FINDINGS_UPLOAD is empty: give a URL, a path or -"]
        );
    }

    #[test]
    fn gate_and_summary_file() {
        let vars = HashMap::from([
            ("DEFECTDOJO_FAIL_ON", "high"),
            ("DEFECTDOJO_FAIL_ON_REACTIVATED", "on"),
            ("GITHUB_STEP_SUMMARY", "/gh/summary"),
            ("DEFECTDOJO_SUMMARY_FILE", "/own/summary"),
        ]);
        let var = |k: &str| vars.get(k).map(|v| v.to_string());
        let mut problems = Vec::new();
        let gate = read_gate(&var, &mut problems);
        assert_eq!(gate.fail_on.as_deref(), Some("High"));
        assert!(gate.fail_on_reactivated && problems.is_empty());
        assert_eq!(read_summary_file(&var), Some(("/gh/summary".into(), true)));

        let vars = HashMap::from([
            ("DEFECTDOJO_FAIL_ON", "urgent"),
            ("DEFECTDOJO_SUMMARY_FILE", "/own/summary"),
        ]);
        let var = |k: &str| vars.get(k).map(|v| v.to_string());
        let gate = read_gate(&var, &mut problems);
        assert_eq!(gate.fail_on, None);
        assert!(
            problems[0].starts_with("DEFECTDOJO_FAIL_ON 'urgent'"),
            "{problems:?}"
        );
        assert_eq!(
            read_summary_file(&var),
            Some(("/own/summary".into(), false))
        );
    }
    #[test]
    fn reports_follow_the_naming_rule() {
        let vars = HashMap::from([
            ("DEFECTDOJO_SARIF_OUTPUT", " out.sarif "),
            ("DEFECTDOJO_JUNIT_OUTPUT", "-"),
            ("CI_PROJECT_DIR", "/builds/group/repo"),
        ]);
        let var = |k: &str| vars.get(k).map(|v| v.to_string());
        let setting = |name: &str| var(&crate::config::variable_for(name));
        let mut problems = Vec::new();
        let reports = read_reports(&setting, &var, &mut problems);
        assert_eq!(reports.sarif.as_deref(), Some("out.sarif"));
        assert_eq!(reports.junit.as_deref(), Some("-"));
        assert_eq!(reports.sarif_max_results, SARIF_MAX_RESULTS);
        assert_eq!(reports.source_root.as_deref(), Some("/builds/group/repo"));
        assert!(problems.is_empty());

        let bad = HashMap::from([("DEFECTDOJO_SARIF_MAX_RESULTS", "many")]);
        let var = |k: &str| bad.get(k).map(|v| v.to_string());
        let setting = |name: &str| var(&crate::config::variable_for(name));
        read_reports(&setting, &var, &mut problems);
        assert_eq!(problems.len(), 1);
    }
}
