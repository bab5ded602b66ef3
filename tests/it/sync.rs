//! Sync back: DefectDojo's verdicts written over the scan's findings.json.

use serde_json::{Value, json};

use crate::harness::{Hook, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour, Options};
use crate::support::fake_store::FakeStore;
use crate::support::http::Fault;

/// `n` generic findings, each at its own location.
fn findings(n: usize) -> String {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let severity = ["LOW", "MEDIUM", "HIGH", "INFORMATIONAL"][i % 4];
            json!({"id": format!("id-{i}"), "name": format!("Finding {i}"), "category": "Test",
                   "severity": severity,
                   "location": format!("https://host-{i}.example.com/path"),
                   "description": "d", "parsed_at": "2024-01-01T00:00:00Z"})
        })
        .collect();
    Value::Array(items).to_string()
}

fn parse(bytes: &[u8]) -> Vec<Value> {
    serde_json::from_slice(bytes).expect("synced findings are a JSON array")
}

#[test]
fn several_pages_to_a_presigned_url_on_both_generations() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let store = FakeStore::start();
        store.put_object("/b/findings.json", findings(600));
        let findings_url = store.presigned_url("/b/findings.json");
        let out = Hook::new(&dojo)
            .env("SCAN_TYPE", "custom")
            .args(&[
                "raw",
                findings_url.as_str(),
                "unused",
                findings_url.as_str(),
            ])
            .run();
        out.expect(0);
        let s = out.summary();
        assert_eq!(s["synced"], 600);
        let put = store.puts().pop().expect("a PUT");
        let stored = store.object("/b/findings.json").unwrap();
        assert_eq!(
            put.header("content-length"),
            Some(stored.len().to_string().as_str())
        );
        assert_eq!(put.header("transfer-encoding"), None);
        let synced = parse(&stored);
        assert_eq!(synced.len(), 600);
        let first = &synced[0];
        for key in [
            "id",
            "name",
            "location",
            "description",
            "category",
            "severity",
            "attributes",
            "parsed_at",
        ] {
            assert!(first.get(key).is_some(), "{key} missing in {first}");
        }
        assert_eq!(first["category"], "DefectDojo Imported Finding");
        assert!(
            first["location"]
                .as_str()
                .unwrap()
                .starts_with("https://host-"),
            "{first}"
        );
        let attrs = &first["attributes"];
        assert!(
            attrs["defectdojo.org/finding-url"]
                .as_str()
                .unwrap()
                .starts_with(&dojo.url)
        );
        let pages = dojo
            .requests_to("/api/v2/findings/")
            .iter()
            .filter(|r| r.query.contains("prefetch="))
            .count();
        assert_eq!(pages, 3, "⌈600/250⌉ pages");
        let import = dojo.last_import().unwrap();
        assert_eq!(
            import.field("deduplication_execution_mode"),
            Some("async_wait")
        );
        let polls = dojo
            .requests_to("/api/v2/findings/")
            .iter()
            .filter(|r| r.query.contains("duplicate=true"))
            .count();
        match flavour {
            Flavour::V3 => assert_eq!(polls, 0, "3.x confirms deduplication itself"),
            Flavour::V2 => assert!(polls >= 3, "2.x is polled until the count settles"),
        }
    }
}

#[test]
fn duplicates_carry_their_original_and_ids_are_stable() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("dups");
        let input = tmp.file("findings.json", findings(5));
        let out1 = tmp.path().join("out1.json");
        let out2 = tmp.path().join("out2.json");
        for out in [&out1, &out2] {
            Hook::new(&dojo)
                .env("SCAN_TYPE", "custom")
                .args(&[
                    "raw",
                    input.to_str().unwrap(),
                    "unused",
                    out.to_str().unwrap(),
                ])
                .run()
                .expect(0);
        }
        let first = parse(&std::fs::read(&out1).unwrap());
        let second = parse(&std::fs::read(&out2).unwrap());
        assert!(first.iter().all(|f| f["attributes"]["duplicate"] == false));
        for dup in &second {
            let attrs = &dup["attributes"];
            assert_eq!(attrs["duplicate"], true, "{flavour:?}: {dup}");
            let original = &attrs["defectdojo.org/original-finding"];
            let matching = first
                .iter()
                .find(|f| {
                    f["attributes"]["defectdojo.org/finding-id"]
                        == attrs["defectdojo.org/original-finding-id"]
                })
                .expect("the original is a finding of the first run");
            assert_eq!(
                original["id"], matching["id"],
                "stable id for the same DefectDojo finding"
            );
            assert_eq!(original["location"], matching["location"]);
        }
    }
}

#[test]
fn output_to_stdout_moves_the_summary_to_stderr() {
    let dojo = FakeDojo::start(Flavour::V3);
    let path = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[path.as_str(), "f", "unused", "-"])
        .run();
    out.expect(0);
    let synced = parse(out.stdout.as_bytes());
    assert_eq!(synced.len(), 3, "the fake's canned nmap findings");
    assert!(out.stderr.contains("\"synced\":3"), "{out}");
}

#[test]
fn two_pass_sync_without_temp_dir_or_memory() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    store.put_object("/b/findings.json", findings(300));
    let url = store.presigned_url("/b/findings.json");
    let out = Hook::new(&dojo)
        .env("TMPDIR", "/nonexistent")
        .env("DEFECTDOJO_MEMORY_SPOOL_MB", "0")
        .env("SCAN_TYPE", "custom")
        .args(&["raw", url.as_str(), "unused", url.as_str()])
        .run();
    out.expect(0);
    let stored = parse(&store.object("/b/findings.json").unwrap());
    assert_eq!(stored.len(), 300);
    let pages = dojo
        .requests_to("/api/v2/findings/")
        .iter()
        .filter(|r| r.query.contains("prefetch="))
        .count();
    assert_eq!(pages, 4, "two pages, read twice");
}

#[test]
fn a_proxy_host_in_next_links_is_ignored() {
    let mut opts = Options::new(Flavour::V3);
    opts.advertised_origin = Some("http://internal-dojo.invalid:8080".into());
    let dojo = FakeDojo::start_with(opts);
    let tmp = TempDir::new("proxy");
    let input = tmp.file("findings.json", findings(260));
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "custom")
        .args(&["raw", input.to_str().unwrap(), "unused", "-"])
        .run();
    out.expect(0);
    assert_eq!(parse(out.stdout.as_bytes()).len(), 260);
}

/// Sets up a failure on the fakes.
type Arrange = Box<dyn Fn(&FakeDojo, &FakeStore)>;

#[test]
fn failures_after_the_import_leave_the_stored_findings_untouched() {
    let cases: Vec<(&str, Arrange)> = vec![
        (
            "findings page 500",
            Box::new(|d, _| d.fail(Fault::status("GET", "/api/v2/findings/", 500, "{}").always())),
        ),
        (
            "looping next",
            Box::new(|d, _| {
                let page = json!({"count": 2, "previous": null, "results": [],
                    "next": format!("{}/api/v2/findings/?test=1&limit=250&offset=0&prefetch=endpoints%2Cduplicate_finding", d.url)});
                d.fail(Fault::status("GET", "/api/v2/findings/", 200, &page.to_string()).always());
            }),
        ),
        (
            "locations dropped",
            Box::new(|d, _| d.fail(Fault::close("GET", "/api/v2/location_findings/").always())),
        ),
        (
            "storage PUT 500",
            Box::new(|_, s| {
                s.fail(FakeStore::s3_fault(
                    "PUT",
                    "/b/",
                    500,
                    "InternalError",
                    "We encountered an internal error",
                ))
            }),
        ),
    ];
    for (name, arrange) in cases {
        let dojo = FakeDojo::start(Flavour::V3);
        let store = FakeStore::start();
        let original = findings(3);
        store.put_object("/b/findings.json", original.clone());
        arrange(&dojo, &store);
        let url = store.presigned_url("/b/findings.json");
        let out = Hook::new(&dojo)
            .env("SCAN_TYPE", "custom")
            .env("DEFECTDOJO_TIMEOUT_SECONDS", "5")
            .args(&["raw", url.as_str(), "unused", url.as_str()])
            .run();
        out.expect(1);
        out.error_line();
        assert_eq!(
            store.object("/b/findings.json").unwrap(),
            original.as_bytes(),
            "{name}: the stored findings.json must be byte-identical"
        );
    }
}
