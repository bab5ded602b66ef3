//! Property tests of the two converters, on generated input from a small
//! seeded generator (deterministic: a failure names its case and seed).
//!
//! - secureCodeBox findings → [`GenericReader`]: valid JSON with only
//!   [`ALLOWED_KEYS`], the required keys non-empty, one output finding per
//!   input finding, the severity mapped; an invalid severity is an error
//!   naming the finding, never a panic.
//! - DefectDojo finding pages (2.x endpoints, duplicates and their
//!   originals, prefetched or not) → [`SyncReader`] over a fake [`Fetch`]:
//!   a JSON array of valid secureCodeBox findings, one per DefectDojo
//!   finding, in order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use serde_json::{Map, Value, json};

use dojo_hook::Error;
use dojo_hook::convert::generic::{ALLOWED_KEYS, GenericReader, TITLE_MAX_CHARS};
use dojo_hook::convert::sync::{Fetch, SyncOptions, SyncReader};

const SEED: u64 = 0x5eed_d0d0_2026;
const GENERIC_CASES: u64 = 400;
const SYNC_CASES: u64 = 300;

/// splitmix64: small, seedable, good enough to spread cases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0..n
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Text with unicode, control characters, quotes, URLs and paths.
    fn text(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "0",
            " ",
            "-",
            "\n",
            "\t",
            "\r",
            "\u{0}",
            "\u{1}",
            "\u{1b}",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
            "\u{202e}",
            "\u{feff}",
            "é",
            "日本",
            "🦀",
            "\"",
            "\\",
            "/",
            "<script>",
            "%2F",
            "..",
            ":",
            "?",
            "#",
            "{}",
            "[",
            "`",
            "*",
            "|",
            "null",
            "https://h.example:8443/p?q=1",
            "tcp://10.0.0.1:22",
            "src/app.py:12",
            "C:\\x",
        ];
        if self.chance(3) {
            return self.pick(PIECES).repeat(300 + self.below(400));
        }
        let n = self.below(12);
        (0..n).map(|_| *self.pick(PIECES)).collect()
    }

    /// A string, or sometimes null.
    fn text_or_null(&mut self) -> Value {
        if self.chance(15) {
            Value::Null
        } else {
            Value::String(self.text())
        }
    }

    /// Any JSON value, nested up to `depth`.
    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 5 } else { 7 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => json!(self.chance(50)),
            2 => json!(self.next() as i64 >> self.below(64)),
            3 => json!((self.next() % 100_000) as f64 / 7.0),
            4 => Value::String(self.text()),
            5 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
            _ => Value::Object(self.object(depth - 1)),
        }
    }

    fn object(&mut self, depth: u32) -> Map<String, Value> {
        (0..self.below(5))
            .map(|_| (self.text(), self.value(depth)))
            .collect()
    }

    /// `word` in a random letter case.
    fn case(&mut self, word: &str) -> String {
        word.chars()
            .map(|c| {
                if self.chance(50) {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// secureCodeBox → Generic Findings Import

/// A generated severity field and the DefectDojo severity it must become.
fn scb_severity(rng: &mut Rng) -> (Option<Value>, &'static str) {
    const VALID: &[(&str, &str)] = &[
        ("INFORMATIONAL", "Info"),
        ("INFO", "Info"),
        ("LOW", "Low"),
        ("MEDIUM", "Medium"),
        ("HIGH", "High"),
        ("CRITICAL", "Critical"),
    ];
    match rng.below(10) {
        0 => (None, "Info"),
        1 => (Some(Value::Null), "Info"),
        2 => (Some(json!(*rng.pick(&["", " ", "\t"]))), "Info"),
        _ => {
            let (word, dojo) = *rng.pick(VALID);
            let mut s = rng.case(word);
            if rng.chance(20) {
                s = format!(" {s}\t");
            }
            (Some(Value::String(s)), dojo)
        }
    }
}

fn scb_finding(rng: &mut Rng) -> (Value, &'static str) {
    let mut f = Map::new();
    let (severity, dojo) = scb_severity(rng);
    if let Some(s) = severity {
        f.insert("severity".into(), s);
    }
    for key in [
        "id",
        "name",
        "location",
        "description",
        "category",
        "mitigation",
        "osi_layer",
        "parsed_at",
        "identified_at",
    ] {
        if rng.chance(70) {
            f.insert(key.into(), rng.text_or_null());
        }
    }
    if rng.chance(30) {
        let at = *rng.pick(&[
            "2024-02-29T23:59:59Z",
            "2020-04-15T20:08:18.123+02:00",
            "not a date",
            "",
        ]);
        f.insert("identified_at".into(), json!(at));
    }
    if rng.chance(60) {
        f.insert("attributes".into(), Value::Object(rng.object(3)));
    } else if rng.chance(20) {
        f.insert("attributes".into(), rng.value(2));
    }
    if rng.chance(30) {
        f.insert("reference".into(), Value::Object(rng.object(2)));
    }
    if rng.chance(40) {
        let refs: Vec<Value> = (0..rng.below(4))
            .map(|_| {
                let kind = *rng.pick(&["CVE", "CWE", "URL", "GHSA", "x"]);
                let kind = rng.case(kind);
                let value = match rng.below(4) {
                    0 => json!(format!("CVE-2024-{}", rng.below(99_999))),
                    1 => json!(format!("CWE-{}", rng.below(2000))),
                    2 => Value::Null,
                    _ => Value::String(rng.text()),
                };
                json!({"type": kind, "value": value})
            })
            .collect();
        f.insert("references".into(), Value::Array(refs));
    }
    if rng.chance(20) {
        f.insert("scan".into(), rng.value(2));
        f.insert(rng.text(), rng.value(1));
    }
    (Value::Object(f), dojo)
}

/// Reads everything with reads of random small sizes.
fn read_all(reader: &mut impl Read, rng: &mut Rng) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 97];
    loop {
        let n = 1 + rng.below(buf.len());
        match reader.read(&mut buf[..n])? {
            0 => return Ok(out),
            got => out.extend_from_slice(&buf[..got]),
        }
    }
}

#[test]
fn generic_import_json_is_valid_for_any_finding() {
    let allowed: HashSet<&str> = ALLOWED_KEYS.iter().copied().collect();
    for case in 0..GENERIC_CASES {
        let mut rng = Rng::new(SEED ^ case);
        let (findings, severities): (Vec<Value>, Vec<&str>) =
            (0..rng.below(8)).map(|_| scb_finding(&mut rng)).unzip();
        let input = if rng.chance(50) {
            serde_json::to_vec(&findings).unwrap()
        } else {
            serde_json::to_vec_pretty(&findings).unwrap()
        };
        let mut reader = GenericReader::new(&input[..], 1 << 20);
        let out = read_all(&mut reader, &mut rng)
            .unwrap_or_else(|e| panic!("case {case}: {e}\ninput: {findings:?}"));
        let doc: Value = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("case {case}: output is not JSON ({e})"));
        let object = doc.as_object().expect("an object");
        assert_eq!(object.len(), 1, "case {case}: only `findings`");
        let converted = doc["findings"].as_array().expect("findings array");
        assert_eq!(
            converted.len(),
            findings.len(),
            "case {case}: one per input"
        );
        assert_eq!(reader.counts().total, findings.len() as u64);
        for (i, g) in converted.iter().enumerate() {
            let g = g.as_object().unwrap_or_else(|| panic!("case {case}: {g}"));
            for key in g.keys() {
                assert!(
                    allowed.contains(key.as_str()),
                    "case {case} #{i}: key {key:?} is not allowed"
                );
            }
            for key in ["title", "severity", "description"] {
                let v = g[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("case {case} #{i}: {key} missing in {g:?}"));
                assert!(
                    !v.trim().is_empty(),
                    "case {case} #{i}: empty {key}: {v:?} from {:?}",
                    findings[i]
                );
            }
            let title = g["title"].as_str().unwrap();
            assert!(
                title.chars().count() <= TITLE_MAX_CHARS,
                "case {case} #{i}: title too long"
            );
            assert!(
                !title.chars().any(char::is_control),
                "case {case} #{i}: control character in {title:?}"
            );
            assert_eq!(g["severity"], severities[i], "case {case} #{i}");
        }
    }
}

#[test]
fn an_invalid_severity_is_an_error_naming_the_finding() {
    const INVALID: &[&str] = &[
        "URGENT",
        "HIGHEST",
        "LOW!",
        "n/a",
        "0",
        "crit",
        "ＨＩＧＨ",
        "H1GH",
        "🦀",
        "INFO\u{0}",
        "\"HIGH\"",
    ];
    for case in 0..GENERIC_CASES / 4 {
        let mut rng = Rng::new(SEED ^ case ^ 0xbad);
        let mut findings: Vec<Value> = (0..rng.below(5)).map(|_| scb_finding(&mut rng).0).collect();
        let at = rng.below(findings.len() + 1);
        let mut bad = scb_finding(&mut rng).0;
        bad["severity"] = json!(*rng.pick(INVALID));
        findings.insert(at, bad);
        let input = serde_json::to_vec(&findings).unwrap();
        let mut reader = GenericReader::new(&input[..], 1 << 20);
        let err = read_all(&mut reader, &mut rng).expect_err("an invalid severity fails");
        let msg = Error::from_io("converting", err).to_string();
        assert!(
            msg.contains(&format!("finding #{}", at + 1)) && msg.contains("unknown severity"),
            "case {case}: {msg}"
        );
        assert!(reader.read(&mut [0u8; 8]).is_err(), "stays failed");
    }
}

// ---------------------------------------------------------------------------
// DefectDojo → secureCodeBox (sync back)

const BASE: &str = "https://dojo.example";
const TEST: u64 = 42;

/// What the fake DefectDojo serves: the test's findings in order, other
/// findings (originals of another test), endpoints; what is not prefetched.
struct Dojo {
    findings: Vec<Value>,
    others: HashMap<u64, Value>,
    endpoints: HashMap<u64, Value>,
    /// Originals that are left out of a page's prefetch.
    unprefetched: HashSet<u64>,
    /// Originals deleted meanwhile (404).
    deleted: HashSet<u64>,
    calls: usize,
}

fn dojo_created(rng: &mut Rng) -> String {
    let base = format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}",
        10 + rng.below(20),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    );
    let fraction = *rng.pick(&["", ".1", ".123456", ".000", ".123456789123"]);
    let zone = *rng.pick(&["Z", "+00:00", "+05:30", "-0800", ""]);
    format!("{base}{fraction}{zone}")
}

fn dojo_severity(rng: &mut Rng) -> (Value, &'static str) {
    match rng.below(12) {
        0 => (json!("critical"), "HIGH"),
        1 => (json!("INFO"), "INFORMATIONAL"),
        2 => (json!("Bogus"), "INFORMATIONAL"),
        3 => (Value::Null, "INFORMATIONAL"),
        _ => {
            let (dojo, scb) = *rng.pick(&[
                ("Critical", "HIGH"),
                ("High", "HIGH"),
                ("Medium", "MEDIUM"),
                ("Low", "LOW"),
                ("Info", "INFORMATIONAL"),
            ]);
            (json!(dojo), scb)
        }
    }
}

fn dojo_finding(rng: &mut Rng, id: u64, test: u64, endpoints: &[u64]) -> (Value, &'static str) {
    let (severity, scb) = dojo_severity(rng);
    let mut f = json!({"id": id, "test": test, "created": dojo_created(rng), "severity": severity});
    for key in ["title", "description"] {
        if rng.chance(85) {
            f[key] = rng.text_or_null();
        }
    }
    for key in [
        "false_p",
        "active",
        "verified",
        "is_mitigated",
        "risk_accepted",
        "out_of_scope",
    ] {
        f[key] = match rng.below(4) {
            0 => Value::Null,
            n => json!(n == 1),
        };
    }
    f["duplicate"] = json!(false);
    f["duplicate_finding"] = Value::Null;
    f["cwe"] = rng.pick(&[json!(0), json!(79), Value::Null]).clone();
    if !endpoints.is_empty() && rng.chance(70) {
        let n = 1 + rng.below(2);
        f["endpoints"] = (0..n).map(|_| json!(*rng.pick(endpoints))).collect();
    } else {
        f["endpoints"] = rng.pick(&[json!([]), Value::Null]).clone();
    }
    if rng.chance(30) {
        f["vulnerability_ids"] =
            json!([{"vulnerability_id": format!("CVE-2024-{}", rng.below(9999))}]);
        f["tags"] = json!([rng.text(), rng.text()]);
    }
    f["unknown_field"] = rng.value(1);
    (f, scb)
}

fn endpoint(rng: &mut Rng, id: u64) -> Value {
    json!({
        "id": id,
        "protocol": rng.pick(&[Value::Null, json!("https"), json!("tcp"), json!("")]).clone(),
        "host": rng.pick(&[Value::Null, json!("h.example"), json!("10.0.0.1"), json!("ünï.example")]).clone(),
        "port": rng.pick(&[Value::Null, json!(443), json!(22)]).clone(),
        "path": rng.pick(&[Value::Null, json!("/p"), json!("a/b"), json!("")]).clone(),
        "query": rng.pick(&[Value::Null, json!("a=1"), json!("")]).clone(),
        "fragment": Value::Null,
    })
}

impl Dojo {
    /// A test with generated findings; returns the expected severities too.
    fn generate(rng: &mut Rng) -> (Dojo, Vec<&'static str>) {
        let endpoint_ids: Vec<u64> = (0..rng.below(6)).map(|i| 500 + i as u64).collect();
        let endpoints = endpoint_ids
            .iter()
            .map(|&id| (id, endpoint(rng, id)))
            .collect();
        let mut others = HashMap::new();
        for id in 1..=rng.below(4) as u64 {
            others.insert(id, dojo_finding(rng, id, 7, &endpoint_ids).0);
        }
        let mut dojo = Dojo {
            findings: Vec::new(),
            others,
            endpoints,
            unprefetched: HashSet::new(),
            deleted: HashSet::new(),
            calls: 0,
        };
        let mut severities = Vec::new();
        let mut id = 100 + rng.below(1000) as u64;
        for _ in 0..rng.below(40) {
            id += 1 + rng.below(3) as u64;
            let (mut f, scb) = dojo_finding(rng, id, TEST, &endpoint_ids);
            let earlier: Vec<u64> = dojo
                .findings
                .iter()
                .map(|f| f["id"].as_u64().unwrap())
                .collect();
            let mut candidates: Vec<u64> = dojo.others.keys().copied().collect();
            candidates.extend(earlier);
            if !candidates.is_empty() && rng.chance(35) {
                let original = *rng.pick(&candidates);
                f["duplicate"] = json!(true);
                f["duplicate_finding"] = json!(original);
                if rng.chance(30) {
                    dojo.unprefetched.insert(original);
                }
                if dojo.others.contains_key(&original) && rng.chance(10) {
                    dojo.deleted.insert(original);
                }
            }
            dojo.findings.push(f);
            severities.push(scb);
        }
        (dojo, severities)
    }

    fn find(&self, id: u64) -> Option<&Value> {
        self.findings
            .iter()
            .find(|f| f["id"] == id)
            .or_else(|| self.others.get(&id))
    }

    fn page(&self, offset: usize, limit: usize) -> Value {
        let end = (offset + limit).min(self.findings.len());
        let results = &self.findings[offset.min(end)..end];
        let mut endpoints = Map::new();
        let mut originals = Map::new();
        for f in results {
            for e in f["endpoints"].as_array().into_iter().flatten() {
                let e = e.as_u64().unwrap();
                endpoints.insert(e.to_string(), self.endpoints[&e].clone());
            }
            if let Some(o) = f["duplicate_finding"].as_u64() {
                if !self.unprefetched.contains(&o) && !self.deleted.contains(&o) {
                    originals.insert(o.to_string(), self.find(o).unwrap().clone());
                }
            }
        }
        let next = (end < self.findings.len()).then(|| {
            format!(
                "http://internal:8080/api/v2/findings/?limit={limit}&offset={end}\
                 &prefetch=endpoints%2Cduplicate_finding&test={TEST}"
            )
        });
        json!({"count": self.findings.len(), "next": next, "previous": null, "results": results,
               "prefetch": {"endpoints": endpoints, "duplicate_finding": originals}})
    }
}

fn not_found(path: &str) -> Error {
    Error::Http {
        what: format!("GET {path}"),
        status: 404,
        detail: "not in the fake".into(),
    }
}

impl Fetch for Dojo {
    fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        self.calls += 1;
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let params: BTreeMap<&str, &str> =
            query.split('&').filter_map(|p| p.split_once('=')).collect();
        let answer = if path == "/api/v2/findings/" {
            assert_eq!(params["test"], TEST.to_string());
            let offset = params["offset"].parse().unwrap();
            let limit = params["limit"].parse().unwrap();
            Some(self.page(offset, limit))
        } else if let Some(id) = path
            .strip_prefix("/api/v2/findings/")
            .and_then(|r| r.strip_suffix('/'))
        {
            let id: u64 = id.parse().unwrap();
            (!self.deleted.contains(&id))
                .then(|| self.find(id).cloned())
                .flatten()
        } else if let Some(id) = path
            .strip_prefix("/api/v2/endpoints/")
            .and_then(|r| r.strip_suffix('/'))
        {
            self.endpoints.get(&id.parse().unwrap()).cloned()
        } else {
            panic!("unexpected request {path_and_query}");
        };
        answer
            .map(|v| serde_json::to_vec(&v).unwrap())
            .ok_or_else(|| not_found(path_and_query))
    }
}

fn assert_scb_finding(f: &Value, context: &str) {
    let f = f.as_object().unwrap_or_else(|| panic!("{context}: {f}"));
    for key in [
        "id",
        "name",
        "category",
        "severity",
        "parsed_at",
        "location",
    ] {
        assert!(
            f.get(key).is_some_and(Value::is_string),
            "{context}: {key} in {f:?}"
        );
    }
    assert_eq!(f["id"].as_str().unwrap().len(), 36, "{context}: uuid");
    assert!(
        ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH"].contains(&f["severity"].as_str().unwrap()),
        "{context}: {}",
        f["severity"]
    );
    assert!(f["parsed_at"].as_str().unwrap().ends_with('Z'), "{context}");
    assert!(f["attributes"].is_object(), "{context}: attributes");
}

#[test]
fn synced_findings_are_valid_secure_code_box_findings() {
    for case in 0..SYNC_CASES {
        let mut rng = Rng::new(SEED ^ case ^ 0x5_c0de);
        let (dojo, severities) = Dojo::generate(&mut rng);
        let input_ids: Vec<u64> = dojo
            .findings
            .iter()
            .map(|f| f["id"].as_u64().unwrap())
            .collect();
        let duplicates: Vec<Option<u64>> = dojo
            .findings
            .iter()
            .map(|f| f["duplicate_finding"].as_u64())
            .collect();
        let deleted = dojo.deleted.clone();
        let opts = SyncOptions {
            page_size: 1 + rng.below(12),
            ..SyncOptions::new(BASE, TEST)
        };
        let mut reader = SyncReader::new(dojo, opts).unwrap();
        let out = read_all(&mut reader, &mut rng)
            .unwrap_or_else(|e| panic!("case {case}: {}", Error::from_io("sync", e)));
        let counts = reader.counts().expect("counts at the end");
        assert_eq!(reader.requests() as usize, reader.into_fetch().calls);
        let synced: Vec<Value> = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("case {case}: not a JSON array ({e})"));
        assert_eq!(
            synced.len(),
            input_ids.len(),
            "case {case}: one per finding"
        );
        assert_eq!(counts.total, input_ids.len() as u64);
        let mut ids = HashSet::new();
        for (i, f) in synced.iter().enumerate() {
            let context = format!("case {case} #{i}");
            assert_scb_finding(f, &context);
            assert!(ids.insert(f["id"].clone()), "{context}: id repeated");
            let a = &f["attributes"];
            assert_eq!(a["defectdojo.org/finding-id"], input_ids[i], "{context}");
            assert_eq!(f["severity"], severities[i], "{context}");
            match duplicates[i] {
                Some(o) => {
                    assert_eq!(a["duplicate"], true, "{context}");
                    assert_eq!(a["defectdojo.org/original-finding-id"], o, "{context}");
                    let original = &a["defectdojo.org/original-finding"];
                    if deleted.contains(&o) {
                        assert!(original.is_null(), "{context}: deleted original");
                    } else {
                        assert_scb_finding(original, &format!("{context} original"));
                        assert_eq!(original["attributes"]["defectdojo.org/finding-id"], o);
                    }
                }
                None => assert_eq!(a["duplicate"], false, "{context}"),
            }
        }
    }
}
