//! What a newcomer reads on a first run: lines that are true for this run,
//! each thing named once.

use crate::harness::{Hook, KEY, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_store::FakeStore;

/// The README's laptop example, with the verdicts written to a file.
fn laptop(dojo: &FakeDojo) -> Hook {
    Hook::bare()
        .env("DEFECTDOJO_URL", dojo.url.clone())
        .env("DEFECTDOJO_APIKEY", KEY)
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .env("DEFECTDOJO_PRODUCT_NAME", "shop")
}

#[test]
fn a_laptop_run_says_only_what_happened() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("first-run");
    let trivy = fixture("samples/trivy/repo/securecodebox-repo.json");
    let verdicts = tmp.path().join("verdicts.json");
    let out = laptop(&dojo)
        .env("DEFECTDOJO_FINDINGS_OUTPUT", verdicts.display().to_string())
        .args(&[trivy.as_str()])
        .run();
    out.expect(0);
    // One page read back: "1 page", not "1 pages".
    assert!(out.stderr.contains(" (1 page, "), "{out}");
    assert!(!out.stderr.contains(" 1 pages"), "{out}");
    // Outside Kubernetes: every CI run is.
    assert!(!out.stderr.contains("Kubernetes"), "{out}");
    // The report is a local file (streamed); only the read-back is spooled, said once.
    assert!(!out.stderr.contains("spooling to"), "{out}");
    assert_eq!(
        out.stderr.matches("spooled to a temp file").count(),
        1,
        "{out}"
    );
}

#[test]
fn a_missing_report_is_named_once_and_nothing_is_said_before() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let out = laptop(&dojo).args(&["/nonexistent/trivy.json"]).run();
    out.expect(2);
    assert_eq!(
        out.stderr.trim_end(),
        "dojo-hook: error: raw report (/nonexistent/trivy.json): not found: check the path"
    );
    // The converted path (a secureCodeBox scan type without a native parser).
    let out = Hook::new(&dojo)
        .env("SCAN_TYPE", "ncrack")
        .args(&["/nonexistent/raw.txt", "/nonexistent/findings.json"])
        .run();
    out.expect(2);
    assert!(!out.stderr.contains("spool"), "{out}");
    assert_eq!(
        out.error_line(),
        "dojo-hook: error: findings (/nonexistent/findings.json): not found: check the path"
    );
}

#[test]
fn a_dry_run_names_the_default_product_type_and_spools_nothing() {
    let dojo = FakeDojo::start(Flavour::V3);
    let trivy = fixture("samples/trivy/repo/securecodebox-repo.json");
    let out = laptop(&dojo)
        .env("DEFECTDOJO_DRY_RUN", "true")
        .args(&[trivy.as_str()])
        .run();
    out.expect(0);
    let plan = out.summary()["plan"].to_string();
    assert!(
        plan.contains(
            r#"would create product \"shop\" in product type id 1 (no DEFECTDOJO_PRODUCT_TYPE_NAME)"#
        ),
        "{plan}"
    );
    assert!(!plan.contains("\\\"id 1\\\""), "{plan}");
    assert!(!out.stderr.contains("spool"), "{out}");
}

#[test]
fn a_spooled_download_is_said_when_it_happens() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    // No Content-Length: the report is spooled to the temp dir before the upload.
    store.set_chunked_gets(true);
    let raw = std::fs::read(fixture("samples/nikto/juice-shop.json")).unwrap();
    store.put_object("/b/nikto-results.json", raw);
    let tmp = TempDir::new("spooled");
    let out = Hook::new(&dojo)
        .env("TMPDIR", tmp.path().display().to_string())
        .env("SCAN_TYPE", "nikto")
        .args(&[
            store.presigned_url("/b/nikto-results.json"),
            store.presigned_url("/b/findings.json"),
        ])
        .run();
    out.expect(0);
    assert_eq!(out.summary()["body"], "spooled", "{out}");
    let line = format!("spooled to a temp file in {}", tmp.path().display());
    assert_eq!(out.stderr.matches(&line).count(), 1, "{out}");
}
