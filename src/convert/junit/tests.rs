//! The JUnit writer's output, checked as text and, through python3's
//! `xml.etree.ElementTree` (expat), as XML: there is no XML parser among
//! our dependencies, and a second, independent parser is the better judge
//! of well-formedness anyway.

use std::io::Write;
use std::process::{Command, Stdio};
use std::thread;

use serde_json::Value;

use super::*;
use crate::convert::triage::Triage;

fn info() -> RunInfo {
    RunInfo {
        dojo_url: "https://dojo.example".into(),
        scan_type: "Trivy Scan".into(),
        test_id: 42,
        test_title: "nightly".into(),
        reimport: true,
        source_root: None,
        tool_version: "0.1.0".into(),
    }
}

fn seen(id: u64, title: &str) -> Seen<'_> {
    Seen::example(id, title, 1)
}

fn judged(seen: Seen<'_>) -> Judged<'_> {
    Judged {
        seen,
        triage: None,
        baseline: Baseline::Unchanged,
        fails_gate: false,
    }
}

fn failing(seen: Seen<'_>) -> Judged<'_> {
    Judged {
        baseline: Baseline::New,
        fails_gate: true,
        ..judged(seen)
    }
}

fn triaged(seen: Seen<'_>, t: Triage) -> Judged<'_> {
    Judged {
        triage: Some(t),
        ..judged(seen)
    }
}

fn report(findings: &[Judged<'_>]) -> (String, JunitStats) {
    let mut w = JunitWriter::new(info(), Vec::new());
    for f in findings {
        w.add(f).unwrap();
    }
    let mut out = Vec::new();
    let stats = w.finish(&mut out).unwrap();
    (String::from_utf8(out).unwrap(), stats)
}

/// Parses `xml` with python3 and returns the tree as JSON (`tag`,
/// `attrib`, `text`, `children`); `None` when there is no python3. Panics
/// with expat's message when the document is not well-formed.
fn parsed(xml: &str) -> Option<Value> {
    const DUMP: &str = "import sys, json, xml.etree.ElementTree as E\n\
        def j(e): return {'tag': e.tag, 'attrib': e.attrib, 'text': e.text or '', \
        'children': [j(c) for c in e]}\n\
        print(json.dumps(j(E.parse(sys.stdin.buffer).getroot())))";
    try_parse(xml, DUMP).map(|r| {
        let out = r.unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"));
        serde_json::from_str(&out).unwrap()
    })
}

/// Runs `script` on `xml` (its stdin); `Err` is python's stderr.
fn try_parse(xml: &str, script: &str) -> Option<Result<String, String>> {
    let child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("python3 not available ({e}); XML not checked");
            return None;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = xml.as_bytes().to_vec();
    // A thread, so that a large document cannot fill both pipes at once.
    let feeder = thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Some(if out.status.success() {
        Ok(stdout)
    } else {
        Err(stderr)
    })
}

fn suite(tree: &Value) -> &Value {
    assert_eq!(tree["tag"], "testsuites");
    let suites = tree["children"].as_array().unwrap();
    assert_eq!(suites.len(), 1);
    &suites[0]
}

/// The `<testcase>` elements (the suite's children after `<properties>`).
fn cases(tree: &Value) -> Vec<Value> {
    let children = suite(tree)["children"].as_array().unwrap();
    assert_eq!(children[0]["tag"], "properties");
    children[1..].to_vec()
}

#[test]
fn the_checker_rejects_what_xml_forbids() {
    let script = "import sys, xml.etree.ElementTree as E; E.parse(sys.stdin.buffer)";
    for bad in [
        "<a>\u{1}</a>",
        "<a>&#1;</a>",
        "<a>\u{FFFE}</a>",
        "<a>]]></a>",
        "<a>&</a>",
        "<a>x<b></a>",
    ] {
        if let Some(r) = try_parse(bad, script) {
            assert!(r.is_err(), "{bad:?} accepted");
        }
    }
}

#[test]
fn an_empty_run_is_a_valid_document_with_no_tests() {
    let (xml, stats) = report(&[]);
    assert_eq!(stats, JunitStats::default());
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"dojo-hook\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\">\n  \
         <testsuite name=\"nightly\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\">\n    \
         <properties>\n      \
         <property name=\"scan_type\" value=\"Trivy Scan\"/>\n      \
         <property name=\"defectdojo_test\" value=\"https://dojo.example/test/42\"/>\n      \
         <property name=\"reimport\" value=\"true\"/>\n    \
         </properties>\n  \
         </testsuite>\n\
         </testsuites>\n"
    );
    if let Some(tree) = parsed(&xml) {
        assert_eq!(tree["attrib"]["tests"], "0");
        assert_eq!(cases(&tree).len(), 0);
    }
}

#[test]
fn one_case_of_each_kind() {
    let mut bad = seen(1, "SQL injection");
    bad.file_path = Some("src/db.rs");
    bad.line = Some(12);
    bad.cwe = Some(89);
    bad.vulnerability_id = Some("CVE-2024-0001");
    bad.description = "Untrusted input reaches a query.";
    bad.mitigation = "Use bound parameters.";
    let mut fp = seen(2, "Weak hash");
    fp.endpoint = Some("https://app.example/login");
    let passed = seen(3, "Old TLS");
    let (xml, stats) = report(&[
        failing(bad),
        triaged(fp, Triage::FalsePositive),
        judged(passed),
    ]);
    assert_eq!(
        stats,
        JunitStats {
            tests: 3,
            failures: 1,
            skipped: 1
        }
    );
    let expected_cases = "    <testcase classname=\"Trivy Scan\" name=\"SQL injection @ src/db.rs:12\">\n      \
         <failure type=\"High\" message=\"[High] SQL injection\">SQL injection\n\
         Severity: High\n\
         Location: src/db.rs:12\n\
         DefectDojo: https://dojo.example/finding/1\n\
         CWE: CWE-89\n\
         Vulnerability: CVE-2024-0001\n\
         \n\
         Untrusted input reaches a query.\n\
         \n\
         Mitigation:\n\
         Use bound parameters.</failure>\n    \
         </testcase>\n    \
         <testcase classname=\"Trivy Scan\" name=\"Weak hash @ https://app.example/login\">\n      \
         <skipped message=\"false positive in DefectDojo: https://dojo.example/finding/2\"/>\n    \
         </testcase>\n    \
         <testcase classname=\"Trivy Scan\" name=\"Old TLS\">\n      \
         <system-out>State: not new: already in the test\n\
         DefectDojo: https://dojo.example/finding/3</system-out>\n    \
         </testcase>\n";
    assert!(xml.contains(expected_cases), "{xml}");
    assert!(xml.contains(
        "<testsuites name=\"dojo-hook\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\">"
    ));
    assert!(xml.contains(
        "<testsuite name=\"nightly\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\">"
    ));
    let Some(tree) = parsed(&xml) else { return };
    let cases = cases(&tree);
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[0]["children"][0]["tag"], "failure");
    assert_eq!(cases[1]["children"][0]["tag"], "skipped");
    assert_eq!(cases[2]["children"][0]["tag"], "system-out");
}

#[test]
fn header_counts_match_the_cases() {
    let titles: Vec<String> = (0..300).map(|i| format!("finding & <{i}>")).collect();
    let findings: Vec<Judged<'_>> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let s = seen(i as u64, t);
            match i % 3 {
                0 => failing(s),
                1 => triaged(s, Triage::RiskAccepted),
                _ => judged(s),
            }
        })
        .collect();
    let (xml, stats) = report(&findings);
    assert_eq!(
        stats,
        JunitStats {
            tests: 300,
            failures: 100,
            skipped: 100
        }
    );
    let Some(tree) = parsed(&xml) else { return };
    let cases = cases(&tree);
    let count = |tag: &str| {
        cases
            .iter()
            .filter(|c| {
                c["children"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["tag"] == tag)
            })
            .count()
            .to_string()
    };
    for head in [&tree["attrib"], &suite(&tree)["attrib"]] {
        assert_eq!(head["tests"], cases.len().to_string());
        assert_eq!(head["failures"], count("failure"));
        assert_eq!(head["skipped"], count("skipped"));
        assert_eq!(head["errors"], "0");
    }
    assert_eq!(cases[4]["attrib"]["name"], "finding & <4>");
}

#[test]
fn failing_the_gate_wins_over_triage() {
    let f = Judged {
        triage: Some(Triage::Duplicate),
        ..failing(seen(1, "t"))
    };
    let (xml, stats) = report(&[f]);
    assert_eq!((stats.failures, stats.skipped), (1, 0));
    assert!(xml.contains("<failure ") && !xml.contains("<skipped"));
}

#[test]
fn every_triage_is_a_skip_with_its_reason() {
    for (t, label) in [
        (Triage::FalsePositive, "false positive"),
        (Triage::RiskAccepted, "risk accepted"),
        (Triage::OutOfScope, "out of scope"),
        (Triage::Duplicate, "duplicate"),
    ] {
        let (xml, _) = report(&[triaged(seen(7, "t"), t)]);
        let message = format!("{label} in DefectDojo: https://dojo.example/finding/7");
        assert!(
            xml.contains(&format!("<skipped message=\"{message}\"/>")),
            "{xml}"
        );
    }
}

#[test]
fn a_passed_case_says_why_it_passes() {
    let mut mitigated = seen(1, "t");
    mitigated.mitigated = true;
    mitigated.active = false;
    let mut inactive = seen(2, "t");
    inactive.active = false;
    let closed = Judged {
        baseline: Baseline::Absent,
        ..judged(seen(3, "t"))
    };
    let new = Judged {
        baseline: Baseline::New,
        ..judged(seen(4, "t"))
    };
    for (f, state) in [
        (judged(mitigated), "mitigated"),
        (judged(inactive), "inactive"),
        (closed, "closed by this import: no longer in the report"),
        (new, "new, but does not fail the build gate"),
        (judged(seen(5, "t")), "not new: already in the test"),
    ] {
        let id = f.seen.id;
        let (xml, stats) = report(&[f]);
        assert_eq!((stats.tests, stats.failures, stats.skipped), (1, 0, 0));
        let out = format!(
            "<system-out>State: {state}\nDefectDojo: https://dojo.example/finding/{id}</system-out>"
        );
        assert!(xml.contains(&out), "{xml}");
    }
}

#[test]
fn a_name_has_the_location_it_knows() {
    let mut file_line = seen(1, "t");
    file_line.file_path = Some("a.rs");
    file_line.line = Some(3);
    file_line.endpoint = Some("https://ignored.example");
    let mut file = seen(2, "t");
    file.file_path = Some("a.rs");
    let mut endpoint = seen(3, "t");
    endpoint.endpoint = Some("https://app.example/x?a=1&b=2");
    let nowhere = seen(4, "t");
    let untitled = seen(5, "");
    let (xml, _) = report(&[
        judged(file_line),
        judged(file),
        judged(endpoint),
        judged(nowhere),
        judged(untitled),
    ]);
    for name in [
        "t @ a.rs:3",
        "t @ a.rs",
        "t @ https://app.example/x?a=1&amp;b=2",
        "t",
        "finding 5",
    ] {
        assert!(xml.contains(&format!(" name=\"{name}\">")), "{name}: {xml}");
    }
}

#[test]
fn awkward_text_round_trips() {
    let title = "a&b <c> \"d\" 'e' \tf\ng\rh \u{0}\u{1b}[0m \u{FFFE}\u{FFFF} 🔥 ]]> x";
    let shown = "a&b <c> \"d\" 'e' \tf\ng\rh \\u0000\\u001B[0m \\uFFFE\\uFFFF 🔥 ]]> x";
    let mut s = seen(1, title);
    s.description = title;
    s.file_path = Some("src/]]>.rs");
    let mut info = info();
    info.test_title = "]]> & \"'\t".into();
    info.scan_type = "<scan>".into();
    let mut w = JunitWriter::new(info, Vec::new());
    w.add(&failing(s.clone())).unwrap();
    w.add(&triaged(s.clone(), Triage::OutOfScope)).unwrap();
    w.add(&judged(s)).unwrap();
    let mut out = Vec::new();
    w.finish(&mut out).unwrap();
    let xml = String::from_utf8(out).unwrap();
    assert!(!xml.contains("]]>"), "{xml}");
    assert!(!xml.contains("CDATA"));
    let Some(tree) = parsed(&xml) else { return };
    assert_eq!(suite(&tree)["attrib"]["name"], "]]> & \"'\t");
    let props = &suite(&tree)["children"][0]["children"];
    assert_eq!(props[0]["attrib"]["value"], "<scan>");
    for case in cases(&tree) {
        assert_eq!(case["attrib"]["classname"], "<scan>");
        assert_eq!(case["attrib"]["name"], format!("{shown} @ src/]]>.rs"));
    }
    let failure = &cases(&tree)[0]["children"][0];
    assert_eq!(failure["attrib"]["message"], format!("[High] {shown}"));
    let text = failure["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("{shown}\nSeverity: High\n")),
        "{text:?}"
    );
    assert!(text.ends_with(&format!("\n\n{shown}")), "{text:?}");
}

#[test]
fn huge_hostile_text_stays_valid_and_capped() {
    let controls: String = (0..0x20u32)
        .chain([0x7f, 0xFFFE, 0xFFFF])
        .filter_map(char::from_u32)
        .collect();
    let long: String = format!("{controls}<&>\"']]>é🔥").repeat(300);
    assert!(long.chars().count() > 10_000);
    let mut s = seen(1, &long);
    s.description = &long;
    s.mitigation = &long;
    s.file_path = Some(&long);
    s.vulnerability_id = Some(&long);
    let (xml, _) = report(&[
        failing(s.clone()),
        triaged(s.clone(), Triage::Duplicate),
        judged(s),
    ]);
    let Some(tree) = parsed(&xml) else { return };
    // Caps count what a reader sees: `\u0001` is six characters, so a cap
    // may stop up to five short of its maximum rather than cut one.
    let capped = |s: &str, max: usize| {
        let n = s.chars().count();
        assert!(
            s.ends_with('…') && n <= max && n > max - 6,
            "{n} of {max}: {s:?}"
        );
    };
    let cases = cases(&tree);
    assert_eq!(cases.len(), 3);
    for case in &cases {
        capped(case["attrib"]["name"].as_str().unwrap(), NAME_MAX);
    }
    let failure = &cases[0]["children"][0];
    capped(failure["attrib"]["message"].as_str().unwrap(), NAME_MAX);
    let text = failure["text"].as_str().unwrap();
    let (head, mitigation) = text.split_once("\n\nMitigation:\n").unwrap();
    capped(mitigation, MITIGATION_MAX);
    let (head, description) = head.rsplit_once("\n\n").unwrap();
    capped(description, DESCRIPTION_MAX);
    let (title, rest) = head.split_once("\nSeverity: High\nLocation: ").unwrap();
    capped(title, NAME_MAX);
    let (location, rest) = rest.split_once("\nDefectDojo: ").unwrap();
    capped(location, NAME_MAX);
    let (_, vulnerability) = rest.split_once("\nVulnerability: ").unwrap();
    capped(vulnerability, NAME_MAX);
    let skipped = &cases[1]["children"][0]["attrib"]["message"];
    assert_eq!(
        skipped,
        "duplicate in DefectDojo: https://dojo.example/finding/1"
    );
}

#[test]
fn scratch_errors_come_back() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
    }
    impl Scratch for Broken {
        fn reread(&mut self) -> io::Result<Box<dyn io::Read + '_>> {
            Ok(Box::new(io::empty()))
        }
        fn len(&self) -> u64 {
            0
        }
    }
    let mut w = JunitWriter::new(info(), Broken);
    // Buffered: the error shows at the latest when the cases are copied.
    let added = (0..10_000).try_for_each(|i| w.add(&judged(seen(i, "t"))));
    let err = match added {
        Err(e) => e,
        Ok(()) => w.finish(&mut Vec::new()).unwrap_err(),
    };
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
}
