//! The CI report formats: SARIF (checked by Microsoft's SARIF multitool
//! with GitHub's ingestion rules) and JUnit (read by junitparser), made from
//! the same one read-back as findings.json, with DefectDojo's triage.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Hook, Output, TempDir};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::http::Fault;
use crate::support::reports::{read_junit, validate_sarif};

/// A finding of a test report: (title, severity, file path, line, endpoint).
type Spec<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<u64>,
    Option<&'a str>,
);

/// A generic report of `Spec`s. Titles
/// are in title case already: DefectDojo title-cases them.
fn report(findings: &[Spec<'_>]) -> String {
    let items: Vec<Value> = findings
        .iter()
        .map(|(title, severity, file, line, endpoint)| {
            let mut f = json!({"title": title, "severity": severity,
                               "description": format!("{title} found"),
                               "mitigation": "Fix it."});
            if let Some(file) = file {
                f["file_path"] = json!(file);
            }
            if let Some(line) = line {
                f["line"] = json!(line);
            }
            if let Some(endpoint) = endpoint {
                f["endpoints"] = json!([endpoint]);
            }
            f
        })
        .collect();
    json!({ "findings": items }).to_string()
}

/// A generic import into product "shop", engagement "main", with a source root.
pub(crate) fn hook(dojo: &FakeDojo) -> Hook {
    Hook::new(dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Generic Findings Import")
        .env("DEFECTDOJO_PRODUCT_NAME", "shop")
        .env("DEFECTDOJO_ENGAGEMENT_NAME", "main")
        .env("DEFECTDOJO_SOURCE_ROOT", "/builds/shop")
}

/// A hook writing both reports into `dir`.
fn reporting(dojo: &FakeDojo, dir: &Path) -> Hook {
    hook(dojo)
        .env(
            "DEFECTDOJO_SARIF_OUTPUT",
            dir.join("out.sarif").display().to_string(),
        )
        .env(
            "DEFECTDOJO_JUNIT_OUTPUT",
            dir.join("out.xml").display().to_string(),
        )
}

/// The validator's errors and warnings but two: dojo-hook has no public
/// home page to name as the driver's `informationUri` (SARIF2005 asks for
/// it; GitHub does not), and see below.
fn sarif_problems(path: &Path) -> Vec<String> {
    let mut problems = validate_sarif(path);
    problems.retain(|p| !(p.contains("SARIF2005") && p.contains("'informationUri'")));
    // A finding without a line has no region: line 1 would point at the
    // wrong place (the spec makes `region` optional; GitHub then shows the
    // alert on the file).
    problems.retain(|p| !(p.contains("SARIF2017") && p.contains("'region' property is absent")));
    problems
}

fn sarif(dir: &Path) -> Value {
    let path = dir.join("out.sarif");
    let problems = sarif_problems(&path);
    assert!(problems.is_empty(), "SARIF validator: {problems:#?}");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().expect("results")
}

/// The result whose rule is `title`.
fn result<'a>(doc: &'a Value, title: &str) -> &'a Value {
    results(doc)
        .iter()
        .find(|r| r["ruleId"] == title)
        .unwrap_or_else(|| panic!("no result {title}: {doc:#}"))
}

/// The JUnit case whose name starts with `title`.
fn case<'a>(junit: &'a Value, title: &str) -> &'a Value {
    junit["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with(title))
        .unwrap_or_else(|| panic!("no case {title}: {junit:#}"))
}

fn findings_gets(dojo: &FakeDojo) -> usize {
    dojo.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v2/findings/")
        // The read-back's pages (the 2.x deduplication wait polls too).
        .filter(|r| r.query.contains("prefetch="))
        .count()
}

#[test]
fn both_reports_come_from_one_read_on_both_generations() {
    let long_title = format!("Long {}", "Ab".repeat(5_000));
    let odd = "Odd \u{1}\u{7}\u{1b}]]> <&> \"Q\" 'A'";
    let findings = [
        (
            "SQL Injection",
            "High",
            Some("src/db/query.py"),
            Some(42),
            None,
        ),
        (
            "Weak TLS",
            "Medium",
            None,
            None,
            Some("https://shop.example.com:443/login"),
        ),
        ("Outdated Base Image", "Low", None, None, None),
        (
            "Absolute Path",
            "Critical",
            Some("/builds/shop/app/main.go"),
            Some(7),
            None,
        ),
        (
            "Windows Path",
            "Info",
            Some("C:\\work\\shop\\x.cs"),
            Some(1),
            None,
        ),
        ("Dot Dot", "Low", Some("src/../../etc/passwd"), None, None),
        (
            "Encoded Name",
            "Low",
            Some("docs/my%20file name.md"),
            Some(3),
            None,
        ),
        // A name that was not UTF-8 reaches DefectDojo's JSON (and its
        // UTF-8-only database) with U+FFFD in place of the bad bytes.
        ("Latin One", "Low", Some("src/caf\u{FFFD}.py"), None, None),
        ("Windows Up", "Low", Some("..\\up.py"), None, None),
        (long_title.as_str(), "Medium", Some("a.py"), None, None),
        (odd, "High", Some("odd\u{1}name.py"), Some(2), None),
    ];
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("reports");
        let path = tmp.file("r.json", report(&findings));
        let out = reporting(&dojo, tmp.path())
            .env(
                "DEFECTDOJO_FINDINGS_OUTPUT",
                tmp.path().join("findings.json").display().to_string(),
            )
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(0);
        // findings.json, SARIF and JUnit: one read of the test (one page).
        assert_eq!(findings_gets(&dojo), 1, "{flavour:?}: {out}");

        let doc = sarif(tmp.path());
        assert_eq!(doc["version"], "2.1.0");
        assert_eq!(results(&doc).len(), findings.len(), "{flavour:?}");
        let run = &doc["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "dojo-hook");
        assert_eq!(run["properties"]["scanType"], "Generic Findings Import");
        let sqli = result(&doc, "SQL Injection");
        assert_eq!(sqli["level"], "error");
        assert_eq!(sqli["baselineState"], "new");
        assert!(sqli["properties"]["security-severity"].is_number());
        let message = sqli["message"]["text"].as_str().unwrap();
        assert!(
            message.contains(&format!("DefectDojo: {}/finding/", dojo.url)),
            "{message}"
        );
        assert!(
            sqli["partialFingerprints"]
                .as_object()
                .is_some_and(|p| !p.is_empty())
        );
        let loc = &sqli["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/db/query.py");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], 42);
        let abs = &result(&doc, "Absolute Path")["locations"][0]["physicalLocation"];
        assert_eq!(abs["artifactLocation"]["uri"], "app/main.go");
        let tls = &result(&doc, "Weak TLS")["locations"][0];
        assert_eq!(
            tls["logicalLocations"][0]["fullyQualifiedName"], "https://shop.example.com:443/login",
            "{flavour:?}"
        );
        assert_eq!(result(&doc, "Weak TLS")["level"], "warning");
        assert_eq!(result(&doc, "Outdated Base Image")["level"], "note");
        let encoded = &result(&doc, "Encoded Name")["locations"][0]["physicalLocation"];
        assert_eq!(
            encoded["artifactLocation"]["uri"],
            "docs/my%2520file%20name.md"
        );
        let uri = |title: &str| {
            result(&doc, title)["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .clone()
        };
        assert_eq!(uri("Latin One"), "src/caf%EF%BF%BD.py");
        // Out of the repository: shown at the finding's page, never as a
        // path above %SRCROOT%.
        for up in ["Windows Up", "Dot Dot"] {
            let at = &result(&doc, up)["locations"][0]["physicalLocation"]["artifactLocation"];
            let page = at["uri"].as_str().unwrap();
            assert!(page.starts_with(&format!("{}/finding/", dojo.url)), "{at}");
            assert!(at.get("uriBaseId").is_none(), "{at}");
        }
        assert_eq!(uri("Windows Path"), "file:///C:/work/shop/x.cs");

        let junit = read_junit(&tmp.path().join("out.xml"));
        assert_eq!(junit["tests"], findings.len(), "{junit:#}");
        // No gate: every new active finding fails.
        assert_eq!(junit["failures"], findings.len());
        assert_eq!(junit["skipped"], 0);
        let suite = &junit["suites"][0];
        assert_eq!(suite["declared"]["tests"], findings.len());
        assert_eq!(suite["name"], "scan-1");
        let c = case(&junit, "SQL Injection");
        assert_eq!(c["classname"], "Generic Findings Import");
        assert!(
            c["name"].as_str().unwrap().contains("src/db/query.py:42"),
            "{c}"
        );
        assert!(c["message"].as_str().unwrap().contains("High"), "{c}");

        let s = out.summary();
        assert_eq!(s["sarif"]["results"], findings.len());
        assert_eq!(s["junit"]["failures"], findings.len());
        assert_eq!(s["synced"], findings.len());
    }
}

#[test]
fn triage_shows_as_suppressions_and_skips_and_a_reimport_as_baseline() {
    let first = [
        ("False Alarm", "High", Some("a.py"), Some(1), None),
        ("Accepted Risk", "High", Some("b.py"), Some(1), None),
        ("Not Ours", "Medium", Some("c.py"), Some(1), None),
        ("Fixed Later", "High", Some("d.py"), Some(1), None),
        ("Still There", "Low", Some("e.py"), Some(1), None),
    ];
    let mut second: Vec<_> = first
        .iter()
        .filter(|f| f.0 != "Fixed Later")
        .copied()
        .collect();
    second.push(("Brand New", "Critical", Some("f.py"), Some(9), None));
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("triage");
        let one = tmp.file("one.json", report(&first));
        let two = tmp.file("two.json", report(&second));
        let reimport = |path: &Path, dir: &Path| {
            reporting(&dojo, dir)
                .env("DEFECTDOJO_IMPORT_MODE", "reimport")
                .args(&[path.to_str().unwrap()])
                .run()
        };
        let before = tmp.path().join("before");
        std::fs::create_dir_all(&before).unwrap();
        reimport(&one, &before).expect(0);
        assert_eq!(sarif(&before)["runs"][0]["properties"]["reimport"], false);

        // Security triages in DefectDojo.
        {
            let mut st = dojo.state();
            let ids: Vec<(u64, String)> = st
                .findings
                .iter()
                .map(|f| (f.id, f.title.clone()))
                .collect();
            for (id, title) in ids {
                let f = st.finding_mut(id).unwrap();
                match title.as_str() {
                    "False Alarm" => (f.false_p, f.active) = (true, false),
                    "Accepted Risk" => (f.risk_accepted, f.active) = (true, false),
                    "Not Ours" => (f.out_of_scope, f.active) = (true, false),
                    _ => {}
                }
            }
        }

        let after = tmp.path().join("after");
        std::fs::create_dir_all(&after).unwrap();
        let out = reimport(&two, &after);
        out.expect(0);
        let doc = sarif(&after);
        assert_eq!(doc["runs"][0]["properties"]["reimport"], true);
        for (title, label) in [
            ("False Alarm", "false positive"),
            ("Accepted Risk", "risk accepted"),
            ("Not Ours", "out of scope"),
        ] {
            let r = result(&doc, title);
            let s = &r["suppressions"][0];
            assert_eq!(s["kind"], "external", "{flavour:?} {title}: {r:#}");
            assert!(
                s["justification"].as_str().unwrap().contains(label),
                "{title}: {s}"
            );
        }
        assert_eq!(result(&doc, "Brand New")["baselineState"], "new");
        assert_eq!(result(&doc, "Still There")["baselineState"], "unchanged");
        assert_eq!(result(&doc, "Fixed Later")["baselineState"], "absent");
        assert!(result(&doc, "Still There").get("suppressions").is_none());

        let junit = read_junit(&after.join("out.xml"));
        assert_eq!(junit["tests"], 6, "{flavour:?}: {junit:#}");
        // Only the finding this reimport created fails.
        assert_eq!(junit["failures"], 1);
        assert_eq!(case(&junit, "Brand New")["result"], "failure");
        assert_eq!(junit["skipped"], 3);
        for (title, label) in [
            ("False Alarm", "false positive"),
            ("Accepted Risk", "risk accepted"),
            ("Not Ours", "out of scope"),
        ] {
            let c = case(&junit, title);
            assert_eq!(c["result"], "skipped", "{c}");
            assert!(c["message"].as_str().unwrap().contains(label), "{c}");
        }
        assert_eq!(case(&junit, "Still There")["result"], "passed");
        assert_eq!(case(&junit, "Fixed Later")["result"], "passed");
    }
}

#[test]
fn duplicates_are_unchanged_and_skipped_and_the_gate_picks_the_failures() {
    let findings = [
        ("Critical One", "Critical", Some("a.py"), Some(1), None),
        ("Low One", "Low", Some("b.py"), Some(1), None),
    ];
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("dups");
        let path = tmp.file("r.json", report(&findings));
        let out = reporting(&dojo, tmp.path())
            .env("DEFECTDOJO_FAIL_ON", "High")
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(3);
        let junit = read_junit(&tmp.path().join("out.xml"));
        assert_eq!(junit["failures"], 1, "{junit:#}");
        assert_eq!(case(&junit, "Critical One")["result"], "failure");
        assert_eq!(case(&junit, "Low One")["result"], "passed");

        // The same report again, as a new test: both are duplicates.
        let out = reporting(&dojo, tmp.path())
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(0);
        let doc = sarif(tmp.path());
        for title in ["Critical One", "Low One"] {
            let r = result(&doc, title);
            assert_eq!(r["baselineState"], "unchanged", "{flavour:?}: {r:#}");
            assert!(r.get("suppressions").is_none());
        }
        let junit = read_junit(&tmp.path().join("out.xml"));
        assert_eq!(
            (junit["failures"].as_u64(), junit["skipped"].as_u64()),
            (Some(0), Some(2))
        );
        assert!(
            case(&junit, "Low One")["message"]
                .as_str()
                .unwrap()
                .contains("duplicate")
        );
    }
}

#[test]
fn a_report_on_stdout_moves_the_summary_to_stderr() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("sarifstdout");
    let path = tmp.file("r.json", report(&[("A", "High", Some("a.py"), None, None)]));
    let out = hook(&dojo)
        .env("DEFECTDOJO_SARIF_OUTPUT", "-")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    let doc: Value = serde_json::from_str(&out.stdout).expect("stdout is the SARIF document");
    assert_eq!(results(&doc).len(), 1);
    let line = out.stderr.lines().last().unwrap();
    let summary: Value = serde_json::from_str(line).unwrap();
    assert_eq!(summary["sarif"]["results"], 1);
    let file = tmp.file("stdout.sarif", out.stdout.as_bytes());
    assert_eq!(sarif_problems(&file), Vec::<String>::new());

    let out = hook(&dojo)
        .env("DEFECTDOJO_JUNIT_OUTPUT", "-")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    let file = tmp.file("stdout.xml", out.stdout.as_bytes());
    assert_eq!(read_junit(&file)["tests"], 1, "{out}");
    let summary: Value = serde_json::from_str(out.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(summary["junit"]["tests"], 1);
}

#[test]
fn bad_output_places_stop_the_run_before_defectdojo_is_touched() {
    let dojo = FakeDojo::start(Flavour::V3);
    // Every case stops before the first request.
    dojo.expect_no_calls();
    let tmp = TempDir::new("badout");
    let path = tmp.file("r.json", report(&[("A", "High", None, None, None)]));
    let missing = tmp.path().join("no-such-dir/out.sarif");
    let shared = tmp.path().join("same.out").display().to_string();
    let cases: [(&str, String, &str); 5] = [
        (
            "DEFECTDOJO_SARIF_OUTPUT",
            missing.display().to_string(),
            "does not exist",
        ),
        (
            "DEFECTDOJO_JUNIT_OUTPUT",
            "/proc/self/out.xml".into(),
            "does not take new files",
        ),
        ("DEFECTDOJO_SARIF_OUTPUT", "-".into(), "only one output"),
        ("DEFECTDOJO_JUNIT_OUTPUT", "-".into(), "only one output"),
        (
            "DEFECTDOJO_JUNIT_OUTPUT",
            shared.clone(),
            "a place of its own",
        ),
    ];
    for (var, value, says) in cases {
        let mut run = hook(&dojo).env(var, value.clone());
        if value == "-" || value == shared {
            run = run.env("DEFECTDOJO_FINDINGS_OUTPUT", value.as_str());
        }
        let out = run.args(&[path.to_str().unwrap()]).run();
        out.expect(2);
        assert!(out.error_line().contains(says), "{var}={value}: {out}");
        assert_eq!(dojo.request_count(), 0, "{var}={value}: {out}");
    }
}

#[test]
fn a_failed_read_back_leaves_no_report_and_keeps_the_old_one() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("rbfail");
        let path = tmp.file("r.json", report(&[("A", "High", Some("a.py"), None, None)]));
        std::fs::write(tmp.path().join("out.sarif"), "old sarif").unwrap();
        dojo.fail(Fault::status("GET", "/api/v2/findings/", 500, "boom").always());
        let out = reporting(&dojo, tmp.path())
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(1);
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("out.sarif")).unwrap(),
            "old sarif"
        );
        assert!(!tmp.path().join("out.xml").exists(), "{out}");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "temp files left: {left:?}");
    }
}

#[test]
fn github_limits_keep_the_most_severe_open_results_first() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("cap");
    let findings = [
        ("L1", "Low", Some("a.py"), None, None),
        ("C1", "Critical", Some("b.py"), None, None),
        ("M1", "Medium", Some("c.py"), None, None),
        ("H1", "High", Some("d.py"), None, None),
        ("I1", "Info", Some("e.py"), None, None),
    ];
    let path = tmp.file("r.json", report(&findings));
    let out = reporting(&dojo, tmp.path())
        .env("DEFECTDOJO_SARIF_MAX_RESULTS", "2")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    let doc = sarif(tmp.path());
    let kept: Vec<&str> = results(&doc)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["C1", "H1"]);
    assert_eq!(out.summary()["sarif"]["omitted"], 3);
    assert!(out.stderr.contains("GitHub's limit"), "{out}");
    // JUnit has no such limit.
    assert_eq!(read_junit(&tmp.path().join("out.xml"))["tests"], 5);
}

#[test]
fn annotations_name_the_reports_in_hook_mode() {
    let dojo = FakeDojo::start(Flavour::V2);
    let tmp = TempDir::new("annot");
    let path = tmp.file("r.json", report(&[("A", "High", Some("a.py"), None, None)]));
    let sarif_path = tmp.path().join("annotated.sarif");
    let out: Output = hook(&dojo)
        .scan_file(&json!({"metadata": {"name": "scan-1", "annotations": {
            "defectdojo.securecodebox.io/sarif-output": sarif_path.display().to_string(),
        }}}))
        .env(
            "DEFECTDOJO_SARIF_OUTPUT",
            tmp.path().join("env.sarif").display().to_string(),
        )
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    assert!(
        sarif_path.exists(),
        "the annotation beats the variable: {out}"
    );
    assert!(!tmp.path().join("env.sarif").exists());
    assert_eq!(sarif_problems(&sarif_path), Vec::<String>::new());
}

#[test]
fn the_committed_samples_stay_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ci-reports");
    assert_eq!(
        sarif_problems(&dir.join("semgrep.sarif")),
        Vec::<String>::new()
    );
    let junit = read_junit(&dir.join("semgrep.junit.xml"));
    assert_eq!(
        (&junit["tests"], &junit["failures"], &junit["skipped"]),
        (&json!(9), &json!(1), &json!(2))
    );
}

#[test]
fn the_gate_and_the_summary_take_their_findings_from_the_same_read() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("oneread");
        let path = tmp.file(
            "r.json",
            report(&[("Critical One", "Critical", Some("a.py"), None, None)]),
        );
        let out = reporting(&dojo, tmp.path())
            .env("DEFECTDOJO_FAIL_ON", "High")
            .env(
                "DEFECTDOJO_SUMMARY_FILE",
                tmp.path().join("summary.md").display().to_string(),
            )
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(3);
        assert_eq!(out.summary()["new"]["total"], 1, "{out}");
        let own_reads: Vec<String> = dojo
            .requests()
            .iter()
            .filter(|r| r.path == "/api/v2/findings/" && r.query.contains("false_p=false"))
            .map(|r| r.target())
            .collect();
        assert!(own_reads.is_empty(), "{flavour:?}: {own_reads:?}");
        assert_eq!(findings_gets(&dojo), 1);
        let summary = std::fs::read_to_string(tmp.path().join("summary.md")).unwrap();
        assert!(summary.contains("Critical One"), "{summary}");
    }
}

#[test]
fn a_dry_run_names_the_reports_and_writes_none() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("dryreports");
    let path = tmp.file("r.json", report(&[("A", "High", None, None, None)]));
    let out = reporting(&dojo, tmp.path())
        .env("DEFECTDOJO_DRY_RUN", "true")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    assert!(
        out.stderr.contains("would write the SARIF report to"),
        "{out}"
    );
    assert!(
        out.stderr.contains("would write the JUnit report to"),
        "{out}"
    );
    assert!(!tmp.path().join("out.sarif").exists());
    assert!(dojo.mutating_requests().is_empty());
}

#[test]
fn reports_go_to_presigned_urls_with_their_length_and_no_signature_in_the_logs() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = crate::support::fake_store::FakeStore::start();
    let tmp = TempDir::new("reportput");
    let path = tmp.file(
        "r.json",
        report(&[("A", "High", Some("a.py"), Some(1), None)]),
    );
    let (sarif_url, junit_url) = (
        store.presigned_url("/b/out.sarif"),
        store.presigned_url("/b/out.xml"),
    );
    let out = hook(&dojo)
        .env("RUST_LOG", "trace")
        .env("DEFECTDOJO_SARIF_OUTPUT", sarif_url.as_str())
        .env("DEFECTDOJO_JUNIT_OUTPUT", junit_url.as_str())
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    let signature = |url: &str| url.rsplit_once("X-Amz-Signature=").unwrap().1.to_string();
    out.assert_clean(&[signature(&sarif_url), signature(&junit_url)]);
    for put in store.puts() {
        assert!(put.header("content-length").is_some(), "{put:?}");
        assert_eq!(put.header("transfer-encoding"), None);
    }
    let sarif = tmp.file(
        "put.sarif",
        store.object("/b/out.sarif").expect("SARIF PUT"),
    );
    assert_eq!(sarif_problems(&sarif), Vec::<String>::new());
    let junit = tmp.file("put.xml", store.object("/b/out.xml").expect("JUnit PUT"));
    assert_eq!(read_junit(&junit)["failures"], 1);
}
