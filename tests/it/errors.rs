//! Every bad input gets one readable line and its documented exit code, and
//! a failure leaves nothing half-done behind.

use crate::harness::{Hook, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_store::FakeStore;
use crate::support::http::Fault;

#[test]
fn wrong_argument_counts_are_usage_errors() {
    for args in [&[][..], &["a", "b", "c"], &["a", "b", "c", "d", "e"]] {
        let out = Hook::bare().args(args).run();
        out.expect(2);
        assert!(
            out.error_line().contains("wrong number of arguments"),
            "{out}"
        );
    }
}

#[test]
fn help_and_version() {
    let out = Hook::bare().args(&["a", "--help"]).run();
    out.expect(0);
    for needle in [
        "DEFECTDOJO_URL",
        "DEFECTDOJO_APIKEY",
        "product-type-name",
        "minimum_severity",
        "EXIT CODES",
        "PRECEDENCE",
    ] {
        assert!(out.stdout.contains(needle), "--help lacks {needle}");
    }
    let out = Hook::bare().args(&["--version"]).run();
    out.expect(0);
    assert!(out.stdout.starts_with("dojo-hook "));
}

#[test]
fn configuration_problems_are_reported_together_before_any_request() {
    let out = Hook::bare()
        .env("DEFECTDOJO_TIMEOUT_SECONDS", "soon")
        .env("DEFECTDOJO_MINIMUM_SEVERITY", "urgent")
        .args(&["raw.xml", "findings.json"])
        .run();
    out.expect(2);
    let line = out.error_line();
    for needle in [
        "DEFECTDOJO_URL",
        "DEFECTDOJO_APIKEY",
        "DEFECTDOJO_TIMEOUT_SECONDS",
        "urgent",
        "SCAN_NAME",
    ] {
        assert!(line.contains(needle), "{needle} missing: {line}");
    }
}

#[test]
fn local_input_problems_exit_2_and_create_nothing() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("bad");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed", b"[{\"name\": }]".to_vec(), "finding #1"),
        (
            "truncated",
            b"[{\"name\":\"a\",\"severity\":\"HIGH\"},{\"name\":".to_vec(),
            "#2",
        ),
        ("not an array", b"{\"findings\":[]}".to_vec(), "array"),
        (
            "unknown severity",
            br#"[{"name":"a","severity":"URGENT"}]"#.to_vec(),
            "URGENT",
        ),
        ("trailing garbage", b"[] []".to_vec(), ""),
        ("empty file", Vec::new(), ""),
    ];
    for (name, content, needle) in cases {
        let path = tmp.file(&format!("{}.json", name.replace(' ', "-")), content);
        let out = Hook::new(&dojo)
            .args(&["raw.xml", path.to_str().unwrap()])
            .run();
        out.expect(2);
        let line = out.error_line();
        assert!(line.contains(needle), "{name}: {line}");
    }
    let out = Hook::new(&dojo)
        .args(&["raw.xml", "/no/such/findings.json"])
        .run();
    out.expect(2);
    assert!(out.error_line().contains("not found"), "{out}");
    let empty = tmp.file("empty.xml", "");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[empty.to_str().unwrap(), "f.json"])
        .run();
    out.expect(2);
    assert!(out.error_line().contains("empty"), "{out}");
    assert!(
        dojo.mutating_requests().is_empty(),
        "a local input problem creates nothing"
    );
    dojo.expect_no_calls();
}

#[test]
fn a_bad_key_names_the_variable() {
    let dojo = FakeDojo::start(Flavour::V3);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_APIKEY", "wrong")
        .env("SCAN_TYPE", "nmap")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("403")
            && line.contains("Invalid token")
            && line.contains("DEFECTDOJO_APIKEY"),
        "{line}"
    );
}

#[test]
fn dojo_validation_errors_show_the_servers_message() {
    let dojo = FakeDojo::start(Flavour::V3);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "No Such Scanner")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("\"No Such Scanner\" is not a valid choice"),
        "{line}"
    );
    assert!(
        !line.contains("Pro comes with support"),
        "the advert is dropped: {line}"
    );
}

#[test]
fn a_parser_crash_removes_the_empty_test_it_left() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("crash");
        let xml = std::fs::read_to_string(fixture("samples/nmap/nmap-results.xml")).unwrap();
        let truncated = tmp.file("nmap-results.xml", &xml[..xml.len() / 2]);
        let pt = dojo.seed_product_type("P");
        let product = dojo.seed_product("scan-1", pt);
        let engagement = dojo.seed_engagement("scan-1", product, None);
        let older = dojo.seed_test(engagement, Some("scan-1"), "Nmap Scan");
        let out = Hook::new(&dojo)
            .env("SCAN_TYPE", "nmap")
            .args(&[truncated.to_str().unwrap(), "f"])
            .run();
        out.expect(1);
        let line = out.error_line();
        assert!(
            line.contains("500") && line.contains("\"Nmap Scan\" parser"),
            "{line}"
        );
        assert!(line.contains("was removed: test"), "{line}");
        let st = dojo.state();
        assert_eq!(st.deleted_tests.len(), 1, "exactly the leftover is deleted");
        assert!(
            st.test(older).is_some(),
            "an older test of the same title stays"
        );
    }
}

#[test]
fn timeouts_and_refused_connections_are_one_line() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::hang("GET", "/api/v2/user_profile/").always());
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .env("DEFECTDOJO_TIMEOUT_SECONDS", "1")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(1);
    assert!(out.error_line().contains("timed out"), "{out}");

    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_URL", "http://127.0.0.1:9")
        .env("SCAN_TYPE", "nmap")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(1);
    assert!(out.error_line().contains("refused"), "{out}");
}

#[test]
fn an_expired_presigned_url_is_explained_and_creates_nothing() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let store = FakeStore::start();
    store.put_object("/b/nmap-results.xml", "<nmaprun></nmaprun>");
    store.fail(FakeStore::expired("GET", "/b/"));
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[
            store.presigned_url("/b/nmap-results.xml"),
            store.presigned_url("/b/findings.json"),
        ])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("AccessDenied") && line.contains("expired"),
        "{line}"
    );
    assert!(!line.contains("X-Amz-Signature"), "{line}");
    assert_eq!(dojo.request_count(), 0);
}

#[test]
fn a_scan_file_that_is_not_json() {
    let tmp = TempDir::new("scanfile");
    let path = tmp.file("scan.json", "{ not json");
    let out = Hook::bare()
        .env("DEFECTDOJO_URL", "http://127.0.0.1:9")
        .env("DEFECTDOJO_APIKEY", "k")
        .env("SCAN_FILE", path.display().to_string())
        .args(&["a", "b"])
        .run();
    out.expect(2);
    assert!(out.error_line().contains("SCAN_FILE"), "{out}");
}

#[test]
fn a_parser_crash_falls_back_to_the_generic_import() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("fallback");
    let xml = std::fs::read_to_string(fixture("samples/nmap/nmap-results.xml")).unwrap();
    let truncated = tmp.file("nmap-results.xml", &xml[..xml.len() / 2]);
    let findings = fixture("samples/nmap/findings.json");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[truncated.to_str().unwrap(), findings.as_str()])
        .run();
    out.expect(0);
    let s = out.summary();
    assert_eq!(s["fallback"], "generic");
    assert_eq!(s["scan_type"], "Generic Findings Import");
    assert_eq!(s["findings"]["total"], 8, "nothing lost");
    assert!(
        out.stderr
            .contains("falling back to the Generic Findings Import"),
        "{out}"
    );
    assert_eq!(
        dojo.state().deleted_tests.len(),
        1,
        "the empty test is gone"
    );

    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .env("DEFECTDOJO_GENERIC_FALLBACK", "false")
        .args(&[truncated.to_str().unwrap(), findings.as_str()])
        .run();
    out.expect(1);
}
