//! Many runs at once, and answers that get lost: parallel creates settle on
//! one context, every run knows its own test by its run-unique temporary
//! title, a test is adopted only once DefectDojo finished it, a 503 is no
//! licence to send again, and a signal removes an unfinished test of the
//! run. Every run here is at `RUST_LOG=trace` and checked for the key.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Hook, KEY, Output, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour, Options, SlowImport};
use crate::support::http::Fault;

const IMPORT: &str = "/api/v2/import-scan/";
const FLAVOURS: [Flavour; 2] = [Flavour::V3, Flavour::V2];

/// Runs at trace level and checks that the key stays out of the output.
fn traced(hook: Hook) -> Output {
    let out = hook.env("RUST_LOG", "trace").run();
    out.assert_clean(&[KEY]);
    out
}

/// `n` runs made by `make(i)` at once; their outputs in order.
fn at_once(n: usize, make: impl Fn(usize) -> Hook + Sync) -> Vec<Output> {
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..n)
            .map(|i| {
                let hook = make(i);
                s.spawn(move || traced(hook))
            })
            .collect();
        runs.into_iter().map(|r| r.join().expect("run")).collect()
    })
}

/// A hook-mode nmap run into product type "Cascade" / product "scanme" /
/// engagement "nightly", as the follow-up scans of a cascading scan carry.
fn cascade(dojo: &FakeDojo, i: usize) -> Hook {
    Hook::new(dojo)
        .env("SCAN_TYPE", "nmap")
        .env("SCAN_NAME", format!("nmap-follow-up-{i}"))
        .scan_file(&json!({
            "defectdojo.securecodebox.io/product-type-name": "Cascade",
            "defectdojo.securecodebox.io/product-name": "scanme",
            "defectdojo.securecodebox.io/engagement-name": "nightly",
        }))
        .args(&[fixture("samples/nmap/nmap-results.xml").as_str(), "f"])
}

fn no_temporary_titles(dojo: &FakeDojo) {
    for t in &dojo.state().tests {
        let title = t.title.as_deref().unwrap_or("");
        assert!(!title.contains("[dojo-hook run "), "left renamed: {title}");
    }
}

#[test]
fn twenty_runs_into_one_new_context_end_with_one_of_each() {
    for flavour in FLAVOURS {
        let mut opts = Options::new(flavour);
        // Wide enough that the creates of twenty processes overlap.
        opts.create_gap = Some(Duration::from_millis(400));
        let dojo = FakeDojo::start_with(opts);
        let outs = at_once(20, |i| cascade(&dojo, i));
        for out in &outs {
            out.expect(0);
        }
        let raced = outs
            .iter()
            .filter(|o| {
                o.stderr
                    .contains("created by a parallel run at the same time")
            })
            .count();
        assert!(raced > 0, "no create lost a race: the test proves nothing");
        let st = dojo.state();
        let names = |v: Vec<&str>, name: &str| v.iter().filter(|n| **n == name).count();
        let pts = st.product_types.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names(pts, "Cascade"), 1, "{flavour:?}");
        let products = st.products.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names(products, "scanme"), 1, "{flavour:?}");
        let engagements: Vec<u64> = st
            .engagements
            .iter()
            .filter(|e| e.name.as_deref() == Some("nightly"))
            .map(|e| e.id)
            .collect();
        assert_eq!(
            engagements.len(),
            1,
            "{flavour:?}: no empty engagement stays"
        );
        assert_eq!(st.tests.len(), 20, "{flavour:?}");
        assert!(st.tests.iter().all(|t| t.engagement == engagements[0]));
        drop(st);
        no_temporary_titles(&dojo);
    }
}

/// A CI-mode Trivy run into shop / main with the default test title.
fn ci_trivy(dojo: &FakeDojo) -> Hook {
    Hook::new(dojo)
        .env("SCAN_NAME", "")
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .env("DEFECTDOJO_PRODUCT_NAME", "shop")
        .env("DEFECTDOJO_ENGAGEMENT_NAME", "main")
        .args(&[fixture("samples/trivy/repo/securecodebox-repo.json").as_str()])
}

#[test]
fn ten_reimport_runs_at_once_end_with_one_test_holding_every_run() {
    for flavour in FLAVOURS {
        let mut opts = Options::new(flavour);
        opts.create_gap = Some(Duration::from_millis(300));
        let dojo = FakeDojo::start_with(opts);
        // DefectDojo takes its time with each import.
        dojo.fail(Fault::delay("POST", IMPORT, Duration::from_millis(300)).always());
        let outs = at_once(10, |_| {
            ci_trivy(&dojo).env("DEFECTDOJO_IMPORT_MODE", "reimport")
        });
        for out in &outs {
            out.expect(0);
        }
        let st = dojo.state();
        let engagements: Vec<_> = st
            .engagements
            .iter()
            .filter(|e| e.name.as_deref() == Some("main"))
            .collect();
        assert_eq!(engagements.len(), 1, "{flavour:?}");
        let tests: Vec<_> = st.tests.iter().collect();
        assert_eq!(tests.len(), 1, "{flavour:?}: one test: {tests:?}");
        assert_eq!(tests[0].title.as_deref(), Some("Trivy Scan"));
        let history = st
            .test_imports
            .iter()
            .filter(|i| i.test == tests[0].id)
            .count();
        assert_eq!(
            history, 10,
            "{flavour:?}: every run's import is in its history"
        );
        let reported: Vec<u64> = outs
            .iter()
            .map(|o| o.summary()["test_id"].as_u64().unwrap())
            .collect();
        assert!(reported.iter().all(|t| *t == tests[0].id), "{reported:?}");
    }
}

/// A DefectDojo whose imports save 20 of 60 findings before the answer and
/// the rest over `finish` (`None`: never).
fn slow(flavour: Flavour, finish: Option<Duration>) -> FakeDojo {
    let mut opts = Options::new(flavour);
    opts.native_findings = 60;
    opts.slow_import = Some(SlowImport {
        shown: 20,
        finish_after: finish,
    });
    let dojo = FakeDojo::start_with(opts);
    seed_history(&dojo);
    dojo
}

/// An earlier import elsewhere, so the server visibly keeps import history.
fn seed_history(dojo: &FakeDojo) {
    let pt = dojo.seed_product_type("earlier");
    let product = dojo.seed_product("earlier", pt);
    let engagement = dojo.seed_engagement("earlier", product, None);
    let test = dojo.seed_test(engagement, Some("earlier"), "Nmap Scan");
    dojo.seed_import_history(test);
}

/// An nmap run that syncs DefectDojo's findings back to a local file (in
/// the directory returned with it, which outlives the run).
fn synced(dojo: &FakeDojo) -> (Hook, std::path::PathBuf, TempDir) {
    let dir = TempDir::new("synced");
    let out = dir.path().join("synced.json");
    let hook = Hook::new(dojo).env("SCAN_TYPE", "nmap").args(&[
        fixture("samples/nmap/nmap-results.xml").as_str(),
        fixture("samples/nmap/findings.json").as_str(),
        "unused",
        out.to_str().unwrap(),
    ]);
    (hook, out, dir)
}

fn synced_count(path: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(path).expect("synced findings");
    serde_json::from_str::<Vec<serde_json::Value>>(&text)
        .expect("JSON array")
        .len()
}

#[test]
fn a_lost_answer_waits_until_the_import_is_finished() {
    // An ingress's 504 one second in, and a dropped connection, while
    // DefectDojo goes on saving for three more seconds.
    for flavour in FLAVOURS {
        for status in [504, 502, 0] {
            let dojo = slow(flavour, Some(Duration::from_secs(3)));
            dojo.fail(Fault::handle_then_answer(
                "POST",
                IMPORT,
                Duration::from_secs(1),
                status,
                "<html>Gateway Time-out</html>",
            ));
            let (hook, path, _dir) = synced(&dojo);
            let out = traced(hook);
            out.expect(0);
            assert!(path.exists(), "{out}");
            assert_eq!(
                synced_count(&path),
                60,
                "{flavour:?} {status}: all of it\n{out}"
            );
            assert!(out.stderr.contains("complete; continuing with it"), "{out}");
            assert_eq!(dojo.requests_to(IMPORT).len(), 1, "never sent twice");
            assert_eq!(dojo.state().tests.len(), 2, "the seeded one and this run's");
            assert!(!out.stderr.contains("no import history"), "{out}");
            no_temporary_titles(&dojo);
        }
    }
}

#[test]
fn a_503_or_429_after_the_test_exists_is_not_sent_again() {
    for flavour in FLAVOURS {
        for status in [503, 429] {
            let dojo = slow(flavour, Some(Duration::from_secs(2)));
            dojo.fail(Fault::handle_then_answer(
                "POST",
                IMPORT,
                Duration::ZERO,
                status,
                "upstream connect error or disconnect/reset before headers",
            ));
            let (hook, path, _dir) = synced(&dojo);
            let out = traced(hook);
            out.expect(0);
            assert_eq!(
                dojo.requests_to(IMPORT).len(),
                1,
                "{flavour:?} {status}\n{out}"
            );
            assert_eq!(
                dojo.state().tests.len(),
                2,
                "no partial test beside a full one"
            );
            assert_eq!(synced_count(&path), 60);
        }
    }
}

#[test]
fn a_throttled_import_that_created_nothing_is_sent_again() {
    // DefectDojo's own throttle answers before it reads the request.
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status(
            "POST",
            IMPORT,
            429,
            r#"{"detail":"Request was throttled. Expected available in 1 second."}"#,
        )
        .header("Retry-After", "1"),
    );
    let (hook, _, _dir) = synced(&dojo);
    let out = traced(hook);
    out.expect(0);
    assert_eq!(dojo.requests_to(IMPORT).len(), 2);
    assert_eq!(dojo.state().tests.len(), 1);
}

#[test]
fn an_import_that_never_finishes_is_a_failed_import_and_removed() {
    for flavour in FLAVOURS {
        let dojo = slow(flavour, None);
        dojo.fail(Fault::handle_then_answer(
            "POST",
            IMPORT,
            Duration::from_millis(500),
            504,
            "",
        ));
        let (hook, path, _dir) = synced(&dojo);
        let started = Instant::now();
        let out = traced(hook.env("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", "3"));
        out.expect(1);
        assert!(started.elapsed() < Duration::from_secs(20));
        let line = out.error_line();
        assert!(line.contains("still being filled after 3 s"), "{line}");
        assert!(line.contains("removed"), "{line}");
        assert_eq!(
            dojo.state().tests.len(),
            1,
            "{flavour:?}: the partial test is gone"
        );
        assert!(!path.exists(), "nothing synced back");
    }
}

#[test]
fn without_import_history_a_settled_finding_count_is_waited_for() {
    let mut opts = Options::new(Flavour::V3);
    opts.native_findings = 60;
    opts.import_history = false;
    opts.slow_import = Some(SlowImport {
        shown: 20,
        finish_after: Some(Duration::from_secs(2)),
    });
    let dojo = FakeDojo::start_with(opts);
    dojo.fail(Fault::handle_then_answer(
        "POST",
        IMPORT,
        Duration::ZERO,
        0,
        "",
    ));
    let (hook, path, _dir) = synced(&dojo);
    let out = traced(hook);
    out.expect(0);
    assert!(out.stderr.contains("no import history"), "{out}");
    assert_eq!(synced_count(&path), 60);
}

#[test]
fn a_failing_run_removes_only_its_own_test() {
    // Two pipelines of one repository: one-argument CI runs, so both tests
    // are titled after the scan type. A's import is handled first, but its
    // answer (a parser's 500) comes after B's whole run.
    for flavour in FLAVOURS {
        let dojo = FakeDojo::start(flavour);
        let pt = dojo.seed_product_type("org");
        let product = dojo.seed_product("shop", pt);
        dojo.seed_engagement("main", product, None);
        dojo.fail(Fault::handle_then_answer(
            "POST",
            IMPORT,
            Duration::from_secs(2),
            500,
            r#"{"message":"Internal server error, check logs for details"}"#,
        ));
        let a = std::thread::spawn({
            let hook = ci_trivy(&dojo).env("DEFECTDOJO_GENERIC_FALLBACK", "false");
            move || traced(hook)
        });
        std::thread::sleep(Duration::from_millis(500));
        let b = traced(ci_trivy(&dojo));
        b.expect(0);
        let a = a.join().unwrap();
        a.expect(1);
        let b_test = b.summary()["test_id"].as_u64().unwrap();
        let st = dojo.state();
        let tests: Vec<u64> = st.tests.iter().map(|t| t.id).collect();
        assert_eq!(
            tests,
            [b_test],
            "{flavour:?}: B's test stays, A's is gone\n{a}"
        );
        assert!(!st.findings_of(b_test).is_empty());
    }
}

#[test]
fn sigterm_during_the_import_removes_the_unfinished_test() {
    for flavour in FLAVOURS {
        let dojo = slow(flavour, None);
        dojo.fail(Fault::handle_then_answer(
            "POST",
            IMPORT,
            Duration::from_secs(20),
            504,
            "",
        ));
        let (hook, _, _dir) = synced(&dojo);
        let hook = hook.env("RUST_LOG", "trace");
        let (code, stderr) = stopped_by(&hook, "-TERM", || dojo.state().tests.len() >= 2);
        assert_eq!(code, Some(143), "{stderr}");
        let deleted = dojo.state().deleted_tests.clone();
        assert_eq!(deleted.len(), 1, "{stderr}");
        let test = deleted[0];
        let line = stderr
            .lines()
            .find(|l| l.starts_with("dojo-hook: error: stopped by SIGTERM"))
            .unwrap_or_else(|| panic!("no stop line:\n{stderr}"));
        assert!(line.contains("while importing"), "{line}");
        assert!(
            line.contains(&format!("unfinished test {test} was removed")),
            "{line}"
        );
        assert_eq!(
            dojo.state().tests.len(),
            1,
            "{flavour:?}: only the seeded test"
        );
    }
}

#[test]
fn sighup_and_sigint_before_the_import_say_so() {
    for (signal, code) in [("-HUP", 129), ("-INT", 130)] {
        let dojo = FakeDojo::start(Flavour::V3);
        dojo.fail(Fault::delay(
            "GET",
            "/api/v2/user_profile/",
            Duration::from_secs(20),
        ));
        let (hook, _, _dir) = synced(&dojo);
        let (status, stderr) = stopped_by(&hook, signal, || dojo.request_count() > 0);
        assert_eq!(status, Some(code), "{stderr}");
        assert!(
            stderr.contains("while finding or creating the destination"),
            "{stderr}"
        );
        assert!(stderr.contains("no test of this run exists"), "{stderr}");
    }
}

#[test]
fn an_engagement_the_key_may_not_delete_is_named_in_a_warning() {
    // 3.2.0's authorized users may create engagements but not delete them.
    let mut opts = Options::new(Flavour::V3);
    opts.lowpriv_key = Some("low-key".into());
    opts.create_gap = Some(Duration::from_millis(400));
    let dojo = FakeDojo::start_with(opts);
    dojo.seed_product_type("Cascade");
    let outs = at_once(6, |i| {
        cascade(&dojo, i)
            .env("DEFECTDOJO_APIKEY", "low-key")
            .env("DEFECTDOJO_LOW_PRIVILEGED_MODE", "true")
    });
    for out in &outs {
        out.expect(0);
        out.assert_clean(&["low-key"]);
    }
    let st = dojo.state();
    let engagements: Vec<u64> = st.engagements.iter().map(|e| e.id).collect();
    let oldest = *engagements.iter().min().expect("an engagement");
    assert!(
        st.tests.iter().all(|t| t.engagement == oldest),
        "all settle on the oldest"
    );
    drop(st);
    assert!(
        engagements.len() > 1,
        "no engagement race: the test proves nothing"
    );
    for id in engagements.iter().filter(|id| **id != oldest) {
        let named = format!("engagement \"nightly\" (id {id}");
        assert!(
            outs.iter()
                .any(|o| o.stderr.contains(&named) && o.stderr.contains("stays behind empty")),
            "engagement {id} is not named in a warning"
        );
    }
}

#[test]
fn sigterm_during_a_reimport_says_it_may_not_have_finished() {
    let dojo = FakeDojo::start(Flavour::V2);
    let pt = dojo.seed_product_type("P");
    let product = dojo.seed_product("scan-1", pt);
    let engagement = dojo.seed_engagement("scan-1", product, None);
    let test = dojo.seed_test(engagement, Some("scan-1"), "Nmap Scan");
    dojo.seed_import_history(test);
    let reimport = "/api/v2/reimport-scan/";
    dojo.fail(Fault::handle_then_answer(
        "POST",
        reimport,
        Duration::from_secs(20),
        504,
        "",
    ));
    let (hook, _, _dir) = synced(&dojo);
    let hook = hook.env("DEFECTDOJO_IMPORT_MODE", "reimport");
    let (code, stderr) = stopped_by(&hook, "-TERM", || !dojo.imports().is_empty());
    assert_eq!(code, Some(143), "{stderr}");
    assert!(
        stderr.contains(&format!("the reimport into test {test}"))
            && stderr.contains("may not have finished"),
        "{stderr}"
    );
    assert!(
        dojo.state().test(test).is_some(),
        "a reimport's test is never deleted"
    );
}

#[test]
fn sigterm_during_the_read_back_keeps_the_complete_test() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::delay("GET", "/api/v2/findings/", Duration::from_secs(20)).always());
    let (hook, path, _dir) = synced(&dojo);
    let (code, stderr) = stopped_by(&hook, "-TERM", || {
        !dojo.requests_to("/api/v2/findings/").is_empty()
    });
    assert_eq!(code, Some(143), "{stderr}");
    let test = dojo.state().tests[0].id;
    assert!(
        stderr.contains(&format!("test {test} (")) && stderr.contains("holds this run's import"),
        "{stderr}"
    );
    assert_eq!(dojo.state().tests.len(), 1, "a complete test is kept");
    assert!(!path.exists(), "no output written");
}

/// Starts `hook`, waits until `ready` (at most 10 s, else the test fails),
/// sends `signal` (`-TERM`, …) and returns the exit code and stderr, after
/// checking that the key stays out of it.
fn stopped_by(hook: &Hook, signal: &str, ready: impl Fn() -> bool) -> (Option<i32>, String) {
    let child = hook.spawn();
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(10), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ended within seconds"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains(KEY), "{stderr}");
    (out.status.code(), stderr)
}
