//! Network and trust: a private CA named by each of the three variables, every
//! certificate failure, http/https mix-ups, proxies and NO_PROXY, the key file and
//! the extra DefectDojo headers. The fakes serve HTTPS with the committed test PKI.

use crate::harness::{Hook, KEY, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour, Options};
use crate::support::fake_store::{FakeStore, StoreOptions};
use crate::support::proxy::FakeProxy;
use crate::support::tls::{self, Cert};

const CA_VARIABLES: [&str; 3] = ["DEFECTDOJO_CA_FILE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"];

fn tls_dojo(cert: Cert) -> FakeDojo {
    FakeDojo::start_tls(Options::new(Flavour::V3), tls::server_config(cert))
}

fn tls_store() -> FakeStore {
    FakeStore::start_tls(StoreOptions::default(), tls::server_config(Cert::Good))
}

/// An nmap import whose report is read from `store` and whose verdicts are
/// written back to it (a GET and a PUT of object storage, every kind of
/// DefectDojo call).
fn through_store(hook: Hook, store: &FakeStore) -> Hook {
    let report = std::fs::read(fixture("samples/nmap/nmap-results.xml")).unwrap();
    store.put_object("/b/nmap-results.xml", report);
    let raw = store.presigned_url("/b/nmap-results.xml");
    let out = store.presigned_url("/b/findings-out.json");
    hook.env("SCAN_TYPE", "nmap")
        .args(&[raw.as_str(), "unused", "unused", out.as_str()])
}

/// An nmap import of a local report: only DefectDojo is reached.
fn local_report(hook: Hook) -> Hook {
    let report = fixture("samples/nmap/nmap-results.xml");
    hook.env("SCAN_TYPE", "nmap")
        .args(&[report.as_str(), "unused"])
}

fn port(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn help_names_every_network_variable() {
    let out = Hook::bare().args(&["--help"]).run();
    out.expect(0);
    for var in CA_VARIABLES.iter().chain(&[
        "DEFECTDOJO_APIKEY_FILE",
        "DEFECTDOJO_EXTRA_HEADERS",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "NO_PROXY",
    ]) {
        assert!(out.stdout.contains(var), "--help lacks {var}");
    }
}

#[test]
fn a_private_ca_works_from_each_of_the_three_variables() {
    for var in CA_VARIABLES {
        let dojo = tls_dojo(Cert::Good);
        let store = tls_store();
        assert!(dojo.url.starts_with("https://") && store.url.starts_with("https://"));
        let out = through_store(Hook::new(&dojo).env(var, tls::ca_file()), &store).run();
        out.expect(0);
        assert!(
            out.stderr.contains(&format!(
                "trusting the web PKI roots and 1 certificate from {var}"
            )),
            "{out}"
        );
        assert!(dojo.last_import().is_some(), "{var}: imported over TLS");
        let methods: Vec<String> = store.requests().into_iter().map(|s| s.method).collect();
        assert_eq!(methods, ["GET", "PUT"], "{var}: storage over TLS too");
        assert!(store.object("/b/findings-out.json").is_some());
    }
}

#[test]
fn without_the_ca_the_issuer_is_unknown_and_the_variables_are_named() {
    let dojo = tls_dojo(Cert::Good);
    dojo.expect_no_calls();
    let out = local_report(Hook::new(&dojo)).run();
    out.expect(1);
    let line = out.error_line();
    assert!(line.contains("is issued by an unknown CA"), "{line}");
    assert!(
        line.contains("the web PKI roots only; no CA file is configured"),
        "{line}"
    );
    for var in CA_VARIABLES {
        assert!(line.contains(var), "{var} missing: {line}");
    }

    // Storage is checked the same way (its GET is the first request here).
    let store = tls_store();
    store.expect_no_calls();
    let out = through_store(Hook::new(&dojo), &store).run();
    out.expect(1);
    let line = out.error_line();
    assert!(line.contains("GET https://127.0.0.1:"), "{line}");
    assert!(line.contains("unknown CA"), "{line}");
    assert!(!line.contains("X-Amz-Signature"), "{line}");

    // A CA file that does not hold the issuer.
    let other = tls::path("other-ca.pem");
    let out = local_report(Hook::new(&dojo).env("DEFECTDOJO_CA_FILE", &other)).run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains(&format!("1 certificate from DEFECTDOJO_CA_FILE ({other})")),
        "{line}"
    );
    assert!(
        line.contains("that file does not hold the CA that issued it"),
        "{line}"
    );
}

#[test]
fn a_wrong_name_says_which_name_was_expected_and_which_the_certificate_has() {
    let dojo = tls_dojo(Cert::WrongName);
    dojo.expect_no_calls();
    let out = local_report(Hook::new(&dojo).env("DEFECTDOJO_CA_FILE", tls::ca_file())).run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains(&format!(
            "the certificate of 127.0.0.1:{} is not valid for the name 127.0.0.1 (it is for wrong.example)",
            port(&dojo.url)
        )),
        "{line}"
    );
    let localhost = dojo.url.replace("127.0.0.1", "localhost");
    let out = local_report(
        Hook::new(&dojo)
            .env("DEFECTDOJO_URL", localhost)
            .env("DEFECTDOJO_CA_FILE", tls::ca_file()),
    )
    .run();
    out.expect(1);
    assert!(
        out.error_line()
            .contains("is not valid for the name localhost (it is for wrong.example)"),
        "{out}"
    );
}

#[test]
fn an_expired_certificate_says_when() {
    let dojo = tls_dojo(Cert::Expired);
    dojo.expect_no_calls();
    let out = local_report(Hook::new(&dojo).env("NODE_EXTRA_CA_CERTS", tls::ca_file())).run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("expired on 2021-01-01 00:00:00 UTC (this machine's clock says 20"),
        "{line}"
    );
    assert!(line.contains("must be renewed"), "{line}");
}

#[test]
fn http_to_a_tls_port_and_https_to_a_plain_port() {
    let dojo = tls_dojo(Cert::Good);
    dojo.expect_no_calls();
    let plain = dojo.url.replace("https://", "http://");
    let out = local_report(Hook::new(&dojo).env("DEFECTDOJO_URL", plain)).run();
    out.expect(1);
    let line = out.error_line();
    assert!(line.contains("HTTP 400"), "{line}");
    assert!(
        line.contains("the port speaks TLS, but the URL says http://: use https://"),
        "{line}"
    );

    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let tls_url = dojo.url.replace("http://", "https://");
    let out = local_report(Hook::new(&dojo).env("DEFECTDOJO_URL", tls_url)).run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains(&format!(
            "TLS: 127.0.0.1:{} did not answer with TLS (it looks like plain HTTP): use http://",
            port(&dojo.url)
        )),
        "{line}"
    );
}

#[test]
fn ca_files_that_are_missing_or_hold_no_certificate_are_configuration_errors() {
    let tmp = TempDir::new("ca");
    let empty = tmp.file("empty.pem", "");
    let text = tmp.file("notes.pem", "not a certificate\n");
    for (var, path, want) in [
        (
            "DEFECTDOJO_CA_FILE",
            "/nonexistent/ca.pem".to_string(),
            "not found",
        ),
        (
            "SSL_CERT_FILE",
            empty.display().to_string(),
            "holds no certificate",
        ),
        (
            "NODE_EXTRA_CA_CERTS",
            text.display().to_string(),
            "holds no certificate",
        ),
        (
            "DEFECTDOJO_CA_FILE",
            tls::path("server.key"),
            "holds no certificate",
        ),
    ] {
        let out = Hook::bare()
            .env("DEFECTDOJO_URL", "https://dojo.example")
            .env("DEFECTDOJO_APIKEY", KEY)
            .env("SCAN_NAME", "s")
            .env(var, &path)
            .args(&["raw.xml", "f.json"])
            .run();
        out.expect(2);
        let line = out.error_line();
        assert!(line.contains(&format!("{var} {path}: {want}")), "{line}");
    }
}

#[test]
fn the_api_key_can_come_from_a_file() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("key");
    let file = tmp.file("apikey", format!("{KEY}\n"));
    let out = local_report(
        Hook::new(&dojo)
            .env("DEFECTDOJO_APIKEY", "")
            .env("DEFECTDOJO_APIKEY_FILE", file.display().to_string()),
    )
    .run();
    out.expect(0);
    let auth = format!("Token {KEY}");
    assert!(
        dojo.requests()
            .iter()
            .all(|s| s.header("authorization") == Some(auth.as_str()))
    );

    let empty = tmp.file("empty", "\n");
    for (key, file, want) in [
        (KEY, file.display().to_string(), "are both set"),
        ("", empty.display().to_string(), "is empty"),
        ("", "/nonexistent/key".to_string(), "not found"),
    ] {
        let out = Hook::new(&dojo)
            .env("DEFECTDOJO_APIKEY", key)
            .env("DEFECTDOJO_APIKEY_FILE", file)
            .args(&["raw.xml", "f.json"])
            .run();
        out.expect(2);
        assert!(out.error_line().contains(want), "{out}");
    }
}

#[test]
fn extra_headers_go_to_every_defectdojo_call_and_never_to_storage() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let headers = "CF-Access-Client-Id: client-id.access\n\
                   # Cloudflare Access service token\n\
                   CF-Access-Client-Secret: hdr-secret-4711\n";
    let out = through_store(
        Hook::new(&dojo).env("DEFECTDOJO_EXTRA_HEADERS", headers),
        &store,
    )
    .run();
    out.expect(0);
    let seen = dojo.requests();
    assert!(seen.iter().any(|s| s.path == "/api/v2/import-scan/"));
    for s in &seen {
        assert_eq!(
            s.header("cf-access-client-id"),
            Some("client-id.access"),
            "{} {}",
            s.method,
            s.path
        );
        assert_eq!(s.header("cf-access-client-secret"), Some("hdr-secret-4711"));
    }
    for s in store.requests() {
        assert_eq!(
            s.header("cf-access-client-id"),
            None,
            "{} {}",
            s.method,
            s.path
        );
        assert_eq!(s.header("cf-access-client-secret"), None);
    }

    for (value, want) in [
        (
            "X-Ok: 1\nAuthorization: Bearer abc",
            "DEFECTDOJO_EXTRA_HEADERS line 2 sets Authorization",
        ),
        (
            "X-Ok: 1\n\nno colon here",
            "DEFECTDOJO_EXTRA_HEADERS line 3 is not of the form `Name: value`",
        ),
    ] {
        let out = Hook::new(&dojo)
            .env("DEFECTDOJO_EXTRA_HEADERS", value)
            .args(&["raw.xml", "f.json"])
            .run();
        out.expect(2);
        assert!(out.error_line().contains(want), "{out}");
    }
}

#[test]
fn https_proxy_with_credentials_carries_defectdojo_while_plain_storage_goes_direct() {
    let dojo = tls_dojo(Cert::Good);
    let store = FakeStore::start();
    let proxy = FakeProxy::with_credentials("hook", "pa@ss");
    let out = through_store(
        Hook::new(&dojo)
            .env("DEFECTDOJO_CA_FILE", tls::ca_file())
            .env("HTTPS_PROXY", proxy.url_with("hook", "pa%40ss")),
        &store,
    )
    .run();
    out.expect(0);
    let tunnels = proxy.tunnels();
    assert!(!tunnels.is_empty());
    for t in &tunnels {
        assert_eq!(t.target, dojo.addr().to_string());
        assert_eq!(
            t.authorization.as_deref(),
            Some(FakeProxy::basic("hook", "pa@ss").as_str())
        );
        assert!(t.opened);
    }
    assert_eq!(store.requests().len(), 2, "storage went direct");
    assert!(
        out.stderr
            .contains(&format!("via {} (HTTPS_PROXY)", proxy.url)),
        "{out}"
    );
}

#[test]
fn lower_case_http_proxy_carries_plain_http_for_both() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let proxy = FakeProxy::start();
    let out = through_store(
        Hook::new(&dojo)
            .env("http_proxy", &proxy.url)
            .env("HTTP_PROXY", "http://127.0.0.1:1"),
        &store,
    )
    .run();
    out.expect(0);
    let targets = proxy.targets();
    assert!(targets.contains(&dojo.addr().to_string()), "{targets:?}");
    assert!(targets.contains(&store.addr().to_string()), "{targets:?}");
}

#[test]
fn no_proxy_follows_curl() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let proxy = FakeProxy::start();
    let run = |no_proxy: &str| {
        let before = proxy.tunnels().len();
        through_store(
            Hook::new(&dojo)
                .env("HTTP_PROXY", &proxy.url)
                .env("NO_PROXY", no_proxy),
            &store,
        )
        .run()
        .expect(0);
        proxy.targets()[before..].to_vec()
    };
    let (dojo_addr, store_addr) = (dojo.addr().to_string(), store.addr().to_string());

    for everything in [
        "127.0.0.1",
        "*",
        "example.com, 127.0.0.0/8",
        "::1 127.0.0.1",
    ] {
        assert!(run(everything).is_empty(), "NO_PROXY={everything}");
    }
    let only_dojo = run(&format!("127.0.0.1:{}", store.addr().port()));
    assert!(!only_dojo.is_empty());
    assert!(only_dojo.iter().all(|t| *t == dojo_addr), "{only_dojo:?}");
    let both = run("localhost,.example.com");
    assert!(
        both.contains(&dojo_addr) && both.contains(&store_addr),
        "{both:?}"
    );

    // A name entry with a leading dot matches the name itself, as in curl.
    let before = proxy.tunnels().len();
    let by_name = dojo.url.replace("127.0.0.1", "localhost");
    local_report(
        Hook::new(&dojo)
            .env("DEFECTDOJO_URL", by_name)
            .env("HTTP_PROXY", &proxy.url)
            .env("no_proxy", ".LOCALHOST"),
    )
    .run()
    .expect(0);
    assert_eq!(proxy.tunnels().len(), before);
}

#[test]
fn proxy_failures_name_the_proxy_and_its_variable_without_credentials() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let proxy = FakeProxy::with_credentials("hook", "right");
    let out =
        local_report(Hook::new(&dojo).env("HTTP_PROXY", proxy.url_with("hook", "wrong-pw"))).run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains(&format!(
            "the proxy {} (HTTP_PROXY) wants credentials",
            proxy.url
        )),
        "{line}"
    );
    assert!(line.contains("(HTTP 407)"), "{line}");
    assert!(!out.stderr.contains("wrong-pw"), "{out}");
    assert_eq!(proxy.tunnels().len(), 1);

    let out = local_report(Hook::new(&dojo).env("http_proxy", "http://u:p@127.0.0.1:1")).run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("the proxy http://127.0.0.1:1 (http_proxy) cannot be reached"),
        "{line}"
    );

    let out = Hook::new(&dojo)
        .env("HTTPS_PROXY", "socks5://u:secret-pw@127.0.0.1:1080")
        .args(&["raw.xml", "f.json"])
        .run();
    out.expect(2);
    assert!(
        out.error_line()
            .contains("HTTPS_PROXY 'socks5://127.0.0.1:1080' is a socks5:// proxy")
    );
    assert!(!out.stderr.contains("secret-pw"));
}
