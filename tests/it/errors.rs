//! Every bad input gets one readable line and its documented exit code, and
//! a failure leaves nothing half-done behind.

use serde_json::json;

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
fn a_scan_type_this_dojo_does_not_list_is_refused_before_anything_is_created() {
    let dojo = FakeDojo::start(Flavour::V2);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "No Such Scanner")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(2);
    let line = out.error_line();
    assert!(
        line.ends_with(
            "configuration: DEFECTDOJO_SCAN_TYPE \"No Such Scanner\" is not a scan type of this \
             DefectDojo (nothing was created)"
        ),
        "{line}"
    );
    assert!(dojo.mutating_requests().is_empty(), "{out}");
}

#[test]
fn dojo_validation_errors_show_the_servers_message() {
    let dojo = FakeDojo::start(Flavour::V3);
    // The list of scan types cannot be read: the import goes ahead, and
    // DefectDojo's own answer tells.
    dojo.fail(
        Fault::status(
            "GET",
            "/api/v2/oa3/schema/",
            404,
            "<html><title>Not Found</title></html>",
        )
        .content_type("text/html"),
    );
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "No Such Scanner")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(1);
    assert!(
        out.stderr
            .contains("the scan type was not checked before the import"),
        "{out}"
    );
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

#[test]
fn unknown_annotations_and_flat_keys_are_warned_about() {
    let dojo = FakeDojo::start(Flavour::V3);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let resource = json!({
        "metadata": {"name": "scan-1", "annotations": {
            "defectdojo.securecodebox.io/engagment-name": "typo",
            "defectdojo.securecodebox.io/product-name": "shop",
            "other.io/whatever": "not ours",
        }},
        "spec": {"scanType": "nmap"},
    });
    let flat = json!({"product-nme": "shop", "test-title": "t"});
    for (scan, unknown, near) in [
        (resource, "engagment-name", "engagement-name"),
        (flat, "product-nme", "product-name"),
    ] {
        let out = Hook::new(&dojo)
            .env("SCAN_TYPE", "nmap")
            .scan_file(&scan)
            .args(&[raw.as_str(), "f"])
            .run();
        out.expect(0);
        let warning = format!(
            "unknown annotation defectdojo.securecodebox.io/{unknown} is ignored: did you mean \
             defectdojo.securecodebox.io/{near}?"
        );
        assert!(out.stderr.contains(&warning), "{out}");
        assert!(!out.stderr.contains("other.io"), "{out}");
        assert!(
            !out.stderr
                .contains("annotation defectdojo.securecodebox.io/product-name "),
            "{out}"
        );
    }
}

#[test]
fn a_wrong_typed_annotation_in_a_scan_file_is_named() {
    let out = Hook::bare()
        .env("DEFECTDOJO_URL", "http://127.0.0.1:9")
        .env("DEFECTDOJO_APIKEY", "k")
        .scan_file(&json!({"metadata": {"name": "s", "annotations": {
            "defectdojo.securecodebox.io/product-name": ["shop"]}}}))
        .args(&["a.xml", "b.json"])
        .run();
    out.expect(2);
    let line = out.error_line();
    assert!(
        line.contains(
            "metadata.annotations 'defectdojo.securecodebox.io/product-name' must be a string, got a list"
        ),
        "{line}"
    );
}

#[test]
fn an_unknown_secure_code_box_scan_type_is_warned_about() {
    let dojo = FakeDojo::start(Flavour::V3);
    let findings = fixture("samples/nmap/findings.json");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmpa")
        .args(&["raw", findings.as_str()])
        .run();
    out.expect(0);
    assert!(
        out.stderr.contains(
            "scan type 'nmpa' (SCAN_TYPE or the scan's spec.scanType) is none of the secureCodeBox \
             scan types dojo-hook knows (did you mean 'nmap'?): importing FINDINGS as \"Generic \
             Findings Import\""
        ),
        "{out}"
    );
    let known = Hook::new(&dojo)
        .env("SCAN_TYPE", "kube-hunter")
        .args(&["raw", findings.as_str()])
        .run();
    known.expect(0);
    assert!(
        !known.stderr.contains("none of the secureCodeBox"),
        "{known}"
    );
}

#[test]
fn the_fourth_argument_and_findings_output_together_are_warned_about() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("both");
    let arg = tmp.path().join("from-arg.json");
    let env = tmp.path().join("from-env.json");
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .env("DEFECTDOJO_FINDINGS_OUTPUT", env.display().to_string())
        .args(&[raw.as_str(), "f", "unused", arg.to_str().unwrap()])
        .run();
    out.expect(0);
    assert!(
        out.stderr.contains(
            "FINDINGS_UPLOAD (the fourth argument) and DEFECTDOJO_FINDINGS_OUTPUT are both set and \
             differ: writing to the argument, DEFECTDOJO_FINDINGS_OUTPUT is ignored"
        ),
        "{out}"
    );
    assert!(arg.exists() && !env.exists());
}

#[test]
fn double_dash_ends_the_options() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("dashdash");
    let report = tmp.file(
        "-nmap-results.xml",
        std::fs::read(fixture("samples/nmap/nmap-results.xml")).unwrap(),
    );
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&["--", "-nmap-results.xml", "f"])
        .run_in(tmp.path());
    out.expect(0);
    assert_eq!(
        dojo.last_import().unwrap().file_name.as_deref(),
        Some("-nmap-results.xml")
    );
    drop(report);
    let refused = Hook::bare().args(&["-nmap-results.xml", "f"]).run();
    refused.expect(2);
    assert!(refused.error_line().contains("unknown option"), "{refused}");
}
