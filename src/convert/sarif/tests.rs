//! The writer end to end, on in-memory scratch.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use serde_json::Value;

use super::{GITHUB_MAX_RESULTS, SarifStats, SarifWriter};
use crate::convert::scratch::Scratch;
use crate::convert::sync::Seen;
use crate::convert::triage::{Baseline, Judged, RunInfo, Triage};

/// A plain Info finding with nothing but an id and a title.
pub(super) fn seen(id: u64, title: &str) -> Seen<'_> {
    Seen::example(id, title, 4)
}

pub(super) fn judged(id: u64, title: &str) -> Judged<'_> {
    Judged {
        seen: seen(id, title),
        triage: None,
        baseline: Baseline::New,
        fails_gate: false,
    }
}

fn with_rank(mut f: Judged<'_>, rank: usize) -> Judged<'_> {
    f.seen.rank = rank;
    f.seen.severity = ["Critical", "High", "Medium", "Low", "Info"][rank];
    f
}

fn info() -> RunInfo {
    RunInfo {
        dojo_url: "https://dojo.example".into(),
        scan_type: "Trivy Scan".into(),
        test_id: 42,
        test_title: "t".into(),
        reimport: true,
        source_root: Some("/work/repo".into()),
        tool_version: "1.2.3".into(),
    }
}

fn write_all(info: RunInfo, max: u64, findings: &[Judged<'_>]) -> (Value, SarifStats) {
    let mut w = SarifWriter::new(info, max, || Ok(Vec::new())).unwrap();
    for f in findings {
        w.add(f).unwrap();
    }
    let mut out = Vec::new();
    let stats = w.finish(&mut out).unwrap();
    let doc = serde_json::from_slice(&out).expect("the document is JSON");
    (doc, stats)
}

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().unwrap()
}

fn rules(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
}

fn ids(doc: &Value) -> Vec<u64> {
    let id = |r: &Value| r["properties"]["defectdojoId"].as_u64().unwrap();
    results(doc).iter().map(id).collect()
}

#[test]
fn no_findings_is_a_valid_document_with_one_empty_run() {
    let (doc, stats) = write_all(info(), GITHUB_MAX_RESULTS, &[]);
    assert_eq!(stats, SarifStats::default());
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(
        doc["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["results"], serde_json::json!([]));
    assert_eq!(run["tool"]["driver"]["rules"], serde_json::json!([]));
    assert_eq!(run["tool"]["driver"]["name"], "dojo-hook");
    assert_eq!(run["tool"]["driver"]["version"], "1.2.3");
    assert_eq!(run["tool"]["driver"]["semanticVersion"], "1.2.3");
    assert_eq!(run["automationDetails"]["id"], "dojo-hook/Trivy Scan/");
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///work/repo/"
    );
    let p = &run["properties"];
    assert_eq!(p["scanType"], "Trivy Scan");
    assert_eq!(p["defectdojoTest"], 42);
    assert_eq!(p["defectdojoTestUrl"], "https://dojo.example/test/42");
    assert_eq!(p["reimport"], true);
    assert_eq!(p["omittedResults"], 0);
}

#[test]
fn no_root_no_base_ids_and_no_version_no_version_fields() {
    let info = RunInfo {
        source_root: None,
        tool_version: String::new(),
        ..info()
    };
    let (doc, _) = write_all(info, 0, &[]);
    let run = &doc["runs"][0];
    assert!(run.get("originalUriBaseIds").is_none());
    assert!(run["tool"]["driver"].get("version").is_none());
}

#[test]
fn levels_and_security_severity_by_severity() {
    let findings: Vec<_> = (0..5)
        .map(|r| with_rank(judged(r as u64, "t"), r))
        .collect();
    let (doc, _) = write_all(info(), 0, &findings);
    let got: Vec<(String, f64)> = results(&doc)
        .iter()
        .map(|r| {
            let level = r["level"].as_str().unwrap().to_string();
            (
                level,
                r["properties"]["security-severity"].as_f64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("error", 9.5),
        ("error", 8.0),
        ("warning", 5.5),
        ("note", 2.0),
        ("note", 0.0),
    ];
    let want: Vec<_> = want.iter().map(|(l, s)| (l.to_string(), *s)).collect();
    assert_eq!(got, want);
    assert_eq!(rules(&doc)[0]["properties"]["security-severity"], 9.5);
}

#[test]
fn the_cap_keeps_open_critical_first_and_counts_the_rest() {
    let mut fp = with_rank(judged(1, "fp critical"), 0);
    fp.triage = Some(Triage::FalsePositive);
    let mut closed = with_rank(judged(2, "closed critical"), 0);
    closed.baseline = Baseline::Absent;
    let findings = vec![
        fp,
        closed,
        with_rank(judged(3, "open info"), 4),
        with_rank(judged(4, "open high"), 1),
        with_rank(judged(5, "open critical"), 0),
        with_rank(judged(6, "open critical 2"), 0),
    ];
    let (doc, stats) = write_all(info(), 3, &findings);
    assert_eq!(ids(&doc), [5, 6, 4]);
    assert_eq!(stats.results, 3);
    assert_eq!(stats.omitted, 3);
    assert_eq!(stats.suppressed, 0);
    assert_eq!(doc["runs"][0]["properties"]["omittedResults"], 3);
    let (doc, stats) = write_all(info(), 0, &findings);
    assert_eq!(ids(&doc), [5, 6, 4, 3, 1, 2]);
    assert_eq!((stats.results, stats.omitted, stats.suppressed), (6, 0, 1));
}

/// Scratch that reports how much was written to it.
struct Counted {
    bytes: Vec<u8>,
    total: Rc<Cell<u64>>,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.total.set(self.total.get() + buf.len() as u64);
        self.bytes.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Scratch for Counted {
    fn reread(&mut self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self.bytes[..]))
    }
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
}

#[test]
fn scratch_stays_bounded_under_the_cap() {
    let total = Rc::new(Cell::new(0));
    let new = || {
        Ok(Counted {
            bytes: Vec::new(),
            total: Rc::clone(&total),
        })
    };
    let mut w = SarifWriter::new(info(), 100, new).unwrap();
    let title = "x".repeat(200);
    for id in 0..20_000u64 {
        let mut f = with_rank(judged(id, &title), (id % 5) as usize);
        f.triage = (id % 7 == 0).then_some(Triage::RiskAccepted);
        w.add(&f).unwrap();
    }
    let mut out = Vec::new();
    let stats = w.finish(&mut out).unwrap();
    assert_eq!((stats.results, stats.omitted), (100, 19_900));
    // At most `max` entries in each of ten buckets, about 1 KB each.
    assert!(
        total.get() < 10 * 100 * 2_000,
        "scratch {} bytes",
        total.get()
    );
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert!(results(&doc).iter().all(|r| r["level"] == "error"));
}

#[test]
fn one_rule_per_rule_id() {
    let mut a = judged(1, "Log4Shell in app");
    a.seen.vulnerability_id = Some("CVE-2021-44228");
    let mut b = judged(2, "Log4Shell in lib");
    b.seen.vulnerability_id = Some("CVE-2021-44228");
    let c = judged(3, "Other");
    let d = judged(4, "Other");
    let (doc, stats) = write_all(info(), 0, &[a, b, c, d]);
    let rule_ids: Vec<_> = rules(&doc).iter().map(|r| r["id"].clone()).collect();
    assert_eq!(rule_ids, ["CVE-2021-44228", "Other"]);
    assert_eq!(stats.rules, 2);
    let result_rules: Vec<_> = results(&doc).iter().map(|r| r["ruleId"].clone()).collect();
    assert_eq!(
        result_rules,
        ["CVE-2021-44228", "CVE-2021-44228", "Other", "Other"]
    );
    // The first finding's descriptor wins.
    assert_eq!(
        rules(&doc)[0]["fullDescription"]["text"],
        "CVE-2021-44228: Log4Shell in app"
    );
}

#[test]
fn suppressions_only_for_false_positive_risk_accepted_and_out_of_scope() {
    let triages = [
        None,
        Some(Triage::FalsePositive),
        Some(Triage::RiskAccepted),
        Some(Triage::OutOfScope),
        Some(Triage::Duplicate),
    ];
    let findings: Vec<_> = triages
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let mut f = judged(i as u64, "t");
            f.triage = t;
            f
        })
        .collect();
    let (doc, stats) = write_all(info(), 0, &findings);
    let by_id = |id: u64| {
        results(&doc)
            .iter()
            .find(|r| r["properties"]["defectdojoId"] == id)
    };
    let justification = |id: u64| {
        let s = &by_id(id).unwrap()["suppressions"];
        assert!(s.is_null() || (s[0]["kind"] == "external" && s[0]["status"] == "accepted"));
        s[0]["justification"].as_str().map(str::to_string)
    };
    assert_eq!(justification(0), None);
    assert_eq!(justification(1).unwrap(), "DefectDojo: false positive");
    assert_eq!(justification(2).unwrap(), "DefectDojo: risk accepted");
    assert_eq!(justification(3).unwrap(), "DefectDojo: out of scope");
    assert_eq!(justification(4), None);
    assert_eq!(stats.suppressed, 3);
    assert_eq!(
        by_id(4).unwrap()["properties"]["defectdojoState"],
        "duplicate"
    );
    assert_eq!(by_id(0).unwrap()["properties"]["defectdojoState"], "active");
}

#[test]
fn locations_file_then_endpoint_then_dojo() {
    let mut file = judged(1, "in a file");
    file.seen.file_path = Some("/work/repo/src/a b.py");
    file.seen.line = Some(12);
    let mut outside = judged(2, "outside the root");
    outside.seen.file_path = Some("C:\\x.py");
    outside.seen.line = Some(0);
    let mut endpoint = judged(3, "on an endpoint");
    endpoint.seen.file_path = Some("./");
    endpoint.seen.endpoint = Some("https://app.example/login page");
    let nowhere = judged(4, "nowhere");
    let (doc, _) = write_all(info(), 0, &[file, outside, endpoint, nowhere]);
    let r = results(&doc);
    let loc = |i: usize| &r[i]["locations"][0];
    let art = |i: usize| &loc(i)["physicalLocation"]["artifactLocation"];
    assert_eq!(art(0)["uri"], "src/a%20b.py");
    assert_eq!(art(0)["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc(0)["physicalLocation"]["region"]["startLine"], 12);
    assert_eq!(art(1)["uri"], "file:///C:/x.py");
    assert!(art(1).get("uriBaseId").is_none());
    assert!(loc(1)["physicalLocation"].get("region").is_none());
    assert_eq!(art(2)["uri"], "https://app.example/login%20page");
    let logical = &loc(2)["logicalLocations"][0];
    assert_eq!(
        logical["fullyQualifiedName"],
        "https://app.example/login page"
    );
    assert_eq!(logical["kind"], "resource");
    assert_eq!(art(3)["uri"], "https://dojo.example/finding/4");
    assert_eq!(r[3]["hostedViewerUri"], "https://dojo.example/finding/4");
}

#[test]
fn result_fields() {
    let mut f = with_rank(judged(9, "XSS"), 2);
    f.seen.description = "Reflected.";
    f.seen.hash_code = Some("abc123");
    f.seen.original = Some(3);
    f.seen.component = Some("lodash");
    f.seen.component_version = Some("4.17.20");
    f.seen.cvss_score = Some(6.1);
    f.seen.cwe = Some(79);
    f.baseline = Baseline::Unchanged;
    let (doc, _) = write_all(info(), 0, &[f]);
    let r = &results(&doc)[0];
    assert_eq!(r["ruleId"], "XSS");
    assert_eq!(
        r["message"]["text"],
        "XSS\n\nReflected.\n\nDefectDojo: https://dojo.example/finding/9"
    );
    assert_eq!(r["partialFingerprints"]["defectdojo/hash_code"], "abc123");
    assert_eq!(r["baselineState"], "unchanged");
    let p = &r["properties"];
    assert_eq!(p["security-severity"], 6.1);
    assert_eq!(p["defectdojoSeverity"], "Medium");
    assert_eq!(p["duplicateOf"], 3);
    assert_eq!(p["component"], "lodash@4.17.20");
    assert_eq!(p["tags"], serde_json::json!(["security"]));
    let rule = &rules(&doc)[0];
    assert_eq!(
        rule["helpUri"],
        "https://cwe.mitre.org/data/definitions/79.html"
    );
}

#[test]
fn hostile_text_stays_valid_json_and_bounded() {
    let huge = "é\u{1}\"\\\n".repeat(2_500);
    let mut f = judged(1, &huge);
    f.seen.description = &huge;
    f.seen.mitigation = &huge;
    let mut untitled = judged(2, "");
    untitled.seen.file_path = Some("\u{7f}/\u{0}");
    let (doc, _) = write_all(info(), 0, &[f, untitled]);
    let r = results(&doc);
    let message = r[0]["message"]["text"].as_str().unwrap();
    let link = "\n\nDefectDojo: https://dojo.example/finding/1";
    assert!(message.ends_with(link), "{message}");
    assert!(message.chars().count() <= 1_000 + 2 + 1_000 + link.len());
    let rule = &rules(&doc)[0];
    assert!(rule["id"].as_str().unwrap().chars().count() <= 255);
    assert!(rule["help"]["text"].as_str().unwrap().chars().count() <= 2_000);
    assert_eq!(
        r[1]["message"]["text"],
        "DefectDojo finding 2\n\nDefectDojo: https://dojo.example/finding/2"
    );
    assert_eq!(r[1]["ruleId"], "untitled");
    let art = &r[1]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(art["uri"], "%7F/%00");
}
