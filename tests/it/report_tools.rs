//! The report checkers of `support::reports` check: a SARIF file GitHub would take
//! passes the multitool and a broken one does not; junitparser counts a JUnit file's
//! cases and refuses one that is not well-formed XML.

use serde_json::{Value, json};

use crate::harness::TempDir;
use crate::support::reports::{read_junit, validate_sarif};

/// The smallest SARIF log GitHub code scanning ingests without a complaint.
fn minimal_sarif() -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dojo-hook",
                "version": "0.1.0",
                "informationUri": "https://github.com/secureCodeBox/secureCodeBox",
                "rules": [{
                    "id": "DD1",
                    "shortDescription": {"text": "Outdated dependency."},
                    "fullDescription": {"text": "A dependency has a known vulnerability."},
                    "help": {"text": "Upgrade the dependency."}
                }]
            }},
            "results": [{
                "ruleId": "DD1",
                "level": "error",
                "message": {"text": "openssl 1.1.1 has CVE-2023-0286."},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "Cargo.lock", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 12}
                }}]
            }]
        }]
    })
}

#[test]
fn a_minimal_sarif_log_passes_the_multitool() {
    let tmp = TempDir::new("sarif-ok");
    let path = tmp.file("ok.sarif", minimal_sarif().to_string());
    let found = validate_sarif(&path);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_result_without_a_message_is_an_error() {
    let tmp = TempDir::new("sarif-nomsg");
    let mut sarif = minimal_sarif();
    sarif["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    let path = tmp.file("nomsg.sarif", sarif.to_string());
    let found = validate_sarif(&path);
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("error ") && f.contains("'message'")),
        "{found:#?}"
    );
}

#[test]
fn the_version_and_runs_are_checked_locally_too() {
    let tmp = TempDir::new("sarif-version");
    let path = tmp.file("v.sarif", r#"{"version":"2.0.0","runs":{}}"#);
    let found = validate_sarif(&path);
    assert!(
        found.iter().any(|f| f.starts_with("error LOCAL-VERSION:")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|f| f.starts_with("error LOCAL-RUNS:")),
        "{found:#?}"
    );
}

#[test]
fn junitparser_counts_the_cases() {
    let tmp = TempDir::new("junit");
    let path = tmp.file(
        "junit.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1" skipped="1" errors="0">
  <testsuite name="dojo-hook" tests="3" failures="1" skipped="1" errors="0">
    <testcase name="CVE-2023-0286" classname="openssl">
      <failure message="High: openssl 1.1.1">fixed in 3.0.8</failure>
    </testcase>
    <testcase name="CVE-2022-1234" classname="zlib"><skipped message="risk accepted"/></testcase>
    <testcase name="no findings" classname="curl"/>
  </testsuite>
</testsuites>
"#,
    );
    let report = read_junit(&path);
    for key in ["tests", "failures", "skipped", "errors"] {
        let want = match key {
            "tests" => 3,
            "failures" | "skipped" => 1,
            _ => 0,
        };
        assert_eq!(report[key], want, "{key}: {report:#}");
    }
    let suite = &report["suites"][0];
    assert_eq!(suite["name"], "dojo-hook");
    assert_eq!(
        suite["declared"],
        json!({"tests": 3, "failures": 1, "skipped": 1, "errors": 0})
    );
    let results: Vec<_> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["classname"].as_str(), c["result"].as_str()))
        .collect();
    assert_eq!(
        results,
        [
            (Some("openssl"), Some("failure")),
            (Some("zlib"), Some("skipped")),
            (Some("curl"), Some("passed")),
        ]
    );
    assert_eq!(suite["cases"][0]["message"], "High: openssl 1.1.1");
}

#[test]
#[should_panic(expected = "junitparser cannot read")]
fn a_control_character_is_not_xml() {
    let tmp = TempDir::new("junit-ctl");
    let path = tmp.file(
        "junit.xml",
        "<testsuites><testsuite name=\"s\" tests=\"1\">\
         <testcase name=\"a\u{1}b\" classname=\"c\"/></testsuite></testsuites>",
    );
    read_junit(&path);
}
