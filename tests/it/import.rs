//! The import path: context, every mapped scan type, the generic path,
//! inputs from files and URLs, spool and two-pass bodies.

use serde_json::json;

use crate::harness::{Hook, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_store::FakeStore;

/// The 14 native mappings with a report each (samples or hand-made).
const NATIVE: &[(&str, &str, &str)] = &[
    ("nmap", "Nmap Scan", "samples/nmap/nmap-results.xml"),
    (
        "zap-automation-framework",
        "ZAP Scan",
        "samples/zap/xml-nginx/nginx.xml",
    ),
    (
        "sslyze",
        "Sslyze Scan",
        "samples/sslyze/expired.badssl.com.json",
    ),
    ("ssh-audit", "SSH Audit Importer", "reports/ssh-audit.json"),
    (
        "trivy-image",
        "Trivy Scan",
        "samples/trivy/repo/securecodebox-repo.json",
    ),
    (
        "trivy-image-autodiscovery",
        "Trivy Scan",
        "samples/trivy/repo/securecodebox-repo.json",
    ),
    (
        "trivy-filesystem",
        "Trivy Scan",
        "samples/trivy/repo/securecodebox-repo.json",
    ),
    (
        "trivy-repo",
        "Trivy Scan",
        "samples/trivy/repo/securecodebox-repo.json",
    ),
    (
        "trivy-k8s",
        "Trivy Scan",
        "samples/trivy/repo/securecodebox-repo.json",
    ),
    (
        "gitleaks",
        "Gitleaks Scan",
        "samples/gitleaks/test-report.json",
    ),
    ("nikto", "Nikto Scan", "samples/nikto/juice-shop.json"),
    ("nuclei", "Nuclei Scan", "reports/nuclei-results.jsonl"),
    ("wpscan", "Wpscan", "reports/wpscan-results.json"),
    (
        "semgrep",
        "Semgrep JSON Report",
        "samples/semgrep/semgrep-findings.json",
    ),
];

#[test]
fn every_native_scan_type_uploads_the_raw_report() {
    let dojo = FakeDojo::start(Flavour::V3);
    for (scb, dd, report) in NATIVE {
        let path = fixture(report);
        let out = Hook::new(&dojo)
            .env("SCAN_TYPE", *scb)
            .env("SCAN_NAME", format!("scan-{scb}"))
            .args(&[path.as_str(), "unused-findings.json"])
            .run();
        out.expect(0);
        let import = dojo.last_import().expect("an import");
        assert_eq!(import.field("scan_type"), Some(*dd), "{scb}");
        let want_name = report.rsplit('/').next().unwrap();
        assert_eq!(import.file_name.as_deref(), Some(want_name), "{scb}");
        assert_eq!(
            import.file_len as u64,
            std::fs::metadata(&path).unwrap().len(),
            "{scb}"
        );
        assert_eq!(out.summary()["scan_type"], *dd);
    }
}

#[test]
fn generic_import_keeps_every_sample_finding() {
    let dojo = FakeDojo::start(Flavour::V3);
    for sample in [
        "nmap",
        "nikto",
        "semgrep",
        "gitleaks",
        "sslyze",
        "trivy/repo",
        "zap/xml-juice-shop",
    ] {
        let path = fixture(&format!("samples/{sample}/findings.json"));
        let input: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let out = Hook::new(&dojo)
            .env("SCAN_TYPE", "some-custom-scanner")
            .env("SCAN_NAME", format!("generic-{}", sample.replace('/', "-")))
            .args(&["unused-raw.xml", path.as_str()])
            .run();
        out.expect(0);
        let import = dojo.last_import().unwrap();
        assert_eq!(import.field("scan_type"), Some("Generic Findings Import"));
        assert_eq!(import.file_name.as_deref(), Some("findings.json"));
        let test = out.summary()["test_id"].as_u64().unwrap();
        assert_eq!(
            dojo.state().findings_of(test).len(),
            input.len(),
            "{sample}: every finding must arrive, none collapsed"
        );
        assert_eq!(out.summary()["findings"]["total"], input.len());
    }
}

#[test]
fn findings_differing_only_in_location_stay_two() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("loc");
    let f = |loc: &str| {
        json!({"id": "x", "name": "Open Port", "category": "Open Port", "severity": "INFORMATIONAL",
               "location": loc, "description": "Port is open", "parsed_at": "2024-01-01T00:00:00Z"})
    };
    let path = tmp.file(
        "findings.json",
        json!([f("tcp://10.0.0.1:22"), f("tcp://10.0.0.2:22")]).to_string(),
    );
    let out = Hook::new(&dojo)
        .args(&["raw.xml", path.to_str().unwrap()])
        .run();
    out.expect(0);
    let test = out.summary()["test_id"].as_u64().unwrap();
    let st = dojo.state();
    let found = st.findings_of(test);
    assert_eq!(found.len(), 2);
    assert!(
        found.iter().all(|f| !f.duplicate),
        "no duplicate among the two"
    );
    assert!(out.stderr.contains("no scan type given"), "{out}");
}

#[test]
fn creates_the_whole_context_then_reuses_it() {
    let dojo = FakeDojo::start(Flavour::V3);
    let scan = json!({
        "metadata": {"name": "nmap-1", "creationTimestamp": "2026-11-27T06:00:00Z", "annotations": {
            "defectdojo.securecodebox.io/product-type-name": "Team A",
            "defectdojo.securecodebox.io/product-name": "Web App",
            "defectdojo.securecodebox.io/product-tags": "a, b",
            "defectdojo.securecodebox.io/engagement-name": "Nightly",
            "defectdojo.securecodebox.io/engagement-version": "1.2",
            "defectdojo.securecodebox.io/test-title": "Nmap nightly"
        }},
        "spec": {"scanType": "nmap", "parameters": ["-Pn", "example.com"]}
    });
    let raw = fixture("samples/nmap/nmap-results.xml");
    let run = || {
        Hook::new(&dojo)
            .scan_file(&scan)
            .args(&[raw.as_str(), "f.json"])
            .run()
    };
    let first = run();
    first.expect(0);
    let s = first.summary();
    assert_eq!(s["engagement_created"], true);
    {
        let st = dojo.state();
        let pt = st
            .product_types
            .iter()
            .find(|p| p.name == "Team A")
            .expect("product type created");
        let product = st
            .products
            .iter()
            .find(|p| p.name == "Web App")
            .expect("product created");
        assert_eq!(product.prod_type, pt.id);
        assert_eq!(product.tags, vec!["a", "b"]);
        let e = st.engagement(s["engagement_id"].as_u64().unwrap()).unwrap();
        assert_eq!(e.version.as_deref(), Some("1.2"));
        assert_eq!(e.branch_tag.as_deref(), Some("1.2"));
        assert_eq!(e.status, "In Progress");
        assert_eq!(e.engagement_type, "CI/CD");
        assert!(
            e.cicd_orchestration_engine.is_some(),
            "3.x links a CI/CD orchestration engine"
        );
        let test = st.test(s["test_id"].as_u64().unwrap()).unwrap();
        assert_eq!(test.title.as_deref(), Some("Nmap nightly"));
        let desc = test.description.clone().unwrap_or_default();
        assert!(
            desc.starts_with("# Nmap Scan\nStarted: 27.11.2026 06:00:00\nEnded: "),
            "{desc}"
        );
        assert!(
            desc.ends_with("ScanType: nmap\nParameters: [-Pn,example.com]"),
            "{desc}"
        );
    }
    let import = dojo.last_import().unwrap();
    assert_eq!(import.field("version"), Some("1.2"));
    assert_eq!(import.real_title(), Some("Nmap nightly"));
    assert_eq!(
        import.field("scan_date"),
        None,
        "scan_date only when configured"
    );
    assert_eq!(import.field("deduplication_execution_mode"), None);

    let second = run();
    second.expect(0);
    let s2 = second.summary();
    assert_eq!(s2["engagement_created"], false);
    assert_eq!(s2["engagement_id"], s["engagement_id"]);
    assert_eq!(s2["product_id"], s["product_id"]);
    assert_ne!(s2["test_id"], s["test_id"], "a new test per run");
    let st = dojo.state();
    assert_eq!(
        st.products.iter().filter(|p| p.name == "Web App").count(),
        1
    );
    assert_eq!(
        st.product_types
            .iter()
            .filter(|p| p.name == "Team A")
            .count(),
        1
    );
}

#[test]
fn dojo_2x_links_the_tool_configuration() {
    let dojo = FakeDojo::start(Flavour::V2);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[raw.as_str(), "f.json"])
        .run();
    out.expect(0);
    let st = dojo.state();
    let e = st
        .engagement(out.summary()["engagement_id"].as_u64().unwrap())
        .unwrap();
    let config = st
        .tool_configurations
        .iter()
        .find(|c| c.name == "secureCodeBox")
        .expect("tool configuration");
    assert_eq!(e.orchestration_engine, Some(config.id));
    assert!(
        st.tool_types
            .iter()
            .any(|t| t.name == "Security Test Orchestration Engine")
    );
}

#[test]
fn names_with_special_characters_are_found_exactly() {
    let dojo = FakeDojo::start(Flavour::V3);
    let name = "R&D + Ops/Überwachung \"α\"";
    let pt = dojo.seed_product_type(name);
    dojo.seed_product_type("R&D");
    let product = dojo.seed_product(name, pt);
    dojo.seed_product(&format!("{name} 2"), pt);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .env("DEFECTDOJO_PRODUCT_TYPE_NAME", name)
        .env("DEFECTDOJO_PRODUCT_NAME", name)
        .args(&[raw.as_str(), "f.json"])
        .run();
    out.expect(0);
    let s = out.summary();
    assert_eq!(s["product_type_id"], pt);
    assert_eq!(s["product_id"], product);
    assert!(
        dojo.requests_to("/api/v2/product_types/")
            .iter()
            .all(|r| r.method == "GET"),
        "nothing created"
    );
}

#[test]
fn product_under_another_type_is_used_with_a_warning() {
    let dojo = FakeDojo::start(Flavour::V3);
    let other = dojo.seed_product_type("Other");
    dojo.seed_product_type("Mine");
    let product = dojo.seed_product("Shop", other);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .env("DEFECTDOJO_PRODUCT_TYPE_NAME", "Mine")
        .env("DEFECTDOJO_PRODUCT_NAME", "Shop")
        .args(&[raw.as_str(), "f.json"])
        .run();
    out.expect(0);
    assert_eq!(out.summary()["product_id"], product);
    assert!(out.stderr.contains("belongs to product type"), "{out}");
}

#[test]
fn minimum_severity_reaches_dojo_in_both_spellings() {
    let dojo = FakeDojo::start(Flavour::V3);
    let raw = fixture("samples/nmap/nmap-results.xml");
    for (key, value, want) in [
        (
            "defectdojo.securecodebox.io/minimum_severity",
            "HIGH",
            "High",
        ),
        (
            "defectdojo.securecodebox.io/minimum-severity",
            "informational",
            "Info",
        ),
    ] {
        let out = Hook::new(&dojo)
            .env("SCAN_TYPE", "nmap")
            .scan_file(&json!({ key: value }))
            .args(&[raw.as_str(), "f.json"])
            .run();
        out.expect(0);
        assert_eq!(
            dojo.last_import().unwrap().field("minimum_severity"),
            Some(want)
        );
    }
}

#[test]
fn low_privileged_mode_never_creates_product_types_nor_engines() {
    let mut opts = crate::support::fake_dojo::Options::new(Flavour::V3);
    opts.lowpriv_key = Some("low-key".into());
    let dojo = FakeDojo::start_with(opts);
    let raw = fixture("samples/nmap/nmap-results.xml");
    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_APIKEY", "low-key")
        .env("DEFECTDOJO_LOW_PRIVILEGED_MODE", "true")
        .env("SCAN_TYPE", "nmap")
        .env("DEFECTDOJO_PRODUCT_TYPE_NAME", "Missing")
        .args(&[raw.as_str(), "f.json"])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("Missing") && line.contains("administrator"),
        "{line}"
    );
    assert!(
        dojo.mutating_requests().is_empty(),
        "nothing may be created"
    );

    let pt = dojo.seed_product_type("Granted");
    let out = Hook::new(&dojo)
        .env("DEFECTDOJO_APIKEY", "low-key")
        .env("DEFECTDOJO_LOW_PRIVILEGED_MODE", "true")
        .env("SCAN_TYPE", "nmap")
        .env("DEFECTDOJO_PRODUCT_TYPE_NAME", "Granted")
        .args(&[raw.as_str(), "f.json"])
        .run();
    out.expect(0);
    assert_eq!(out.summary()["product_type_id"], pt);
    assert!(dojo.requests_to("/api/v2/cicd_infrastructure/").is_empty());
    assert!(dojo.requests_to("/api/v2/tool_").is_empty());
}

#[test]
fn inputs_from_presigned_urls() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let raw = std::fs::read(fixture("samples/nmap/nmap-results.xml")).unwrap();
    store.put_object("/bucket/scan-1/nmap-results.xml", raw.clone());
    let findings = std::fs::read(fixture("samples/nmap/findings.json")).unwrap();
    store.put_object("/bucket/scan-1/findings.json", findings);
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[
            store.presigned_url("/bucket/scan-1/nmap-results.xml"),
            store.presigned_url("/bucket/scan-1/findings.json"),
        ])
        .run();
    out.expect(0);
    let import = dojo.last_import().unwrap();
    assert_eq!(import.file_name.as_deref(), Some("nmap-results.xml"));
    assert_eq!(import.file.as_deref(), Some(&raw[..]));

    // The generic path reads the findings URL.
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "ncrack")
        .args(&[
            store.presigned_url("/bucket/scan-1/nmap-results.xml"),
            store.presigned_url("/bucket/scan-1/findings.json"),
        ])
        .run();
    out.expect(0);
    assert_eq!(out.summary()["findings"]["total"], 8);
}

#[test]
fn two_pass_mode_without_a_writable_temp_dir() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    store.set_chunked_gets(true);
    let findings = std::fs::read(fixture("samples/nikto/findings.json")).unwrap();
    store.put_object("/b/findings.json", findings);
    let raw = std::fs::read(fixture("samples/nikto/juice-shop.json")).unwrap();
    store.put_object("/b/nikto-results.json", raw.clone());
    for scan_type in ["nikto", "kube-hunter"] {
        let out = Hook::new(&dojo)
            .env("TMPDIR", "/nonexistent/dir")
            .env("SCAN_TYPE", scan_type)
            .args(&[
                store.presigned_url("/b/nikto-results.json"),
                store.presigned_url("/b/findings.json"),
            ])
            .run();
        out.expect(0);
        assert_eq!(out.summary()["body"], "two passes", "{out}");
    }
    assert_eq!(dojo.imports()[0].file.as_deref(), Some(&raw[..]));
    let gets = store
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(gets, 4, "each source is read twice");
}
