//! No API key and no presigned query string in any output, at any log level.

use crate::harness::{Hook, KEY, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_store::FakeStore;
use crate::support::http::Fault;

fn assert_clean(out: &crate::harness::Output, secrets: &[&str]) {
    out.assert_clean(secrets);
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

#[test]
fn trace_logging_leaks_no_proxy_credentials_key_file_or_header_values() {
    use crate::harness::TempDir;
    use crate::support::fake_dojo::Options;
    use crate::support::proxy::FakeProxy;
    use crate::support::tls::{self, Cert};

    const FILE_KEY: &str = "filekey-5520-secret";
    const PROXY_PW: &str = "proxy-pw-7391";
    const HEADER_VALUE: &str = "hdr-secret-8812";
    let mut opts = Options::new(Flavour::V3);
    opts.admin_key = FILE_KEY.to_string();
    let dojo = FakeDojo::start_tls(opts, tls::server_config(Cert::Good));
    let store = FakeStore::start();
    store.put_object(
        "/b/nmap-results.xml",
        std::fs::read(fixture("samples/nmap/nmap-results.xml")).unwrap(),
    );
    let proxy = FakeProxy::with_credentials("hook", PROXY_PW);
    let tmp = TempDir::new("secrets");
    let key_file = tmp.file("apikey", format!("{FILE_KEY}\n"));
    let basic = FakeProxy::basic("hook", PROXY_PW);
    let basic_value = basic.trim_start_matches("Basic ");
    let secrets = [
        FILE_KEY,
        PROXY_PW,
        basic_value,
        HEADER_VALUE,
        "wrong-pw-3319",
        "no-colon-secret-6612",
        "auth-secret-2231",
        "X-Amz-Signature",
    ];
    let raw_url = store.presigned_url("/b/nmap-results.xml");
    let out_url = store.presigned_url("/b/findings-out.json");
    let hook = |proxy_url: String| {
        Hook::new(&dojo)
            .env("RUST_LOG", "trace")
            .env("DEFECTDOJO_APIKEY", "")
            .env("DEFECTDOJO_APIKEY_FILE", key_file.display().to_string())
            .env("DEFECTDOJO_CA_FILE", tls::ca_file())
            .env(
                "DEFECTDOJO_EXTRA_HEADERS",
                format!("X-Gate-Token: {HEADER_VALUE}"),
            )
            .env("HTTPS_PROXY", proxy_url)
            .env("HTTP_PROXY", proxy.url_with("hook", PROXY_PW))
            .env("SCAN_TYPE", "nmap")
            .args(&[raw_url.as_str(), "unused", "unused", out_url.as_str()])
    };

    let ok = hook(proxy.url_with("hook", PROXY_PW)).run();
    ok.expect(0);
    assert_clean(&ok, &secrets);
    assert!(
        ok.stderr.contains("TRACE") || ok.stderr.contains("DEBUG"),
        "{ok}"
    );
    assert!(
        proxy.tunnels().len() >= 2,
        "storage and DefectDojo went through the proxy"
    );

    let failed = hook(proxy.url_with("hook", "wrong-pw-3319")).run();
    failed.expect(1);
    assert_clean(&failed, &secrets);

    for headers in [
        "X-Ok: 1\nno-colon-secret-6612",
        "Authorization: Bearer auth-secret-2231",
    ] {
        let bad = hook(proxy.url_with("hook", PROXY_PW))
            .env("DEFECTDOJO_EXTRA_HEADERS", headers)
            .run();
        bad.expect(2);
        assert_clean(&bad, &secrets);
    }
    let both = hook(proxy.url_with("hook", PROXY_PW))
        .env("DEFECTDOJO_APIKEY", FILE_KEY)
        .run();
    both.expect(2);
    assert_clean(&both, &secrets);
}
