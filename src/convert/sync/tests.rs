//! End-to-end tests of [`SyncReader`] against a fake [`Fetch`] that answers
//! with pages recorded from real DefectDojo servers (`fixtures/sync/`:
//! 3.2.0 files `v3-*`, 2.58.4 files `v2-*`, numbered as in
//! `fixtures/dojo/recorded/`). Where a scenario needs a page that was not recorded
//! (a second page, an original missing from the prefetch), it is derived
//! from recorded objects by changing ids and links only.

use std::collections::HashMap;
use std::io::Read;

use serde_json::{Value, json};

use super::*;
use crate::util::uuid::{URL_NAMESPACE, uuid_v5};

const V3_PAGE: &str =
    include_str!("../../../fixtures/sync/v3-102-findings-prefetch-endpoints-duplicate.json");
const V3_LOCATIONS: &str = include_str!(
    "../../../fixtures/sync/v3-103-location-findings-by-finding-prefetch-location.json"
);
const V3_ORIGINAL: &str = include_str!("../../../fixtures/sync/v3-50-finding-original-get.json");
const V3_GENERIC: &str = include_str!("../../../fixtures/sync/v3-62-findings-generic.json");
const V2_PAGE: &str =
    include_str!("../../../fixtures/sync/v2-47-findings-prefetch-endpoints-duplicate.json");

const BASE: &str = "https://dojo.example";
const LOCATION_22: &str = "tcp://ip-10-250-195-71.eu-west-1.compute.internal:22";

type Dynamic = Box<dyn Fn(&str) -> Option<Vec<u8>>>;

/// Answers from a map of path → body (404 otherwise) and records calls.
#[derive(Default)]
struct Fake {
    answers: HashMap<String, Vec<u8>>,
    dynamic: Option<Dynamic>,
    calls: Vec<String>,
    /// The ids the observer saw.
    seen: Vec<u64>,
    /// Each `finished`: how many findings had been seen, and the counts.
    finished: Vec<(usize, ReadBackCounts)>,
}

impl Fake {
    fn with(mut self, path: &str, body: impl Into<Vec<u8>>) -> Fake {
        self.answers.insert(path.to_string(), body.into());
        self
    }

    fn count(&self, path: &str) -> usize {
        self.calls.iter().filter(|c| *c == path).count()
    }
}

impl Fetch for Fake {
    fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        assert!(path_and_query.starts_with("/api/v2/"), "{path_and_query}");
        self.calls.push(path_and_query.to_string());
        if let Some(body) = self.answers.get(path_and_query) {
            return Ok(body.clone());
        }
        if let Some(body) = self.dynamic.as_ref().and_then(|d| d(path_and_query)) {
            return Ok(body);
        }
        Err(Error::Http {
            what: format!("GET {path_and_query}"),
            status: 404,
            detail: "not in the fake".into(),
        })
    }

    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error> {
        self.seen.push(finding.id);
        Ok(())
    }

    fn finished(&mut self, counts: ReadBackCounts) {
        self.finished.push((self.seen.len(), counts));
    }
}

fn value(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// `page` with `next` and `count` replaced.
fn relink(page: &str, next: Option<&str>, count: u64) -> Value {
    let mut v = value(page);
    v["next"] = next.map_or(Value::Null, |n| json!(n));
    v["count"] = json!(count);
    v
}

fn first_path(test: u64, limit: usize) -> String {
    format!(
        "/api/v2/findings/?test={test}&limit={limit}&offset=0&prefetch=endpoints,duplicate_finding"
    )
}

fn options(test: u64, page_size: usize) -> SyncOptions {
    SyncOptions {
        page_size,
        ..SyncOptions::new(BASE, test)
    }
}

/// Reads everything; returns the output, the counts and the fake.
fn run(fake: Fake, opts: SyncOptions) -> (Vec<Value>, ReadBackCounts, Fake) {
    let mut reader = SyncReader::new(fake, opts).unwrap();
    assert_eq!(reader.counts(), None, "no counts before the end");
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    let counts = reader.counts().expect("counts after the end");
    let requests = reader.requests();
    assert_eq!(reader.read(&mut [0u8; 8]).unwrap(), 0, "the end again");
    let fake = reader.into_fetch();
    assert_eq!(requests, fake.calls.len() as u64);
    assert_eq!(
        fake.finished,
        [(fake.seen.len(), counts)],
        "told once, after the last finding, with the counts"
    );
    (assert_scb_findings(&out), counts, fake)
}

fn run_err(fake: Fake, opts: SyncOptions) -> (Error, Fake) {
    let mut reader = SyncReader::new(fake, opts).unwrap();
    let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(reader.counts(), None, "no counts after a failure");
    assert!(
        reader.read(&mut [0u8; 8]).is_err(),
        "a failed reader stays failed"
    );
    let fake = reader.into_fetch();
    assert!(fake.finished.is_empty(), "never told after a failure");
    (Error::from_io("reading", err), fake)
}

/// The output is a JSON array of secureCodeBox findings (the required keys
/// of findings-schema.json except `scan`, which the Java hook never wrote).
fn assert_scb_findings(out: &[u8]) -> Vec<Value> {
    let findings: Vec<Value> = serde_json::from_slice(out).expect("a JSON array");
    for f in &findings {
        assert_scb_finding(f);
        if let Some(original) = f["attributes"]["defectdojo.org/original-finding"].as_object() {
            assert_scb_finding(&Value::Object(original.clone()));
        }
    }
    findings
}

fn assert_scb_finding(f: &Value) {
    let id = f["id"].as_str().expect("id");
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(&id[14..15], "5", "{id}");
    assert!(f["name"].is_string() && f["category"].is_string(), "{f}");
    assert_eq!(f["category"], "DefectDojo Imported Finding");
    let severity = f["severity"].as_str().expect("severity");
    assert!(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH"].contains(&severity));
    let parsed_at = f["parsed_at"].as_str().expect("parsed_at");
    assert!(
        parsed_at.len() >= 20 && parsed_at.ends_with('Z'),
        "{parsed_at}"
    );
    assert!(f["location"].is_string() && f["attributes"].is_object());
    assert!(f["osi_layer"].is_null() && f["identified_at"].is_null());
}

/// 103, plus the location references of originals 1 and 2 (same host).
fn v3_locations_with_originals() -> Value {
    let mut v = value(V3_LOCATIONS);
    let template = v["results"][0].clone();
    for id in [1, 2] {
        let mut r = template.clone();
        r["id"] = json!(id);
        r["finding"] = json!(id);
        v["results"].as_array_mut().unwrap().push(r);
    }
    v["count"] = json!(4);
    v
}

#[test]
fn v3_page_resolves_locations_in_one_request() {
    let fake = Fake::default()
        .with(&first_path(3, 2), bytes(&relink(V3_PAGE, None, 2)))
        .with(
            "/api/v2/location_findings/?finding_includes=1,2,68,69&prefetch=location&limit=4",
            bytes(&v3_locations_with_originals()),
        );
    let (out, counts, fake) = run(fake, options(3, 2));

    assert_eq!(fake.calls.len(), 2, "{:?}", fake.calls);
    assert_eq!(out.len(), 2);
    let f = &out[0];
    assert_eq!(f["name"], "Msf:ilities/Ubuntu-Cve-2019-6111/");
    assert_eq!(f["location"], LOCATION_22);
    assert_eq!(f["severity"], "MEDIUM");
    assert_eq!(f["parsed_at"], "2026-11-27T21:01:39.102682Z");
    let a = &f["attributes"];
    assert_eq!(a["defectdojo.org/finding-id"], 68);
    assert_eq!(
        a["defectdojo.org/finding-url"],
        "https://dojo.example/finding/68"
    );
    assert_eq!(a["defectdojo.org/test-id"], 3);
    assert_eq!(a["defectdojo.org/test-url"], "https://dojo.example/test/3");
    assert_eq!(a["duplicate"], true);
    assert_eq!(a["falsePositive"], false);
    assert_eq!(a["defectdojo.org/active"], false);
    assert_eq!(a["defectdojo.org/cwe"], Value::Null);
    assert_eq!(a["defectdojo.org/original-finding-id"], 1);
    let original = &a["defectdojo.org/original-finding"];
    assert_eq!(original["attributes"]["defectdojo.org/finding-id"], 1);
    assert_eq!(original["attributes"]["defectdojo.org/test-id"], 1);
    assert_eq!(original["attributes"]["defectdojo.org/is-mitigated"], true);
    assert_eq!(original["location"], LOCATION_22);
    assert_eq!(original["parsed_at"], "2026-11-27T21:01:35.062309Z");
    assert_eq!(
        original["attributes"]["defectdojo.org/original-finding"],
        Value::Null
    );
    assert_eq!(
        out[1]["attributes"]["defectdojo.org/original-finding-id"],
        2
    );
    let want = ReadBackCounts {
        total: 2,
        medium: 2,
        duplicates: 2,
        ..ReadBackCounts::default()
    };
    assert_eq!(counts, want);
}

#[test]
fn ids_are_stable_across_runs() {
    let fake = || {
        Fake::default()
            .with(&first_path(3, 2), bytes(&relink(V3_PAGE, None, 2)))
            .with(
                "/api/v2/location_findings/?finding_includes=1,2,68,69&prefetch=location&limit=4",
                V3_LOCATIONS,
            )
    };
    let read = |fake: Fake| {
        let mut out = Vec::new();
        let mut reader = SyncReader::new(fake, options(3, 2)).unwrap();
        reader.read_to_end(&mut out).unwrap();
        out
    };
    let (first, second) = (read(fake()), read(fake()));
    assert_eq!(first, second);
    let out = assert_scb_findings(&first);
    // python3: uuid.uuid5(uuid.NAMESPACE_URL, "https://dojo.example/finding/68")
    assert_eq!(out[0]["id"], "042c154a-2f39-591a-a9ac-9e0e3ceba596");
    assert_eq!(
        out[0]["attributes"]["defectdojo.org/original-finding"]["id"],
        uuid_v5(URL_NAMESPACE, b"https://dojo.example/finding/1")
    );
    // 103 as recorded has no references for the originals 1 and 2.
    assert_eq!(
        out[0]["attributes"]["defectdojo.org/original-finding"]["location"],
        "unknown"
    );
}

#[test]
fn v2_page_uses_prefetched_endpoint_objects() {
    let fake = Fake::default().with(&first_path(5, 3), bytes(&relink(V2_PAGE, None, 3)));
    let (out, counts, fake) = run(fake, options(5, 3));

    assert_eq!(fake.calls.len(), 1, "no endpoint or original requests");
    let locations: Vec<&str> = out
        .iter()
        .map(|f| f["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        [
            "tcp://scanme.nmap.org:22",
            "tcp://scanme.nmap.org:80",
            "tcp://scanme.nmap.org:9929"
        ]
    );
    let original = &out[0]["attributes"]["defectdojo.org/original-finding"];
    assert_eq!(original["attributes"]["defectdojo.org/finding-id"], 202);
    assert_eq!(original["location"], "tcp://scanme.nmap.org:22");
    assert_eq!(original["name"], "Open Port: 22/TCP");
    let want = ReadBackCounts {
        total: 3,
        informational: 3,
        duplicates: 3,
        ..ReadBackCounts::default()
    };
    assert_eq!(counts, want);
}

#[test]
fn closed_findings_are_left_out_when_asked_but_still_seen() {
    // 47 with its second finding closed, as a reimport closes a fixed one.
    let mut page = relink(V2_PAGE, None, 3);
    page["results"][1]["is_mitigated"] = json!(true);
    let closed = page["results"][1]["id"].as_u64().unwrap();
    let answer = || Fake::default().with(&first_path(5, 3), bytes(&page));

    let (out, counts, fake) = run(answer(), options(5, 3));
    assert_eq!((out.len(), counts.total), (3, 3), "kept unless asked");
    assert_eq!(fake.seen.len(), 3);

    let opts = SyncOptions {
        leave_out_closed: true,
        ..options(5, 3)
    };
    let (out, counts, fake) = run(answer(), opts);
    let ids: Vec<&Value> = out
        .iter()
        .map(|f| &f["attributes"]["defectdojo.org/finding-id"])
        .collect();
    assert!(!ids.contains(&&json!(closed)), "{ids:?}");
    assert_eq!((out.len(), counts.total, counts.informational), (2, 2, 2));
    assert_eq!(counts.duplicates, 2);
    assert_eq!(fake.seen.len(), 3, "the observer sees the closed one too");
    assert!(fake.seen.contains(&closed));
}

/// 47's next page, which was not recorded: a fourth duplicate of 202.
fn v2_second_page() -> Value {
    let mut v = relink(V2_PAGE, None, 4);
    let mut f = v["results"][0].clone();
    f["id"] = json!(209);
    v["results"] = json!([f]);
    let prefetch = &mut v["prefetch"];
    prefetch["endpoints"] = json!({"51": prefetch["endpoints"]["51"].clone()});
    prefetch["duplicate_finding"] = json!({"202": prefetch["duplicate_finding"]["202"].clone()});
    v
}

#[test]
fn several_pages_follow_next_rebuilt_on_our_base() {
    // 47's `next` names http://127.0.0.1:8081, the server's own idea of
    // its host; only its query may be used.
    let page2 = "/api/v2/findings/?limit=3&offset=3&prefetch=endpoints%2Cduplicate_finding&test=5";
    let fake = Fake::default()
        .with(&first_path(5, 3), V2_PAGE)
        .with(page2, bytes(&v2_second_page()));
    let (out, counts, fake) = run(fake, options(5, 3));

    assert_eq!(fake.calls, [first_path(5, 3), page2.to_string()]);
    let ids: Vec<u64> = out
        .iter()
        .map(|f| {
            f["attributes"]["defectdojo.org/finding-id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, [206, 207, 208, 209]);
    assert_eq!(counts.total, 4);
}

#[test]
fn next_on_another_host_keeps_our_origin() {
    let evil = "https://evil.example:8443/prefix/api/v2/tests/?limit=250&offset=250&test=6";
    let mut page2 = relink(V3_GENERIC, None, 4);
    page2["results"] = json!([page2["results"][2].clone()]);
    page2["results"][0]["id"] = json!(272);
    let fake = Fake::default()
        .with(
            &first_path(6, 250),
            bytes(&relink(V3_GENERIC, Some(evil), 4)),
        )
        .with(
            "/api/v2/findings/?limit=250&offset=250&test=6",
            bytes(&page2),
        );
    let (out, _, fake) = run(fake, options(6, 250));

    assert_eq!(
        fake.calls[1],
        "/api/v2/findings/?limit=250&offset=250&test=6"
    );
    assert!(fake.calls.iter().all(|c| !c.contains("evil")));
    assert_eq!(out.len(), 4);
}

#[test]
fn findings_without_endpoints_are_unknown_and_attributes_travel() {
    // 62 was read without `prefetch`, so 270's endpoint cannot be told
    // apart either: both flavours need the prefetched objects.
    let fake = Fake::default().with(&first_path(6, 250), V3_GENERIC);
    let (out, counts, fake) = run(fake, options(6, 250));

    assert_eq!(fake.calls.len(), 1);
    assert!(out.iter().all(|f| f["location"] == "unknown"));
    let a = &out[0]["attributes"];
    assert_eq!(out[0]["name"], "Hardcoded Credentials in Config Loader");
    assert_eq!(out[0]["severity"], "HIGH");
    assert_eq!(a["defectdojo.org/cwe"], 798);
    assert_eq!(
        a["defectdojo.org/vulnerability-ids"],
        json!(["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"])
    );
    assert_eq!(a["defectdojo.org/tags"], json!(["ci", "secrets"]));
    assert_eq!(a["defectdojo.org/verified"], true);
    assert_eq!(a["defectdojo.org/original-finding-id"], Value::Null);
    assert_eq!(a["defectdojo.org/original-finding"], Value::Null);
    let want = ReadBackCounts {
        total: 3,
        informational: 1,
        medium: 1,
        high: 1,
        ..ReadBackCounts::default()
    };
    assert_eq!(counts, want);
}

/// A 3.x location reference, shaped like 102's prefetched ones.
fn v3_ref(id: u64, finding: u64) -> Value {
    let mut r = value(V3_PAGE)["prefetch"]["endpoints"]["68"].clone();
    r["id"] = json!(id);
    r["finding"] = json!(finding);
    r
}

fn v3_locations(refs: &[(u64, u64)]) -> Value {
    let mut v = value(V3_LOCATIONS);
    v["results"] = refs.iter().map(|&(id, f)| v3_ref(id, f)).collect();
    v["count"] = json!(refs.len());
    v
}

#[test]
fn original_on_the_same_page_is_not_fetched() {
    let mut page = relink(V3_PAGE, None, 2);
    page["results"] = json!([value(V3_ORIGINAL), page["results"][0].clone()]);
    page["prefetch"] =
        json!({"endpoints": {"1": v3_ref(1, 1), "68": v3_ref(68, 68)}, "duplicate_finding": {}});
    let fake = Fake::default().with(&first_path(3, 2), bytes(&page)).with(
        "/api/v2/location_findings/?finding_includes=1,68&prefetch=location&limit=2",
        bytes(&v3_locations(&[(1, 1), (68, 68)])),
    );
    let (out, _, fake) = run(fake, options(3, 2));

    assert_eq!(fake.calls.len(), 2, "{:?}", fake.calls);
    assert_eq!(
        out[1]["attributes"]["defectdojo.org/original-finding"],
        out[0]
    );
    assert_eq!(out[0]["location"], LOCATION_22);
}

#[test]
fn original_on_another_page_is_fetched_once_when_not_prefetched() {
    let page2_path =
        "/api/v2/findings/?limit=2&offset=2&prefetch=endpoints%2Cduplicate_finding&test=3";
    let mut page1 = relink(
        V3_PAGE,
        Some(&format!("http://127.0.0.1:8080{page2_path}")),
        3,
    );
    page1["results"] = json!([value(V3_ORIGINAL)]);
    page1["prefetch"] = json!({"endpoints": {"1": v3_ref(1, 1)}, "duplicate_finding": {}});
    // A server that did not prefetch the original: 68 and 69 both name 1.
    let mut page2 = relink(V3_PAGE, None, 3);
    page2["results"][1]["duplicate_finding"] = json!(1);
    page2["prefetch"]["duplicate_finding"] = json!({});
    let fake = Fake::default()
        .with(&first_path(3, 2), bytes(&page1))
        .with(
            "/api/v2/location_findings/?finding_includes=1&prefetch=location&limit=2",
            bytes(&v3_locations(&[(1, 1)])),
        )
        .with(page2_path, bytes(&page2))
        .with("/api/v2/findings/1/", V3_ORIGINAL)
        .with(
            "/api/v2/location_findings/?finding_includes=1,68,69&prefetch=location&limit=3",
            bytes(&v3_locations(&[(1, 1), (68, 68), (69, 69)])),
        );
    let (out, counts, fake) = run(fake, options(3, 2));

    assert_eq!(fake.calls.len(), 5, "{:?}", fake.calls);
    assert_eq!(
        fake.count("/api/v2/findings/1/"),
        1,
        "cached within the page"
    );
    assert_eq!(out.len(), 3);
    for dup in &out[1..] {
        assert_eq!(dup["attributes"]["defectdojo.org/original-finding"], out[0]);
    }
    assert_eq!((counts.total, counts.duplicates), (3, 2));
}

#[test]
fn a_deleted_original_leaves_the_duplicate_without_it() {
    let mut page = relink(V3_PAGE, None, 2);
    page["prefetch"]["duplicate_finding"] = json!({});
    let fake = Fake::default().with(&first_path(3, 2), bytes(&page)).with(
        "/api/v2/location_findings/?finding_includes=68,69&prefetch=location&limit=2",
        V3_LOCATIONS,
    );
    let (out, _, fake) = run(fake, options(3, 2));

    assert_eq!(fake.count("/api/v2/findings/1/"), 1);
    assert_eq!(fake.count("/api/v2/findings/2/"), 1);
    assert_eq!(
        out[0]["attributes"]["defectdojo.org/original-finding-id"],
        1
    );
    assert_eq!(
        out[0]["attributes"]["defectdojo.org/original-finding"],
        Value::Null
    );
    assert_eq!(out[0]["location"], LOCATION_22);
}

#[test]
fn v2_original_endpoint_missing_from_prefetch_is_fetched_once() {
    let mut page = relink(V2_PAGE, None, 3);
    page["prefetch"]["duplicate_finding"]["202"]["endpoints"] = json!([60]);
    let mut endpoint = page["prefetch"]["endpoints"]["51"].clone();
    endpoint["id"] = json!(60);
    endpoint["port"] = json!(2222);
    let fake = Fake::default()
        .with(&first_path(5, 3), bytes(&page))
        .with("/api/v2/endpoints/60/", bytes(&endpoint));
    let (out, _, fake) = run(fake, options(5, 3));

    assert_eq!(fake.calls.len(), 2);
    let original = &out[0]["attributes"]["defectdojo.org/original-finding"];
    assert_eq!(original["location"], "tcp://scanme.nmap.org:2222");
    assert_eq!(out[0]["location"], "tcp://scanme.nmap.org:22");
}

#[test]
fn a_looping_next_fails() {
    let back = "http://127.0.0.1:8080/api/v2/findings/?limit=250&offset=0&prefetch=endpoints%2Cduplicate_finding&test=6";
    let fake = Fake::default().with(
        &first_path(6, 250),
        bytes(&relink(V3_GENERIC, Some(back), 3)),
    );
    let (err, fake) = run_err(fake, options(6, 250));

    assert!(matches!(err, Error::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("leads back"), "{err}");
    assert_eq!(fake.calls.len(), 1);
}

#[test]
fn pages_beyond_max_pages_fail_before_they_are_requested() {
    let fake = Fake::default().with(&first_path(5, 3), V2_PAGE);
    let opts = SyncOptions {
        max_pages: Some(1),
        ..options(5, 3)
    };
    let (err, fake) = run_err(fake, opts);

    assert!(
        err.to_string()
            .contains("DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS"),
        "{err}"
    );
    assert_eq!(fake.calls.len(), 1);
}

#[test]
fn fetch_errors_come_back_unchanged() {
    let (err, _) = run_err(Fake::default(), options(6, 250));
    assert!(matches!(err, Error::Http { status: 404, .. }), "{err}");

    let fake = Fake::default().with(&first_path(6, 250), "<html>proxy error</html>");
    let (err, _) = run_err(fake, options(6, 250));
    assert!(err.to_string().contains("not a page of findings"), "{err}");
}

#[test]
fn a_location_answer_for_findings_not_asked_for_fails() {
    let fake = Fake::default()
        .with(&first_path(3, 2), bytes(&relink(V3_PAGE, None, 2)))
        .with(
            "/api/v2/location_findings/?finding_includes=1,2,68,69&prefetch=location&limit=4",
            bytes(&v3_locations(&[(68, 68), (5000, 4999)])),
        );
    let (err, _) = run_err(fake, options(3, 2));
    assert!(err.to_string().contains("finding_includes"), "{err}");
}

#[test]
fn a_finding_missed_while_counts_change_is_an_error() {
    let page2 = "/api/v2/findings/?limit=3&offset=3&prefetch=endpoints%2Cduplicate_finding&test=5";
    let mut second = v2_second_page();
    let repeat = value(V2_PAGE)["results"][2].clone();
    second["results"].as_array_mut().unwrap().insert(0, repeat);
    second["count"] = json!(5);
    let fake = Fake::default()
        .with(&first_path(5, 3), V2_PAGE)
        .with(page2, bytes(&second));
    // One finding is listed twice because another one was inserted before
    // it: 4 distinct of 5 announced, so one was missed.
    let err = run_err(fake, options(5, 3)).0.to_string();
    assert!(
        err.contains("announced 5 findings") && err.contains("only 4"),
        "{err}"
    );
}

/// 500 duplicates (7-digit ids) of 500 prefetched originals: 1,000 ids to
/// look up on 3.x, more than one request line can carry.
#[test]
fn location_lookups_are_split_under_max_uri_len() {
    let recorded = value(V3_PAGE);
    let (dup, original, reference) = (
        &recorded["results"][0],
        &recorded["prefetch"]["duplicate_finding"]["1"],
        &recorded["prefetch"]["endpoints"]["68"],
    );
    let mut results = Vec::new();
    let mut endpoints = serde_json::Map::new();
    let mut originals = serde_json::Map::new();
    for i in 0..500u64 {
        let (d, o) = (1_000_000 + i, 2_000_000 + i);
        let mut f = dup.clone();
        f["id"] = json!(d);
        f["endpoints"] = json!([d]);
        f["duplicate_finding"] = json!(o);
        results.push(f);
        let mut r = reference.clone();
        r["id"] = json!(d);
        r["finding"] = json!(d);
        endpoints.insert(d.to_string(), r);
        let mut of = original.clone();
        of["id"] = json!(o);
        of["endpoints"] = json!([o]);
        originals.insert(o.to_string(), of);
    }
    let page = json!({"count": 500, "next": null, "previous": null, "results": results,
        "prefetch": {"endpoints": endpoints, "duplicate_finding": originals}});
    let mut fake = Fake::default().with(&first_path(3, 500), bytes(&page));
    // Answers any location request with one reference per asked-for id.
    fake.dynamic = Some(Box::new(|path: &str| {
        let ids = path
            .strip_prefix("/api/v2/location_findings/?finding_includes=")?
            .split('&')
            .next()?;
        let refs: Vec<(u64, u64)> = ids
            .split(',')
            .map(|i| i.parse().unwrap())
            .map(|i| (i, i))
            .collect();
        Some(bytes(&v3_locations(&refs)))
    }));
    let (out, counts, fake) = run(fake, options(3, 500));

    assert_eq!(counts.total, 500);
    assert!(out.iter().all(|f| f["location"] == LOCATION_22));
    assert!(
        out.iter()
            .all(|f| f["attributes"]["defectdojo.org/original-finding"]["location"] == LOCATION_22)
    );
    let lookups: Vec<&String> = fake
        .calls
        .iter()
        .filter(|c| c.contains("location_findings"))
        .collect();
    assert!(
        lookups.iter().all(|c| c.len() <= DEFAULT_MAX_URI_LEN),
        "{:?}",
        lookups.iter().map(|c| c.len()).collect::<Vec<_>>()
    );
    let asked: usize = lookups.iter().map(|c| c.matches(',').count() + 1).sum();
    assert_eq!(asked, 1000, "every id asked for once");
    // 1 findings page + ⌈1,000 × 8 bytes / ~3,430 bytes of room⌉ lookups.
    assert_eq!(lookups.len(), 3);
    assert_eq!(fake.calls.len(), 4);
}

#[test]
fn tiny_reads_give_the_same_bytes() {
    let fake = || Fake::default().with(&first_path(5, 3), bytes(&relink(V2_PAGE, None, 3)));
    let mut whole = Vec::new();
    SyncReader::new(fake(), options(5, 3))
        .unwrap()
        .read_to_end(&mut whole)
        .unwrap();
    let mut reader = SyncReader::new(fake(), options(5, 3)).unwrap();
    let mut bytewise = Vec::new();
    let mut one = [0u8; 1];
    while reader.read(&mut one).unwrap() == 1 {
        bytewise.push(one[0]);
    }
    assert_eq!(whole, bytewise);
    assert!(whole.starts_with(b"[{\"id\":\"") && whole.ends_with(b"}]"));
}

#[test]
fn an_empty_test_is_an_empty_array() {
    let mut page = relink(V3_GENERIC, None, 0);
    page["results"] = json!([]);
    let fake = Fake::default().with(&first_path(6, 250), bytes(&page));
    let mut reader = SyncReader::new(fake, options(6, 250)).unwrap();
    let mut out = String::new();
    reader.read_to_string(&mut out).unwrap();
    assert_eq!(out, "[]");
    assert_eq!(reader.counts(), Some(ReadBackCounts::default()));
    assert_eq!(reader.requests(), 1);
}

#[test]
fn options_are_checked() {
    let bad = |change: fn(&mut SyncOptions)| {
        let mut o = options(1, 250);
        change(&mut o);
        matches!(SyncReader::new(Fake::default(), o), Err(Error::Config(_)))
    };
    assert!(bad(|o| o.page_size = 0));
    assert!(bad(|o| o.page_size = MAX_PAGE_SIZE + 1));
    assert!(bad(|o| o.max_pages = Some(0)));
    assert!(bad(|o| o.max_uri_len = 50));
    assert!(bad(|o| o.base_url = "/".into()));
    assert!(!bad(|o| o.page_size = MAX_PAGE_SIZE));

    let fake = Fake::default().with(&first_path(6, 250), V3_GENERIC);
    let (out, _, _) = run(fake, SyncOptions::new("https://dojo.example/", 6));
    assert_eq!(
        out[0]["attributes"]["defectdojo.org/finding-url"],
        "https://dojo.example/finding/269"
    );
}

#[test]
fn an_empty_page_with_a_next_link_is_an_error() {
    let mut page = relink(
        V3_GENERIC,
        Some("http://127.0.0.1:8080/api/v2/findings/?limit=250&offset=250&test=6"),
        3,
    );
    page["results"] = json!([]);
    let fake = Fake::default().with(&first_path(6, 250), bytes(&page));
    let err = run_err(fake, options(6, 250)).0.to_string();
    assert!(err.contains("empty page"), "{err}");
}

/// 102 with originals that have no endpoints: only 68 and 69 are looked up.
fn v3_page_without_original_endpoints() -> Value {
    let mut page = relink(V3_PAGE, None, 2);
    for id in ["1", "2"] {
        page["prefetch"]["duplicate_finding"][id]["endpoints"] = json!([]);
    }
    page
}

fn with_location(mut v: Value, location: u64, url: &str) -> Value {
    v["prefetch"]["location"][location.to_string()] =
        json!({"id": location, "location_value": url});
    v
}

#[test]
fn location_pages_are_followed_until_every_first_reference_is_seen() {
    let lookup = "/api/v2/location_findings/?finding_includes=68,69&prefetch=location&limit=2";
    let second =
        "/api/v2/location_findings/?finding_includes=68%2C69&limit=2&offset=2&prefetch=location";
    let mut a = v3_locations(&[(500, 69), (68, 68)]);
    a["next"] = json!(format!("http://127.0.0.1:8080{second}"));
    let mut b = v3_locations(&[(69, 69)]);
    b["results"][0]["location"] = json!(2);
    b = with_location(b, 2, "tcp://other.example:80");
    b["next"] = json!("http://127.0.0.1:8080/api/v2/location_findings/?offset=4");
    let fake = Fake::default()
        .with(
            &first_path(3, 2),
            bytes(&v3_page_without_original_endpoints()),
        )
        .with(lookup, bytes(&a))
        .with(second, bytes(&b));
    let (out, _, fake) = run(fake, options(3, 2));

    assert_eq!(
        fake.calls.len(),
        3,
        "offset=4 is not needed: {:?}",
        fake.calls
    );
    assert_eq!(out[0]["location"], LOCATION_22);
    // 69's first reference (69) decides, not the other one (500).
    assert_eq!(out[1]["location"], "tcp://other.example:80");
    assert_eq!(
        out[1]["attributes"]["defectdojo.org/original-finding"]["location"],
        "unknown"
    );
}

#[test]
fn without_its_first_reference_a_finding_takes_its_lowest_other_location() {
    let mut answer = v3_locations(&[(900, 69), (68, 68), (700, 69)]);
    answer["results"][2]["location"] = json!(7);
    answer = with_location(answer, 7, "tcp://lowest.example:7");
    let fake = Fake::default()
        .with(
            &first_path(3, 2),
            bytes(&v3_page_without_original_endpoints()),
        )
        .with(
            "/api/v2/location_findings/?finding_includes=68,69&prefetch=location&limit=2",
            bytes(&answer),
        );
    let (out, _, _) = run(fake, options(3, 2));
    assert_eq!(out[1]["location"], "tcp://lowest.example:7");
}
