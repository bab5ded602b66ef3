//! No API key and no presigned query string in any output, at any log level.

use crate::harness::{Hook, KEY, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_store::FakeStore;
use crate::support::http::Fault;

fn assert_clean(out: &crate::harness::Output, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !out.stdout.contains(secret),
            "stdout leaks {secret}:\n{out}"
        );
        assert!(
            !out.stderr.contains(secret),
            "stderr leaks {secret}:\n{out}"
        );
    }
}

#[test]
fn trace_logging_leaks_nothing_on_success_and_failure() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let raw = std::fs::read(fixture("samples/nmap/nmap-results.xml")).unwrap();
    store.put_object("/b/nmap-results.xml", raw);
    store.put_object(
        "/b/findings.json",
        std::fs::read(fixture("samples/nmap/findings.json")).unwrap(),
    );
    let raw_url = store.presigned_url("/b/nmap-results.xml");
    let signature = raw_url
        .split("X-Amz-Signature=")
        .nth(1)
        .unwrap()
        .to_string();
    let secrets = [
        KEY,
        signature.as_str(),
        "X-Amz-Credential",
        "X-Amz-Signature",
    ];
    let out_url = store.presigned_url("/b/findings-out.json");
    let run = |hook: Hook| {
        let out = hook.env("RUST_LOG", "trace").run();
        assert_clean(&out, &secrets);
        out
    };

    let ok = run(Hook::new(&dojo).env("SCAN_TYPE", "nmap").args(&[
        raw_url.as_str(),
        &store.presigned_url("/b/findings.json"),
        "unused",
        &out_url,
    ]));
    ok.expect(0);
    assert!(
        ok.stderr.contains("TRACE") || ok.stderr.contains("DEBUG"),
        "trace logging is on:\n{ok}"
    );

    dojo.fail(Fault::status(
        "POST",
        "/api/v2/import-scan/",
        400,
        r#"{"detail":"bad"}"#,
    ));
    run(Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[raw_url.as_str(), "f"]))
    .expect(1);
    store.fail(FakeStore::expired("GET", "/b/"));
    run(Hook::new(&dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[raw_url.as_str(), "f"]))
    .expect(1);
    store.fail(FakeStore::expired("PUT", "/b/"));
    run(Hook::new(&dojo).env("SCAN_TYPE", "nmap").args(&[
        raw_url.as_str(),
        "f",
        "unused",
        &out_url,
    ]))
    .expect(1);
}
