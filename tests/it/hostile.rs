//! What a misbehaving server sends and what a careless user types must not
//! inject into the CI log, leak a password, or overwrite a file: hostile
//! finding titles (line breaks and workflow commands, bidirectional
//! characters, a 1 MB title, blank titles), huge line numbers, a raw NUL in
//! an answer, credentials in `DEFECTDOJO_URL`, and outputs that are one
//! place under different spellings. Every run here is scanned for the URL's
//! password and for a line starting with `::` in stdout, stderr and every
//! file it wrote.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::{Hook, Output, TempDir};
use crate::reports::hook;
use crate::support::fake_dojo::{FakeDojo, Finding, Flavour, Options};
use crate::support::http::Fault;
use crate::support::reports::read_junit;

/// The password of the user info tried in `DEFECTDOJO_URL`.
const PASSWORD: &str = "Secret99";

const INJECT: &str = "ok\n::error title=pwned::injected by the server\r\n::add-mask::x";
const BIDI: &str = "admin\u{202E}fdp.exe\u{2028}::warning::x\u{2029}y\u{200B}";
const HIDDEN: [char; 4] = ['\u{202E}', '\u{2028}', '\u{2029}', '\u{200B}'];
const HUGE_CHARS: usize = 1 << 20;

/// The misbehaving server: rewrites what the import stored by the title
/// the report gave.
fn hostile(f: &mut Finding) {
    match f.title.to_ascii_lowercase().as_str() {
        "inject" => {
            f.title = INJECT.to_string();
            f.description = "::error::from the description\n::add-mask::y".to_string();
            f.mitigation = Some("  ::notice::from the mitigation".to_string());
        }
        "huge" => {
            f.title = "H".repeat(HUGE_CHARS);
            f.line = Some(i64::MAX);
        }
        "blank" => f.title = " \t ".to_string(),
        "empty" => f.title = String::new(),
        "bidi" => {
            f.title = BIDI.to_string();
            f.line = Some((1 << 53) + 1);
        }
        _ => {}
    }
}

fn report(titles: &[&str]) -> String {
    let items: Vec<Value> = titles
        .iter()
        .map(|t| {
            json!({"title": t, "severity": "High", "description": format!("{t} found"),
                   "file_path": "src/app.py", "line": 3})
        })
        .collect();
    json!({ "findings": items }).to_string()
}

/// Every output a run can write, as files in `dir`: SARIF, JUnit, the
/// Markdown summary and findings.json.
fn outputs(dir: &Path) -> Vec<PathBuf> {
    ["out.sarif", "out.xml", "summary.md", "findings.json"]
        .iter()
        .map(|n| dir.join(n))
        .collect()
}

/// `run` writing every output to `files` ([`outputs`]), the gate at Info.
fn writing_all(run: Hook, files: &[PathBuf]) -> Hook {
    let vars = [
        "DEFECTDOJO_SARIF_OUTPUT",
        "DEFECTDOJO_JUNIT_OUTPUT",
        "DEFECTDOJO_SUMMARY_FILE",
        "DEFECTDOJO_FINDINGS_OUTPUT",
    ];
    vars.iter()
        .zip(files)
        .fold(run.env("DEFECTDOJO_FAIL_ON", "Info"), |run, (var, f)| {
            run.env(var, f.display().to_string())
        })
}

/// No line of stdout, stderr or `files` starts with `::` (leading blanks
/// ignored), and none holds the password.
#[track_caller]
fn assert_nothing_injected(out: &Output, files: &[PathBuf]) {
    out.assert_clean(&[PASSWORD]);
    let mut texts = vec![("stdout".to_string(), out.stdout.clone())];
    texts.push(("stderr".to_string(), out.stderr.clone()));
    for f in files.iter().filter(|f| f.exists()) {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        texts.push((f.display().to_string(), text));
    }
    for (name, text) in &texts {
        assert!(!text.contains(PASSWORD), "{name} leaks the password");
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("::"))
            .collect();
        assert!(bad.is_empty(), "{name} has workflow commands: {bad:?}");
    }
}

#[test]
fn hostile_titles_reach_no_ci_log_report_or_summary_as_they_are() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let mut opts = Options::new(flavour);
        opts.hostile = Some(hostile);
        let dojo = FakeDojo::start_with(opts);
        let tmp = TempDir::new("hostile");
        let path = tmp.file(
            "r.json",
            report(&["Inject", "Huge", "Blank", "Empty", "Bidi", "Plain"]),
        );
        let files = outputs(tmp.path());
        let out = writing_all(hook(&dojo), &files)
            .env("RUST_LOG", "debug")
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(3);
        assert_nothing_injected(&out, &files);

        // The gate: one line per finding, the title escaped, cut and named.
        let err = &out.stderr;
        assert!(
            err.contains("ok\\n::error title=pwned::injected by the server\\r\\n::add-mask::x"),
            "{flavour:?}: {err}"
        );
        assert!(
            err.contains("admin\\u202Efdp.exe\\u2028::warning::x\\u2029y\\u200B"),
            "{err}"
        );
        assert!(
            err.contains(&format!("… ({HUGE_CHARS} characters)")),
            "{err}"
        );
        assert_eq!(err.matches("(untitled finding)").count(), 2, "{err}");
        assert!(
            err.lines().all(|l| l.chars().count() < 2_000),
            "a long line"
        );
        assert!(!err.contains(HIDDEN), "{err}");

        // The summary: under GitHub's limit, nothing hidden, no empty link.
        let md = std::fs::read_to_string(&files[2]).unwrap();
        assert!(md.len() < 64 * 1024, "{} bytes", md.len());
        assert!(!md.contains(HIDDEN) && !md.contains("[]("), "{md}");
        assert!(md.contains("(untitled finding)"), "{md}");

        // The reports: the bidirectional characters shown, not hidden; the
        // huge line numbers dropped, not rounded, with the file kept.
        // (findings.json is data handed back to secureCodeBox, not a report
        // a person reads: its titles stay as DefectDojo has them.)
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let report = !f.ends_with("findings.json");
            assert!(!(report && text.contains(HIDDEN)), "{}", f.display());
            for rounded in ["9223372036854775808", "9007199254740992"] {
                assert!(!text.contains(rounded), "{rounded} in {}", f.display());
            }
        }
        let sarif: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let bidi = results
            .iter()
            .find(|r| r["ruleId"].as_str().unwrap().starts_with("admin"))
            .expect("the bidi finding");
        let loc = &bidi["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/app.py", "{loc}");
        assert!(loc.get("region").is_none(), "{loc}");
        assert!(
            bidi["ruleId"].as_str().unwrap().contains("\\u202E"),
            "{bidi}"
        );
        let junit = read_junit(&files[1]);
        assert_eq!(junit["tests"], 6, "{junit:#}");
    }
}

#[test]
fn a_password_in_the_url_is_refused_before_any_request_and_never_shown() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let tmp = TempDir::new("userinfo");
    let path = tmp.file("r.json", report(&["Plain"]));
    let files = outputs(tmp.path());
    let with_user = dojo
        .url
        .replacen("http://", &format!("http://alice:{PASSWORD}@"), 1);
    for url in [
        with_user.clone(),
        with_user.replacen("http://", "HTTP://", 1),
    ] {
        let out = writing_all(hook(&dojo), &files)
            .env("DEFECTDOJO_URL", url)
            .env("RUST_LOG", "trace")
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(2);
        assert!(
            out.error_line()
                .contains("DEFECTDOJO_URL carries a user name or password"),
            "{out}"
        );
        assert!(!out.stderr.contains("alice"), "{out}");
        assert_nothing_injected(&out, &files);
        assert!(files.iter().all(|f| !f.exists()), "an output was written");
    }
    assert_eq!(dojo.request_count(), 0);
}

#[test]
fn an_upper_case_scheme_is_a_url() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("scheme");
    let path = tmp.file("r.json", report(&["Plain"]));
    let out = hook(&dojo)
        .env("DEFECTDOJO_URL", dojo.url.replacen("http://", "HTTP://", 1))
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    assert_nothing_injected(&out, &[]);
    assert_eq!(
        out.summary()["test_url"].as_str().unwrap(),
        format!("{}/test/{}", dojo.url, out.summary()["test_id"])
    );
}

/// A run in `dir` with `env` set that must stop with exit 2 before any
/// request, saying `says`, and leave `dir`'s files as they were.
#[track_caller]
fn refused(dir: &Path, args: &[&str], env: &[(&str, String)], says: &[&str]) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let before = listing(dir);
    let mut run = hook(&dojo);
    for (k, v) in env {
        run = run.env(k, v.as_str());
    }
    let out = run.args(args).run_in(dir);
    out.expect(2);
    let line = out.error_line();
    for s in says {
        assert!(line.contains(s), "{env:?}: wanted {s:?}: {out}");
    }
    assert_eq!(listing(dir), before, "{env:?}: files changed: {out}");
    assert_nothing_injected(&out, &[]);
}

/// Every file under `dir` with its content.
fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                all.push((p, bytes));
            }
        }
    }
    all.sort();
    all
}

#[test]
fn two_outputs_on_one_place_under_any_spelling_are_refused_first() {
    let tmp = TempDir::new("oneplace");
    let dir = tmp.path();
    std::fs::create_dir(dir.join("sub")).unwrap();
    tmp.file("r.json", report(&["Plain"]));
    tmp.file("x.json", "[]");
    std::os::unix::fs::symlink("out.sarif", dir.join("link.xml")).unwrap();
    let abs = |n: &str| dir.join(n).display().to_string();
    let s = |v: &str| v.to_string();
    let sarif = "DEFECTDOJO_SARIF_OUTPUT";
    let junit = "DEFECTDOJO_JUNIT_OUTPUT";
    let findings = "DEFECTDOJO_FINDINGS_OUTPUT";
    let one = ["are one place", "a place of its own"];
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![(sarif, s("out.sarif")), (junit, s("./out.sarif"))],
        vec![(sarif, s("out.sarif")), (junit, abs("out.sarif"))],
        vec![(sarif, s("out.sarif")), (junit, s("link.xml"))],
        vec![(findings, s("sub/../x.json")), (sarif, s("x.json"))],
        vec![
            (sarif, s("out.sarif")),
            ("DEFECTDOJO_SUMMARY_FILE", s("out.sarif")),
        ],
        vec![
            (junit, s("out.xml")),
            ("GITHUB_STEP_SUMMARY", abs("out.xml")),
        ],
    ];
    for env in cases {
        let names: Vec<&str> = env.iter().map(|(k, _)| *k).collect();
        let mut says = one.to_vec();
        let findings_name = names.contains(&findings).then_some("FINDINGS_UPLOAD");
        says.extend(names.iter().filter(|n| **n != findings));
        says.extend(findings_name);
        refused(dir, &["r.json"], &env, &says);
    }
    // stdout by two names.
    refused(
        dir,
        &["r.json"],
        &[(findings, s("-")), (junit, s("/dev/stdout"))],
        &["FINDINGS_UPLOAD", junit, "are one place"],
    );
}

#[test]
fn a_report_on_an_input_is_refused_but_findings_may_go_back_to_findings() {
    let tmp = TempDir::new("oninput");
    let dir = tmp.path();
    tmp.file("raw.json", report(&["Plain"]));
    let findings = json!([{"id": "1", "name": "Plain", "severity": "HIGH", "category": "x",
                           "location": "https://shop.example.com/", "description": "d"}]);
    tmp.file("findings.json", findings.to_string());
    let two: &[&str] = &["raw.json", "findings.json"];
    let cases: [(&[&str], &str, &str, &[&str]); 3] = [
        (
            two,
            "DEFECTDOJO_SARIF_OUTPUT",
            "./findings.json",
            &["DEFECTDOJO_SARIF_OUTPUT", "is FINDINGS", "which is read"],
        ),
        (
            two,
            "DEFECTDOJO_JUNIT_OUTPUT",
            "raw.json",
            &["DEFECTDOJO_JUNIT_OUTPUT", "is RAW_RESULT"],
        ),
        (
            &["raw.json"],
            "DEFECTDOJO_SUMMARY_FILE",
            "raw.json",
            &["DEFECTDOJO_SUMMARY_FILE", "is RAW_RESULT"],
        ),
    ];
    for (args, var, value, says) in cases {
        refused(dir, args, &[(var, value.to_string())], says);
    }
    // secureCodeBox's own pattern stays allowed.
    let dojo = FakeDojo::start(Flavour::V3);
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "custom")
        .args(&["raw", "findings.json", "unused", "./findings.json"])
        .run_in(dir);
    out.expect(0);
    assert_eq!(out.summary()["synced"], 1, "{out}");
    assert_nothing_injected(&out, &[dir.join("findings.json")]);
}

#[test]
fn an_output_that_is_a_directory_is_refused_before_any_request() {
    let tmp = TempDir::new("dirout");
    let dir = tmp.path();
    tmp.file("r.json", report(&["Plain"]));
    std::fs::create_dir(dir.join("reports")).unwrap();
    let cases = [
        ("DEFECTDOJO_SARIF_OUTPUT", "reports", "is a directory"),
        ("DEFECTDOJO_SARIF_OUTPUT", "new/", "ends with '/'"),
        ("DEFECTDOJO_SUMMARY_FILE", "reports", "is a directory"),
    ];
    for (var, value, says) in cases {
        let named = format!("{var} {value}");
        refused(
            dir,
            &["r.json"],
            &[(var, value.to_string())],
            &[&named, says],
        );
    }
}

#[test]
fn a_raw_nul_in_an_answer_is_a_broken_answer_not_a_wrong_url() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("nul");
    let path = tmp.file("r.json", report(&["Plain"]));
    dojo.fail(
        Fault::status(
            "GET",
            "/api/v2/findings/",
            200,
            "{\"count\":1,\"next\":null,\"results\":[{\"id\":1,\"title\":\"a\0b\"}]}",
        )
        .content_type("application/json")
        .always(),
    );
    let out = hook(&dojo)
        .env("DEFECTDOJO_FAIL_ON", "High")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(!line.contains("base URL"), "{out}");
    assert!(
        line.contains("not the expected JSON") || line.contains("is not"),
        "{out}"
    );
    assert!(!line.contains('\0'), "{out}");
    assert_nothing_injected(&out, &[]);
}

#[test]
fn a_full_device_names_the_report_that_filled_it() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    for (var, other) in [
        ("DEFECTDOJO_SARIF_OUTPUT", "DEFECTDOJO_JUNIT_OUTPUT"),
        ("DEFECTDOJO_JUNIT_OUTPUT", "DEFECTDOJO_SARIF_OUTPUT"),
    ] {
        let dojo = FakeDojo::start(Flavour::V3);
        let tmp = TempDir::new("full");
        let path = tmp.file("r.json", report(&["Plain"]));
        let out = hook(&dojo)
            .env(var, "/dev/full")
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(1);
        let line = out.error_line();
        assert!(line.contains("no space left on the device"), "{out}");
        assert!(line.ends_with(&format!("point {var} elsewhere")), "{out}");
        assert!(
            !line.contains("FINDINGS_UPLOAD") && !line.contains(other),
            "{out}"
        );
        assert_nothing_injected(&out, &[]);
    }
}

#[test]
fn names_over_defectdojo_limits_stop_the_run_before_any_request_in_one_short_line() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let tmp = TempDir::new("long");
    let path = tmp.file("r.json", report(&["Plain"]));
    // 1 MiB, in a Scan's annotation (one variable takes at most 128 KiB).
    let huge = "p".repeat(1 << 20);
    let scan = json!({"metadata": {"name": "s", "annotations": {
        "defectdojo.securecodebox.io/product-name": huge}}});
    let out = hook(&dojo)
        .scan_file(&scan)
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(2);
    let line = out.error_line();
    assert!(
        line.contains("the product name is 1048576 characters long, DefectDojo takes at most 255"),
        "{line}"
    );
    assert!(line.len() < 300, "a {} byte error line", line.len());
    assert_nothing_injected(&out, &[]);
    for (var, value, says) in [
        (
            "DEFECTDOJO_ENGAGEMENT_NAME",
            "e".repeat(301),
            "the engagement name is 301 characters long",
        ),
        (
            "DEFECTDOJO_BRANCH_TAG",
            "b".repeat(151),
            "branch_tag (DEFECTDOJO_BRANCH_TAG / annotation branch-tag) is 151",
        ),
    ] {
        let out = hook(&dojo)
            .env(var, value)
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(2);
        let line = out.error_line();
        assert!(line.contains(says), "{var}: {line}");
        assert!(line.len() < 300, "{var}: a {} byte error line", line.len());
        assert_nothing_injected(&out, &[]);
    }
    assert_eq!(dojo.request_count(), 0);
}

#[test]
fn thousands_of_unknown_annotations_make_a_handful_of_warnings() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let tmp = TempDir::new("annotations");
    let path = tmp.file("r.json", report(&["Plain"]));
    let annotations: serde_json::Map<String, Value> = (0..20_000)
        .map(|i| {
            (
                format!("defectdojo.securecodebox.io/unknown-{i}"),
                json!("x"),
            )
        })
        .collect();
    let out = hook(&dojo)
        .scan_file(&json!({"metadata": {"name": "s", "annotations": annotations}}))
        .env("DEFECTDOJO_DRY_RUN", "true")
        .env("DEFECTDOJO_URL", "http://127.0.0.1:9")
        .args(&[path.to_str().unwrap()])
        .run();
    assert_nothing_injected(&out, &[]);
    let warnings = out.stderr.matches("unknown annotation").count();
    assert!(warnings <= 5, "{warnings} warnings");
    assert!(
        out.stderr
            .contains("… and 19995 more unknown defectdojo.securecodebox.io/ annotations"),
        "{}",
        &out.stderr[..out.stderr.len().min(3000)]
    );
}

#[test]
fn an_error_line_is_one_line_whatever_it_quotes() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let tmp = TempDir::new("oneline");
    let path = tmp.file("r.json", report(&["Plain"]));
    let out = hook(&dojo)
        .env(
            "DEFECTDOJO_ENGAGEMENT_END_DATE",
            "2024-01-01\n::error title=typed::by the user\u{202E}",
        )
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(2);
    assert!(
        out.error_line()
            .contains("2024-01-01\\n::error title=typed::by the user\\u202E"),
        "{out}"
    );
    assert_nothing_injected(&out, &[]);
}

/// A small tmpfs mounted at `dir` for as long as it lives (root only).
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None`, with a note, where mounting is not allowed.
    fn mount(dir: PathBuf, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: mounting a tmpfs is not allowed here (needs root)");
        }
        mounted.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_tmpdir_is_named_when_a_report_is_assembled_there() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("fulltmp");
    let Some(full) = Tmpfs::mount(tmp.path().join("tmp"), "16k") else {
        dojo.expect_no_calls();
        return;
    };
    let titles: Vec<String> = (0..400).map(|i| format!("Finding {i}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let path = tmp.file("r.json", report(&titles));
    let out = hook(&dojo)
        .env("TMPDIR", full.0.display().to_string())
        .env("DEFECTDOJO_SARIF_OUTPUT", "-")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(line.contains("no space left on the device"), "{out}");
    assert!(line.ends_with("point TMPDIR elsewhere"), "{out}");
    assert_nothing_injected(&out, &[]);
}
