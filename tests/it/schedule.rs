//! Rescans: the runs of one ScheduledScan (an owner reference in the Scan
//! resource) reimport into one engagement and one test named after the
//! schedule, read from the cluster or from SCAN_FILE, in both flavours;
//! explicit annotations win, and a Scan without an owner keeps a new test
//! per run.

use serde_json::{Value, json};

use crate::harness::{Hook, Output, TempDir};
use crate::k8s::in_cluster;
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_k8s::FakeK8s;

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.schedule-sa-token.signature";
const SCHEDULE: &str = "zap-nightly";
const NAMESPACE: &str = "scans";

/// A Scan the operator created for one run of a schedule (`owner`), or
/// without an owner.
fn scan(name: &str, owner: Option<&str>, annotations: &[(&str, &str)]) -> Value {
    let annotations: serde_json::Map<String, Value> = annotations
        .iter()
        .map(|(k, v)| (format!("defectdojo.securecodebox.io/{k}"), json!(v)))
        .collect();
    let mut scan = json!({
        "apiVersion": "execution.securecodebox.io/v1",
        "kind": "Scan",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": annotations,
                     "creationTimestamp": "2026-12-01T02:00:00Z"},
        "spec": {"scanType": "zap-baseline-scan", "parameters": ["-t", "https://shop.example.com"]},
        "status": {"state": "HookProcessing"}
    });
    if let Some(owner) = owner {
        scan["metadata"]["ownerReferences"] = json!([{
            "apiVersion": "execution.securecodebox.io/v1", "kind": "ScheduledScan",
            "name": owner, "controller": true, "blockOwnerDeletion": true,
            "uid": "6a9e5f0c-2b1d-4c3e-9f7a-1d2e3f4a5b6c"
        }]);
    }
    scan
}

/// A secureCodeBox findings.json with one finding per title.
fn findings(titles: &[&str]) -> String {
    let items: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": format!("id-{i}"), "name": t, "category": "Header", "severity": "MEDIUM",
                   "location": "https://shop.example.com/", "description": format!("{t}.")})
        })
        .collect();
    Value::Array(items).to_string()
}

/// What each of the three runs finds: the first A B C E; the second has C
/// and E fixed and D new; the third sees C again and D fixed.
const RUNS: [(&str, &[&str]); 3] = [
    ("zap-nightly-1796090400", &["A", "B", "C", "E"]),
    ("zap-nightly-1796176800", &["A", "B", "D"]),
    ("zap-nightly-1796263200", &["A", "B", "C"]),
];

/// How the hook gets the Scan.
#[derive(Clone, Copy, Debug)]
enum Via {
    Cluster,
    ScanFile,
}

/// One run of a Scan with the findings of `titles` and a sync back; its
/// output and the findings written back.
fn run(dojo: &FakeDojo, k8s: &FakeK8s, via: Via, scan: &Value, titles: &[&str]) -> (Output, Value) {
    let name = scan["metadata"]["name"].as_str().unwrap();
    let tmp = TempDir::new("schedule");
    let found = tmp.file("findings.json", findings(titles));
    let synced = tmp.path().join("synced.json");
    let hook = Hook::new(dojo).env("SCAN_NAME", name);
    let hook = match via {
        Via::Cluster => {
            k8s.add_scan(scan.clone());
            in_cluster(hook, k8s, NAMESPACE, None)
        }
        Via::ScanFile => hook.scan_file(scan),
    };
    let (found, synced_arg) = (found.to_str().unwrap(), synced.to_str().unwrap());
    let out = hook.args(&["", found, "", synced_arg]).run();
    out.expect(0);
    let written = serde_json::from_slice(&std::fs::read(&synced).unwrap()).unwrap();
    (out, written)
}

fn titles(written: &Value) -> Vec<&str> {
    let mut t: Vec<&str> = written
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    t.sort_unstable();
    t
}

#[test]
fn three_runs_of_a_schedule_end_in_one_test_with_three_imports() {
    for flavour in [Flavour::V3, Flavour::V2] {
        for via in [Via::Cluster, Via::ScanFile] {
            let (dojo, k8s) = (FakeDojo::start(flavour), FakeK8s::start(TOKEN));
            if let Via::ScanFile = via {
                k8s.expect_no_calls();
            }
            let case = format!("{flavour:?} via {via:?}");
            let mut summaries = Vec::new();
            let mut written = Vec::new();
            for (name, found) in RUNS {
                let (out, synced) = run(&dojo, &k8s, via, &scan(name, Some(SCHEDULE), &[]), found);
                assert!(
                    out.stderr.contains(
                        "the scan belongs to ScheduledScan zap-nightly: product, engagement, \
                         test named after it; reimport"
                    ),
                    "{case}: the log says why:\n{out}"
                );
                summaries.push(out.summary());
                written.push(synced);
                if let Via::Cluster = via {
                    // The Scan's status counts what was written back.
                    let status = k8s.scan(NAMESPACE, name).unwrap()["status"].clone();
                    assert_eq!(
                        status["findings"]["count"],
                        written.last().unwrap().as_array().unwrap().len(),
                        "{case} {name}: {status}"
                    );
                }
            }
            let modes: Vec<&Value> = summaries.iter().map(|s| &s["import_mode"]).collect();
            assert_eq!(modes, ["import", "reimport", "reimport"], "{case}");
            for s in &summaries {
                assert_eq!(
                    s["scheduled_scan"],
                    json!({"name": SCHEDULE,
                           "defaults": ["product_name", "import_mode", "engagement_name", "test_title"]}),
                    "{case}: {s}"
                );
                assert_eq!(s["test_id"], summaries[0]["test_id"], "{case}: one test");
                assert_eq!(s["engagement_id"], summaries[0]["engagement_id"], "{case}");
            }
            let delta = |s: &Value, k: &str| s["delta"][k]["total"].as_u64().unwrap();
            let buckets = ["created", "closed", "reactivated", "untouched"];
            let second: Vec<u64> = buckets.iter().map(|k| delta(&summaries[1], k)).collect();
            let third: Vec<u64> = buckets.iter().map(|k| delta(&summaries[2], k)).collect();
            assert_eq!(
                (second, third),
                (vec![1, 2, 0, 2], vec![0, 1, 1, 2]),
                "{case}"
            );

            // Written back: what each run found, without the closed history.
            assert_eq!(titles(&written[0]), ["A", "B", "C", "E"], "{case}");
            assert_eq!(
                titles(&written[1]),
                ["A", "B", "D"],
                "{case}: C, E closed now"
            );
            assert_eq!(
                titles(&written[2]),
                ["A", "B", "C"],
                "{case}: D closed, E before"
            );

            let st = dojo.state();
            assert_eq!(st.engagements.len(), 1, "{case}");
            assert_eq!(st.engagements[0].name.as_deref(), Some(SCHEDULE));
            assert_eq!(st.tests.len(), 1, "{case}");
            assert_eq!(st.tests[0].title.as_deref(), Some(SCHEDULE));
            assert!(st.products.iter().any(|p| p.name == SCHEDULE), "{case}");
            let state = |active: bool| -> Vec<&str> {
                let mut t: Vec<&str> = st
                    .findings
                    .iter()
                    .filter(|f| f.active == active && f.is_mitigated != active)
                    .map(|f| f.title.as_str())
                    .collect();
                t.sort_unstable();
                t
            };
            assert_eq!(
                (state(true), state(false)),
                (vec!["A", "B", "C"], vec!["D", "E"])
            );
            let history: Vec<&str> = st.test_imports.iter().map(|t| t.kind.as_str()).collect();
            assert_eq!(history, ["import", "reimport", "reimport"], "{case}");
        }
    }
}

#[test]
fn explicit_annotations_win_over_the_schedule() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let (dojo, k8s) = (FakeDojo::start(flavour), FakeK8s::start(TOKEN));
        let titled = [("test-title", "ZAP baseline")];
        let mut summaries = Vec::new();
        for (name, found) in &RUNS[..2] {
            let scan = scan(name, Some(SCHEDULE), &titled);
            summaries.push(run(&dojo, &k8s, Via::Cluster, &scan, found).0.summary());
        }
        assert_eq!(summaries[1]["import_mode"], "reimport");
        assert_eq!(summaries[1]["test_id"], summaries[0]["test_id"]);
        assert_eq!(
            summaries[1]["scheduled_scan"]["defaults"],
            json!(["product_name", "import_mode", "engagement_name"]),
            "{flavour:?}: the title was given"
        );
        {
            let st = dojo.state();
            assert_eq!(st.tests.len(), 1);
            assert_eq!(st.tests[0].title.as_deref(), Some("ZAP baseline"));
            assert_eq!(st.engagements[0].name.as_deref(), Some(SCHEDULE));
        }

        // The Java hook's way is one annotation away: a new test per run,
        // engagement and test named after the run.
        let dojo = FakeDojo::start(flavour);
        for (name, found) in &RUNS[..2] {
            let scan = scan(name, Some(SCHEDULE), &[("import-mode", "import")]);
            let (out, _) = run(&dojo, &k8s, Via::Cluster, &scan, found);
            let s = out.summary();
            assert_eq!(s["import_mode"], "import", "{flavour:?}: {s}");
            assert_eq!(s["scheduled_scan"]["defaults"], json!(["product_name"]));
            assert_eq!(dojo.last_import().unwrap().real_title(), Some(*name));
        }
        let st = dojo.state();
        assert_eq!((st.engagements.len(), st.tests.len()), (2, 2));
    }
}

#[test]
fn a_scan_without_an_owner_keeps_a_test_per_run() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let (dojo, k8s) = (FakeDojo::start(flavour), FakeK8s::start(TOKEN));
        for via in [Via::Cluster, Via::ScanFile] {
            for (name, found) in &RUNS[..2] {
                let (out, _) = run(&dojo, &k8s, via, &scan(name, None, &[]), found);
                let s = out.summary();
                assert_eq!(s["import_mode"], "import", "{flavour:?} {via:?}: {s}");
                assert!(s.get("scheduled_scan").is_none(), "{s}");
                assert!(!out.stderr.contains("ScheduledScan"), "{out}");
                let import = dojo.last_import().unwrap();
                assert_eq!(import.real_title(), Some(*name));
                assert_eq!(import.field("close_old_findings"), None);
            }
        }
        let st = dojo.state();
        // One product per run name too (the Java hook's defaults), a test per run.
        assert_eq!(st.tests.len(), 4, "{flavour:?}");
        assert_eq!(st.engagements.len(), 2, "{flavour:?}");
        let names: Vec<_> = st.engagements.iter().map(|e| e.name.clone()).collect();
        assert_eq!(names, [Some(RUNS[0].0.into()), Some(RUNS[1].0.into())]);
    }
}
