//! The build gate, the summaries, the dry run and payload limits.

use serde_json::{Value, json};

use crate::harness::{Hook, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::http::Fault;

fn report(findings: &[(&str, &str)]) -> String {
    let items: Vec<Value> = findings
        .iter()
        .map(|(t, s)| json!({"title": t, "severity": s, "description": format!("{t} found")}))
        .collect();
    json!({ "findings": items }).to_string()
}

fn hook(dojo: &FakeDojo) -> Hook {
    Hook::new(dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Generic Findings Import")
        .env("DEFECTDOJO_PRODUCT_NAME", "shop")
        .env("DEFECTDOJO_ENGAGEMENT_NAME", "main")
}

#[test]
fn the_gate_fails_at_and_above_its_severity_only() {
    for (fail_on, want) in [
        ("Critical", 0),
        ("critical", 0),
        ("High", 3),
        ("Medium", 3),
        ("Low", 3),
        ("Info", 3),
    ] {
        let dojo = FakeDojo::start(Flavour::V3);
        let tmp = TempDir::new("gate");
        let path = tmp.file(
            "r.json",
            report(&[("SQL Injection", "High"), ("Weak TLS", "Low")]),
        );
        let out = hook(&dojo)
            .env("DEFECTDOJO_FAIL_ON", fail_on)
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(want);
        let gate = &out.summary()["gate"];
        assert_eq!(gate["failed"], want == 3, "{fail_on}: {out}");
        if want == 3 {
            assert!(out.stderr.contains("build gate:"), "{out}");
            assert!(
                out.stderr.contains(&format!("{}/finding/", dojo.url)),
                "links: {out}"
            );
        }
        assert_eq!(out.summary()["new"]["total"], 2);
    }
}

#[test]
fn duplicates_do_not_fail_the_gate() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("gatedup");
        let path = tmp.file("r.json", report(&[("SQL Injection", "High")]));
        hook(&dojo).args(&[path.to_str().unwrap()]).run().expect(0);
        let out = hook(&dojo)
            .env("DEFECTDOJO_FAIL_ON", "Info")
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(0);
        assert_eq!(out.summary()["gate"]["findings"], 0, "{flavour:?}: {out}");
    }
}

#[test]
fn reactivated_findings_count_only_when_asked() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("gatere");
    let full = tmp.file("full.json", report(&[("A", "High"), ("B", "High")]));
    let minus = tmp.file("minus.json", report(&[("A", "High")]));
    let run = |path: &std::path::Path, extra: &[(&str, &str)]| {
        let mut h = hook(&dojo)
            .env("DEFECTDOJO_IMPORT_MODE", "reimport")
            .env("DEFECTDOJO_FAIL_ON", "High");
        for (k, v) in extra {
            h = h.env(k, *v);
        }
        h.args(&[path.to_str().unwrap()]).run()
    };
    run(&full, &[]).expect(3);
    run(&minus, &[]).expect(0);
    run(&full, &[]).expect(0);
    run(&minus, &[]).expect(0);
    let out = run(&full, &[("DEFECTDOJO_FAIL_ON_REACTIVATED", "true")]);
    out.expect(3);
    assert_eq!(out.summary()["gate"]["findings"], 1, "{out}");
}

/// One definition of "new": the gate reads the same verdict whether it
/// counts from the read-back (a findings output or a CI report is written)
/// or reads the new findings itself, on a reimport that reactivates one
/// finding, creates a false positive and a duplicate of another test's
/// finding, and leaves one untouched.
#[test]
fn the_gate_says_the_same_with_and_without_a_read_back() {
    let finding = |title: &str, extra: Value| {
        let mut f =
            json!({"title": title, "severity": "High", "description": format!("{title} found")});
        f.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        f
    };
    let report = |items: Vec<Value>| json!({ "findings": items }).to_string();
    let kept = || finding("Kept", json!({}));
    let back = || finding("Back", json!({}));
    let elsewhere = || finding("Elsewhere", json!({}));
    let full = report(vec![
        kept(),
        back(),
        finding("Alarm", json!({"false_p": true})),
        elsewhere(),
    ]);
    for flavour in [Flavour::V3, Flavour::V2] {
        for fail_on_reactivated in ["false", "true"] {
            let mut verdicts = Vec::new();
            for output in [
                "none",
                "DEFECTDOJO_FINDINGS_OUTPUT",
                "DEFECTDOJO_SARIF_OUTPUT",
            ] {
                let dojo = FakeDojo::start(flavour);
                let tmp = TempDir::new("gatesame");
                let other = tmp.file("other.json", report(vec![elsewhere()]));
                let first = tmp.file("first.json", report(vec![kept(), back()]));
                let minus = tmp.file("minus.json", report(vec![kept()]));
                let full = tmp.file("full.json", &full);
                let run = |path: &std::path::Path, mode: &str, title: &str| {
                    hook(&dojo)
                        .env("DEFECTDOJO_IMPORT_MODE", mode)
                        .env("DEFECTDOJO_TEST_TITLE", title)
                        .args(&[path.to_str().unwrap()])
                        .run()
                };
                run(&other, "import", "other").expect(0);
                run(&first, "reimport", "nightly").expect(0);
                run(&minus, "reimport", "nightly").expect(0);
                let mut gated = hook(&dojo)
                    .env("DEFECTDOJO_IMPORT_MODE", "reimport")
                    .env("DEFECTDOJO_TEST_TITLE", "nightly")
                    .env("DEFECTDOJO_FAIL_ON", "Info")
                    .env("DEFECTDOJO_FAIL_ON_REACTIVATED", fail_on_reactivated);
                if output != "none" {
                    let path = tmp.path().join("out");
                    gated = gated.env(output, path.to_str().unwrap());
                }
                let out = gated.args(&[full.to_str().unwrap()]).run();
                // The reimport made what the test is about.
                let state = dojo.state();
                let of = |title: &str| {
                    let f = state.findings.iter().filter(|f| f.title == title);
                    f.max_by_key(|f| f.id).expect(title).clone()
                };
                assert!(of("Alarm").false_p, "{flavour:?}");
                assert!(of("Elsewhere").duplicate, "{flavour:?}");
                assert!(of("Back").active, "{flavour:?}");
                drop(state);
                let reads = dojo
                    .requests_to("/api/v2/findings/")
                    .iter()
                    .filter(|r| r.query.contains("false_p=false"))
                    .count();
                assert_eq!(reads > 0, output == "none", "{output}: {out}");
                let summary = out.summary();
                verdicts.push((
                    out.code,
                    summary["gate"]["findings"].clone(),
                    summary["new"].clone(),
                ));
            }
            let want = if fail_on_reactivated == "true" { 3 } else { 0 };
            assert_eq!(verdicts[0].0, want, "{flavour:?} {fail_on_reactivated}");
            assert_eq!(verdicts[0].1, u64::from(want == 3), "{flavour:?}");
            assert!(
                verdicts.iter().all(|v| v == &verdicts[0]),
                "{flavour:?} {fail_on_reactivated}: {verdicts:?}"
            );
        }
    }
}

#[test]
fn the_markdown_summary_reads_as_expected() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("md");
    let path = tmp.file(
        "r.json",
        report(&[("SQL Injection", "High"), ("Weak | TLS", "Low")]),
    );
    let md_path = tmp.path().join("summary.md");
    let out = hook(&dojo)
        .env("DEFECTDOJO_SUMMARY_FILE", md_path.display().to_string())
        .env("DEFECTDOJO_FAIL_ON", "Critical")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    let md = std::fs::read_to_string(&md_path).unwrap();
    let u = &dojo.url;
    let want = format!(
        "## DefectDojo: Generic Findings Import imported\n\n\
         [Product]({u}/product/1) · [Engagement]({u}/engagement/1) · [Test 1]({u}/test/1)\n\n\
         | | Critical | High | Medium | Low | Info | Total |\n|---|---:|---:|---:|---:|---:|---:|\n\
         | New | 0 | 1 | 0 | 1 | 0 | 2 |\n\
         | Duplicates | 0 | 0 | 0 | 0 | 0 | 0 |\n\
         | In the test | 0 | 1 | 0 | 1 | 0 | 2 |\n\n\
         Build gate (`DEFECTDOJO_FAIL_ON=Critical`): passed, 0 new finding(s) at or above Critical.\n\n\
         ### The 2 most severe new findings\n\n| Severity | Finding |\n|---|---|\n\
         | High | [SQL Injection]({u}/finding/1) |\n\
         | Low | [Weak \\| TLS]({u}/finding/2) |\n"
    );
    assert_eq!(md, want);

    // GitHub's step summary is appended to.
    let gh = tmp.file("step.md", "earlier step\n");
    hook(&dojo)
        .env("GITHUB_STEP_SUMMARY", gh.display().to_string())
        .args(&[path.to_str().unwrap()])
        .run()
        .expect(0);
    let text = std::fs::read_to_string(&gh).unwrap();
    assert!(text.starts_with("earlier step\n## DefectDojo:"), "{text}");
}

#[test]
fn a_dry_run_only_reads_and_plans() {
    let dojo = FakeDojo::start(Flavour::V3);
    let raw = fixture("samples/trivy/repo/securecodebox-repo.json");
    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_DRY_RUN", "true")
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .env("DEFECTDOJO_PRODUCT_TYPE_NAME", "New Team")
        .args(&[raw.as_str()])
        .run();
    out.expect(0);
    let s = out.summary();
    assert_eq!(s["dry_run"], true);
    let plan: Vec<&str> = s["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        plan.iter()
            .any(|p| p.contains("would create product type \"New Team\"")),
        "{plan:?}"
    );
    assert!(
        plan.iter().any(|p| p.contains("would create engagement")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|p| p.contains("would import securecodebox-repo.json")),
        "{plan:?}"
    );
    assert!(
        dojo.mutating_requests().is_empty(),
        "a dry run sends GET requests only"
    );

    // An existing test is found for a reimport.
    let pt = dojo.seed_product_type("Team");
    let product = dojo.seed_product("shop", pt);
    let engagement = dojo.seed_engagement("main", product, None);
    dojo.state()
        .engagements
        .iter_mut()
        .for_each(|e| e.status = "In Progress".into());
    let test = dojo.seed_test(engagement, Some("Trivy Scan"), "Trivy Scan");
    let out = Hook::new(&dojo)
        .env("SCAN_NAME", "")
        .env("DEFECTDOJO_DRY_RUN", "true")
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .env("DEFECTDOJO_IMPORT_MODE", "reimport")
        .env("DEFECTDOJO_PRODUCT_NAME", "shop")
        .env("DEFECTDOJO_ENGAGEMENT_NAME", "main")
        .args(&[raw.as_str()])
        .run();
    out.expect(0);
    assert!(
        out.summary()["plan"]
            .to_string()
            .contains(&format!("into test {test}")),
        "{out}"
    );
    assert!(dojo.mutating_requests().is_empty());
}

/// The dry run's plan names what a real run would create, in its order, and
/// only what is missing (the context's typed plan, not ids of 0).
#[test]
fn a_dry_run_plans_only_what_is_missing_in_order() {
    let raw = fixture("samples/trivy/repo/securecodebox-repo.json");
    let creations = |dojo: &FakeDojo, product_type: &str| -> Vec<String> {
        let out = Hook::new(dojo)
            .env("SCAN_NAME", "")
            .env("DEFECTDOJO_DRY_RUN", "true")
            .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
            .env("DEFECTDOJO_PRODUCT_TYPE_NAME", product_type)
            .env("DEFECTDOJO_PRODUCT_NAME", "shop")
            .env("DEFECTDOJO_ENGAGEMENT_NAME", "main")
            .args(&[raw.as_str()])
            .run();
        out.expect(0);
        assert!(dojo.mutating_requests().is_empty(), "{out}");
        let plan = out.summary()["plan"].as_array().unwrap().clone();
        plan.iter()
            .filter_map(|p| p.as_str())
            .filter(|p| p.starts_with("would create"))
            .map(String::from)
            .collect()
    };
    let engagement = "would create engagement \"main\" in product \"shop\"";
    let dojo = FakeDojo::start(Flavour::V3);
    assert_eq!(
        creations(&dojo, "New Team"),
        [
            "would create product type \"New Team\"",
            "would create product \"shop\" in product type \"New Team\"",
            engagement,
        ]
    );
    let pt = dojo.seed_product_type("Team");
    assert_eq!(
        creations(&dojo, "Team"),
        [
            "would create product \"shop\" in product type \"Team\"",
            engagement
        ]
    );
    let product = dojo.seed_product("shop", pt);
    assert_eq!(creations(&dojo, "Team"), [engagement]);
    dojo.seed_engagement("main", product, None);
    dojo.state()
        .engagements
        .iter_mut()
        .for_each(|e| e.status = "In Progress".into());
    assert_eq!(creations(&dojo, "Team"), Vec::<String>::new());
}

/// A problem's name, the scan type, the report, and extra variables.
type DryCase<'a> = (
    &'a str,
    &'a str,
    &'a std::path::Path,
    Vec<(&'a str, &'a str)>,
);

#[test]
fn a_dry_run_catches_each_local_problem() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("dry");
    let exe = tmp.file("scan.exe", "MZ");
    let bad_generic = tmp.file(
        "g.json",
        r#"{"findings":[{"title":"a","severity":"High","description":"d","location":"x"}]}"#,
    );
    let big = tmp.file("big.xml", format!("<a>{}</a>", "x".repeat(2 * 1024 * 1024)));
    let cases: Vec<DryCase> = vec![
        ("extension", "Nmap Scan", &exe, vec![]),
        (
            "allowed keys",
            "Generic Findings Import",
            &bad_generic,
            vec![],
        ),
        (
            "size",
            "Nmap Scan",
            &big,
            vec![("DEFECTDOJO_MAX_UPLOAD_MB", "1")],
        ),
        ("scan type", "Trivy Scna", &bad_generic, vec![]),
    ];
    for (name, scan_type, path, extra) in cases {
        let mut h = Hook::new(&dojo)
            .env("DEFECTDOJO_DRY_RUN", "true")
            .env("DEFECTDOJO_SCAN_TYPE", scan_type);
        for (k, v) in extra {
            h = h.env(k, v);
        }
        let out = h.args(&[path.to_str().unwrap()]).run();
        out.expect(2);
        let problems = out.summary()["problems"].to_string();
        let needle = match name {
            "extension" => "extension",
            "allowed keys" => "location",
            "size" => "DEFECTDOJO_MAX_UPLOAD_MB",
            _ => "did you mean \\\"Trivy Scan\\\"",
        };
        assert!(problems.contains(needle), "{name}: {problems}");
    }
    assert!(dojo.mutating_requests().is_empty());
}

#[test]
fn payload_limits_are_explained() {
    let dojo = FakeDojo::start(Flavour::V3);
    let raw = fixture("samples/nmap/nmap-results.xml");
    dojo.fail(
        Fault::status("POST", "/api/v2/import-scan/", 413, "<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>")
            .content_type("text/html"),
    );
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(1);
    assert!(out.error_line().contains("client_max_body_size"), "{out}");

    let mut opts = crate::support::fake_dojo::Options::new(Flavour::V3);
    opts.max_file_mb = 0;
    let small_limit = FakeDojo::start_with(opts);
    let out = Hook::new(&small_limit)
        .env("SCAN_TYPE", "nmap")
        .args(&[raw.as_str(), "f"])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("Report file is too large") && line.contains("DD_SCAN_FILE_MAX_SIZE"),
        "{line}"
    );
}

#[test]
fn oversized_reports_stop_before_anything_is_created_unless_minifying_helps() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("size");
    let findings: Vec<Value> = (0..3000)
        .map(|i| json!({"title": format!("t{i}"), "severity": "Low", "description": "d"}))
        .collect();
    let pretty = serde_json::to_string_pretty(&json!({ "findings": findings })).unwrap();
    let padded = pretty.replace("\n", &format!("\n{}", " ".repeat(400)));
    assert!(padded.len() > 1024 * 1024);
    let path = tmp.file("pretty.json", &padded);
    let out = hook(&dojo)
        .env("DEFECTDOJO_MAX_UPLOAD_MB", "1")
        .args(&[path.to_str().unwrap()])
        .run();
    out.expect(0);
    assert!(out.stderr.contains("minified"), "{out}");
    assert!(dojo.last_import().unwrap().file_len < 1024 * 1024);

    let dense = tmp.file("dense.xml", format!("<a>{}</a>", "x".repeat(1024 * 1024)));
    let before = dojo.mutating_requests().len();
    let out = hook(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Nmap Scan")
        .env("DEFECTDOJO_MAX_UPLOAD_MB", "1")
        .args(&[dense.to_str().unwrap()])
        .run();
    out.expect(2);
    assert!(
        out.error_line().contains("DEFECTDOJO_MAX_UPLOAD_MB"),
        "{out}"
    );
    assert_eq!(dojo.mutating_requests().len(), before, "nothing created");
}

#[test]
fn the_gate_reads_no_more_pages_than_allowed() {
    // 260 new findings are two pages of 250: the gate pages through the one
    // list path, so DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS bounds it as it does every list.
    let titles: Vec<String> = (0..260).map(|i| format!("Finding {i}")).collect();
    let findings: Vec<(&str, &str)> = titles.iter().map(|t| (t.as_str(), "High")).collect();
    let tmp = TempDir::new("gate-pages");
    let path = tmp.file("r.json", report(&findings));
    for (max, code) in [("1", 1), ("2", 3)] {
        let dojo = FakeDojo::start(Flavour::V3);
        let out = hook(&dojo)
            .env("DEFECTDOJO_FAIL_ON", "High")
            .env("DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS", max)
            .args(&[path.to_str().unwrap()])
            .run();
        out.expect(code);
        if code == 1 {
            assert!(
                out.error_line()
                    .contains("more pages than DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS allows"),
                "{out}"
            );
        } else {
            assert_eq!(out.summary()["gate"]["findings"], 260);
        }
    }
}
