//! The fault suite: every failure of DefectDojo, object storage, the inputs
//! and the configuration ends with its exit code and exactly one clear
//! error line, sends nothing it should not, and leaves the stored findings
//! as they were. Every case runs twice: once as its own test, and once more
//! under `RUST_LOG=trace` in [`every_case_under_trace_logging_leaks_no_secret`],
//! which checks that neither the API key nor a presigned signature or
//! credential reaches stdout or stderr.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Hook, KEY, Output, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_store::FakeStore;
use crate::support::http::{Body, Fault, Generator, Handler, Reply, Response, Server};

const WRONG_KEY: &str = "wrong-key-5521";
const IMPORT: &str = "/api/v2/import-scan/";
const PROFILE: &str = "/api/v2/user_profile/";

/// Runs `hook`; under `trace`, with trace logging, checking for secrets.
fn go(hook: Hook, trace: bool) -> Output {
    let out = if trace {
        hook.env("RUST_LOG", "trace").run()
    } else {
        hook.run()
    };
    if trace {
        out.assert_clean(&[KEY, WRONG_KEY, "X-Amz-Signature", "X-Amz-Credential"]);
    }
    out
}

/// The one error line (with trace logging, other lines may say "error:").
fn line(out: &Output) -> String {
    let ours: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("dojo-hook: error:"))
        .collect();
    assert_eq!(ours.len(), 1, "expected exactly one error line:\n{out}");
    if !out.stderr.contains("TRACE") {
        assert_eq!(out.error_line(), ours[0]);
    }
    ours[0].to_string()
}

/// Asserts that what started at `started` took less than `secs` seconds.
#[track_caller]
fn ended_within(started: Instant, secs: u64) {
    let took = started.elapsed();
    assert!(took < Duration::from_secs(secs), "took {took:?}");
}

#[track_caller]
fn fails(out: &Output, code: i32, needles: &[&str]) -> String {
    out.expect(code);
    let l = line(out);
    eprintln!("{l}");
    for n in needles {
        assert!(l.contains(n), "{n:?} missing from: {l}");
    }
    l
}

/// An nmap import of the sample report.
fn nmap(dojo: &FakeDojo) -> Hook {
    Hook::new(dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[fixture("samples/nmap/nmap-results.xml").as_str(), "f"])
}

/// A generic import of a local findings.json with `content`.
fn generic(dojo: &FakeDojo, tmp: &TempDir, content: impl AsRef<[u8]>) -> Hook {
    let path = tmp.file("findings.json", content);
    Hook::new(dojo)
        .env("SCAN_TYPE", "custom")
        .args(&["raw", path.to_str().unwrap()])
}

fn import_posts(dojo: &FakeDojo) -> usize {
    dojo.requests_to(IMPORT).len()
}

fn gets(dojo: &FakeDojo, path: &str) -> usize {
    dojo.requests_to(path)
        .iter()
        .filter(|r| r.method == "GET")
        .count()
}

// ---- DefectDojo answers ------------------------------------------------------------

fn dojo_400_field_errors(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status(
        "POST",
        IMPORT,
        400,
        r#"{"scan_type":["\"X\" is not a valid choice."],"message":"{'scan_type': [...]}","pro":["Pro comes with support."]}"#,
    ));
    let l = fails(
        &go(nmap(&dojo), trace),
        1,
        &["HTTP 400", "scan_type: \"X\" is not a valid choice."],
    );
    assert!(!l.contains("Pro comes"), "{l}");
    assert_eq!(import_posts(&dojo), 1, "a 400 is not sent again");
}

fn dojo_400_bare_list(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status(
        "POST",
        IMPORT,
        400,
        r#"["Engagement \"9\" does not exist"]"#,
    ));
    fails(
        &go(nmap(&dojo), trace),
        1,
        &["HTTP 400: Engagement \"9\" does not exist"],
    );
    assert_eq!(import_posts(&dojo), 1);
}

fn dojo_403_bad_token(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let out = go(nmap(&dojo).env("DEFECTDOJO_APIKEY", WRONG_KEY), trace);
    fails(&out, 1, &["403", "Invalid token", "DEFECTDOJO_APIKEY"]);
    assert!(dojo.mutating_requests().is_empty(), "nothing created");
    assert_eq!(gets(&dojo, PROFILE), 1, "a 403 is not retried");
}

fn dojo_404(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status("GET", PROFILE, 404, r#"{"detail":"Not found."}"#).always());
    fails(&go(nmap(&dojo), trace), 1, &["HTTP 404: Not found."]);
    assert!(dojo.mutating_requests().is_empty());
    assert_eq!(gets(&dojo, PROFILE), 1, "a 404 is not retried");
}

fn dojo_413_html(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status(
            "POST",
            IMPORT,
            413,
            "<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>",
        )
        .content_type("text/html"),
    );
    fails(
        &go(nmap(&dojo), trace),
        1,
        &["413 Request Entity Too Large", "client_max_body_size"],
    );
    assert_eq!(import_posts(&dojo), 1);
}

fn dojo_500_parser_error(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status(
        "POST",
        IMPORT,
        500,
        r#"{"message":"Internal server error, check logs for details","pro":["x"]}"#,
    ));
    let out = go(
        nmap(&dojo).env("DEFECTDOJO_GENERIC_FALLBACK", "false"),
        trace,
    );
    fails(
        &out,
        1,
        &["HTTP 500", "Internal server error", "\"Nmap Scan\" parser"],
    );
    assert_eq!(import_posts(&dojo), 1, "a 500 is not sent again");
}

fn dojo_503_retry_after_then_success(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status("GET", PROFILE, 503, "busy")
            .header("Retry-After", "1")
            .times(2),
    );
    let out = go(nmap(&dojo), trace);
    out.expect(0);
    assert_eq!(gets(&dojo, PROFILE), 3);
    assert!(out.stderr.contains("HTTP 503; retrying in 1.0 s"), "{out}");
    assert_eq!(import_posts(&dojo), 1);
}

fn dojo_502_exhausted(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status("GET", PROFILE, 502, "bad gateway").always());
    let out = go(nmap(&dojo), trace);
    fails(&out, 1, &["HTTP 502", "bad gateway"]);
    assert_eq!(gets(&dojo, PROFILE), 4, "4 attempts in all");
    assert!(out.stderr.contains("giving up after 4 attempts"), "{out}");
    assert!(dojo.mutating_requests().is_empty());
}

fn dojo_429_honours_retry_after(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status(
            "GET",
            "/api/v2/engagements/",
            429,
            r#"{"detail":"Request was throttled."}"#,
        )
        .header("Retry-After", "1"),
    );
    let out = go(nmap(&dojo), trace);
    out.expect(0);
    assert!(out.stderr.contains("HTTP 429; retrying in 1.0 s"), "{out}");
}

fn retry_after_beyond_the_deadline_gives_up_at_once(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status(
            "GET",
            PROFILE,
            429,
            r#"{"detail":"Request was throttled."}"#,
        )
        .header("Retry-After", "3600")
        .always(),
    );
    let started = Instant::now();
    let out = go(nmap(&dojo).env("DEFECTDOJO_DEADLINE_SECONDS", "20"), trace);
    fails(&out, 1, &["HTTP 429", "throttled"]);
    assert_eq!(
        gets(&dojo, PROFILE),
        1,
        "a wait past the deadline is not started"
    );
    ended_within(started, 5);
}

fn description_patch_503_is_retried(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status("PATCH", "/api/v2/tests/", 503, "busy"));
    let out = go(nmap(&dojo), trace);
    out.expect(0);
    let patches = dojo.requests_to("/api/v2/tests/");
    assert_eq!(patches.iter().filter(|r| r.method == "PATCH").count(), 2);
    assert!(dojo.state().tests[0].description.is_some());
}

fn import_503_is_sent_again(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status("POST", IMPORT, 503, "overloaded").header("Retry-After", "1"));
    let out = go(nmap(&dojo), trace);
    out.expect(0);
    assert_eq!(import_posts(&dojo), 2, "a 503 proves it did not land");
    assert_eq!(dojo.state().tests.len(), 1, "one test");
}

fn import_answer_lost_but_landed(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::handle_then_close("POST", IMPORT));
    let out = go(nmap(&dojo), trace);
    out.expect(0);
    assert_eq!(import_posts(&dojo), 1, "never sent twice");
    let tests: Vec<u64> = dojo.state().tests.iter().map(|t| t.id).collect();
    assert_eq!(tests.len(), 1);
    assert_eq!(out.summary()["test_id"], tests[0]);
    assert!(out.stderr.contains("DefectDojo did import it"), "{out}");
}

fn import_answer_lost_not_landed(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::close("POST", IMPORT));
    let out = go(
        nmap(&dojo).env("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", "2"),
        trace,
    );
    fails(
        &out,
        1,
        &[
            "closed the connection",
            "no test of this run appeared",
            "not sent again",
        ],
    );
    assert_eq!(import_posts(&dojo), 1, "never sent blindly again");
    assert!(dojo.state().tests.is_empty());
}

/// A DefectDojo with an earlier nmap test "scan-1", reimported into.
fn reimport(trace: bool, fault: Fault) -> (FakeDojo, u64, Output) {
    let dojo = FakeDojo::start(Flavour::V3);
    let pt = dojo.seed_product_type("P");
    let product = dojo.seed_product("scan-1", pt);
    let engagement = dojo.seed_engagement("scan-1", product, None);
    let test = dojo.seed_test(engagement, Some("scan-1"), "Nmap Scan");
    dojo.seed_import_history(test);
    dojo.fail(fault);
    let out = go(
        nmap(&dojo)
            .env("DEFECTDOJO_IMPORT_MODE", "reimport")
            .env("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", "2"),
        trace,
    );
    (dojo, test, out)
}

fn reimport_answer_lost_but_landed(trace: bool) {
    let (dojo, test, out) = reimport(
        trace,
        Fault::handle_then_close("POST", "/api/v2/reimport-scan/"),
    );
    out.expect(0);
    assert_eq!(
        dojo.requests_to("/api/v2/reimport-scan/").len(),
        1,
        "never sent twice"
    );
    assert_eq!(out.summary()["test_id"], test);
    assert!(out.stderr.contains("DefectDojo did reimport it"), "{out}");
}

fn reimport_answer_lost_not_landed(trace: bool) {
    let (dojo, _, out) = reimport(trace, Fault::close("POST", "/api/v2/reimport-scan/"));
    fails(
        &out,
        1,
        &["shows no finished reimport after 2 s", "not sent again"],
    );
    assert_eq!(dojo.requests_to("/api/v2/reimport-scan/").len(), 1);
}

fn import_502_of_a_proxy(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status(
            "POST",
            IMPORT,
            502,
            "<html><title>502 Bad Gateway</title></html>",
        )
        .content_type("text/html"),
    );
    let out = go(nmap(&dojo).env("DEFECTDOJO_TIMEOUT_SECONDS", "2"), trace);
    fails(
        &out,
        1,
        &["HTTP 502", "no test of this run appeared", "not sent again"],
    );
    assert_eq!(import_posts(&dojo), 1);
}

fn import_timeout(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::hang("POST", IMPORT));
    let out = go(
        nmap(&dojo).env("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", "1"),
        trace,
    );
    fails(&out, 1, &["timed out", "not sent again"]);
    assert_eq!(import_posts(&dojo), 1);
}

fn never_answers_until_the_deadline(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::hang("GET", PROFILE).always());
    let started = Instant::now();
    let out = go(nmap(&dojo).env("DEFECTDOJO_DEADLINE_SECONDS", "2"), trace);
    fails(&out, 1, &["DEFECTDOJO_DEADLINE_SECONDS=2", "deadline"]);
    ended_within(started, 8);
    assert!(dojo.mutating_requests().is_empty());
}

fn import_hangs_until_the_deadline(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::hang("POST", IMPORT));
    let started = Instant::now();
    let out = go(nmap(&dojo).env("DEFECTDOJO_DEADLINE_SECONDS", "3"), trace);
    fails(
        &out,
        1,
        &["DEFECTDOJO_DEADLINE_SECONDS=3", "not sent again"],
    );
    ended_within(started, 10);
    assert_eq!(import_posts(&dojo), 1);
}

fn answer_body_cut_short(trace: bool) {
    // A server that promises 1000 bytes and closes after 17.
    let handler: Handler = std::sync::Arc::new(|_| {
        let cut: Generator =
            std::sync::Arc::new(|w: &mut dyn std::io::Write| w.write_all(br#"{"user":{"id":1,"#));
        Reply::Send(
            Response::new(200)
                .header("Content-Type", "application/json")
                .body(Body::Generated(1000, cut)),
        )
    });
    let cutter = Server::start("CutDojo", 0, handler);
    let out = go(
        Hook::bare()
            .env("DEFECTDOJO_URL", cutter.url.clone())
            .env("DEFECTDOJO_APIKEY", KEY)
            .env("SCAN_NAME", "scan-1")
            .env("SCAN_TYPE", "nmap")
            .args(&[fixture("samples/nmap/nmap-results.xml").as_str(), "f"]),
        trace,
    );
    fails(&out, 1, &["user_profile"]);
    assert!(
        cutter.requests().iter().all(|r| r.method == "GET"),
        "nothing created"
    );
}

fn answer_cut_mid_json(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status(
        "GET",
        PROFILE,
        200,
        r#"{"user":{"id":1,"username":"adm"#,
    ));
    fails(
        &go(nmap(&dojo), trace),
        1,
        &["not the expected JSON", "EOF"],
    );
    assert!(dojo.mutating_requests().is_empty());
}

fn malformed_json_answer(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(Fault::status("GET", PROFILE, 200, r#"{"user": nope}"#));
    fails(&go(nmap(&dojo), trace), 1, &["not the expected JSON"]);
    assert!(dojo.mutating_requests().is_empty());
}

fn html_instead_of_json(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status("GET", PROFILE, 200, "<html><title>Login</title></html>")
            .content_type("text/html"),
    );
    fails(
        &go(nmap(&dojo), trace),
        1,
        &["not the expected JSON", "<html>", "DEFECTDOJO_URL"],
    );
    assert!(dojo.mutating_requests().is_empty());
}

fn a_30_mb_error_body_is_read_bounded(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let huge = "x".repeat(30 << 20);
    dojo.fail(Fault::status("GET", PROFILE, 500, &huge).content_type("text/plain"));
    let started = Instant::now();
    let out = go(nmap(&dojo), trace);
    let l = fails(&out, 1, &["HTTP 500"]);
    assert!(l.len() < 2000, "the line is bounded: {} bytes", l.len());
    ended_within(started, 10);
}

fn a_redirect_to_another_host_is_not_followed(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let handler: Handler = std::sync::Arc::new(|_| Reply::Send(Response::json(200, &json!({}))));
    let other = Server::start("OtherHost", 0, handler);
    other.expect_no_calls();
    dojo.fail(
        Fault::status("GET", PROFILE, 302, "")
            .header("Location", &format!("{}/api/v2/user_profile/", other.url)),
    );
    fails(&go(nmap(&dojo), trace), 1, &["redirect", "DEFECTDOJO_URL"]);
    assert_eq!(
        other.request_count(),
        0,
        "the other host got nothing (no key)"
    );
}

fn pagination_next_loops(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let page = json!({"count": 500, "previous": null, "results": [],
        "next": format!("{}/api/v2/engagements/?limit=100&offset=100", dojo.url)});
    dojo.fail(Fault::status("GET", "/api/v2/engagements/", 200, &page.to_string()).always());
    fails(&go(nmap(&dojo), trace), 1, &["loop back"]);
    assert_eq!(import_posts(&dojo), 0);
}

fn pagination_count_disagrees(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let original = std::fs::read(fixture("samples/nmap/findings.json")).unwrap();
    store.put_object("/b/findings.json", original.clone());
    let page = json!({"count": 5, "next": null, "previous": null, "results": []});
    dojo.fail(Fault::status("GET", "/api/v2/findings/", 200, &page.to_string()).always());
    let url = store.presigned_url("/b/findings.json");
    let out = go(
        Hook::new(&dojo).env("SCAN_TYPE", "custom").args(&[
            "raw",
            url.as_str(),
            "unused",
            url.as_str(),
        ]),
        trace,
    );
    fails(&out, 1, &["announced 5 findings", "incomplete"]);
    assert_eq!(
        store.object("/b/findings.json").unwrap(),
        original,
        "untouched"
    );
    assert!(store.puts().is_empty(), "no PUT");
}

/// Runs `hook` while "another job" creates the same object: our create to
/// `path` is held back until `seed` has run. Returns the output and what
/// `seed` returned.
fn race<T: Send>(
    dojo: &FakeDojo,
    hook: Hook,
    trace: bool,
    path: &str,
    seed: impl FnOnce() -> T + Send,
) -> (Output, T) {
    dojo.fail(Fault::delay("POST", path, Duration::from_millis(800)));
    std::thread::scope(|s| {
        let run = s.spawn(|| go(hook, trace));
        let deadline = Instant::now() + Duration::from_secs(20);
        while dojo.requests_to(path).iter().all(|r| r.method != "POST") {
            assert!(Instant::now() < deadline, "no POST to {path}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let seeded = seed();
        (run.join().unwrap(), seeded)
    })
}

fn parallel_engagement_creation_settles_on_the_oldest(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let pt = dojo.seed_product_type("P");
    let product = dojo.seed_product("scan-1", pt);
    let (out, seeded) = race(&dojo, nmap(&dojo), trace, "/api/v2/engagements/", || {
        dojo.seed_engagement("scan-1", product, None)
    });
    out.expect(0);
    assert!(
        out.stderr.contains("a parallel run created engagement"),
        "{out}"
    );
    let st = dojo.state();
    let test = st.tests.last().expect("a test");
    assert_eq!(
        test.engagement, seeded,
        "imported into the oldest engagement"
    );
}

fn parallel_product_creation_uses_the_winner(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let (out, seeded) = race(&dojo, nmap(&dojo), trace, "/api/v2/products/", || {
        dojo.seed_product("scan-1", 1)
    });
    out.expect(0);
    assert_eq!(dojo.state().products.len(), 1, "no second product");
    assert_eq!(out.summary()["product_id"], seeded);
}

fn parallel_product_type_creation_uses_the_winner(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let hook = nmap(&dojo).env("DEFECTDOJO_PRODUCT_TYPE_NAME", "Team A");
    let (out, seeded) = race(&dojo, hook, trace, "/api/v2/product_types/", || {
        dojo.seed_product_type("Team A")
    });
    out.expect(0);
    assert_eq!(out.summary()["product_type_id"], seeded);
}

// ---- Object storage ----------------------------------------------------------------

fn storage(dojo: &FakeDojo, store: &FakeStore) -> Hook {
    store.put_object(
        "/b/nmap-results.xml",
        std::fs::read(fixture("samples/nmap/nmap-results.xml")).unwrap(),
    );
    Hook::new(dojo)
        .env("SCAN_TYPE", "nmap")
        .args(&[store.presigned_url("/b/nmap-results.xml").as_str(), "f"])
}

fn storage_403_expired(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let store = FakeStore::start();
    store.fail(FakeStore::expired("GET", "/b/"));
    fails(
        &go(storage(&dojo, &store), trace),
        1,
        &["AccessDenied", "expired"],
    );
    assert_eq!(dojo.request_count(), 0, "nothing sent to DefectDojo");
}

fn storage_404(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let store = FakeStore::start();
    let hook = storage(&dojo, &store);
    store.remove_object("/b/nmap-results.xml");
    fails(&go(hook, trace), 1, &["404", "does not exist"]);
    assert_eq!(dojo.request_count(), 0);
}

fn storage_500(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let store = FakeStore::start();
    store.fail(FakeStore::s3_fault(
        "GET",
        "/b/",
        500,
        "InternalError",
        "We encountered an internal error",
    ));
    fails(
        &go(storage(&dojo, &store), trace),
        1,
        &["HTTP 500", "InternalError"],
    );
    assert_eq!(dojo.request_count(), 0);
}

fn storage_slow_get_is_retried(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    store.fail(Fault::hang("GET", "/b/"));
    let out = go(
        storage(&dojo, &store).env("DEFECTDOJO_TIMEOUT_SECONDS", "1"),
        trace,
    );
    out.expect(0);
    assert!(out.stderr.contains("timed out; retrying"), "{out}");
    assert_eq!(
        store
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
            .count(),
        2
    );
}

fn storage_put_503_is_retried_with_the_same_body(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    store.put_object(
        "/b/findings.json",
        std::fs::read(fixture("samples/nmap/findings.json")).unwrap(),
    );
    store.fail(FakeStore::s3_fault(
        "PUT",
        "/b/",
        503,
        "SlowDown",
        "Please reduce your request rate",
    ));
    let url = store.presigned_url("/b/findings.json");
    let out = go(
        Hook::new(&dojo).env("SCAN_TYPE", "custom").args(&[
            "raw",
            url.as_str(),
            "unused",
            url.as_str(),
        ]),
        trace,
    );
    out.expect(0);
    let puts = store.puts();
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].body, puts[1].body, "the same body again");
    assert_eq!(store.object("/b/findings.json").unwrap(), puts[1].body);
}

fn storage_put_403_leaves_the_findings_untouched(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let original = std::fs::read(fixture("samples/nmap/findings.json")).unwrap();
    store.put_object("/b/findings.json", original.clone());
    store.fail(FakeStore::expired("PUT", "/b/"));
    let url = store.presigned_url("/b/findings.json");
    let out = go(
        Hook::new(&dojo).env("SCAN_TYPE", "custom").args(&[
            "raw",
            url.as_str(),
            "unused",
            url.as_str(),
        ]),
        trace,
    );
    fails(&out, 1, &["PUT", "AccessDenied"]);
    assert_eq!(store.puts().len(), 1, "a 403 is not retried");
    assert_eq!(
        store.object("/b/findings.json").unwrap(),
        original,
        "byte-identical"
    );
}

// ---- Slow servers -------------------------------------------------------------------

/// A server that sends its answer one byte per half second: no single read
/// waits long, so only a bound on the whole answer ends the call.
const TRICKLE: Duration = Duration::from_millis(500);

/// Where a run that should end in seconds is killed, so that a regression
/// fails its test instead of hanging it.
const HANG: Duration = Duration::from_secs(60);

/// An nmap import with `variable=value` while `fault` slows DefectDojo
/// down: its output, and when it started.
fn slowed(
    dojo: &FakeDojo,
    fault: Fault,
    (variable, value): (&str, &str),
    trace: bool,
) -> (Output, Instant) {
    dojo.fail(fault);
    let started = Instant::now();
    let out = go(nmap(dojo).env(variable, value).within(HANG), trace);
    (out, started)
}

fn trickled_answer_is_cut_off(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let trickle = Fault::trickle("GET", PROFILE, TRICKLE).always();
    let (out, started) = slowed(&dojo, trickle, ("DEFECTDOJO_TIMEOUT_SECONDS", "1"), trace);
    fails(
        &out,
        1,
        &[
            "DEFECTDOJO_TIMEOUT_SECONDS=1 s as a whole",
            "raise DEFECTDOJO_TIMEOUT_SECONDS",
        ],
    );
    // The answer's headers came: a body that times out is not sent for again.
    assert_eq!(gets(&dojo, PROFILE), 1);
    ended_within(started, 10);
    assert!(dojo.mutating_requests().is_empty());
}

fn trickled_import_answer_is_cut_off(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    // DefectDojo imports, then trickles its answer.
    let trickle = Fault::trickle("POST", IMPORT, TRICKLE);
    let variable = ("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", "2");
    let (out, started) = slowed(&dojo, trickle, variable, trace);
    out.expect(0);
    assert!(
        out.stderr
            .contains("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS=2 s as a whole")
            && out.stderr.contains("DefectDojo did import it"),
        "{out}"
    );
    assert_eq!(import_posts(&dojo), 1, "never sent twice");
    ended_within(started, 15);
}

fn trickled_answer_stops_at_the_deadline(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let trickle = Fault::trickle("GET", PROFILE, TRICKLE).always();
    let (out, started) = slowed(&dojo, trickle, ("DEFECTDOJO_DEADLINE_SECONDS", "2"), trace);
    fails(&out, 1, &["DEFECTDOJO_DEADLINE_SECONDS=2", "deadline"]);
    ended_within(started, 8);
}

// ---- Local outputs and inputs that are not regular files ---------------------------

/// An nmap import whose verdicts are written to the local path `output`.
fn synced_to(dojo: &FakeDojo, output: &Path) -> Hook {
    Hook::new(dojo).env("SCAN_TYPE", "nmap").args(&[
        fixture("samples/nmap/nmap-results.xml").as_str(),
        "f",
        "unused",
        output.to_str().unwrap(),
    ])
}

/// Makes a special file with `command` (`mknod`, `mkfifo`) and `args` at
/// `dir/name`; `None`, with a note, where that is not allowed (mknod needs
/// root and CAP_MKNOD).
fn special(dir: &TempDir, name: &str, command: &str, args: &[&str]) -> Option<PathBuf> {
    let path = dir.path().join(name);
    let made = Command::new(command)
        .arg(&path)
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: `{command} {name}` is not allowed here (mknod needs root)");
    }
    made.then_some(path)
}

fn is_char_device(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

fn output_to_a_device_is_written_in_place(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("faults");
    let Some(null) = special(&tmp, "null", "mknod", &["c", "1", "3"]) else {
        return;
    };
    go(synced_to(&dojo, &null), trace).expect(0);
    assert!(is_char_device(&null), "the device node was replaced");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

fn output_to_a_full_device_fails(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("faults");
    let Some(full) = special(&tmp, "full", "mknod", &["c", "1", "7"]) else {
        return;
    };
    let out = go(synced_to(&dojo, &full), trace);
    fails(
        &out,
        1,
        &[
            "writing ",
            "no space left on the device (ENOSPC)",
            "DEFECTDOJO_FINDINGS_OUTPUT",
        ],
    );
    assert!(is_char_device(&full), "the device node was replaced");
}

fn output_through_a_symlink_writes_its_target(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("faults");
    std::fs::create_dir(tmp.path().join("mounted")).unwrap();
    let target = tmp.path().join("mounted/findings.json");
    std::fs::write(&target, "old").unwrap();
    let link = tmp.path().join("findings.json");
    // Relative, as a ConfigMap's links are: resolved from the link's directory.
    std::os::unix::fs::symlink("mounted/findings.json", &link).unwrap();
    go(synced_to(&dojo, &link), trace).expect(0);
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("mounted/findings.json"),
        "the link is kept"
    );
    let synced: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&target).unwrap()).expect("the target's JSON");
    assert_eq!(synced.len(), 3, "the fake's canned nmap findings");
    assert_eq!(
        std::fs::read_dir(tmp.path().join("mounted"))
            .unwrap()
            .count(),
        1,
        "no temp file left"
    );
}

fn output_through_a_link_to_stdout_is_streamed(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("faults");
    // As /dev/stdout: a link to /proc/self/fd/1, whose own link text
    // (`pipe:[…]`, the harness pipes stdout) is no path.
    let link = tmp.path().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    let out = go(synced_to(&dojo, &link), trace);
    out.expect(0);
    assert!(
        out.stdout.contains("\"defectdojo.org/finding-id\""),
        "{out}"
    );
    assert!(
        std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()),
        "the link was replaced"
    );
}

fn output_to_a_named_pipe_is_streamed(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("faults");
    let Some(fifo) = special(&tmp, "verdicts", "mkfifo", &[]) else {
        return;
    };
    let reading = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read(reading));
    go(synced_to(&dojo, &fifo), trace).expect(0);
    assert!(
        std::fs::metadata(&fifo).is_ok_and(|m| m.file_type().is_fifo()),
        "the pipe was replaced (its reader would wait forever)"
    );
    let synced: Vec<serde_json::Value> =
        serde_json::from_slice(&reader.join().unwrap().unwrap()).expect("the streamed JSON");
    assert_eq!(synced.len(), 3);
}

fn fifo_input_without_a_writer_fails_promptly(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let tmp = TempDir::new("faults");
    let Some(fifo) = special(&tmp, "nmap-results.xml", "mkfifo", &[]) else {
        return;
    };
    let started = Instant::now();
    let out = go(
        Hook::new(&dojo)
            .env("SCAN_TYPE", "nmap")
            .env("DEFECTDOJO_TIMEOUT_SECONDS", "1")
            .args(&[fifo.to_str().unwrap(), "f"])
            .within(HANG),
        trace,
    );
    fails(
        &out,
        2,
        &[
            "nmap-results.xml",
            "named pipe (FIFO)",
            "DEFECTDOJO_TIMEOUT_SECONDS",
        ],
    );
    ended_within(started, 10);
    assert_eq!(dojo.request_count(), 0);
}

// ---- findings.json -----------------------------------------------------------------

fn local(content: impl AsRef<[u8]>, code: i32, needles: &[&str], trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("faults");
    let out = go(generic(&dojo, &tmp, content), trace);
    if code == 0 {
        out.expect(0);
        return;
    }
    fails(&out, code, needles);
    assert!(
        dojo.mutating_requests().is_empty(),
        "a bad input creates nothing"
    );
    dojo.expect_no_calls();
}

fn findings_malformed(trace: bool) {
    local(b"[{\"name\": }]", 2, &["finding #1"], trace);
}

fn findings_truncated(trace: bool) {
    local(
        b"[{\"name\":\"a\",\"severity\":\"HIGH\"},{\"name\":",
        2,
        &["#2"],
        trace,
    );
}

fn findings_not_an_array(trace: bool) {
    local(b"{\"findings\":[]}", 2, &["array"], trace);
}

fn findings_invalid_utf8(trace: bool) {
    local(b"[{\"name\":\"caf\xe9\"}]", 2, &["findings"], trace);
}

fn findings_with_a_bom_work(trace: bool) {
    local(
        b"\xef\xbb\xbf[{\"name\":\"a\",\"severity\":\"LOW\"}]",
        0,
        &[],
        trace,
    );
}

fn findings_with_a_50_mb_string(trace: bool) {
    let mut content = b"[{\"name\":\"".to_vec();
    content.resize(content.len() + (50 << 20), b'a');
    content.extend_from_slice(b"\"}]");
    let started = Instant::now();
    local(content, 2, &["16777216 bytes per finding"], trace);
    ended_within(started, 20);
}

fn findings_nested_10000_deep(trace: bool) {
    let mut content = b"[{\"name\":\"a\",\"attributes\":".to_vec();
    content.extend(std::iter::repeat_n(b'[', 10_000));
    content.extend(std::iter::repeat_n(b']', 10_000));
    content.extend_from_slice(b"}]");
    local(content, 2, &["recursion limit"], trace);
}

fn findings_unknown_severity(trace: bool) {
    local(
        br#"[{"name":"a","severity":"URGENT"}]"#,
        2,
        &["URGENT"],
        trace,
    );
}

fn findings_missing_fields_work(trace: bool) {
    local(br#"[{}, {"name":"only a name"}]"#, 0, &[], trace);
}

fn findings_empty_file(trace: bool) {
    local(b"", 2, &["findings"], trace);
}

/// A raw report that is refused locally: exit 2, not one request.
fn bad_raw_report(name: &str, content: &str, needles: &[&str], trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let tmp = TempDir::new("faults");
    let report = tmp.file(name, content);
    let out = go(
        Hook::new(&dojo)
            .env("DEFECTDOJO_SCAN_TYPE", "Nmap Scan")
            .args(&[report.to_str().unwrap()]),
        trace,
    );
    fails(&out, 2, needles);
    assert_eq!(dojo.request_count(), 0);
}

fn raw_report_empty(trace: bool) {
    bad_raw_report("nmap-results.xml", "", &["empty"], trace);
}

// ---- Configuration -----------------------------------------------------------------

fn bad_dojo_url(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    for url in ["not a url", "ftp://dojo.example"] {
        let out = go(nmap(&dojo).env("DEFECTDOJO_URL", url), trace);
        fails(&out, 2, &["DEFECTDOJO_URL"]);
    }
}

fn non_numeric_numbers(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let out = go(
        nmap(&dojo)
            .env("DEFECTDOJO_TIMEOUT_SECONDS", "soon")
            .env("DEFECTDOJO_DEADLINE_SECONDS", "-3"),
        trace,
    );
    fails(
        &out,
        2,
        &["DEFECTDOJO_TIMEOUT_SECONDS", "DEFECTDOJO_DEADLINE_SECONDS"],
    );
}

fn missing_key(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let out = go(nmap(&dojo).env("DEFECTDOJO_APIKEY", ""), trace);
    fails(&out, 2, &["DEFECTDOJO_APIKEY"]);
}

// ---- Hostile answers: echoed secrets and terminal control bytes ---------------------

const HEADER_SECRET: &str = "hdr-echo-secret-7731";
const CONTROL_BYTES: [char; 4] = ['\u{1b}', '\u{7}', '\0', '\u{9b}'];

/// An import of a presigned report with an extra header: the key, the header
/// value and the query string are all known to dojo-hook.
fn echo_hook(dojo: &FakeDojo, store: &FakeStore) -> (Hook, String) {
    let url = store.presigned_url("/b/nmap-results.xml");
    let hook = storage(dojo, store).env("RUST_LOG", "trace").env(
        "DEFECTDOJO_EXTRA_HEADERS",
        format!("X-Gate-Token: {HEADER_SECRET}"),
    );
    (hook, url)
}

/// Everything a hostile server echoes back: the Authorization value, the
/// extra header's value, the presigned URL and its signature alone (as S3's
/// `SignatureProvided`), and control bytes (a colour, a bell, a NUL, a C1 CSI
/// that clears the screen).
fn echo_text(url: &str) -> String {
    let signature = url.split("X-Amz-Signature=").nth(1).unwrap();
    format!(
        "you sent Authorization: Token {KEY} and X-Gate-Token: {HEADER_SECRET} for {url} \
         (signature {signature}) \u{1b}[31mred\u{7}\0\u{9b}2J"
    )
}

/// Nothing of [`echo_text`] but its harmless words reaches stdout or stderr.
#[track_caller]
fn echo_shown_clean(out: &Output, url: &str) -> String {
    let signature = url.split("X-Amz-Signature=").nth(1).unwrap();
    let query = url.split_once('?').unwrap().1;
    out.assert_clean(&[KEY, HEADER_SECRET, signature, query, "X-Amz-Credential"]);
    out.assert_clean(&CONTROL_BYTES.map(String::from));
    assert!(out.stderr.contains("DEBUG"), "trace logging is on:\n{out}");
    let l = line(out);
    assert!(l.contains("[redacted]") && l.contains("[31mred"), "{l}");
    l
}

fn dojo_403_echoes_the_key_headers_and_query(_trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let (hook, url) = echo_hook(&dojo, &store);
    let body = serde_json::to_string(&json!({ "detail": echo_text(&url) })).unwrap();
    dojo.fail(Fault::status("GET", PROFILE, 403, &body));
    let out = hook.run();
    out.expect(1);
    let l = echo_shown_clean(&out, &url);
    assert!(
        l.contains("HTTP 403: you sent Authorization: Token [redacted]"),
        "{l}"
    );
}

fn dojo_400_import_echoes_in_plain_text(_trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let (hook, url) = echo_hook(&dojo, &store);
    dojo.fail(Fault::status("POST", IMPORT, 400, &echo_text(&url)).content_type("text/plain"));
    let out = hook.run();
    out.expect(1);
    echo_shown_clean(&out, &url);
}

fn storage_403_echoes_the_signed_url(_trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let store = FakeStore::start();
    let (hook, url) = echo_hook(&dojo, &store);
    let body = format!(
        "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>{}</Message></Error>",
        echo_text(&url).replace('&', "&amp;")
    );
    store.fail(Fault::status("GET", "/b/", 403, &body).content_type("application/xml"));
    let out = hook.run();
    out.expect(1);
    echo_shown_clean(&out, &url);
}

// ---- Checked before anything is created --------------------------------------------

fn scan_type_typo_creates_nothing(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let out = go(nmap(&dojo).env("DEFECTDOJO_SCAN_TYPE", "Nmap Scna"), trace);
    fails(
        &out,
        2,
        &[
            "DEFECTDOJO_SCAN_TYPE \"Nmap Scna\" is not a scan type",
            "did you mean \"Nmap Scan\"?",
        ],
    );
    assert_eq!(dojo.mutating_requests().len(), 0, "no POST at all");
    assert_eq!(
        gets(&dojo, "/api/v2/oa3/schema/"),
        1,
        "one look at the list"
    );
}

fn report_without_extension_creates_nothing(trace: bool) {
    let needles = [
        "\"nmap-results\" does not end in an extension",
        "nothing was sent",
    ];
    bad_raw_report("nmap-results", "<nmaprun/>", &needles, trace);
}

fn api_key_with_odd_characters(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    for (key, why) in [
        ("dojo-admin-key\nsecond-line", "more than one word or line"),
        ("dojo-admin-key\u{1b}", "control character"),
        ("dojo-admin-kéy", "non-ASCII"),
    ] {
        let out = go(nmap(&dojo).env("DEFECTDOJO_APIKEY", key), trace);
        let l = fails(&out, 2, &["DEFECTDOJO_APIKEY holds", why]);
        assert!(!l.contains("TLS") && !l.contains("second-line"), "{l}");
    }
    let tmp = TempDir::new("faults");
    let file = tmp.file("apikey", "dojo-admin-key\u{0}\n");
    let out = go(
        nmap(&dojo)
            .env("DEFECTDOJO_APIKEY", "")
            .env("DEFECTDOJO_APIKEY_FILE", file.display().to_string()),
        trace,
    );
    fails(&out, 2, &["DEFECTDOJO_APIKEY_FILE", "control character"]);
}

fn api_key_file_with_a_bom_works(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("faults");
    let file = tmp.file("apikey", format!("\u{feff}{KEY}\r\n"));
    let out = go(
        nmap(&dojo)
            .env("DEFECTDOJO_APIKEY", "")
            .env("DEFECTDOJO_APIKEY_FILE", file.display().to_string()),
        trace,
    );
    out.expect(0);
    assert_eq!(import_posts(&dojo), 1);
}

fn scan_file_with_a_wrong_typed_field(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let hook = nmap(&dojo)
        .env("SCAN_NAME", "")
        .scan_file(&json!({"metadata": {"name": 42}, "spec": {"scanType": "nmap"}}));
    let out = go(hook, trace);
    let l = fails(
        &out,
        2,
        &[
            "SCAN_FILE",
            "metadata.name must be a string, got a number (42)",
        ],
    );
    assert!(!l.contains("no product name"), "{l}");
}

fn huge_numbers_are_rejected(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let huge = u64::MAX.to_string();
    let out = go(
        nmap(&dojo)
            .env("DEFECTDOJO_TIMEOUT_SECONDS", huge.as_str())
            .env("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", huge.as_str())
            .env("DEFECTDOJO_DEADLINE_SECONDS", "18446744073709551000")
            .env("DEFECTDOJO_REFETCH_WAIT_SECONDS", "2592001"),
        trace,
    );
    fails(
        &out,
        2,
        &[
            "DEFECTDOJO_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 2592000 (30 days)",
            "DEFECTDOJO_IMPORT_TIMEOUT_SECONDS",
            "DEFECTDOJO_DEADLINE_SECONDS",
            "DEFECTDOJO_REFETCH_WAIT_SECONDS",
        ],
    );
}

fn huge_limits_are_no_limits(trace: bool) {
    let dojo = FakeDojo::start(Flavour::V3);
    let huge = u64::MAX.to_string();
    let out = go(
        nmap(&dojo)
            .env("DEFECTDOJO_MAX_UPLOAD_MB", huge.as_str())
            .env("DEFECTDOJO_MEMORY_SPOOL_MB", huge.as_str())
            .env("DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS", huge.as_str())
            .env("DEFECTDOJO_USER_ID", "1")
            .env("DEFECTDOJO_TIMEOUT_SECONDS", "2592000")
            .env("DEFECTDOJO_IMPORT_TIMEOUT_SECONDS", "2592000")
            .env("DEFECTDOJO_DEADLINE_SECONDS", "2592000"),
        trace,
    );
    out.expect(0);
    assert_eq!(import_posts(&dojo), 1);
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod each {
            $( #[test] fn $name() { super::$name(false) } )*
        }
        const CASES: &[(&str, fn(bool))] = &[$((stringify!($name), $name as fn(bool))),*];
    };
}

suite![
    dojo_400_field_errors,
    dojo_400_bare_list,
    dojo_403_bad_token,
    dojo_404,
    dojo_413_html,
    dojo_500_parser_error,
    dojo_503_retry_after_then_success,
    dojo_502_exhausted,
    dojo_429_honours_retry_after,
    retry_after_beyond_the_deadline_gives_up_at_once,
    description_patch_503_is_retried,
    import_503_is_sent_again,
    import_answer_lost_but_landed,
    import_answer_lost_not_landed,
    import_502_of_a_proxy,
    reimport_answer_lost_but_landed,
    reimport_answer_lost_not_landed,
    import_timeout,
    never_answers_until_the_deadline,
    import_hangs_until_the_deadline,
    answer_body_cut_short,
    answer_cut_mid_json,
    malformed_json_answer,
    html_instead_of_json,
    a_30_mb_error_body_is_read_bounded,
    a_redirect_to_another_host_is_not_followed,
    pagination_next_loops,
    pagination_count_disagrees,
    parallel_engagement_creation_settles_on_the_oldest,
    parallel_product_creation_uses_the_winner,
    parallel_product_type_creation_uses_the_winner,
    storage_403_expired,
    storage_404,
    storage_500,
    storage_slow_get_is_retried,
    storage_put_503_is_retried_with_the_same_body,
    storage_put_403_leaves_the_findings_untouched,
    trickled_answer_is_cut_off,
    trickled_import_answer_is_cut_off,
    trickled_answer_stops_at_the_deadline,
    output_to_a_device_is_written_in_place,
    output_to_a_full_device_fails,
    output_through_a_symlink_writes_its_target,
    output_through_a_link_to_stdout_is_streamed,
    output_to_a_named_pipe_is_streamed,
    fifo_input_without_a_writer_fails_promptly,
    findings_malformed,
    findings_truncated,
    findings_not_an_array,
    findings_invalid_utf8,
    findings_with_a_bom_work,
    findings_with_a_50_mb_string,
    findings_nested_10000_deep,
    findings_unknown_severity,
    findings_missing_fields_work,
    findings_empty_file,
    raw_report_empty,
    bad_dojo_url,
    non_numeric_numbers,
    missing_key,
    dojo_403_echoes_the_key_headers_and_query,
    dojo_400_import_echoes_in_plain_text,
    storage_403_echoes_the_signed_url,
    scan_type_typo_creates_nothing,
    report_without_extension_creates_nothing,
    api_key_with_odd_characters,
    api_key_file_with_a_bom_works,
    scan_file_with_a_wrong_typed_field,
    huge_numbers_are_rejected,
    huge_limits_are_no_limits,
];

#[test]
fn every_case_under_trace_logging_leaks_no_secret() {
    assert!(CASES.len() >= 30);
    for (name, case) in CASES {
        eprintln!("trace run of {name}");
        case(true);
    }
}
