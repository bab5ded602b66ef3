//! Self-tests of the fakes in `tests/support`: the behaviours clients rely on, checked
//! against the recorded DefectDojo responses copied to `fixtures/dojo/recorded/`.
//!
//! Requests go through ureq (the crate's own HTTP client) where a normal client would
//! be used, and through a raw `TcpStream` where the test needs control over the wire
//! (chunked uploads, dropped connections, keep-alive).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::fake_dojo::util::{legacy_hash, sha256_hex, titlecase};
use crate::support::{FakeDojo, FakeStore, Fault, Flavour, Options, StoreOptions};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = agent()
        .run(req.body(body).expect("request"))
        .expect("HTTP exchange");
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Reply {
        status: resp.status().as_u16(),
        headers,
        text: resp.body_mut().read_to_string().expect("body"),
    }
}

const ADMIN: &str = "Token dojo-admin-key";

fn get(dojo: &FakeDojo, path: &str) -> Reply {
    send(
        "GET",
        &format!("{}{path}", dojo.url),
        &[("Authorization", ADMIN)],
        Vec::new(),
    )
}

fn send_json(dojo: &FakeDojo, method: &str, path: &str, body: Value) -> Reply {
    let headers = [
        ("Authorization", ADMIN),
        ("Content-Type", "application/json"),
    ];
    send(
        method,
        &format!("{}{path}", dojo.url),
        &headers,
        body.to_string().into_bytes(),
    )
}

/// A multipart/form-data body: `(content type, bytes)`.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----fakeselftestboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    if let Some((name, data)) = file {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .unwrap();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn import(
    dojo: &FakeDojo,
    endpoint: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Reply {
    let (ct, body) = multipart(fields, file);
    let headers = [("Authorization", ADMIN), ("Content-Type", ct.as_str())];
    send(
        "POST",
        &format!("{}/api/v2/{endpoint}/", dojo.url),
        &headers,
        body,
    )
}

fn recorded(name: &str) -> Value {
    let path = format!(
        "{}/fixtures/dojo/recorded/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("recorded JSON")
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

/// Seeds product type, product and engagement; returns the engagement id.
fn seed_engagement(dojo: &FakeDojo) -> u64 {
    let pt = dojo.seed_product_type("CLI Ref Org");
    let product = dojo.seed_product("CLI Ref App", pt);
    dojo.seed_engagement("CLI Ref Engagement", product, None)
}

/// A generic report with the three findings of `fixtures/dojo/recorded/v3/62-*` (and an endpoint on the second).
fn generic_report() -> Vec<u8> {
    json!({"findings": [
        {"title": "Hardcoded credentials in config loader", "severity": "High",
         "description": "A password literal is embedded in config/loader.py.", "cwe": 798, "line": 42,
         "file_path": "config/loader.py", "unique_id_from_tool": "GEN-0001",
         "vulnerability_ids": ["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"], "tags": ["ci", "secrets"]},
        {"title": "Outdated TLS protocol enabled", "severity": "Medium",
         "description": "TLS 1.0 is accepted by the service.", "cwe": 326,
         "endpoints": ["https://app.example.org:8443/login"]},
        {"title": "Verbose server banner", "severity": "Info", "description": "Server header discloses version."}
    ]})
    .to_string()
    .into_bytes()
}

/// Raw HTTP/1.1 exchange on `stream`: returns everything read until the response is
/// complete (by Content-Length) or the peer closes.
fn raw_exchange(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = find(&got, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse::<usize>().unwrap());
            if len.is_some_and(|len| got.len() >= end + 4 + len) {
                return got;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------- DefectDojo

#[test]
fn auth_errors_are_403_as_recorded() {
    let dojo = FakeDojo::start(Flavour::V3);
    let url = format!("{}/api/v2/users/", dojo.url);
    let none = send("GET", &url, &[], Vec::new());
    assert_eq!(
        (none.status, none.json()),
        (403, recorded("v3/04-users-no-auth"))
    );
    let bad = send("GET", &url, &[("Authorization", "Token nope")], Vec::new());
    assert_eq!(
        (bad.status, bad.json()),
        (403, recorded("v3/03-users-bad-token"))
    );
    let profile = get(&dojo, "/api/v2/user_profile/?limit=100&offset=0");
    assert_eq!(
        keys(&profile.json()),
        keys(&recorded("v3/06-user-profile-admin"))
    );
    assert_eq!(profile.json()["user"]["id"], 1);
}

#[test]
fn name_filters_and_uniqueness_follow_the_recordings() {
    let dojo = FakeDojo::start(Flavour::V3);
    for name in ["rec2-Alpha", "rec2-Alpha Beta"] {
        assert_eq!(
            send_json(
                &dojo,
                "POST",
                "/api/v2/product_types/",
                json!({"name": name})
            )
            .status,
            201
        );
    }
    let dup = send_json(
        &dojo,
        "POST",
        "/api/v2/product_types/",
        json!({"name": "rec2-Alpha"}),
    );
    assert_eq!(
        (dup.status, dup.json()),
        (400, recorded("v3/10-product-type-create-duplicate"))
    );
    let names = |r: Reply| -> Vec<String> {
        r.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(get(&dojo, "/api/v2/product_types/?name=rec2-Alpha")),
        ["rec2-Alpha"]
    );
    assert!(names(get(&dojo, "/api/v2/product_types/?name=rec2-alpha")).is_empty());
    // name_exact is not a product-type filter: ignored, unfiltered list (`fixtures/dojo/recorded/v3/111-*`).
    assert_eq!(
        get(&dojo, "/api/v2/product_types/?name_exact=rec2-Alpha").json()["count"],
        3
    );

    for (name, pt) in [("rec2-Alpha", 2), ("rec2-Alpha Beta", 2)] {
        let body = json!({"name": name, "description": "x", "prod_type": pt});
        assert_eq!(
            send_json(&dojo, "POST", "/api/v2/products/", body).status,
            201
        );
    }
    assert_eq!(
        names(get(&dojo, "/api/v2/products/?name=rec2-Alpha")).len(),
        2,
        "icontains"
    );
    assert_eq!(
        names(get(&dojo, "/api/v2/products/?name=ALPHA%20b")),
        ["rec2-Alpha Beta"]
    );
    assert_eq!(
        names(get(&dojo, "/api/v2/products/?name_exact=REC2-ALPHA")),
        ["rec2-Alpha"],
        "iexact"
    );
    // Product names are unique across product types (`fixtures/dojo/recorded/v3/133-*`).
    let dup = send_json(
        &dojo,
        "POST",
        "/api/v2/products/",
        json!({"name": "rec2-Alpha", "description": "x", "prod_type": 3}),
    );
    assert_eq!(
        (dup.status, dup.json()),
        (
            400,
            recorded("v3/133-product-create-duplicate-name-other-pt")
        )
    );
    let missing = send_json(&dojo, "POST", "/api/v2/products/", json!({"name": "x"}));
    assert_eq!(
        (missing.status, missing.json()),
        (400, recorded("v3/13-product-create-missing-fields"))
    );
    // A literal '+' is a space, '%2B' a plus (`fixtures/dojo/recorded/v3/136-*`, `fixtures/dojo/recorded/v3/137-*`).
    send_json(
        &dojo,
        "POST",
        "/api/v2/product_types/",
        json!({"name": "R&D + Ops"}),
    );
    assert_eq!(
        names(get(&dojo, "/api/v2/product_types/?name=R%26D+%2B+Ops")),
        ["R&D + Ops"]
    );
    assert!(names(get(&dojo, "/api/v2/product_types/?name=R%26D%20+%20Ops")).is_empty());
}

#[test]
fn engagements_keep_or_drop_orchestration_engine_by_flavour() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let product = dojo.seed_product("app", 1);
        let tool_type = send_json(
            &dojo,
            "POST",
            "/api/v2/tool_types/",
            json!({"name": "STOE"}),
        )
        .json();
        let dup = send_json(
            &dojo,
            "POST",
            "/api/v2/tool_types/",
            json!({"name": "STOE"}),
        );
        assert_eq!(
            (dup.status, dup.json()),
            (400, recorded("v3/126-tool-type-create-stoe-duplicate"))
        );
        let config = send_json(
            &dojo,
            "POST",
            "/api/v2/tool_configurations/",
            json!({"name": "secureCodeBox", "tool_type": tool_type["id"], "url": "https://github.com/secureCodeBox",
                   "configuration_url": "https://github.com/secureCodeBox"}),
        )
        .json();
        assert_eq!(
            keys(&config),
            keys(&recorded("v3/127-tool-configuration-create-securecodebox"))
        );
        let body = json!({"name": "ci", "product": product, "target_start": "2026-11-20", "target_end": "2026-11-27",
                          "engagement_type": "CI/CD", "status": "In Progress", "orchestration_engine": config["id"]});
        let created = send_json(&dojo, "POST", "/api/v2/engagements/", body).json();
        match flavour {
            Flavour::V3 => {
                assert!(
                    created.get("orchestration_engine").is_none(),
                    "3.x drops the field"
                );
                assert_eq!(
                    keys(&created),
                    keys(&recorded("v3/128-engagement-create-orchestration-engine"))
                );
                let bad = send_json(
                    &dojo,
                    "PATCH",
                    "/api/v2/engagements/1/",
                    json!({"cicd_orchestration_engine": 999999}),
                );
                assert_eq!(
                    bad.json(),
                    recorded("v3/132-engagement-patch-cicd-orchestration-engine-tool-config-id")
                );
            }
            Flavour::V2 => {
                assert_eq!(created["orchestration_engine"], config["id"]);
                assert_eq!(
                    keys(&created),
                    keys(&recorded("v2/69-engagement-create-orchestration-engine"))
                );
                let cicd = send_json(
                    &dojo,
                    "POST",
                    "/api/v2/cicd_infrastructure/",
                    json!({"name": "x"}),
                );
                assert_eq!(cicd.status, 404);
                assert!(
                    cicd.header("content-type")
                        .unwrap()
                        .starts_with("text/html")
                );
            }
        }
        let bad_dates = json!({"name": "x", "product": product, "target_start": "2026-12-01", "target_end": "2026-11-01"});
        let r = send_json(&dojo, "POST", "/api/v2/engagements/", bad_dates);
        assert_eq!(
            (r.status, r.json()),
            (400, recorded("v3/16-engagement-create-bad-dates"))
        );
        let filtered = get(
            &dojo,
            &format!("/api/v2/engagements/?name=ci&product={product}&status=In%20Progress"),
        );
        assert_eq!(filtered.json()["count"], 1);
        assert_eq!(
            get(
                &dojo,
                &format!("/api/v2/engagements/?name=CI&product={product}")
            )
            .json()["count"],
            0
        );
    }
}

#[test]
fn generic_import_parses_titles_hashes_and_rejects_unknown_keys() {
    let dojo = FakeDojo::start(Flavour::V3);
    let engagement = seed_engagement(&dojo).to_string();
    let fields = [
        ("scan_type", "Generic Findings Import"),
        ("engagement", &engagement),
        ("active", "true"),
        ("verified", "true"),
        ("test_title", "Generic JSON"),
        ("tags", "ci"),
        ("unknown_field", "ignored"),
    ];
    let r = import(
        &dojo,
        "import-scan",
        &fields,
        Some(("generic_findings.json", &generic_report())),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let body = r.json();
    let want = recorded("v3/23-import-scan-nmap");
    for k in keys(&want)
        .iter()
        .filter(|k| !["scan_date", "test_title"].contains(&k.as_str()))
    {
        assert!(body.get(k).is_some(), "import response lacks {k}");
    }
    assert_eq!(body["statistics"]["after"]["total"]["total"], 3);
    let last = dojo.last_import().unwrap();
    assert_eq!(last.field("unknown_field"), Some("ignored"));
    assert_eq!(last.file_name.as_deref(), Some("generic_findings.json"));

    let findings = get(
        &dojo,
        &format!("/api/v2/findings/?test={}&limit=100", body["test"]),
    )
    .json();
    let first = &findings["results"][0];
    assert_eq!(first["title"], "Hardcoded Credentials in Config Loader");
    assert_eq!(
        first["hash_code"],
        "618f0237ced7f7216276f47f6a43f8546bbd16a876748420a5aeff398e7ec062"
    );
    assert_eq!(
        first["vulnerability_ids"],
        json!([{"vulnerability_id": "CVE-2024-0001"}, {"vulnerability_id": "GHSA-aaaa-bbbb-cccc"}])
    );
    assert_eq!(
        findings["results"][1]["title"],
        "Outdated TLS Protocol Enabled"
    );
    assert_eq!(
        keys(first),
        keys(&recorded("v3/62-findings-generic")["results"][0])
    );

    let bad = json!({"findings": [{"title": "t", "severity": "Low", "description": "d", "colour": "red"}]}).to_string();
    let r = import(
        &dojo,
        "import-scan",
        &fields,
        Some(("bad.json", bad.as_bytes())),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "[\"Not allowed fields are present: ['colour']\"]"
    );
    let missing = json!({"findings": [{"title": "t", "severity": "Low"}]}).to_string();
    let r = import(
        &dojo,
        "import-scan",
        &fields,
        Some(("bad.json", missing.as_bytes())),
    );
    assert_eq!(
        (r.status, r.json()),
        (400, recorded("v3/64-import-scan-generic-invalid"))
    );
    assert_eq!(
        dojo.state().tests.len(),
        1,
        "a rejected generic report leaves no test"
    );
}

/// Form fields, file (name, bytes), recorded file with the expected answer.
type Case<'a> = (
    Vec<(&'a str, &'a str)>,
    Option<(&'a str, &'a [u8])>,
    &'a str,
);

#[test]
fn import_validation_errors_match_the_recordings() {
    let dojo = FakeDojo::start_with(Options {
        max_file_mb: 1,
        ..Options::new(Flavour::V3)
    });
    let e = seed_engagement(&dojo).to_string();
    let xml: &[u8] = b"<nmaprun></nmaprun>";
    let cases: Vec<Case> = vec![
        (
            vec![("scan_type", "No Such Scanner"), ("engagement", &e)],
            Some(("a.xml", xml)),
            "v3/24-import-scan-bad-scan-type",
        ),
        (
            vec![("scan_type", "Nmap Scan")],
            Some(("a.xml", xml)),
            "v3/25-import-scan-missing-engagement",
        ),
        (
            vec![("scan_type", "Nmap Scan"), ("engagement", "999999")],
            Some(("a.xml", xml)),
            "v3/26-import-scan-unknown-engagement",
        ),
        (
            vec![("scan_type", "Nmap Scan"), ("engagement", &e)],
            None,
            "v3/28-import-scan-multipart-no-file",
        ),
        (
            vec![("scan_type", "Nmap Scan"), ("engagement", &e)],
            Some(("scan.exe", xml)),
            "v3/29-import-scan-bad-extension",
        ),
        (
            vec![
                ("scan_type", "Nmap Scan"),
                ("engagement", &e),
                ("minimum_severity", "Urgent"),
            ],
            Some(("a.xml", xml)),
            "v3/30-import-scan-bad-severity",
        ),
    ];
    for (fields, file, name) in cases {
        let r = import(&dojo, "import-scan", &fields, file);
        assert_eq!((r.status, r.json()), (400, recorded(name)), "{name}");
    }
    let r = import(
        &dojo,
        "reimport-scan",
        &[("scan_type", "Nmap Scan"), ("test", "999999")],
        Some(("a.xml", xml)),
    );
    assert_eq!(
        (r.status, r.json()),
        (400, recorded("v3/57-reimport-scan-unknown-test"))
    );
    let big = vec![b' '; 1024 * 1024 + 1];
    let r = import(
        &dojo,
        "import-scan",
        &[("scan_type", "Trivy Scan"), ("engagement", &e)],
        Some(("big.json", &big)),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["non_field_errors"],
        json!(["Report file is too large. Maximum supported size is 1 MB"])
    );
    let r = import(
        &dojo,
        "import-scan",
        &[
            ("scan_type", "Nmap Scan"),
            ("engagement", &e),
            ("scan_date", "2999-01-01"),
        ],
        Some(("a.xml", xml)),
    );
    assert_eq!(
        r.json()["scan_date"],
        json!(["The scan_date cannot be in the future!"])
    );
    let form = send(
        "POST",
        &format!("{}/api/v2/import-scan/", dojo.url),
        &[
            ("Authorization", ADMIN),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        b"scan_type=Nmap+Scan".to_vec(),
    );
    assert_eq!(
        (form.status, form.json()),
        (415, recorded("v3/27-import-scan-missing-file"))
    );
    assert!(dojo.state().tests.is_empty());
}

#[test]
fn unparseable_native_report_is_500_and_leaves_an_empty_test() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let e = seed_engagement(&dojo);
        let truncated = b"<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\"><host><ports>";
        let fields = [
            ("scan_type", "Nmap Scan"),
            ("engagement", &e.to_string()),
            ("test_title", "rec2-broken"),
        ];
        let r = import(
            &dojo,
            "import-scan",
            &fields,
            Some(("nmap-results.xml", truncated)),
        );
        assert_eq!(
            (r.status, r.json()),
            (500, recorded("v3/31-import-scan-unparseable-file"))
        );
        let tests = get(&dojo, &format!("/api/v2/tests/?engagement={e}")).json();
        assert_eq!(tests["count"], 1);
        assert_eq!(tests["results"][0]["percent_complete"], 50);
        let shape = if flavour == Flavour::V3 {
            "v3/146-tests-by-engagement-after-500"
        } else {
            "v2/83-tests-by-engagement-after-500"
        };
        assert_eq!(
            keys(&tests["results"][0]),
            keys(&recorded(shape)["results"][0])
        );
        let test = tests["results"][0]["id"].as_u64().unwrap();
        assert!(dojo.state().findings_of(test).is_empty());
        let ok = import(
            &dojo,
            "import-scan",
            &fields,
            Some(("nmap-results.xml", b"<nmaprun></nmaprun>")),
        );
        assert_eq!(ok.status, 201);
        assert_eq!(
            ok.json()["statistics"]["after"]["total"]["total"],
            3,
            "canned findings"
        );
        assert_eq!(
            ok.json().get("deduplication_complete").is_some(),
            flavour == Flavour::V3
        );
    }
}

#[test]
fn findings_pages_carry_absolute_next_links() {
    let dojo = FakeDojo::start_with(Options {
        advertised_origin: Some("https://dojo.example.org".into()),
        ..Options::new(Flavour::V3)
    });
    let e = seed_engagement(&dojo).to_string();
    let findings: Vec<Value> =
        (0..27).map(|i| json!({"title": format!("f{i}"), "severity": "Low", "description": format!("d{i}")})).collect();
    let report = json!({ "findings": findings }).to_string();
    let r = import(
        &dojo,
        "import-scan",
        &[("scan_type", "Generic Findings Import"), ("engagement", &e)],
        Some(("g.json", report.as_bytes())),
    );
    let test = r.json()["test"].as_u64().unwrap();
    let page = get(
        &dojo,
        &format!("/api/v2/findings/?test={test}&limit=10&prefetch=endpoints,duplicate_finding"),
    )
    .json();
    assert_eq!(page["count"], 27);
    assert_eq!(
        page["next"],
        format!(
            "https://dojo.example.org/api/v2/findings/?limit=10&offset=10&prefetch=endpoints%2Cduplicate_finding&test={test}"
        )
    );
    assert_eq!(page["previous"], Value::Null);
    let last = get(
        &dojo,
        &format!("/api/v2/findings/?limit=10&offset=20&test={test}"),
    )
    .json();
    assert_eq!(
        (
            last["next"].clone(),
            last["results"].as_array().unwrap().len()
        ),
        (Value::Null, 7)
    );
    assert_eq!(
        last["previous"],
        format!("https://dojo.example.org/api/v2/findings/?limit=10&offset=10&test={test}")
    );
    let default = get(&dojo, &format!("/api/v2/findings/?test={test}")).json();
    assert_eq!(
        default["results"].as_array().unwrap().len(),
        25,
        "default page size"
    );
    assert_eq!(default["prefetch"], json!({}));
}

#[test]
fn prefetch_shapes_and_async_dedup_differ_by_flavour() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let e = seed_engagement(&dojo).to_string();
        let fields = [
            ("scan_type", "Generic Findings Import"),
            ("engagement", e.as_str()),
        ];
        let first = import(
            &dojo,
            "import-scan",
            &fields,
            Some(("g.json", &generic_report())),
        )
        .json();
        let second = import(
            &dojo,
            "import-scan",
            &fields,
            Some(("g.json", &generic_report())),
        )
        .json();
        let test = second["test"].as_u64().unwrap();
        let path =
            format!("/api/v2/findings/?test={test}&limit=3&prefetch=endpoints,duplicate_finding");
        let poll1 = get(&dojo, &path).json();
        assert_eq!(
            poll1["results"][0]["duplicate"], false,
            "async: not yet deduplicated at the first poll"
        );
        let poll2 = get(&dojo, &path).json();
        let dup = &poll2["results"][1];
        assert_eq!(
            (dup["duplicate"].clone(), dup["active"].clone()),
            (json!(true), json!(false))
        );
        let original = dup["duplicate_finding"].as_u64().unwrap();
        assert_eq!(
            poll2["prefetch"]["duplicate_finding"][original.to_string()]["test"],
            first["test"]
        );
        let reference = dup["endpoints"][0].as_u64().unwrap().to_string();
        let endpoint = &poll2["prefetch"]["endpoints"][&reference];
        match flavour {
            Flavour::V3 => {
                let rec = recorded("v3/102-findings-prefetch-endpoints-duplicate");
                assert_eq!(keys(endpoint), keys(&rec["prefetch"]["endpoints"]["68"]));
                assert!(
                    endpoint.get("host").is_none(),
                    "3.x prefetch holds location references"
                );
                assert_eq!(keys(dup), keys(&rec["results"][0]));
                let loc = get(&dojo, &format!("/api/v2/location_findings/?finding_includes={},1&prefetch=location&limit=100", dup["id"])).json();
                let location = loc["results"][0]["location"].as_u64().unwrap().to_string();
                assert_eq!(
                    loc["prefetch"]["location"][&location]["location_value"],
                    "https://app.example.org:8443/login"
                );
                assert_eq!(
                    keys(&loc),
                    keys(&recorded(
                        "v3/103-location-findings-by-finding-prefetch-location"
                    ))
                );
                assert_eq!(
                    get(&dojo, &format!("/api/v2/endpoints/{reference}/")).status,
                    404,
                    "other id space"
                );
            }
            Flavour::V2 => {
                let rec = recorded("v2/47-findings-prefetch-endpoints-duplicate");
                assert_eq!(keys(endpoint), keys(&rec["prefetch"]["endpoints"]["51"]));
                assert_eq!(
                    (endpoint["host"].clone(), endpoint["port"].clone()),
                    (json!("app.example.org"), json!(8443))
                );
                assert_eq!(keys(dup), keys(&rec["results"][0]));
                assert_eq!(
                    get(&dojo, "/api/v2/location_findings/?finding_includes=1").status,
                    404
                );
                assert_eq!(
                    get(&dojo, &format!("/api/v2/endpoints/{reference}/")).json()["host"],
                    "app.example.org"
                );
            }
        }
    }
}

#[test]
fn sync_dedup_is_immediate_on_v3_only() {
    let dojo = FakeDojo::start(Flavour::V3);
    let e = seed_engagement(&dojo).to_string();
    let fields = [
        ("scan_type", "Generic Findings Import"),
        ("engagement", &e),
        ("deduplication_execution_mode", "sync"),
    ];
    import(
        &dojo,
        "import-scan",
        &fields,
        Some(("g.json", &generic_report())),
    );
    let r = import(
        &dojo,
        "import-scan",
        &fields,
        Some(("g.json", &generic_report())),
    )
    .json();
    assert_eq!(r["deduplication_complete"], true);
    assert_eq!(r["statistics"]["after"]["total"]["duplicate"], 3);
}

#[test]
fn reimport_closes_reactivates_and_respects_do_not_reactivate() {
    let dojo = FakeDojo::start(Flavour::V2);
    let e = seed_engagement(&dojo).to_string();
    let full = generic_report();
    let mut minus_one: Value = serde_json::from_slice(&full).unwrap();
    minus_one["findings"].as_array_mut().unwrap().remove(1);
    let minus_one = minus_one.to_string().into_bytes();
    let r = import(
        &dojo,
        "import-scan",
        &[("scan_type", "Generic Findings Import"), ("engagement", &e)],
        Some(("g.json", &full)),
    );
    let test = r.json()["test"].to_string();
    let re = |file: &[u8], extra: &[(&str, &str)]| {
        let mut fields = vec![
            ("scan_type", "Generic Findings Import"),
            ("test", test.as_str()),
        ];
        fields.extend_from_slice(extra);
        import(&dojo, "reimport-scan", &fields, Some(("g.json", file))).json()
    };
    let delta = |r: &Value, bucket: &str| {
        r["statistics"]["delta"][bucket]["total"]["total"]
            .as_u64()
            .unwrap()
    };
    let closed = re(&minus_one, &[]);
    assert_eq!(
        (delta(&closed, "closed"), delta(&closed, "untouched")),
        (1, 2)
    );
    assert_eq!(keys(&closed["statistics"]), ["after", "before", "delta"]);
    assert_eq!(
        keys(&closed),
        keys(&recorded("v2/87-reimport-lifecycle-one-removed-close-old"))
    );
    let back = re(&full, &[]);
    assert_eq!(
        (delta(&back, "reactivated"), delta(&back, "created")),
        (1, 0)
    );
    re(&minus_one, &[]);
    let kept = re(&full, &[("do_not_reactivate", "true")]);
    let buckets: Vec<u64> = ["created", "closed", "reactivated", "untouched"]
        .iter()
        .map(|b| delta(&kept, b))
        .collect();
    assert_eq!(buckets, [0, 0, 0, 2]);
    assert_eq!(kept["statistics"]["after"]["total"]["is_mitigated"], 1);
    let history = get(
        &dojo,
        &format!("/api/v2/test_imports/?test={test}&limit=100"),
    )
    .json();
    assert_eq!(history["count"], 5);
    let row = &history["results"][0];
    assert_eq!(
        keys(row),
        keys(&recorded("v3/156-test-imports-by-test.trimmed")["results"][0])
    );
    let reactivated = get(
        &dojo,
        &format!("/api/v2/test_imports/?test={test}&test_import_finding_action__action=R"),
    )
    .json();
    assert_eq!(reactivated["count"], 1);
}

/// A `/api/v2/test_imports/` answer as `scripts/test-imports-digest.py` digests the
/// recorded ones: per row its type, actions (N and U without counts) and settings.
fn test_imports_digest(answer: &Value) -> Value {
    let rows: Vec<String> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let count = |code: &str| {
                r["test_import_finding_action_set"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a["action"] == code)
                    .count()
            };
            let mut words = vec![r["type"].as_str().unwrap().to_string()];
            for code in ["N", "C", "R", "U"] {
                match count(code) {
                    0 => {}
                    n if code == "C" || code == "R" => words.push(format!("{code}{n}")),
                    _ => words.push(code.to_string()),
                }
            }
            let flags: Vec<&str> = [
                "close_old_findings",
                "close_old_findings_product_scope",
                "do_not_reactivate",
            ]
            .into_iter()
            .filter(|f| r["import_settings"][*f] == true)
            .collect();
            if !flags.is_empty() {
                words.push(format!("[{}]", flags.join(",")));
            }
            words.join(" ")
        })
        .collect();
    json!({"count": answer["count"], "rows": rows})
}

/// The recorded lifecycle (`fixtures/dojo/recorded/v3/150-*` to `fixtures/dojo/recorded/v3/155-*` on 3.2.0, `fixtures/dojo/recorded/v2/86-*` to `fixtures/dojo/recorded/v2/91-*` on 2.58.4): import, a finding
/// removed, back, removed, back with do_not_reactivate, back with the product scope;
/// then the three recorded history queries (`fixtures/dojo/recorded/v3/156-*` to `fixtures/dojo/recorded/v3/158-*`, `fixtures/dojo/recorded/v2/92-*` to `fixtures/dojo/recorded/v2/94-*`) answer as recorded: the
/// same rows with the same actions, newest first on 3.2.0 and oldest first on 2.58.4.
#[test]
fn the_import_history_answers_as_recorded() {
    let digest = recorded("test-imports-digest");
    for (flavour, name) in [(Flavour::V3, "v3"), (Flavour::V2, "v2")] {
        let dojo = FakeDojo::start(flavour);
        let e = seed_engagement(&dojo).to_string();
        let full = generic_report();
        let mut minus_one: Value = serde_json::from_slice(&full).unwrap();
        let removed = minus_one["findings"].as_array_mut().unwrap().remove(1);
        let minus_one = minus_one.to_string().into_bytes();
        let fields = [
            ("scan_type", "Generic Findings Import"),
            ("active", "true"),
            ("verified", "false"),
            ("minimum_severity", "Info"),
        ];
        let mut first = fields.to_vec();
        first.extend([("engagement", e.as_str()), ("test_title", "lifecycle")]);
        let r = import(&dojo, "import-scan", &first, Some(("g.json", &full)));
        let test = r.json()["test"].to_string();
        let lifecycle = [
            (&minus_one, None),
            (&full, None),
            (&minus_one, None),
            (&full, Some("do_not_reactivate")),
            (&full, Some("close_old_findings_product_scope")),
        ];
        for (file, switch) in lifecycle {
            let mut f = fields.to_vec();
            f.extend([("test", test.as_str()), ("close_old_findings", "true")]);
            f.extend(switch.map(|name| (name, "true")));
            let r = import(&dojo, "reimport-scan", &f, Some(("g.json", file)));
            assert_eq!(r.status, 201, "{flavour:?}");
        }
        let finding = dojo
            .state()
            .findings
            .iter()
            .find(|f| {
                removed["title"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(&f.title)
            })
            .unwrap()
            .id;
        let queries = [
            format!("/api/v2/test_imports/?test={test}&limit=100"),
            format!(
                "/api/v2/test_imports/?test={test}&test_import_finding_action__action=R&limit=100"
            ),
            format!(
                "/api/v2/test_imports/?test_import_finding_action__finding={finding}&limit=100"
            ),
        ];
        for (query, want) in queries.iter().zip(digest[name].as_array().unwrap()) {
            let answer = get(&dojo, query).json();
            let want = json!({"count": want["count"], "rows": want["rows"]});
            assert_eq!(test_imports_digest(&answer), want, "{flavour:?} {query}");
        }
    }
}

#[test]
fn auto_create_context_and_reimport_by_names() {
    let dojo = FakeDojo::start_with(Options {
        lowpriv_key: Some("low".into()),
        ..Options::new(Flavour::V3)
    });
    let names = [
        ("product_type_name", "Org"),
        ("product_name", "App"),
        ("engagement_name", "ci"),
    ];
    let mut fields = vec![
        ("scan_type", "Generic Findings Import"),
        ("test_title", "scan"),
    ];
    fields.extend_from_slice(&names);
    let r = import(
        &dojo,
        "import-scan",
        &fields,
        Some(("g.json", &generic_report())),
    );
    assert_eq!(
        (r.status, r.json()),
        (400, json!(["Product Type \"Org\" does not exist"]))
    );
    fields.push(("auto_create_context", "true"));
    let (ct, body) = multipart(&fields, Some(("g.json", &generic_report())));
    let low = send(
        "POST",
        &format!("{}/api/v2/import-scan/", dojo.url),
        &[("Authorization", "Token low"), ("Content-Type", &ct)],
        body,
    );
    assert_eq!(
        (low.status, low.json()),
        (
            403,
            json!({"detail": "No permission to create product_type \"Org\""})
        )
    );
    let created = import(
        &dojo,
        "import-scan",
        &fields,
        Some(("g.json", &generic_report())),
    )
    .json();
    let engagement = dojo
        .state()
        .engagement(created["engagement_id"].as_u64().unwrap())
        .cloned()
        .unwrap();
    assert_eq!(
        (
            engagement.engagement_type.as_str(),
            engagement.status.as_str(),
            engagement.lead
        ),
        ("CI/CD", "In Progress", Some(1))
    );
    // Reimport finds the test by product + engagement + scan type + title.
    let mut by_name = vec![
        ("scan_type", "Generic Findings Import"),
        ("test_title", "scan"),
    ];
    by_name.extend_from_slice(&names);
    let re = import(
        &dojo,
        "reimport-scan",
        &by_name,
        Some(("g.json", &generic_report())),
    )
    .json();
    assert_eq!(
        (
            re["test"].clone(),
            re["statistics"]["delta"]["untouched"]["total"]["total"].clone()
        ),
        (created["test"].clone(), json!(3))
    );
    by_name[1] = ("test_title", "other");
    let missing = import(
        &dojo,
        "reimport-scan",
        &by_name,
        Some(("g.json", &generic_report())),
    );
    let msg = "Test \"other\" with scan_type \"Generic Findings Import\" does not exist in Engagement \"ci\"";
    assert_eq!((missing.status, missing.json()), (400, json!([msg])));
}

#[test]
fn low_privileged_user_limits_differ_by_flavour() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start_with(Options {
            lowpriv_key: Some("low".into()),
            ..Options::new(flavour)
        });
        let test = {
            let e = seed_engagement(&dojo);
            dojo.seed_test(e, Some("t"), "Nmap Scan")
        };
        let low = [
            ("Authorization", "Token low"),
            ("Content-Type", "application/json"),
        ];
        let r = send(
            "POST",
            &format!("{}/api/v2/product_types/", dojo.url),
            &low,
            br#"{"name":"x"}"#.to_vec(),
        );
        assert_eq!(
            (r.status, r.json()),
            (403, recorded("v3/80-lowpriv-product-type-create"))
        );
        assert_eq!(
            send(
                "GET",
                &format!("{}/api/v2/users/", dojo.url),
                &low,
                Vec::new()
            )
            .status,
            403
        );
        assert_eq!(
            send(
                "GET",
                &format!("{}/api/v2/user_profile/", dojo.url),
                &low,
                Vec::new()
            )
            .json()["user"]["id"],
            2
        );
        let r = send(
            "DELETE",
            &format!("{}/api/v2/tests/{test}/", dojo.url),
            &low,
            Vec::new(),
        );
        match flavour {
            Flavour::V3 => assert_eq!(
                (r.status, r.json()),
                (403, recorded("v3/142-lowpriv-test-delete-own"))
            ),
            Flavour::V2 => assert_eq!(r.status, 204),
        }
    }
}

#[test]
fn paths_redirects_and_deleted_tests() {
    let dojo = FakeDojo::start(Flavour::V3);
    let r = get(&dojo, "/api/v2/roles/");
    assert_eq!(r.status, 404);
    assert!(r.text.contains("<title>"));
    let r = get(&dojo, "/api/v2/endpoints/1?x=1");
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/api/v2/endpoints/1/?x=1"))
    );
    let e = seed_engagement(&dojo);
    let test = dojo.seed_test(e, Some("t"), "Nmap Scan");
    assert_eq!(
        send(
            "DELETE",
            &format!("{}/api/v2/tests/{test}/", dojo.url),
            &[("Authorization", ADMIN)],
            Vec::new()
        )
        .status,
        204
    );
    let gone = get(&dojo, &format!("/api/v2/tests/{test}/"));
    assert_eq!(
        (gone.status, gone.json()),
        (404, recorded("v3/68-test-unknown-id"))
    );
    assert_eq!(dojo.state().deleted_tests, [test]);
    assert_eq!(dojo.mutating_requests().len(), 1);
    let schema = get(&dojo, "/api/v2/oa3/schema/?format=json").json();
    let enum_len = schema["components"]["schemas"]["ImportScanRequest"]["properties"]["scan_type"]
        ["enum"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(enum_len, 271);
}

#[test]
fn over_long_uri_gets_the_connection_closed_without_a_response() {
    let dojo = FakeDojo::start(Flavour::V3);
    let ids: Vec<String> = (1..=700).map(|i| i.to_string()).collect();
    let long = format!(
        "/api/v2/location_findings/?finding_includes={}&limit=500",
        ids.join("%2C")
    );
    assert!(long.len() > 3880);
    let mut stream = TcpStream::connect(dojo.addr()).unwrap();
    let request = format!("GET {long} HTTP/1.1\r\nHost: x\r\nAuthorization: {ADMIN}\r\n\r\n");
    assert!(
        raw_exchange(&mut stream, request.as_bytes()).is_empty(),
        "no HTTP response at all"
    );
    let short = format!(
        "/api/v2/location_findings/?finding_includes={}&limit=500",
        ids[..400].join(",")
    );
    assert!(short.len() < 3880);
    assert_eq!(get(&dojo, &short).status, 200);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let dojo = FakeDojo::start(Flavour::V3);
    let mut stream = TcpStream::connect(dojo.addr()).unwrap();
    for _ in 0..3 {
        let got = raw_exchange(
            &mut stream,
            format!(
                "GET /api/v2/user_profile/ HTTP/1.1\r\nHost: x\r\nAuthorization: {ADMIN}\r\n\r\n"
            )
            .as_bytes(),
        );
        assert!(
            got.starts_with(b"HTTP/1.1 200 OK\r\n"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
    // A chunked request body is decoded for DefectDojo.
    let body = "{\"name\": \"chunked\"}";
    let request = format!(
        "POST /api/v2/product_types/ HTTP/1.1\r\nHost: x\r\nAuthorization: {ADMIN}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let got = raw_exchange(&mut stream, request.as_bytes());
    assert!(
        got.starts_with(b"HTTP/1.1 201 Created\r\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(dojo.requests().len(), 4);
}

#[test]
fn faults_answer_hang_and_close() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.fail(
        Fault::status(
            "GET",
            "/api/v2/user_profile/",
            502,
            "<html>bad gateway</html>",
        )
        .content_type("text/html"),
    );
    assert_eq!(get(&dojo, "/api/v2/user_profile/").status, 502);
    assert_eq!(
        get(&dojo, "/api/v2/user_profile/").status,
        200,
        "a fault is used up after `times`"
    );
    dojo.fail(Fault::close("", "/api/v2/"));
    let mut stream = TcpStream::connect(dojo.addr()).unwrap();
    assert!(
        raw_exchange(
            &mut stream,
            format!("GET /api/v2/ HTTP/1.1\r\nAuthorization: {ADMIN}\r\n\r\n").as_bytes()
        )
        .is_empty()
    );
    dojo.fail(Fault::hang("GET", "/api/v2/tests/"));
    let mut stream = TcpStream::connect(dojo.addr()).unwrap();
    stream
        .write_all(b"GET /api/v2/tests/ HTTP/1.1\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let err = stream.read(&mut [0u8; 16]).unwrap_err();
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
}

#[test]
#[should_panic(expected = "was never called")]
fn a_dojo_that_is_never_called_fails_the_test() {
    let _dojo = FakeDojo::start(Flavour::V3);
}

#[test]
#[should_panic(expected = "was never called")]
fn a_store_that_is_never_called_fails_the_test() {
    let _store = FakeStore::start();
}

// ---------------------------------------------------------------- S3 store

#[test]
fn store_round_trips_and_rejects_chunked_puts() {
    let store = FakeStore::start();
    let put = send(
        "PUT",
        &store.url_for("/bucket/out/findings.json"),
        &[("Content-Type", "application/json")],
        b"[]".to_vec(),
    );
    assert_eq!(put.status, 200);
    assert_eq!(
        store.object_text("/bucket/out/findings.json").as_deref(),
        Some("[]")
    );
    let seen = &store.puts()[0];
    assert_eq!(
        (seen.header("content-length"), seen.header("content-type")),
        (Some("2"), Some("application/json"))
    );
    let got = send(
        "GET",
        &store.url_for("/bucket/out/findings.json"),
        &[],
        Vec::new(),
    );
    assert_eq!(
        (got.status, got.text.as_str(), got.header("content-length")),
        (200, "[]", Some("2"))
    );

    let mut stream = TcpStream::connect(store.url.trim_start_matches("http://")).unwrap();
    let chunked = b"PUT /bucket/x.json HTTP/1.1\r\nHost: s3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n";
    let reply = String::from_utf8_lossy(&raw_exchange(&mut stream, chunked)).into_owned();
    assert!(reply.starts_with("HTTP/1.1 501 "), "{reply}");
    assert!(
        reply.contains("<Code>NotImplemented</Code>")
            && reply.contains("implies functionality that is not implemented")
    );
    let reply = String::from_utf8_lossy(&raw_exchange(
        &mut stream,
        b"PUT /bucket/y.json HTTP/1.1\r\nHost: s3\r\n\r\n",
    ))
    .into_owned();
    assert!(
        reply.starts_with("HTTP/1.1 411 ") && reply.contains("MissingContentLength"),
        "{reply}"
    );
    assert!(store.object("/bucket/x.json").is_none());
    let missing = send("GET", &store.url_for("/bucket/nope"), &[], Vec::new());
    assert!(missing.status == 404 && missing.text.contains("<Code>NoSuchKey</Code>"));
}

#[test]
fn store_options_signatures_chunked_gets_generators_and_faults() {
    let store = FakeStore::start_with(StoreOptions {
        require_signature: true,
        chunked_gets: true,
        ..StoreOptions::default()
    });
    store.put_generated("/bucket/big.json", 200_000, |w| {
        for _ in 0..20_000 {
            w.write_all(b"0123456789")?;
        }
        Ok(())
    });
    let unsigned = send("GET", &store.url_for("/bucket/big.json"), &[], Vec::new());
    assert!(unsigned.status == 403 && unsigned.text.contains("AccessDenied"));
    let signed = send(
        "GET",
        &store.presigned_url("/bucket/big.json"),
        &[],
        Vec::new(),
    );
    assert_eq!((signed.status, signed.text.len()), (200, 200_000));
    assert_eq!(signed.header("transfer-encoding"), Some("chunked"));
    assert_eq!(signed.header("content-length"), None);
    store.fail(FakeStore::expired("GET", "/bucket/"));
    let expired = send(
        "GET",
        &store.presigned_url("/bucket/big.json"),
        &[],
        Vec::new(),
    );
    assert!(expired.status == 403 && expired.text.contains("Request has expired"));
}

#[test]
fn store_dir_serves_and_receives_files() {
    let dir = std::env::temp_dir().join(format!("fake-store-selftest-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("bucket")).unwrap();
    std::fs::write(dir.join("bucket/in.xml"), "<nmaprun/>").unwrap();
    let store = FakeStore::start_with(StoreOptions {
        dir: Some(dir.clone()),
        ..StoreOptions::default()
    });
    assert_eq!(
        send("GET", &store.url_for("/bucket/in.xml"), &[], Vec::new()).text,
        "<nmaprun/>"
    );
    send(
        "PUT",
        &store.url_for("/bucket/out.json"),
        &[],
        b"{}".to_vec(),
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("bucket/out.json")).unwrap(),
        "{}"
    );
    assert_eq!(
        send("GET", &store.url_for("/../etc/passwd"), &[], Vec::new()).status,
        404
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- helpers of the fake

#[test]
fn hashing_and_title_casing_match_defectdojo() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(sha256_hex(&[b'a'; 1000]).len(), 64);
    // `fixtures/dojo/recorded/v3/62-*`: the legacy hash lower-cases the concatenation; None is "None".
    let h = legacy_hash(
        "Verbose Server Banner",
        0,
        None,
        None,
        "Server header discloses version.",
    );
    assert_eq!(
        h,
        "54e6b8bb8e27ae61fe33842baebbcd634c0219ffe9f2784697c0367636cb4bda"
    );
    assert_eq!(
        titlecase("MSF:ILITIES/UBUNTU-CVE-2019-6111/"),
        "Msf:ilities/Ubuntu-Cve-2019-6111/"
    );
    assert_eq!(titlecase("a finding of the year"), "A Finding of the Year");
    assert_eq!(
        titlecase("use of config.py in iPhone builds"),
        "Use of config.py in iPhone Builds"
    );
}

// ------------------------------------------------------- sources of truth
