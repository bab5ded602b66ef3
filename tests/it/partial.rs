//! An import that DefectDojo fails halfway: the fake's native parser saves
//! some findings, then answers a 500 (`fixtures/dojo/recorded/v3/145-*`, as a real `trivy k8s`
//! report does on 3.2.0). What this run's import left behind is removed
//! before the generic fallback, or the run stops; a reimport is never rolled
//! back nor followed by a fallback; older tests are never touched. Every case
//! runs on both fake flavours, once more under `RUST_LOG=trace`, checking
//! that no key reaches the output.

use crate::harness::{Hook, KEY, Output, fixture};
use crate::support::fake_dojo::{FakeDojo, Finding, Flavour, Options};
use crate::support::http::Fault;

const IMPORT: &str = "/api/v2/import-scan/";
const REIMPORT: &str = "/api/v2/reimport-scan/";
const LOW_KEY: &str = "low-key-7731";

/// A fake whose native imports save `saved` of 5 findings, then fail.
fn crashing(flavour: Flavour, saved: usize) -> Options {
    let mut opts = Options::new(flavour);
    opts.native_findings = 5;
    opts.crash_after_findings = Some(saved);
    opts.lowpriv_key = Some(LOW_KEY.into());
    opts
}

/// The nmap sample with its findings.json, into engagement "scan-1".
fn nmap(dojo: &FakeDojo) -> Hook {
    Hook::new(dojo).env("SCAN_TYPE", "nmap").args(&[
        fixture("samples/nmap/nmap-results.xml"),
        fixture("samples/nmap/findings.json"),
    ])
}

/// Runs a case started by `start` (a fresh fake, the run, and what the case
/// seeded) as it is, then again on another fresh fake under trace logging,
/// which must show no key and end the same way.
fn both<T>(start: impl Fn() -> (FakeDojo, Hook, T)) -> (Output, FakeDojo, T) {
    let (dojo, hook, seeded) = start();
    let out = hook.run();
    let (_other, traced, _) = start();
    let trace = traced.env("RUST_LOG", "trace").run();
    for secret in [KEY, LOW_KEY] {
        assert!(!trace.stdout.contains(secret), "stdout leaks:\n{trace}");
        assert!(!trace.stderr.contains(secret), "stderr leaks:\n{trace}");
    }
    assert_eq!(
        trace.code, out.code,
        "trace logging changes nothing:\n{trace}"
    );
    (out, dojo, seeded)
}

/// An engagement "scan-1" holding an older nmap test "scan-1" with one finding.
fn seeded(dojo: &FakeDojo) -> (u64, u64) {
    let pt = dojo.seed_product_type("P");
    let product = dojo.seed_product("scan-1", pt);
    let engagement = dojo.seed_engagement("scan-1", product, None);
    let older = dojo.seed_test(engagement, Some("scan-1"), "Nmap Scan");
    dojo.seed_finding(
        older,
        Finding::new("Older finding", "High", "From an earlier run."),
    );
    (engagement, older)
}

fn tests_of(dojo: &FakeDojo, engagement: u64) -> Vec<(u64, String)> {
    dojo.state()
        .tests
        .iter()
        .filter(|t| t.engagement == engagement)
        .map(|t| (t.id, t.scan_type.clone().unwrap_or_default()))
        .collect()
}

/// The request lines (`METHOD path`) in order, queries cut.
fn sequence(dojo: &FakeDojo) -> Vec<String> {
    dojo.requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path.split('?').next().unwrap_or("")))
        .collect()
}

#[test]
fn a_half_imported_test_is_removed_before_the_generic_fallback() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let (out, dojo, (engagement, older)) = both(|| {
            let dojo = FakeDojo::start_with(crashing(flavour, 3));
            let ids = seeded(&dojo);
            let hook = nmap(&dojo);
            (dojo, hook, ids)
        });
        out.expect(0);
        eprintln!("{}", out.stderr);
        let s = out.summary();
        assert_eq!(s["fallback"], "generic", "{out}");
        assert_eq!(s["scan_type"], "Generic Findings Import");
        assert_eq!(s["findings"]["total"], 8, "the whole findings.json");
        let removed = s["removed_tests"].as_array().expect("removed_tests");
        assert_eq!(removed.len(), 1, "{s}");
        assert_eq!(removed[0]["findings"], 3, "it held what was saved");
        let partial = removed[0]["id"].as_u64().unwrap();
        assert!(
            out.stderr.contains(&format!(
                "left test {partial} behind with 3 finding(s): removed it"
            )),
            "{out}"
        );

        let st = dojo.state();
        assert_eq!(st.deleted_tests, vec![partial], "only the half-import goes");
        assert!(st.findings.iter().all(|f| f.test != partial));
        assert_eq!(
            st.findings.iter().filter(|f| f.test == older).count(),
            1,
            "the older test keeps its finding"
        );
        let fallback = s["test_id"].as_u64().unwrap();
        assert!(
            st.findings
                .iter()
                .filter(|f| f.test == fallback)
                .all(|f| !f.duplicate),
            "no fallback finding is a duplicate of the broken half-import"
        );
        drop(st);
        assert_eq!(
            tests_of(&dojo, engagement),
            vec![
                (older, "Nmap Scan".to_string()),
                (fallback, "Generic Findings Import".to_string())
            ]
        );
        // The removal comes before anything else is imported.
        let seq = sequence(&dojo);
        let first = seq.iter().position(|r| r == &format!("POST {IMPORT}"));
        let delete = seq
            .iter()
            .position(|r| r == &format!("DELETE /api/v2/tests/{partial}/"));
        let second = seq.iter().rposition(|r| r == &format!("POST {IMPORT}"));
        assert!(first < delete && delete < second, "{seq:#?}");
    }
}

#[test]
fn a_half_imported_test_that_cannot_be_removed_stops_the_run() {
    // 3.2.0's low-privileged user may not delete even its own test (`fixtures/dojo/recorded/v3/142-*`).
    let (out, dojo, ()) = both(|| {
        let dojo = FakeDojo::start_with(crashing(Flavour::V3, 2));
        dojo.seed_product_type("Granted");
        let hook = nmap(&dojo)
            .env("DEFECTDOJO_APIKEY", LOW_KEY)
            .env("DEFECTDOJO_LOW_PRIVILEGED_MODE", "true")
            .env("DEFECTDOJO_PRODUCT_TYPE_NAME", "Granted");
        (dojo, hook, ())
    });
    out.expect(1);
    let line = out.error_line();
    eprintln!("{line}");
    let st = dojo.state();
    let partial = st.tests.last().expect("the half-import stays").id;
    for needle in [
        "HTTP 500".to_string(),
        format!("left test {partial} behind"),
        format!("{}/test/{partial}", dojo.url),
        "holding 2 finding(s)".to_string(),
        "HTTP 403".to_string(),
        "delete that test in DefectDojo".to_string(),
        "nothing else was imported".to_string(),
    ] {
        assert!(line.contains(&needle), "{needle:?} missing from: {line}");
    }
    assert_eq!(st.tests.len(), 1, "no fallback test");
    assert_eq!(st.findings.len(), 2);
    drop(st);
    assert_eq!(
        dojo.requests_to(IMPORT).len(),
        1,
        "nothing imported after it"
    );
}

#[test]
fn a_delete_failing_after_its_retries_stops_the_run() {
    let dojo = FakeDojo::start_with(crashing(Flavour::V2, 1));
    dojo.fail(Fault::status("DELETE", "/api/v2/tests/", 503, "busy").always());
    let out = nmap(&dojo).run();
    out.expect(1);
    let line = out.error_line();
    eprintln!("{line}");
    assert!(
        line.contains("HTTP 503") && line.contains("holding 1 finding(s)"),
        "{line}"
    );
    let deletes = dojo
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 4, "a DELETE is retried like a read");
    assert_eq!(dojo.requests_to(IMPORT).len(), 1, "no fallback");
    assert_eq!(dojo.state().tests.len(), 1);
}

#[test]
fn a_reimport_that_fails_halfway_is_reported_and_left_alone() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let (out, dojo, (engagement, older)) = both(|| {
            let dojo = FakeDojo::start_with(crashing(flavour, 2));
            let ids = seeded(&dojo);
            let hook = nmap(&dojo).env("DEFECTDOJO_IMPORT_MODE", "reimport");
            (dojo, hook, ids)
        });
        out.expect(1);
        let line = out.error_line();
        eprintln!("{line}");
        for needle in [
            format!("reimport into test {older}"),
            format!("{}/test/{older}", dojo.url),
            "failed halfway".to_string(),
            "recorded no import".to_string(),
            // The seeded finding plus the two the reimport created before failing.
            "it holds 3 finding(s)".to_string(),
        ] {
            assert!(line.contains(&needle), "{needle:?} missing from: {line}");
        }
        assert!(
            dojo.requests().iter().all(|r| r.method != "DELETE"),
            "the test is never deleted"
        );
        assert_eq!(dojo.requests_to(REIMPORT).len(), 1);
        assert!(dojo.requests_to(IMPORT).is_empty(), "no fallback import");
        assert_eq!(
            tests_of(&dojo, engagement),
            vec![(older, "Nmap Scan".to_string())]
        );
    }
}

#[test]
fn an_older_test_of_the_same_title_and_type_is_kept() {
    // Only the test under this run's temporary title is its own: an older
    // test with the real title and scan type stays, while the half-import
    // is removed.
    let dojo = FakeDojo::start_with(crashing(Flavour::V3, 1));
    let (engagement, older) = seeded(&dojo);
    let out = nmap(&dojo)
        .env("DEFECTDOJO_GENERIC_FALLBACK", "false")
        .run();
    out.expect(1);
    let line = out.error_line();
    eprintln!("{line}");
    assert!(line.contains("was removed: test"), "{line}");
    let st = dojo.state();
    assert!(st.test(older).is_some(), "the older test stays");
    assert_eq!(st.deleted_tests.len(), 1, "the half-import goes");
    drop(st);
    assert_eq!(tests_of(&dojo, engagement).len(), 1);
}
