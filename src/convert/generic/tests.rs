use std::fmt;
use std::io::{self, BufRead, Read};

use super::description::*;
use super::fields::*;
use super::json::*;
use super::location::*;
use super::reader::*;
use super::*;
use crate::error::Error;
use crate::scan::finding::{self as scb, Severity};
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::io::{BufReader, Write as _};

/// Converts `input` through the reader (with a small read buffer, to
/// exercise the pull loop) and parses the result.
fn convert(input: &[u8]) -> Result<(Value, ConvertedCounts), Error> {
    let mut reader = GenericReader::new(BufReader::with_capacity(64, input), 1 << 20);
    let mut out = Vec::new();
    let mut buf = [0u8; 37];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return Err(Error::from_io("reading the converted findings", e)),
        }
    }
    let value = serde_json::from_slice(&out).expect("output is JSON");
    Ok((value, reader.counts().clone()))
}

fn findings(input: &str) -> Vec<Map<String, Value>> {
    let (v, _) = convert(input.as_bytes()).unwrap();
    let Value::Object(mut top) = v else {
        panic!("not an object")
    };
    assert_eq!(top.len(), 1, "only `findings` at the top");
    match top.remove("findings") {
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|f| match f {
                Value::Object(m) => m,
                other => panic!("finding is not an object: {other}"),
            })
            .collect(),
        other => panic!("no findings array: {other:?}"),
    }
}

fn one(input: &str) -> Map<String, Value> {
    let mut all = findings(&format!("[{input}]"));
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn s<'m>(f: &'m Map<String, Value>, key: &str) -> &'m str {
    f.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {key} in {f:?}"))
}

fn error_of(input: &str) -> String {
    convert(input.as_bytes()).unwrap_err().to_string()
}

fn assert_allowed(f: &Map<String, Value>) {
    for key in f.keys() {
        assert!(
            ALLOWED_KEYS.contains(&key.as_str()),
            "key {key} is not allowed"
        );
    }
    for required in ["title", "severity", "description"] {
        assert!(!s(f, required).trim().is_empty(), "{required} is empty");
    }
    assert!(["Info", "Low", "Medium", "High", "Critical"].contains(&s(f, "severity")));
    assert!(s(f, "title").chars().count() <= TITLE_MAX_CHARS);
}

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/fixtures/generic/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn fixture_findings(path: &str) -> Vec<Map<String, Value>> {
    findings(std::str::from_utf8(&fixture(path)).unwrap())
}

/// Every non-empty scalar in a JSON value, as text.
fn scalars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if !s.is_empty() => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Array(a) => a.iter().for_each(|x| scalars(x, out)),
        Value::Object(m) => m.values().for_each(|x| scalars(x, out)),
        _ => {}
    }
}

#[test]
fn kubehunter_fixture_matches_the_java_hooks_output_in_substance() {
    let scb: Vec<Value> = serde_json::from_slice(&fixture("kubehunter-scb-findings.json")).unwrap();
    let java: Value = serde_json::from_slice(&fixture("kubehunter-dd-findings.json")).unwrap();
    let java = java["findings"].as_array().unwrap();
    let (ours, counts) = convert(&fixture("kubehunter-scb-findings.json")).unwrap();
    let ours = ours["findings"].as_array().unwrap();
    assert_eq!(ours.len(), java.len());
    assert_eq!((counts.total, counts.get(Severity::Low)), (3, 3));
    for ((o, j), input) in ours.iter().zip(java).zip(&scb) {
        for key in [
            "title",
            "severity",
            "date",
            "unique_id_from_tool",
            "endpoints",
        ] {
            assert_eq!(o[key], j[key], "{key}");
        }
        let desc = o["description"].as_str().unwrap();
        let scb_desc = input["description"].as_str().unwrap();
        assert!(desc.starts_with(scb_desc.trim_end()), "{desc}");
        let mut values = Vec::new();
        scalars(&input["attributes"], &mut values);
        scalars(&input["reference"], &mut values);
        for v in values {
            assert!(desc.contains(&format!("`{v}`")), "{v} missing in {desc}");
        }
        assert!(desc.contains("**Location:** `tcp://10.1.0.1`"));
        assert!(desc.contains("**Category:** Access Risk"));
        assert!(desc.contains("- **kubeHunterRule:** `"));
    }
    assert_eq!(ours[0]["vuln_id_from_tool"], "KHV050");
    let second = ours[1]["description"].as_str().unwrap();
    assert!(second.contains("- **evidence:** *empty string*"));
}

#[test]
fn every_sample_converts_one_to_one_with_allowed_keys_only() {
    let dir = format!("{}/fixtures/generic/samples", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        let scb: Vec<Value> = serde_json::from_slice(&input).unwrap();
        let (out, counts) = convert(&input).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let out = out["findings"].as_array().unwrap();
        assert_eq!(out.len(), scb.len(), "{path:?}");
        assert_eq!(counts.total as usize, scb.len());
        let mut seen_pairs = std::collections::HashSet::new();
        for (o, i) in out.iter().zip(&scb) {
            let o = o.as_object().unwrap();
            assert_allowed(o);
            assert_eq!(o["unique_id_from_tool"], i["id"]);
            if let Some(loc) = i["location"].as_str() {
                assert!(s(o, "description").contains(loc), "{path:?}: {loc}");
            }
            if let Some(m) = i.get("mitigation").and_then(Value::as_str) {
                assert_eq!(s(o, "mitigation"), m);
            }
            let mut values = Vec::new();
            scalars(&i["attributes"], &mut values);
            for v in values.iter().filter(|v| !v.contains('\n')) {
                assert!(s(o, "description").contains(v.as_str()), "{path:?}: {v}");
            }
            seen_pairs.insert((s(o, "title").to_owned(), s(o, "description").to_owned()));
        }
        // Findings that are distinct in secureCodeBox stay distinct for
        // DefectDojo's hash (title + description); only exact duplicates
        // in the input (apart from id and timestamps) may share one.
        let distinct_inputs: std::collections::HashSet<String> = scb
            .iter()
            .map(|f| {
                let mut f = f.clone();
                for k in ["id", "parsed_at", "identified_at"] {
                    f.as_object_mut().unwrap().remove(k);
                }
                f.to_string()
            })
            .collect();
        assert_eq!(seen_pairs.len(), distinct_inputs.len(), "{path:?}");
        seen += 1;
    }
    assert!(seen >= 11, "samples missing: {seen}");
}

#[test]
fn sample_specific_mappings() {
    let semgrep = fixture_findings("samples/semgrep.findings.json");
    assert_eq!(s(&semgrep[1], "file_path"), "/test/flask/app/app.py");
    assert_eq!(semgrep[1]["line"], 103);
    let gitleaks = fixture_findings("samples/gitleaks.findings.json");
    assert_eq!(
        s(&gitleaks[0], "file_path"),
        "hooks/persistence-azure-monitor/hook/hook.test.js"
    );
    assert_eq!(gitleaks[0]["line"], 51);
    let trivy = fixture_findings("samples/trivy-repo.findings.json");
    assert_eq!(
        trivy[0]["vulnerability_ids"],
        serde_json::json!(["CVE-2023-28155"])
    );
    assert_eq!(s(&trivy[0], "component_name"), "request");
    assert_eq!(s(&trivy[0], "component_version"), "2.88.2");
    assert!(
        s(&trivy[0], "references").starts_with("- CVE: CVE-2023-28155\n- <https://nvd.nist.gov/")
    );
    let zap = fixture_findings("samples/zap-xml-nginx.findings.json");
    assert_eq!(zap[0]["cwe"], 16);
    assert_eq!(s(&zap[0], "vuln_id_from_tool"), "10020");
    let sslyze = fixture_findings("samples/sslyze.findings.json");
    // host:port has no scheme: kept in the description only
    assert!(!sslyze[0].contains_key("endpoints") && !sslyze[0].contains_key("file_path"));
    assert_eq!(s(&sslyze[0], "date"), "2025-11-05");
    assert!(s(&sslyze[0], "description").starts_with("**Location:** `expired.badssl.com:443`"));
}

#[test]
fn every_key_that_can_be_written_is_allowed() {
    let f = one(
        r#"{"id": "u-1", "name": "n", "location": "https://h.example/x?y=1",
            "description": "d", "category": "c", "severity": "critical",
            "mitigation": "m", "osi_layer": "o", "identified_at": "2024-01-01T00:00:00Z",
            "references": [{"type": "CVE", "value": "CVE-2024-1"}, {"type": "CWE", "value": "CWE-79"}],
            "reference": {"id": "R-1"},
            "attributes": {"file": "src/a.py", "line_number": 3, "rule_id": "r",
                           "packageName": "p", "installedVersion": "1"}}"#,
    );
    let mut got: Vec<&str> = f.keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = vec![
        "title",
        "severity",
        "description",
        "date",
        "mitigation",
        "references",
        "vulnerability_ids",
        "cwe",
        "endpoints",
        "file_path",
        "line",
        "vuln_id_from_tool",
        "component_name",
        "component_version",
        "unique_id_from_tool",
    ];
    want.sort_unstable();
    assert_eq!(got, want);
    assert_allowed(&f);
    assert_eq!(s(&f, "severity"), "Critical");
    assert_eq!(f["cwe"], 79);
    assert_eq!(s(&f, "vuln_id_from_tool"), "r");
    // A path location wins over the attribute.
    let f = one(r#"{"location": "lib/b.rb:7", "attributes": {"file": "src/a.py", "line": 3}}"#);
    // surrounding whitespace is dropped, also from endpoints
    let g = one(r#"{"location": "  https://h.example/x \n"}"#);
    assert_eq!(g["endpoints"], serde_json::json!(["https://h.example/x"]));
    assert!(s(&g, "description").contains("**Location:** `https://h.example/x`"));
    assert_eq!(s(&f, "file_path"), "lib/b.rb");
    assert_eq!(f["line"], 7);
}

#[test]
fn severities_in_any_case_and_defaults() {
    for (input, want) in [
        ("\"CRITICAL\"", "Critical"),
        ("\"critical\"", "Critical"),
        ("\"HIGH\"", "High"),
        ("\"High\"", "High"),
        ("\"medium\"", "Medium"),
        ("\"LOW\"", "Low"),
        ("\"INFORMATIONAL\"", "Info"),
        ("\"info\"", "Info"),
        ("null", "Info"),
        ("\"\"", "Info"),
    ] {
        let f = one(&format!(r#"{{"name": "x", "severity": {input}}}"#));
        assert_eq!(s(&f, "severity"), want, "{input}");
    }
    assert_eq!(s(&one(r#"{"name": "x"}"#), "severity"), "Info");
    let input = br#"[{"severity":"critical"},{"severity":"LOW"},{"severity":"low"},{}]"#;
    let (_, counts) = convert(input).unwrap();
    assert_eq!(counts.total, 4);
    assert_eq!(counts.get(Severity::Critical), 1);
    assert_eq!(counts.get(Severity::Low), 2);
    assert_eq!(counts.get(Severity::Informational), 1);
    assert_eq!(counts.get(Severity::High), 0);
}

#[test]
fn unknown_severity_is_an_input_error_naming_finding_and_value() {
    let err = convert(br#"[{"severity": "LOW"}, {"severity": "URGENT"}]"#).unwrap_err();
    assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);
    assert_eq!(
        err.to_string(),
        "findings.json finding #2: unknown severity \"URGENT\"; allowed (in any letter case): \
         INFORMATIONAL (or INFO), LOW, MEDIUM, HIGH, CRITICAL"
    );
}

#[test]
fn the_bytes_before_an_error_are_delivered_first() {
    let input = br#"[{"name": "ok"}, {"severity": "URGENT"}]"#;
    let mut reader = GenericReader::new(&input[..], 1 << 20);
    let mut buf = vec![0u8; 1 << 16];
    let n = reader.read(&mut buf).unwrap();
    let head = std::str::from_utf8(&buf[..n]).unwrap();
    assert!(
        head.starts_with("{\"findings\":[{\"title\":\"ok\""),
        "{head}"
    );
    let err = Error::from_io("x", reader.read(&mut buf).unwrap_err());
    assert!(
        err.to_string()
            .starts_with("findings.json finding #2: unknown severity"),
        "{err}"
    );
    // and it stays failed
    assert!(reader.read(&mut buf).is_err());
}

#[test]
fn findings_differing_only_in_location_stay_apart() {
    let all = findings(
        r#"[{"name": "Potential Backup File", "severity": "INFORMATIONAL", "location": "http://h/a.zip"},
            {"name": "Potential Backup File", "severity": "INFORMATIONAL", "location": "http://h/b.zip"},
            {"name": "Potential Backup File", "severity": "INFORMATIONAL", "location": "not a url at all"}]"#,
    );
    assert_eq!(all.len(), 3);
    assert_ne!(s(&all[0], "description"), s(&all[1], "description"));
    assert_ne!(s(&all[1], "description"), s(&all[2], "description"));
    assert_eq!(all[0]["endpoints"], serde_json::json!(["http://h/a.zip"]));
    assert!(!all[2].contains_key("endpoints"));
    assert!(s(&all[2], "description").contains("`not a url at all`"));
}

#[test]
fn long_unicode_titles_are_cut_cleanly() {
    let name = "é🔥".repeat(400); // 800 characters, 2400 bytes
    let f = one(&format!(r#"{{"name": "{name}"}}"#));
    let title = s(&f, "title");
    assert_eq!(title.chars().count(), TITLE_MAX_CHARS);
    assert!(title.ends_with('…'));
    assert!(name.starts_with(title.trim_end_matches('…')));
    // the full name is kept in the description
    assert!(s(&f, "description").contains(&format!("**Name:** {name}")));
    // exactly at the limit: untouched
    let name = "ü".repeat(TITLE_MAX_CHARS);
    let f = one(&format!(r#"{{"name": "{name}"}}"#));
    assert_eq!(s(&f, "title"), name);
    assert!(!s(&f, "description").contains("**Name:**"));
    // one more: cut
    let f = one(&format!(r#"{{"name": "{name}x"}}"#));
    assert_eq!(s(&f, "title").chars().count(), TITLE_MAX_CHARS);
}

#[test]
fn control_characters_at_the_ends_of_a_name_leave_no_blank_title() {
    // Found by tests/properties.rs: "\u007f" gave the title " ".
    let f = one(r#"{"name": "\u007f"}"#);
    assert_eq!(s(&f, "title"), UNTITLED);
    assert!(s(&f, "description").contains("**Name:**"));
    let f = one(r#"{"name": " \u0001Open\u0007Port\u001b "}"#);
    assert_eq!(s(&f, "title"), "Open Port");
}

#[test]
fn missing_or_odd_names_and_empty_findings() {
    let f = one("{}");
    assert_eq!(s(&f, "title"), UNTITLED);
    assert_eq!(s(&f, "description"), NO_DESCRIPTION);
    assert_eq!(s(&f, "severity"), "Info");
    assert_eq!(f.len(), 3, "{f:?}");
    let f = one(r#"{"name": "  ", "description": "  "}"#);
    assert_eq!(
        (s(&f, "title"), s(&f, "description")),
        (UNTITLED, NO_DESCRIPTION)
    );
    let f = one(r#"{"name": "a\nb\u0000c", "description": "x\u0000y\u0001"}"#);
    assert_eq!(s(&f, "title"), "a b c");
    assert!(s(&f, "description").starts_with("x\u{FFFD}y\u{1}\n\n**Name:** a b"));
}

#[test]
fn multibyte_text_never_splits_a_character() {
    // slicing at fixed byte offsets must check char boundaries
    let f = one(
        r#"{"location": "fi€e://x", "references": [{"type": "CWE", "value": "CW€-79"}],
            "attributes": {"cwe": "ab€", "zap_cweid": "€"}}"#,
    );
    assert!(!f.contains_key("cwe") && !f.contains_key("file_path"));
    assert_eq!(parse_cwe("ab€"), None);
    assert_eq!(classify_location("ab€d://x"), LocationKind::Other);
}

#[test]
fn dates_prefer_identified_at_and_skip_bad_ones() {
    let date = |json: &str| one(json).get("date").cloned();
    assert_eq!(
        date(
            r#"{"identified_at": "2024-01-01T23:30:00-01:00", "parsed_at": "2020-01-01T00:00:00Z"}"#
        ),
        Some("2024-01-02".into())
    );
    assert_eq!(
        date(r#"{"identified_at": "last tuesday", "parsed_at": "2020-01-01T00:00:00Z"}"#),
        Some("2020-01-01".into())
    );
    assert_eq!(
        date(r#"{"identified_at": "", "parsed_at": "2020-01-01T00:00:00.5+01:00"}"#),
        Some("2019-12-31".into())
    );
    assert_eq!(
        date(r#"{"identified_at": "bad", "parsed_at": "2020-01-01"}"#),
        None
    );
    assert_eq!(date(r#"{"parsed_at": null}"#), None);
}

#[test]
fn references_cwe_and_vulnerability_ids() {
    let f = one(r#"{"references": [
            {"type": "CVE", "value": "CVE-2024-0001"}, {"type": "GHSA", "value": "GHSA-aaaa-bbbb-cccc"},
            {"type": "cve", "value": "CVE-2024-0001"}, {"type": "CWE", "value": "cwe-798"},
            {"type": "URL", "value": "https://example.com/a b"}, {"type": "URL", "value": null},
            {"type": "NOTE", "value": "see *docs*"}, {"value": "bare"}]}"#);
    assert_eq!(
        f["vulnerability_ids"],
        serde_json::json!(["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"])
    );
    assert_eq!(f["cwe"], 798);
    assert_eq!(
        s(&f, "references"),
        "- CVE: CVE-2024-0001\n- GHSA: GHSA-aaaa-bbbb-cccc\n- cve: CVE-2024-0001\n- CWE: cwe-798\n\
         - URL: https://example.com/a b\n- NOTE: see \\*docs\\*\n- bare"
    );
    assert!(!one(r#"{"references": []}"#).contains_key("references"));
    assert_eq!(parse_cwe("CWE-79: Improper Neutralization"), Some(79));
    assert_eq!(parse_cwe("-1"), None);
    assert_eq!(parse_cwe("0"), None);
    assert_eq!(
        one(r#"{"attributes": {"zap_cweid": "-1"}}"#).get("cwe"),
        None
    );
    assert_eq!(one(r#"{"attributes": {"cwe": "CWE-89"}}"#)["cwe"], 89);
}

#[test]
fn locations_are_classified() {
    use LocationKind::*;
    let file = |path, line| File { path, line };
    for (loc, want) in [
        ("https://juice-shop:3000/rest?q=1#top", Endpoint),
        ("tcp://scanme.nmap.org:22", Endpoint),
        ("tcp://10.1.0.1", Endpoint),
        ("ldap://[2001:db8::7]/c=GB?objectClass?one", Endpoint),
        ("http://user:pw@h.example:8080/%7Euser/", Endpoint),
        (
            "scb://trivy/?ArtifactName=https://github.com/secureCodeBox/secureCodeBox",
            Endpoint,
        ),
        ("https://h/a b", Other),
        ("https://h/\"x\"", Other),
        ("https://h/{id}", Other),
        ("https://h/%zz", Other),
        ("https://h/#a#b", Other),
        ("http://host:abc/", Other),
        ("http://host:99999/", Other),
        ("http://host:/", Other),
        ("http:///path", Other),
        ("http://[::1/", Other),
        ("http://[::1]x/", Other),
        ("https://bücher.example/", Other),
        ("1http://x", Other),
        ("file:///etc/passwd", file("/etc/passwd", None)),
        ("file://localhost/etc/hosts", file("/etc/hosts", None)),
        ("src/app.py", file("src/app.py", None)),
        (
            "/test/flask/app/app.py:103-114",
            file("/test/flask/app/app.py", Some(103)),
        ),
        ("app.py:10-12", file("app.py", Some(10))),
        ("./a/b.go:7:5", file("./a/b.go", Some(7))),
        ("src/x.rs:42", file("src/x.rs", Some(42))),
        ("C:\\repo\\a.cs", file("C:\\repo\\a.cs", None)),
        ("~/x", file("~/x", None)),
        ("expired.badssl.com:443", Other),
        ("juice-shop", Other),
        ("example.com:8080/login", Other),
        ("app.py:10", Other),
        ("line one\nline two/x", Other),
    ] {
        assert_eq!(classify_location(loc), want, "{loc}");
    }
}

#[test]
fn json_escaping() {
    let mut out = Vec::new();
    push_json_str(&mut out, "a\"b\\c\nd\re\tf\u{1}g\u{1f}h\u{0}i/é\u{2028}");
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(
        text,
        "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\u{FFFD}i/é\u{2028}\""
    );
    let back: String = serde_json::from_slice(&out).unwrap();
    assert_eq!(back, "a\"b\\c\nd\re\tf\u{1}g\u{1f}h\u{FFFD}i/é\u{2028}");
    let mut out = Vec::new();
    push_num_field(&mut out, "n", 0);
    push_num_field(&mut out, "m", u64::MAX);
    assert_eq!(out, b",\"n\":0,\"m\":18446744073709551615");
}

#[test]
fn escaping_matches_serde_json_on_every_position() {
    // every special byte at every offset around the 8-byte steps
    let specials = ['"', '\\', '\n', '\u{1}', '\u{1f}', ' ', 'é', '\u{7f}', '€'];
    for len in 1..20 {
        for pos in 0..len {
            for c in specials {
                let mut t: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                t.replace_range(pos..pos + 1, &c.to_string());
                let mut ours = Vec::new();
                push_json_str(&mut ours, &t);
                assert_eq!(ours, serde_json::to_vec(&t).unwrap(), "{t:?}");
            }
        }
    }
}

#[test]
fn escaped_and_borrowed_text_both_round_trip() {
    // Strings with escapes are copied by serde_json (escaped on output),
    // the others are borrowed (copied as they are); both must come out
    // as the same text.
    let f = one(
        r#"{"id": "i\"d", "description": "back\\slash \"q\" tab\t", "mitigation": "m\u0007",
            "category": "plain", "location": "x\"y",
            "references": [{"type": "T\"", "value": "v\\"}],
            "attributes": {"k\"ey": "v\\al", "plain": "text", "ctl": "\u0001"}}"#,
    );
    assert_eq!(s(&f, "unique_id_from_tool"), "i\"d");
    assert_eq!(s(&f, "mitigation"), "m\u{7}");
    assert_eq!(s(&f, "references"), "- T\": v\\\\");
    let d = s(&f, "description");
    assert!(d.starts_with("back\\slash \"q\" tab\n\n"), "{d}");
    assert!(d.contains("**Location:** `x\"y`"), "{d}");
    assert!(d.contains("- **k\"ey:** `v\\al`"), "{d}");
    assert!(d.contains("- **plain:** `text`"), "{d}");
    assert!(d.contains("- **ctl:** `\u{1}`"), "{d}");
}

#[test]
fn write_generic_leaves_out_untouched_on_error() {
    let ctx = ConvertContext::new("findings.json");
    let f: scb::Finding = serde_json::from_str(r#"{"severity": "nope"}"#).unwrap();
    let mut out = b"prefix".to_vec();
    assert!(write_generic(&f, &mut out, &ctx).is_err());
    assert_eq!(out, b"prefix");
    let deep = format!(
        r#"{{"attributes": {}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let f: scb::Finding = serde_json::from_str(&deep).unwrap();
    let err = write_generic(&f, &mut out, &ctx).unwrap_err();
    assert!(
        err.to_string()
            .contains("attributes: recursion limit exceeded"),
        "{err}"
    );
    assert_eq!(out, b"prefix");
}

#[test]
fn empty_arrays_bom_and_broken_input() {
    let (v, counts) = convert(b" [ ] ").unwrap();
    assert_eq!(v.to_string(), r#"{"findings":[]}"#);
    assert_eq!(counts.total, 0);
    let mut raw = Vec::new();
    GenericReader::new(&b"[]"[..], 10)
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw, br#"{"findings":[]}"#);

    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(br#"[{"name": "x"}]"#);
    assert_eq!(convert(&bom).unwrap().1.total, 1);

    let err = error_of(r#"[{"name": "x"}] {"name": "y"}"#);
    assert!(
        err.contains("unexpected data after the closing `]`"),
        "{err}"
    );
    let err = error_of(r#"[{"name": "x"}, {"name": "#);
    assert_eq!(
        err,
        "findings.json: ends in the middle of finding #2 (which starts at byte 16); \
         the file is truncated"
    );
    let err = error_of(r#"{"findings": []}"#);
    assert!(
        err.starts_with("findings.json: expected a JSON array of findings, found a JSON object"),
        "{err}"
    );
    let err = error_of("");
    assert!(err.contains("found an empty file"), "{err}");
    let err = error_of(r#"[{"name": 5}]"#);
    assert!(
        err.starts_with(
            "findings.json finding #1: is not a valid secureCodeBox finding \
             (it starts at byte 1): invalid type"
        ),
        "{err}"
    );
    let err = error_of(r#"[{"name": "a"}, "just text"]"#);
    assert_eq!(
        err,
        "findings.json finding #2: is not a JSON object (it starts at byte 16)"
    );
    let err = error_of(r#"[null]"#);
    assert!(err.contains("finding #1: is not a JSON object"), "{err}");
    let mut reader = GenericReader::new(&br#"[{"name":"a"},{"name":"much too long"}]"#[..], 20);
    let err = Error::from_io("x", reader.read_to_end(&mut Vec::new()).unwrap_err());
    assert!(
        err.to_string()
            .contains("finding #2: is larger than the limit of 20 bytes"),
        "{err}"
    );
}

#[test]
fn deep_nesting_gives_clean_errors() {
    let deep = |open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(10_000), close.repeat(10_000))
    };
    let arrays = deep("[", "", "]");
    let objects = deep("{\"a\":", "1", "}");
    let err = error_of(&format!("[{arrays}]"));
    assert!(err.contains("finding #1: is not a JSON object"), "{err}");
    let err = error_of(&format!(r#"[{{"attributes": {arrays}}}]"#));
    assert!(
        err.contains("finding #1: attributes: recursion limit exceeded"),
        "{err}"
    );
    let err = error_of(&format!(r#"[{{"attributes": {objects}}}]"#));
    assert!(err.contains("recursion limit exceeded"), "{err}");
    let err = error_of(&format!(r#"[{{"reference": {objects}}}]"#));
    assert!(
        err.contains("finding #1: reference: recursion limit exceeded"),
        "{err}"
    );
    let err = error_of(&format!(r#"[{{"name": {arrays}}}]"#));
    assert!(
        err.contains("finding #1: is not a valid secureCodeBox finding"),
        "{err}"
    );
    let err = error_of(&format!(r#"[{{"references": {arrays}}}]"#));
    assert!(
        err.contains("finding #1: is not a valid secureCodeBox finding"),
        "{err}"
    );
    // deep data in a field nobody reads is skipped without recursion
    let ok = convert(format!(r#"[{{"scan": {arrays}}}]"#).as_bytes()).unwrap();
    assert_eq!(ok.1.total, 1);
}

/// Generates `[f0,f1,…]` on the fly, never holding more than one finding.
struct Generated {
    n: usize,
    next: usize,
    chunk: Vec<u8>,
    pos: usize,
}

impl Generated {
    fn new(n: usize) -> Self {
        Generated {
            n,
            next: 0,
            chunk: b"[".to_vec(),
            pos: 0,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.chunk.len() {
            self.chunk.clear();
            self.pos = 0;
            if self.next < self.n {
                let i = self.next;
                if i > 0 {
                    self.chunk.push(b',');
                }
                let sev = ["LOW", "medium", "HIGH", "Critical", "INFORMATIONAL"][i % 5];
                write!(
                    self.chunk,
                    r#"{{"id":"id-{i}","name":"Open Port: {}","location":"tcp://10.0.{}.{}:{}",
                       "severity":"{sev}","category":"Open Port",
                       "parsed_at":"2024-01-01T12:00:00.000Z",
                       "attributes":{{"port":{},"state":"open","ip_addresses":["10.0.0.1"]}},
                       "scan":{{"name":"nmap","namespace":"default"}}}}"#,
                    i % 65536,
                    i / 65536 % 256,
                    i / 256 % 256,
                    i % 65536,
                    i % 65536
                )?;
                self.next += 1;
            } else if self.next == self.n {
                self.chunk.push(b']');
                self.next += 1;
            } else {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Counts the elements of `findings` while validating them, without
/// keeping them.
struct CountFindings(usize);

impl<'de> serde::Deserialize<'de> for CountFindings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(CountVisitor).map(CountFindings)
    }
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    findings: CountFindings,
}

/// Watches the reader's buffers while the output is pulled through it.
struct Watch<'r, R> {
    inner: &'r mut GenericReader<R>,
    max_capacity: usize,
}

impl<R: BufRead> Read for Watch<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.max_capacity = self.max_capacity.max(self.inner.buffer_capacity());
        Ok(n)
    }
}

#[test]
fn converts_100k_findings_with_bounded_memory() {
    const N: usize = 100_000;
    let input = BufReader::new(Generated::new(N));
    let mut reader = GenericReader::new(input, MAX_FINDING_BYTES);
    let mut watch = Watch {
        inner: &mut reader,
        max_capacity: 0,
    };
    let upload: Upload = serde_json::from_reader(BufReader::new(&mut watch)).unwrap();
    let max_capacity = watch.max_capacity;
    assert_eq!(upload.findings.0, N);
    assert!(
        max_capacity <= 16 * 1024,
        "internal buffers grew to {max_capacity} bytes"
    );
    let counts = reader.counts();
    assert_eq!(counts.total, N as u64);
    for s in Severity::ALL {
        assert_eq!(counts.get(s), (N / 5) as u64, "{s}");
    }
}
