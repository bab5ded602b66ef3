//! Self-tests of the fakes' benchmark mode (`tests/support/count.rs`,
//! `tests/support/fake_dojo/bench/`): counted uploads give the same result however
//! the body is cut, and generated findings pages are consistent with each other, with
//! their prefetch and with the 3.x location references.

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use crate::support::count::{CountedForm, JsonCount, MultipartCount};
use crate::support::fake_dojo::BenchOptions;
use crate::support::{FakeDojo, FakeStore, Flavour, Options, StoreOptions};
use serde_json::{Value, json};

const ADMIN: &str = "Token dojo-admin-key";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, Value) {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = agent().run(req.body(body).unwrap()).unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (resp.status().as_u16(), value)
}

fn get(dojo: &FakeDojo, path: &str) -> Value {
    let (status, body) = send(
        "GET",
        &format!("{}{path}", dojo.url),
        &[("Authorization", ADMIN)],
        Vec::new(),
    );
    assert_eq!(status, 200, "{path}: {body}");
    body
}

const BOUNDARY: &str = "dojo-hook-bench-selftest";

/// A form as dojo-hook sends it: text fields, then the file part.
fn form(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    write!(
        body,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/json\r\n\r\n"
    )
    .unwrap();
    body.extend_from_slice(file);
    write!(body, "\r\n--{BOUNDARY}--\r\n").unwrap();
    body
}

/// A generic report whose strings contain braces, escaped quotes, line breaks and
/// something that looks like the boundary.
fn tricky_report(n: usize) -> Vec<u8> {
    let findings: Vec<Value> = (0..n)
        .map(|i| {
            json!({"title": format!("t{i} {{[\"}}"), "severity": "Low",
                   "description": format!("a\r\n--{BOUNDARY}x\\ \"{{\" [[ {i}"),
                   "tags": [{"nested": {"deep": [1, {"x": "}"}]}}]})
        })
        .collect();
    json!({ "findings": findings }).to_string().into_bytes()
}

fn count_form(body: &[u8], chunk: usize) -> CountedForm {
    let mut sink = MultipartCount::new(&format!("multipart/form-data; boundary={BOUNDARY}"));
    for piece in body.chunks(chunk) {
        sink.write_all(piece).unwrap();
    }
    sink.into_form()
}

#[test]
fn counting_sinks_give_the_same_result_in_any_chunking() {
    let report = tricky_report(37);
    let body = form(
        &[
            ("scan_type", "Generic Findings Import"),
            ("engagement", "7"),
        ],
        "findings.json",
        &report,
    );
    for chunk in [1, 2, 7, 64, 4096, body.len()] {
        let f = count_form(&body, chunk);
        assert_eq!(f.error, None, "chunk {chunk}");
        assert_eq!(
            f.fields,
            vec![
                (
                    "scan_type".to_string(),
                    "Generic Findings Import".to_string()
                ),
                ("engagement".to_string(), "7".to_string()),
            ]
        );
        assert_eq!(f.file_name.as_deref(), Some("findings.json"));
        assert_eq!(f.file_content_type.as_deref(), Some("application/json"));
        assert_eq!(f.file_len, report.len() as u64, "chunk {chunk}");
        assert_eq!(f.file_objects, 37, "chunk {chunk}");

        let mut array = JsonCount::new(1);
        let synced = serde_json::to_vec(&json!([{"a": "{"}, {"b": [{}]}, {}])).unwrap();
        for piece in synced.chunks(chunk) {
            array.update(piece);
        }
        assert_eq!((array.objects, array.bytes), (3, synced.len() as u64));
    }
    let truncated = count_form(&body[..body.len() - 4], 100);
    assert!(truncated.error.is_some());
}

fn bench_dojo(flavour: Flavour, n: u64) -> FakeDojo {
    let mut opts = Options::new(flavour);
    opts.bench = Some(BenchOptions {
        findings: Some(n),
        ..BenchOptions::default()
    });
    FakeDojo::start_with(opts)
}

/// Imports a small generic report by multipart; returns the import answer.
fn counted_import(dojo: &FakeDojo) -> Value {
    let report = tricky_report(3);
    let body = form(
        &[
            ("scan_type", "Generic Findings Import"),
            ("product_type_name", "Bench"),
            ("product_name", "bench"),
            ("engagement_name", "bench"),
            ("auto_create_context", "true"),
            ("deduplication_execution_mode", "async_wait"),
        ],
        "findings.json",
        &report,
    );
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let (status, answer) = send(
        "POST",
        &format!("{}/api/v2/import-scan/", dojo.url),
        &[("Authorization", ADMIN), ("Content-Type", &ct)],
        body,
    );
    assert_eq!(status, 201, "{answer}");
    answer
}

#[test]
fn counted_imports_create_tests_that_serve_generated_findings() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let n = 620;
        let dojo = bench_dojo(flavour, n);
        let answer = counted_import(&dojo);
        let test = answer["test"].as_u64().unwrap();
        assert_eq!(answer["statistics"]["after"]["total"]["total"], json!(n));
        assert_eq!(
            answer["statistics"]["after"]["total"]["duplicate"],
            json!(124)
        );
        let record = dojo.last_import().unwrap();
        assert_eq!(record.file_len, tricky_report(3).len());
        assert!(record.file.is_none(), "nothing is stored");

        let mut ids = HashSet::new();
        let mut next = Some(format!(
            "/api/v2/findings/?test={test}&limit=250&offset=0&prefetch=endpoints,duplicate_finding"
        ));
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            let page = get(&dojo, &path);
            assert_eq!(page["count"], json!(n));
            let prefetch = &page["prefetch"];
            for f in page["results"].as_array().unwrap() {
                assert!(ids.insert(f["id"].as_u64().unwrap()), "ids are unique");
                assert_eq!(f["test"], json!(test));
                let endpoint = f["endpoints"][0].as_u64().unwrap();
                let prefetched = &prefetch["endpoints"][endpoint.to_string()];
                match flavour {
                    Flavour::V2 => assert!(prefetched["host"].is_string(), "{prefetched}"),
                    Flavour::V3 => assert_eq!(prefetched["finding"], f["id"]),
                }
                if f["duplicate"] == json!(true) {
                    let original = f["duplicate_finding"].as_u64().unwrap();
                    let o = &prefetch["duplicate_finding"][original.to_string()];
                    assert_eq!(o["id"], json!(original));
                    assert_eq!(o["title"], f["title"]);
                    assert_ne!(o["test"], json!(test));
                    if flavour == Flavour::V2 {
                        assert_eq!(o["endpoints"], f["endpoints"], "the same endpoint");
                    }
                } else {
                    assert_eq!(f["duplicate_finding"], Value::Null);
                }
            }
            next = page["next"].as_str().map(|n| {
                let query = n.split_once('?').unwrap().1;
                format!("/api/v2/findings/?{query}")
            });
        }
        assert_eq!((pages, ids.len()), (3, n as usize));

        let dups = get(
            &dojo,
            &format!("/api/v2/findings/?test={test}&duplicate=true&limit=1000"),
        );
        assert_eq!(dups["count"], json!(124));
        assert!(
            dups["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["duplicate"] == json!(true))
        );
        let others = get(
            &dojo,
            &format!("/api/v2/findings/?test={test}&duplicate=false&limit=1000"),
        );
        assert_eq!(others["count"], json!(n - 124));
        assert!(
            others["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["duplicate"] == json!(false))
        );

        if flavour == Flavour::V3 {
            // The first page's findings and the originals of its duplicates.
            let page = get(
                &dojo,
                &format!("/api/v2/findings/?test={test}&limit=10&prefetch=duplicate_finding"),
            );
            let mut wanted: Vec<u64> = page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_u64().unwrap())
                .collect();
            let originals: Vec<u64> = page["prefetch"]["duplicate_finding"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.parse().unwrap())
                .collect();
            assert_eq!(originals.len(), 2);
            wanted.extend(&originals);
            let list: Vec<String> = wanted.iter().map(u64::to_string).collect();
            let refs = get(
                &dojo,
                &format!(
                    "/api/v2/location_findings/?finding_includes={}&prefetch=location&limit=250",
                    list.join(",")
                ),
            );
            assert_eq!(refs["count"], json!(12));
            let locations = &refs["prefetch"]["location"];
            let mut by_finding = std::collections::HashMap::new();
            for r in refs["results"].as_array().unwrap() {
                let value =
                    locations[r["location"].as_u64().unwrap().to_string()]["location_value"]
                        .as_str()
                        .unwrap()
                        .to_string();
                by_finding.insert(r["finding"].as_u64().unwrap(), value);
            }
            assert_eq!(by_finding.len(), 12);
            // A duplicate and its original are at the same place.
            let dup = &page["results"][2];
            assert_eq!(
                by_finding[&dup["id"].as_u64().unwrap()],
                by_finding[&dup["duplicate_finding"].as_u64().unwrap()]
            );
        }
    }
}

#[test]
fn the_store_counts_put_bodies() {
    let store = FakeStore::start_with(StoreOptions {
        count_puts: true,
        ..StoreOptions::default()
    });
    let body = serde_json::to_vec(&json!([{"a": 1}, {"b": "]"}])).unwrap();
    let len = body.len().to_string();
    let (status, _) = send(
        "PUT",
        &store.url_for("/b/out.json"),
        &[("Content-Length", &len)],
        body,
    );
    assert_eq!(status, 200);
    let stored: Value = serde_json::from_slice(&store.object("/b/out.json").unwrap()).unwrap();
    assert_eq!(
        stored,
        json!({"counted": true, "bytes": len.parse::<u64>().unwrap(), "objects": 2})
    );
    assert_eq!(store.puts()[0].body_len, len.parse::<usize>().unwrap());
}
