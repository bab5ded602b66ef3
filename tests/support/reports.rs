//! Checks the CI report files dojo-hook writes with the tools their readers use:
//!
//! - [`validate_sarif`]: Microsoft's SARIF multitool (`validate --rule-kind "Gh;Sarif"`),
//!   the SARIF 2.1.0 schema and spec rules plus GitHub code scanning's ingestion rules.
//! - [`read_junit`]: `scripts/junit-read.py`, which reads JUnit XML with junitparser, the
//!   parser of EnricoMi/publish-unit-test-result-action.
//!
//! `make deps` (so `make test`) installs both under `target/tools` and exports their
//! places in `SARIF_MULTITOOL` and `JUNITPARSER_PATH`; without those variables the
//! default places under `target/tools` are tried. A missing tool fails the test that
//! needs it, telling to run `make deps`: a check that cannot run must not pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// Where `make deps` puts the multitool's .NET binary.
const MULTITOOL: &str =
    "target/tools/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool";
/// Where `make deps` installs junitparser (a `pip install --target` directory).
const JUNITPARSER: &str = "target/tools/python";

/// `$VAR`, or `default` under the crate root.
fn tool_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default))
}

fn multitool() -> PathBuf {
    let bin = tool_path("SARIF_MULTITOOL", MULTITOOL);
    if !bin.is_file() {
        panic!(
            "the SARIF multitool is not at {} (set SARIF_MULTITOOL, or run `make deps`, \
             which installs it)",
            bin.display()
        );
    }
    bin
}

fn junitparser() -> PathBuf {
    let dir = tool_path("JUNITPARSER_PATH", JUNITPARSER);
    if !dir.join("junitparser/__init__.py").is_file() {
        panic!(
            "junitparser is not in {} (set JUNITPARSER_PATH, or run `make deps`, \
             which installs it)",
            dir.display()
        );
    }
    dir
}

/// The errors and warnings the SARIF multitool finds in the SARIF file at `path`, each as
/// `"LEVEL RULEID: message"` (notes are left out), after two checks of its own: the file
/// is JSON with `"version": "2.1.0"` and a `runs` array (ids `LOCAL-JSON`,
/// `LOCAL-VERSION`, `LOCAL-RUNS`). Callers assert the list is empty.
///
/// Panics when the multitool is missing or cannot run.
pub fn validate_sarif(path: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    match serde_json::from_str::<Value>(&text) {
        Err(e) => found.push(format!("error LOCAL-JSON: not JSON: {e}")),
        Ok(doc) => {
            if doc["version"] != "2.1.0" {
                found.push(format!(
                    "error LOCAL-VERSION: version is {}, not \"2.1.0\"",
                    doc["version"]
                ));
            }
            if !doc["runs"].is_array() {
                found.push(format!(
                    "error LOCAL-RUNS: runs is {}, not an array",
                    doc["runs"]
                ));
            }
        }
    }

    let bin = multitool();
    let out = TempFile::new("sarif-validate", "sarif");
    let run = Command::new(&bin)
        .args(["validate", "--rule-kind", "Gh;Sarif", "-o"])
        .arg(&out.0)
        .arg(path)
        // Invariant culture: the self-contained binary then needs no libicu.
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    let log = || {
        format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    };
    // It exits 0 whatever it finds in the file; non-zero means it could not check it.
    if !run.status.success() {
        panic!(
            "{} validate {}: {}\n{}",
            bin.display(),
            path.display(),
            run.status,
            log()
        );
    }
    let report: Value = std::fs::read(&out.0)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| panic!("the multitool wrote no SARIF output\n{}", log()));
    for run in report["runs"].as_array().into_iter().flatten() {
        for inv in run["invocations"].as_array().into_iter().flatten() {
            if inv["executionSuccessful"] == false {
                panic!(
                    "the multitool failed on {}: {inv}\n{}",
                    path.display(),
                    log()
                );
            }
        }
        let rules = &run["tool"]["driver"]["rules"];
        for result in run["results"].as_array().into_iter().flatten() {
            let rule = rule_of(rules, result);
            // SARIF §3.27.10: no `level` means the rule's default level, else "warning".
            let level = result["level"]
                .as_str()
                .or_else(|| rule["defaultConfiguration"]["level"].as_str())
                .unwrap_or("warning");
            if level == "error" || level == "warning" {
                let id = result["ruleId"].as_str().unwrap_or("?");
                found.push(format!(
                    "{level} {id}: {}",
                    message(rule, &result["message"])
                ));
            }
        }
    }
    found
}

/// The `reportingDescriptor` a result points at (by `ruleIndex`, else by `ruleId`), or
/// `Null`.
fn rule_of<'a>(rules: &'a Value, result: &Value) -> &'a Value {
    if let Some(i) = result["ruleIndex"].as_u64() {
        return &rules[i as usize];
    }
    let id = &result["ruleId"];
    rules
        .as_array()
        .and_then(|r| r.iter().find(|rule| rule["id"] == *id))
        .unwrap_or(&Value::Null)
}

/// A result's message: its `text`, or (as the multitool writes them) the rule's
/// `messageStrings[id]` with `{0}`, `{1}`… replaced by the `arguments`.
fn message(rule: &Value, message: &Value) -> String {
    if let Some(text) = message["text"].as_str() {
        return text.to_string();
    }
    let id = message["id"].as_str().unwrap_or_default();
    let Some(template) = rule["messageStrings"][id]["text"].as_str() else {
        return message.to_string();
    };
    let mut text = template.to_string();
    for (i, arg) in message["arguments"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        text = text.replace(&format!("{{{i}}}"), arg.as_str().unwrap_or_default());
    }
    text
}

/// The JUnit XML file at `path` as a test-report action reads it: the JSON that
/// `scripts/junit-read.py` prints (counts per suite, counted from the test cases and as
/// declared, and every case with its result).
///
/// Panics, with the parser's error, when junitparser cannot read the file, and when
/// junitparser is missing.
pub fn read_junit(path: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/junit-read.py");
    let run = Command::new("python3")
        .arg(&script)
        .arg(path)
        .env("JUNITPARSER_PATH", junitparser())
        .output()
        .unwrap_or_else(|e| panic!("running python3 {}: {e}", script.display()));
    if !run.status.success() {
        panic!(
            "junitparser cannot read {} ({}):\n{}",
            path.display(),
            run.status,
            String::from_utf8_lossy(&run.stderr)
        );
    }
    serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "junit-read.py printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&run.stdout)
        )
    })
}

/// A path in the system temp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, ext: &str) -> TempFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        TempFile(std::env::temp_dir().join(format!(
            "dojo-hook-{tag}-{}-{}.{ext}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
