//! In a cluster: the Scan read from the Kubernetes API (TLS, its own CA),
//! its finding statistics patched after a sync back, and every failure of
//! those two calls as one clear line.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{Hook, KEY, Output, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};
use crate::support::fake_k8s::{FakeK8s, OTHER_CA_PEM};
use crate::support::fake_store::FakeStore;

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.k8s-sa-token.signature";
const SCAN_PATH: &str = "/apis/execution.securecodebox.io/v1/namespaces";

/// A Scan as the operator creates it, without owners, with its parser's
/// statistics.
fn plain_scan(name: &str, namespace: &str, scan_type: &str) -> Value {
    json!({
        "apiVersion": "execution.securecodebox.io/v1",
        "kind": "Scan",
        "metadata": {"name": name, "namespace": namespace,
                     "creationTimestamp": "2026-11-27T06:00:00Z",
                     "uid": "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"},
        "spec": {"scanType": scan_type, "parameters": ["-Pn", "example.com"]},
        "status": {"state": "HookProcessing",
                   "findings": {"count": 7, "severities": {"low": 7},
                                "categories": {"Open Port": 7}},
                   "readAndWriteHookStatus": [{"hookName": "dd", "state": "InProgress"}]}
    })
}

/// `hook` pointed at `k8s` as a pod's environment points at its API server,
/// with the service account's files in the run's temp dir.
pub(crate) fn in_cluster(hook: Hook, k8s: &FakeK8s, namespace: &str, ca: Option<&str>) -> Hook {
    let dir = hook.tmp.path().join("serviceaccount");
    k8s.write_service_account(&dir, namespace, ca);
    hook.env("KUBERNETES_SERVICE_HOST", k8s.host.clone())
        .env("KUBERNETES_SERVICE_PORT", k8s.port.to_string())
        .env("KUBERNETES_SERVICE_ACCOUNT_DIR", dir.display().to_string())
}

/// Findings of the given severities, at locations of their own.
fn findings(severities: &[&str]) -> String {
    let items: Vec<Value> = severities
        .iter()
        .enumerate()
        .map(|(i, severity)| {
            json!({"id": format!("id-{i}"), "name": format!("Finding {i}"), "category": "Test",
                   "severity": severity, "location": format!("https://host-{i}.example.com/"),
                   "description": "d", "parsed_at": "2026-11-27T06:00:00Z"})
        })
        .collect();
    Value::Array(items).to_string()
}

fn assert_clean(out: &Output, secret: &str) {
    out.assert_clean(&[secret]);
}

#[test]
fn plain_scan_is_read_and_its_statistics_patched_after_sync_back() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let k8s = FakeK8s::start(TOKEN);
    k8s.add_scan(plain_scan("nmap-example", "scans", "nmap"));
    store.put_object(
        "/b/nmap-results.xml",
        std::fs::read(fixture("samples/nmap/nmap-results.xml")).unwrap(),
    );
    store.put_object(
        "/b/findings.json",
        std::fs::read(fixture("samples/nmap/findings.json")).unwrap(),
    );
    let (raw, found) = (
        store.presigned_url("/b/nmap-results.xml"),
        store.presigned_url("/b/findings.json"),
    );
    // NAMESPACE unset: the service account's namespace file says "scans".
    let out = in_cluster(Hook::new(&dojo), &k8s, "scans", None)
        .env("SCAN_NAME", "nmap-example")
        .env("RUST_LOG", "trace")
        .args(&[&raw, &found, &raw, &found])
        .run();
    out.expect(0);
    assert_clean(&out, TOKEN);
    assert_clean(&out, "k8s-sa-token");

    let requests = k8s.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let (get, patch) = (&requests[0], &requests[1]);
    assert_eq!(get.method, "GET");
    assert_eq!(get.path, format!("{SCAN_PATH}/scans/scans/nmap-example"));
    assert_eq!(
        get.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(patch.method, "PATCH");
    assert_eq!(
        patch.path,
        format!("{SCAN_PATH}/scans/scans/nmap-example/status")
    );
    assert_eq!(
        patch.header("content-type"),
        Some("application/merge-patch+json")
    );

    // The scan's type and name reached DefectDojo.
    let import = dojo.last_import().unwrap();
    assert_eq!(import.field("scan_type"), Some("Nmap Scan"));
    assert_eq!(import.real_title(), Some("nmap-example"));

    // The patch counts exactly what was written back.
    let synced: Vec<Value> =
        serde_json::from_slice(&store.object("/b/findings.json").unwrap()).unwrap();
    let count = |s: &str| synced.iter().filter(|f| f["severity"] == s).count();
    let want = format!(
        r#"{{"status":{{"findings":{{"count":{},"severities":{{"informational":{},"low":{},"medium":{},"high":{}}},"categories":{{"DefectDojo Imported Finding":{},"Open Port":null}}}}}}}}"#,
        synced.len(),
        count("INFORMATIONAL"),
        count("LOW"),
        count("MEDIUM"),
        count("HIGH"),
        synced.len()
    );
    assert!(!synced.is_empty());
    assert_eq!(patch.body_text(), want);

    // Only status.findings changed; the rest of the status is the operator's,
    // and the parser's category is gone.
    let scan = k8s.scan("scans", "nmap-example").unwrap();
    assert_eq!(scan["status"]["state"], "HookProcessing");
    assert_eq!(
        scan["status"]["readAndWriteHookStatus"][0]["hookName"],
        "dd"
    );
    assert_eq!(scan["status"]["findings"]["count"], synced.len());
    assert_eq!(
        scan["status"]["findings"]["categories"],
        json!({"DefectDojo Imported Finding": synced.len()})
    );
}

#[test]
fn scheduled_scan_gives_product_name_and_read_only_mode_patches_nothing() {
    let dojo = FakeDojo::start(Flavour::V3);
    let k8s = FakeK8s::start(TOKEN);
    let mut scan: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("k8s/scan-scheduled.json")).unwrap())
            .unwrap();
    let annotations = scan["metadata"]["annotations"].as_object_mut().unwrap();
    annotations.remove("defectdojo.securecodebox.io/product-name");
    k8s.add_scan(scan);
    let out = in_cluster(Hook::new(&dojo), &k8s, "default", None)
        .env("SCAN_NAME", "zap-juiceshop-1795845600")
        .env("NAMESPACE", "default")
        .args(&[
            fixture("samples/zap/xml-nginx/nginx.xml"),
            fixture("samples/zap/xml-nginx/findings.json"),
        ])
        .run();
    out.expect(0);
    assert_eq!(k8s.requests().len(), 1, "read-only mode: the GET only");
    let import = dojo.last_import().unwrap();
    assert_eq!(import.field("scan_type"), Some("ZAP Scan"));
    assert_eq!(import.real_title(), Some("Juice Shop - v12.6.1"));
    assert_eq!(import.field("minimum_severity"), Some("Low"));
    let st = dojo.state();
    assert!(
        st.products.iter().any(|p| p.name == "zap-juiceshop"),
        "the owning ScheduledScan names the product"
    );
    assert!(st.product_types.iter().any(|p| p.name == "OWASP"));
}

#[test]
fn missing_scan_names_scan_and_namespace_and_calls_nothing_else() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let k8s = FakeK8s::start(TOKEN);
    let out = in_cluster(Hook::new(&dojo), &k8s, "default", None)
        .env("SCAN_NAME", "no-such-scan")
        .args(&["raw", "findings"])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains(
            "reading Scan 'no-such-scan' in namespace 'default' from the Kubernetes API: HTTP 404"
        ),
        "{line}"
    );
    assert!(line.contains("check SCAN_NAME and NAMESPACE"), "{line}");
}

#[test]
fn rbac_denials_name_the_missing_rule() {
    // No `get` on scans: nothing is imported.
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let k8s = FakeK8s::start(TOKEN);
    k8s.add_scan(plain_scan("s1", "default", "custom"));
    k8s.forbid("scans", "get");
    let out = in_cluster(Hook::new(&dojo), &k8s, "default", None)
        .env("SCAN_NAME", "s1")
        .args(&["raw", "findings"])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(line.contains("HTTP 403"), "{line}");
    assert!(line.contains("cannot get resource \"scans\""), "{line}");
    assert!(
        line.contains(
            "RBAC rule apiGroups [execution.securecodebox.io], resources [scans], verbs [get]"
        ),
        "{line}"
    );

    // No `patch` on scans/status: imported and written, then a clear failure.
    let dojo = FakeDojo::start(Flavour::V3);
    let k8s = FakeK8s::start(TOKEN);
    k8s.add_scan(plain_scan("s2", "default", "custom"));
    k8s.forbid("scans/status", "patch");
    let hook = in_cluster(Hook::new(&dojo), &k8s, "default", None);
    let input = hook.tmp.file("findings.json", findings(&["LOW"]));
    let output = hook.tmp.path().join("out.json");
    let hook = hook.env("SCAN_NAME", "s2").args(&[
        "raw",
        input.to_str().unwrap(),
        "unused",
        output.to_str().unwrap(),
    ]);
    let out = hook.run();
    out.expect(1);
    let line = out.error_line();
    assert!(
        line.contains("updating the finding statistics of Scan 's2' in namespace 'default'"),
        "{line}"
    );
    assert!(
        line.contains("import and the findings upload succeeded"),
        "{line}"
    );
    assert!(
        line.contains("resources [scans/status], verbs [patch]"),
        "{line}"
    );
    assert!(
        output.exists(),
        "the findings were written before the patch"
    );
    assert_eq!(dojo.imports().len(), 1);
}

#[test]
fn rejected_token_and_untrusted_server_are_clear_errors() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();

    // A token the API server does not accept.
    let k8s = FakeK8s::start(TOKEN);
    k8s.add_scan(plain_scan("s1", "default", "custom"));
    let hook = in_cluster(Hook::new(&dojo), &k8s, "default", None);
    let dir = hook.tmp.path().join("serviceaccount");
    std::fs::write(dir.join("token"), "stale-token\n").unwrap();
    let out = hook.env("SCAN_NAME", "s1").args(&["raw", "findings"]).run();
    out.expect(1);
    let line = out.error_line();
    assert!(line.contains("HTTP 401: Unauthorized"), "{line}");
    assert!(
        line.contains("rejected the service account token"),
        "{line}"
    );
    assert!(!line.contains("stale-token"), "{line}");

    // A server whose certificate the cluster CA did not sign: the public
    // roots and other CAs are never trusted for the API.
    let k8s = FakeK8s::start(TOKEN);
    let out = in_cluster(Hook::new(&dojo), &k8s, "default", Some(OTHER_CA_PEM))
        .env("SCAN_NAME", "s1")
        .args(&["raw", "findings"])
        .run();
    out.expect(1);
    let line = out.error_line();
    assert!(line.contains("TLS failed"), "{line}");
    assert!(
        line.contains("trusted only with the cluster's CA"),
        "{line}"
    );
    assert!(
        k8s.requests().is_empty(),
        "no request over an untrusted connection"
    );
    assert!(!k8s.tls_errors().is_empty());
}

#[test]
fn local_problems_stop_before_the_first_call() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let k8s = FakeK8s::start(TOKEN);
    k8s.expect_no_calls();

    // An unreadable token is a local problem (exit 2).
    let hook = in_cluster(Hook::new(&dojo), &k8s, "default", None);
    std::fs::remove_file(hook.tmp.path().join("serviceaccount/token")).unwrap();
    let out = hook.env("SCAN_NAME", "s1").args(&["raw", "findings"]).run();
    out.expect(2);
    let line = out.error_line();
    assert!(line.contains("service account token"), "{line}");
    assert!(line.contains("not found"), "{line}");

    // Variables no Scan can change are checked before the Scan is read.
    let out = in_cluster(Hook::bare(), &k8s, "default", None)
        .env("SCAN_NAME", "s1")
        .env("DEFECTDOJO_TIMEOUT_SECONDS", "soon")
        .args(&["raw", "findings"])
        .run();
    out.expect(2);
    let line = out.error_line();
    for needle in [
        "DEFECTDOJO_URL",
        "DEFECTDOJO_APIKEY",
        "DEFECTDOJO_TIMEOUT_SECONDS",
    ] {
        assert!(line.contains(needle), "{needle}: {line}");
    }
}

#[test]
fn outside_a_cluster_the_scan_comes_from_the_environment() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("outside");
    let input = tmp.file("findings.json", findings(&["LOW"]));
    let hook = Hook::new(&dojo)
        .env("SCAN_TYPE", "custom")
        .args(&["raw", input.to_str().unwrap()]);
    // Every CI run is outside a cluster: no line about it at the default level.
    let out = hook.run();
    out.expect(0);
    assert!(!out.stderr.contains("Kubernetes"), "{out}");
    let out = hook.env("RUST_LOG", "debug").run();
    out.expect(0);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("not in a Kubernetes cluster"))
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].contains("scan name 'scan-1' and scan type 'custom' from the environment"),
        "{out}"
    );
}

/// A directory nobody but root may write (the pod's read-only root).
fn read_only_dir(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555)).unwrap();
}

#[test]
fn runs_exactly_as_the_secure_code_box_operator_does() {
    let dojo = FakeDojo::start(Flavour::V3);
    let store = FakeStore::start();
    let k8s = FakeK8s::start(TOKEN);
    // No statistics yet (the CRD omits empty ones).
    let mut scan = plain_scan("custom-scan-1", "team-a", "custom-scanner");
    scan["status"].as_object_mut().unwrap().remove("findings");
    k8s.add_scan(scan);
    store.put_object(
        "/securecodebox/scan-1/findings.json",
        findings(&["INFORMATIONAL", "MEDIUM", "HIGH"]),
    );
    store.put_object("/securecodebox/scan-1/results.txt", "raw");
    let raw_get = store.presigned_url("/securecodebox/scan-1/results.txt");
    let findings_get = store.presigned_url("/securecodebox/scan-1/findings.json");
    let raw_put = store.presigned_url("/securecodebox/scan-1/results.txt");
    let findings_put = store.presigned_url("/securecodebox/scan-1/findings.json");

    // The hook Job's environment: what the operator and the chart set, the
    // service account's files, no TMPDIR; the root (working directory, /tmp)
    // is not writable, as with readOnlyRootFilesystem.
    let root = TempDir::new("operator");
    let account = root.path().join("serviceaccount");
    k8s.write_service_account(&account, "team-a", None);
    let workdir = root.path().join("workdir");
    let no_tmp = root.path().join("tmp");
    read_only_dir(&workdir);
    read_only_dir(&no_tmp);
    let hook = Hook::bare()
        .env("NAMESPACE", "team-a")
        .env("SCAN_NAME", "custom-scan-1")
        .env("DEFECTDOJO_URL", dojo.url.clone())
        .env("DEFECTDOJO_APIKEY", KEY)
        .env("DEFECTDOJO_LOW_PRIVILEGED_MODE", "false")
        .env("KUBERNETES_SERVICE_HOST", k8s.host.clone())
        .env("KUBERNETES_SERVICE_PORT", k8s.port.to_string())
        .env(
            "KUBERNETES_SERVICE_ACCOUNT_DIR",
            account.display().to_string(),
        )
        // /tmp itself is writable on this machine; the pod's is not.
        .env("TMPDIR", no_tmp.display().to_string())
        .args(&[&raw_get, &findings_get, &raw_put, &findings_put]);
    // As root every directory is writable: run as the image's user instead,
    // from a copy it can reach (the checkout may be in root's home).
    let program = root.path().join("dojo-hook");
    std::fs::copy(crate::harness::binary(), &program).unwrap();
    let out = hook.run_with(&program, |cmd: &mut Command| {
        use std::os::unix::process::CommandExt;
        cmd.current_dir(&workdir);
        if is_root() {
            cmd.uid(65532).gid(65532);
        }
    });
    out.expect(0);
    assert!(out.stderr.contains("two-pass mode"), "{out}");
    assert_eq!(out.summary()["body"], "two passes");
    assert_eq!(std::fs::read_dir(&workdir).unwrap().count(), 0);

    // 1. The Scan GET, before anything else.
    let k8s_requests = k8s.requests();
    assert_eq!(k8s_requests.len(), 2, "{k8s_requests:#?}");
    assert_eq!(k8s_requests[0].method, "GET");
    assert_eq!(
        k8s_requests[0].path,
        format!("{SCAN_PATH}/team-a/scans/custom-scan-1")
    );
    // 2. The import, named after the Scan, generic (an unmapped scan type).
    let import = dojo.last_import().unwrap();
    assert_eq!(import.field("scan_type"), Some("Generic Findings Import"));
    assert_eq!(import.real_title(), Some("custom-scan-1"));
    assert_eq!(
        import.field("deduplication_execution_mode"),
        Some("async_wait")
    );
    // 3. The PUT of findings.json, with a length, to the presigned URL.
    let puts = store.puts();
    assert_eq!(puts.len(), 1, "{puts:#?}");
    assert_eq!(puts[0].path, "/securecodebox/scan-1/findings.json");
    assert!(puts[0].header("content-length").is_some());
    let synced: Vec<Value> =
        serde_json::from_slice(&store.object("/securecodebox/scan-1/findings.json").unwrap())
            .unwrap();
    assert_eq!(synced.len(), 3);
    // 4. The status PATCH: the hook SDK's merge patch, byte for byte.
    let patch = &k8s_requests[1];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(
        patch.path,
        format!("{SCAN_PATH}/team-a/scans/custom-scan-1/status")
    );
    assert_eq!(
        patch.header("content-type"),
        Some("application/merge-patch+json")
    );
    let want = std::fs::read_to_string(fixture("k8s/findings-merge-patch.json")).unwrap();
    assert_eq!(patch.body_text(), want.trim_end());
}

fn is_root() -> bool {
    // The effective uid of this process, without libc: /proc/self/status's "Uid:" line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
