//! Presigned URLs against a real S3-compatible server that checks SigV4:
//! `s3s-fs` (a Rust crate), started on loopback for each test.
//!
//! The fake object store (`support::fake_store`) checks what S3 rejects but
//! signs nothing; here the URLs are signed by `support::sigv4` and verified
//! by s3s, so a URL mangled on its way through dojo-hook (re-encoded query,
//! changed path, an extra signed header) would fail these tests.
//!
//! `make test` installs s3s-fs and passes its path in `S3S_FS`. Without the
//! binary these tests fail, as the report tests do without their checkers:
//! one policy, and a test that was not run never counts as passed.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::harness::{Hook, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::sigv4::Presigner;

const ACCESS_KEY: &str = "dojo-hook-test";
const SECRET_KEY: &str = "s3s-fs-secret-key-for-tests";
const BUCKET: &str = "scans";
const HOUR: Duration = Duration::from_secs(3600);

/// A running s3s-fs; killed on drop.
struct S3s {
    child: Child,
    addr: SocketAddr,
    root: TempDir,
}

impl S3s {
    /// Starts s3s-fs with one bucket; a missing binary fails the test.
    fn start() -> S3s {
        let bin = std::env::var_os("S3S_FS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/s3s-fs")
            });
        if !bin.is_file() {
            let why = format!(
                "s3s-fs not found at {} (set S3S_FS, or run `make test`, which installs it)",
                bin.display()
            );
            panic!("{why}");
        }
        let root = TempDir::new("s3s");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket dir");
        // A free port: the OS picks one, s3s-fs binds it right after.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = std::fs::File::create(root.path().join("s3s-fs.log")).expect("log file");
        let mut child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(root.path().join("s3s-fs.log"));
                panic!("s3s-fs exited ({status}) before listening: {log:?}");
            }
            assert!(Instant::now() < deadline, "s3s-fs did not listen on {addr}");
            thread::sleep(Duration::from_millis(20));
        }
        S3s { child, addr, root }
    }

    /// A presigner for `endpoint` (this server, or a relay in front of it).
    fn signer(&self, endpoint: &str, secret: &str) -> Presigner {
        Presigner {
            endpoint: endpoint.to_string(),
            access_key: ACCESS_KEY.into(),
            secret_key: secret.into(),
            region: "us-east-1".into(),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stores `body` at `key` through a presigned PUT.
    fn put(&self, key: &str, body: &[u8]) {
        let url = self.signer(&self.url(), SECRET_KEY).presign(
            "PUT",
            &format!("/{BUCKET}/{key}"),
            SystemTime::now(),
            HOUR,
        );
        ureq::put(&url).send(body).expect("seeding PUT");
    }

    /// The stored bytes of `key`, read from s3s-fs's directory.
    fn object(&self, key: &str) -> Vec<u8> {
        std::fs::read(self.root.path().join(BUCKET).join(key)).expect("stored object")
    }
}

impl Drop for S3s {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP relay in front of s3s-fs that records the bytes clients send, so
/// a test can compare the PUT body dojo-hook sent with what was stored.
struct Relay {
    url: String,
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Relay {
    fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay bind");
        let url = format!("http://{}", listener.local_addr().expect("relay addr"));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&sent);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let log = Arc::clone(&log);
                // This connection's slot, filled before the bytes go on: what
                // s3s-fs received is logged by the time it answers.
                let slot = {
                    let mut sent = log.lock().unwrap();
                    sent.push(Vec::new());
                    sent.len() - 1
                };
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        log.lock().unwrap()[slot].extend_from_slice(&buf[..n]);
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(Shutdown::Write);
                });
            }
        });
        Relay { url, sent }
    }

    /// The requests with `method` seen so far: (head, body), bodies split
    /// by `Content-Length` (a chunked request fails the test).
    fn requests(&self, method: &str) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for stream in self.sent.lock().unwrap().iter() {
            let mut rest = &stream[..];
            while !rest.is_empty() {
                let end = rest
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .expect("a complete request head");
                let head = String::from_utf8_lossy(&rest[..end]).into_owned();
                let lower = head.to_ascii_lowercase();
                assert!(
                    !lower.contains("transfer-encoding"),
                    "chunked request:\n{head}"
                );
                let len = lower
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().expect("content-length"));
                // A body cut short (the server refused it early) ends the stream.
                let stop = (end + 4 + len).min(rest.len());
                let body = rest[end + 4..stop].to_vec();
                rest = &rest[stop..];
                if head.starts_with(&format!("{method} ")) {
                    out.push((head, body));
                }
            }
        }
        out
    }
}

fn nmap_report() -> Vec<u8> {
    std::fs::read(fixture("samples/nmap/nmap-results.xml")).expect("nmap fixture")
}

/// secureCodeBox findings as the nmap parser would write them.
fn scb_findings() -> Vec<u8> {
    let items: Vec<Value> = [22, 80, 9929]
        .iter()
        .map(|port| {
            serde_json::json!({"id": format!("f-{port}"), "name": format!("Open Port: {port}"),
                "category": "Open Port", "severity": "INFORMATIONAL",
                "location": format!("tcp://scanme.nmap.org:{port}"),
                "parsed_at": "2024-01-01T00:00:00Z", "attributes": {"port": port}})
        })
        .collect();
    serde_json::to_vec_pretty(&items).unwrap()
}

/// The URLs secureCodeBox hands a hook, signed for `endpoint`.
struct Urls {
    raw_get: String,
    findings_get: String,
    raw_put: String,
    findings_put: String,
}

fn urls(signer: &Presigner, at: SystemTime, expires: Duration) -> Urls {
    let sign = |method, key: &str| signer.presign(method, &format!("/{BUCKET}/{key}"), at, expires);
    Urls {
        raw_get: sign("GET", "scan-1/nmap-results.xml"),
        findings_get: sign("GET", "scan-1/findings.json"),
        raw_put: sign("PUT", "scan-1/nmap-results.xml"),
        findings_put: sign("PUT", "scan-1/findings.json"),
    }
}

/// A run with `scan_type`: `nmap` imports the raw report, `custom` the
/// findings (as DefectDojo's Generic Findings Import).
fn run(dojo: &FakeDojo, scan_type: &str, u: &Urls) -> crate::harness::Output {
    Hook::new(dojo)
        .env("SCAN_TYPE", scan_type)
        .env("DEFECTDOJO_TIMEOUT_SECONDS", "10")
        .args(&[&u.raw_get, &u.findings_get, &u.raw_put, &u.findings_put])
        .run()
}

#[test]
fn the_presigner_matches_the_s3_reference_example() {
    // "Authenticating Requests: Using Query Parameters", S3 API reference.
    let signer = Presigner {
        endpoint: "https://examplebucket.s3.amazonaws.com".into(),
        access_key: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        region: "us-east-1".into(),
    };
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
    let url = signer.presign("GET", "/test.txt", at, Duration::from_secs(86_400));
    assert!(
        url.ends_with(
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        ),
        "{url}"
    );
}

#[test]
fn presigned_get_and_put_against_a_sigv4_server() {
    let s3 = S3s::start();
    s3.put("scan-1/nmap-results.xml", &nmap_report());
    let relay = Relay::start(s3.addr);
    let signer = s3.signer(&relay.url, SECRET_KEY);
    let mut puts_before = 0;
    for (scan_type, downloaded) in [("nmap", "nmap-results.xml"), ("custom", "findings.json")] {
        s3.put("scan-1/findings.json", &scb_findings());
        let dojo = FakeDojo::start(Flavour::V3);
        let out = run(&dojo, scan_type, &urls(&signer, SystemTime::now(), HOUR));
        out.expect(0);
        assert_eq!(out.summary()["synced"], 3, "{scan_type}: {out}");
        let import = dojo.last_import().unwrap();
        if scan_type == "nmap" {
            assert_eq!(
                import.file.as_deref(),
                Some(&nmap_report()[..]),
                "the raw report reached DefectDojo as downloaded"
            );
        } else {
            let generic: Value = serde_json::from_slice(import.file.as_deref().unwrap()).unwrap();
            assert_eq!(generic["findings"][2]["title"], "Open Port: 9929");
        }

        let stored = s3.object("scan-1/findings.json");
        let puts = relay.requests("PUT");
        assert_eq!(puts.len(), puts_before + 1, "{scan_type}: one PUT");
        puts_before = puts.len();
        let (head, body) = puts.last().unwrap();
        assert!(
            head.starts_with("PUT /scans/scan-1/findings.json?"),
            "{head}"
        );
        assert_eq!(
            body, &stored,
            "{scan_type}: s3s-fs stored exactly what dojo-hook sent"
        );
        let gets = relay.requests("GET");
        let (last_get, _) = gets.last().expect("a GET");
        assert!(
            last_get.starts_with(&format!("GET /scans/scan-1/{downloaded}?")),
            "{scan_type}: {last_get}"
        );

        let synced: Vec<Value> = serde_json::from_slice(&stored).expect("a JSON array");
        assert_eq!(synced.len(), 3);
        for f in &synced {
            for key in [
                "id",
                "name",
                "category",
                "severity",
                "parsed_at",
                "attributes",
            ] {
                assert!(f.get(key).is_some(), "{key} missing in {f}");
            }
            assert_eq!(f["category"], "DefectDojo Imported Finding");
        }
    }
    let stored = s3.object("scan-1/findings.json");
    // And a presigned GET reads back the same bytes.
    let get = s3.signer(&s3.url(), SECRET_KEY).presign(
        "GET",
        "/scans/scan-1/findings.json",
        SystemTime::now(),
        HOUR,
    );
    let read_back = ureq::get(&get)
        .call()
        .expect("GET")
        .body_mut()
        .read_to_vec()
        .unwrap();
    assert_eq!(read_back, stored);
}

/// URLs valid for an hour from now.
fn fresh(signer: &Presigner) -> Urls {
    urls(signer, SystemTime::now(), HOUR)
}

/// URLs that expired an hour ago.
fn expired(signer: &Presigner) -> Urls {
    urls(
        signer,
        SystemTime::now() - 2 * HOUR,
        Duration::from_secs(60),
    )
}

/// Changes the last hex digit of the signature.
fn tamper(url: &str) -> String {
    let mut s = url.to_string();
    let last = s.pop().expect("non-empty");
    s.push(if last == '0' { '1' } else { '0' });
    s
}

#[test]
fn rejected_urls_fail_clearly_and_leave_findings_untouched() {
    let s3 = S3s::start();
    s3.put("scan-1/nmap-results.xml", &nmap_report());
    let original = scb_findings();
    s3.put("scan-1/findings.json", &original);
    let good = s3.signer(&s3.url(), SECRET_KEY);
    let wrong = s3.signer(&s3.url(), "not-the-secret");

    /// Name, scan type, the URLs (from the right and a wrong signer), whether the
    /// import happens before the failure, the S3 error code.
    type Case = (
        &'static str,
        &'static str,
        fn(&Presigner, &Presigner) -> Urls,
        bool,
        &'static str,
    );
    let cases: [Case; 6] = [
        (
            "expired GET of the report",
            "nmap",
            |good, _| Urls {
                raw_get: expired(good).raw_get,
                ..fresh(good)
            },
            false,
            "AccessDenied",
        ),
        (
            "tampered GET of the report",
            "nmap",
            |good, _| {
                let u = fresh(good);
                Urls {
                    raw_get: tamper(&u.raw_get),
                    ..u
                }
            },
            false,
            "SignatureDoesNotMatch",
        ),
        (
            "tampered GET of the findings",
            "custom",
            |good, _| {
                let u = fresh(good);
                Urls {
                    findings_get: tamper(&u.findings_get),
                    ..u
                }
            },
            false,
            "SignatureDoesNotMatch",
        ),
        (
            "expired PUT of the findings",
            "nmap",
            |good, _| Urls {
                findings_put: expired(good).findings_put,
                ..fresh(good)
            },
            true,
            "AccessDenied",
        ),
        (
            "tampered PUT of the findings",
            "custom",
            |good, _| {
                let u = fresh(good);
                Urls {
                    findings_put: tamper(&u.findings_put),
                    ..u
                }
            },
            true,
            "SignatureDoesNotMatch",
        ),
        (
            "PUT signed with the wrong secret",
            "nmap",
            |good, wrong| Urls {
                findings_put: fresh(wrong).findings_put,
                ..fresh(good)
            },
            true,
            "SignatureDoesNotMatch",
        ),
    ];
    for (name, scan_type, make, imports, code) in cases {
        let dojo = FakeDojo::start(Flavour::V3);
        if !imports {
            dojo.expect_no_calls();
        }
        let u = make(&good, &wrong);
        let out = run(&dojo, scan_type, &u);
        out.expect(1);
        let line = out.error_line();
        assert!(line.contains("403"), "{name}: {line}");
        assert!(line.contains(code), "{name}: {line}");
        for secret in [
            "X-Amz-Signature",
            "X-Amz-Credential",
            SECRET_KEY,
            ACCESS_KEY,
        ] {
            assert!(
                !out.stderr.contains(secret),
                "{name}: {secret} leaked:\n{out}"
            );
        }
        for url in [&u.raw_get, &u.findings_get, &u.findings_put] {
            let signature = url.rsplit('=').next().unwrap();
            assert!(
                !out.stderr.contains(signature),
                "{name}: a signature leaked:\n{out}"
            );
        }
        assert_eq!(
            dojo.last_import().is_some(),
            imports,
            "{name}: an unreadable input imports nothing"
        );
        assert_eq!(
            s3.object("scan-1/findings.json"),
            original,
            "{name}: the stored findings.json must be byte-identical"
        );
    }
}

#[test]
fn several_pages_of_findings_are_stored_whole() {
    const SEVERITIES: [&str; 3] = ["LOW", "MEDIUM", "HIGH"];
    let s3 = S3s::start();
    let items: Vec<Value> = (0..600)
        .map(|i| {
            serde_json::json!({"id": format!("id-{i}"), "name": format!("Finding {i} ✓"),
                "category": "Test", "severity": SEVERITIES[i % 3],
                "location": format!("https://host-{i}.example.com/path"),
                "parsed_at": "2024-01-01T00:00:00Z", "attributes": {"n": i}})
        })
        .collect();
    s3.put("scan-1/findings.json", &serde_json::to_vec(&items).unwrap());
    let relay = Relay::start(s3.addr);
    let dojo = FakeDojo::start(Flavour::V3);
    let u = urls(&s3.signer(&relay.url, SECRET_KEY), SystemTime::now(), HOUR);
    run(&dojo, "custom", &u).expect(0);

    let stored = s3.object("scan-1/findings.json");
    let puts = relay.requests("PUT");
    assert_eq!(puts.len(), 1);
    assert!(
        puts[0]
            .0
            .to_ascii_lowercase()
            .contains("expect: 100-continue")
    );
    assert_eq!(puts[0].1, stored, "stored exactly what dojo-hook sent");
    let synced: Vec<Value> = serde_json::from_slice(&stored).expect("a JSON array");
    assert_eq!(synced.len(), 600, "{} bytes", stored.len());
}
