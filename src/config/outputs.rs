//! Where the results go: the findings output (the fourth argument or
//! `DEFECTDOJO_FINDINGS_OUTPUT`), the Markdown summary file, and the build
//! gate (`DEFECTDOJO_FAIL_ON`).

use super::value::{Getter, boolean, dojo_severity, nonblank};
use crate::cli::Args;

/// The variable that stands in for the fourth argument.
pub const FINDINGS_OUTPUT: &str = "DEFECTDOJO_FINDINGS_OUTPUT";

/// The build gate's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// `DEFECTDOJO_FAIL_ON`, in DefectDojo's spelling.
    pub fail_on: Option<String>,
    /// `DEFECTDOJO_FAIL_ON_REACTIVATED` [default: false].
    pub fail_on_reactivated: bool,
}

/// Where the findings with DefectDojo's verdicts are written, if anywhere:
/// the fourth argument (`FINDINGS_UPLOAD`), else `DEFECTDOJO_FINDINGS_OUTPUT`
/// (trimmed; blank is unset). `-` means stdout. The one place this
/// fallback is decided, for the configuration and for whoever must know
/// early whether stdout holds the findings.
pub fn findings_output(args: &Args, get: Getter) -> Option<String> {
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
pub fn read_gate(var: Getter, problems: &mut Vec<String>) -> Gate {
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
    Gate {
        fail_on,
        fail_on_reactivated,
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
}
