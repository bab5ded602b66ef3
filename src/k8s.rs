//! The Scan resource in Kubernetes: read in-cluster instead of `SCAN_FILE`,
//! and its finding statistics updated after a sync back.
//!
//! Two calls, made with ureq like every other one (no Kubernetes crate):
//! `GET …/scans/NAME` before anything else, and a JSON merge patch of
//! `status.findings` on `…/scans/NAME/status` after a sync back, as the
//! secureCodeBox hook SDK does. The API server is reached directly (never
//! through a proxy) on an agent of its own that trusts only the cluster's CA
//! from the service account's `ca.crt`, never the public roots used for
//! DefectDojo. The service account's token is sent as a bearer token and
//! never logged; kubelet rotates it, so it is read again before the patch.
//!
//! Errors name the scan, the namespace and, for 401/403, what is missing
//! (the token, or the RBAC rule the persistence-defectdojo chart grants).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use ureq::Agent;
use ureq::http::Response;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::cli::Args;
use crate::config::{Config, Getter};
use crate::convert::sync::Counts;
use crate::error::Error;
use crate::redact::Secret;
use crate::scan::Scan;

/// Overrides where the service account's files are read from (tests,
/// running outside a pod with a copied token).
pub const ACCOUNT_DIR_VARIABLE: &str = "KUBERNETES_SERVICE_ACCOUNT_DIR";
/// Where Kubernetes mounts the service account's token, CA and namespace.
pub const DEFAULT_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The Scan's API group and version.
const API: &str = "/apis/execution.securecodebox.io/v1";
/// The category of every finding after a sync back (convert::sync sets it).
pub const SYNCED_CATEGORY: &str = "DefectDojo Imported Finding";
/// Connect and answer timeout of both calls: the API server answers in
/// milliseconds, and a hook that hangs here holds up the scan's other hooks.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A Scan is a few KiB; this bounds what a broken answer can make us buffer.
const SCAN_LIMIT: u64 = 4 * 1024 * 1024;

/// The in-cluster connection to the Kubernetes API for one Scan.
pub struct Cluster {
    /// `https://HOST:PORT`.
    api: String,
    namespace: String,
    scan_name: String,
    account_dir: PathBuf,
    token: Secret,
    agent: Agent,
    /// The categories in the Scan's `status.findings` when it was read.
    categories_read: Vec<String>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("api", &self.api)
            .field("namespace", &self.namespace)
            .field("scan_name", &self.scan_name)
            .field("account_dir", &self.account_dir)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// Which call an answer belongs to, for the RBAC rule an error names.
#[derive(Clone, Copy)]
enum Call {
    GetScan,
    PatchStatus,
}

impl Call {
    fn rule(self) -> &'static str {
        match self {
            Call::GetScan => {
                "apiGroups [execution.securecodebox.io], resources [scans], verbs [get]"
            }
            Call::PatchStatus => {
                "apiGroups [execution.securecodebox.io], resources [scans/status], verbs [patch]"
            }
        }
    }
}

impl Cluster {
    /// The connection to use, or `None` when the Scan does not come from
    /// Kubernetes: `SCAN_FILE` is set, or `KUBERNETES_SERVICE_HOST` is not.
    ///
    /// In a cluster, the variables that no Scan annotation can change
    /// (DefectDojo URL and key, numbers, switches) are checked first, with
    /// the cluster's own, so that the Scan GET, the first network call,
    /// is only made when the run can go on. Reads the token and the CA.
    pub fn from_env(get: Getter, args: &Args) -> Result<Option<Cluster>, Error> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if var("SCAN_FILE").is_some() {
            if var("KUBERNETES_SERVICE_HOST").is_some() {
                log::info!("SCAN_FILE is set: the Scan is not read from the Kubernetes API");
            }
            return Ok(None);
        }
        let Some(host) = var("KUBERNETES_SERVICE_HOST") else {
            log::info!(
                "not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is not set) and no SCAN_FILE: \
                 scan name {} and scan type {} from the environment",
                shown(var("SCAN_NAME")),
                shown(var("SCAN_TYPE").or_else(|| var("DEFECTDOJO_SCAN_TYPE")))
            );
            return Ok(None);
        };

        let mut problems = problems_before_scan(get, args);
        let host_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':');
        if !host.trim_matches(['[', ']']).chars().all(host_chars) {
            problems.push(format!(
                "KUBERNETES_SERVICE_HOST '{host}' is not a host name or IP address"
            ));
        }
        let port = match var("KUBERNETES_SERVICE_PORT") {
            None => {
                problems.push(
                    "KUBERNETES_SERVICE_PORT is not set, but KUBERNETES_SERVICE_HOST is: \
                     set both (Kubernetes does in every pod), or set SCAN_FILE"
                        .to_string(),
                );
                0
            }
            Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).unwrap_or_else(|| {
                problems.push(format!(
                    "KUBERNETES_SERVICE_PORT '{p}' is not a port number"
                ));
                0
            }),
        };
        let account_dir = PathBuf::from(
            var(ACCOUNT_DIR_VARIABLE).unwrap_or_else(|| DEFAULT_ACCOUNT_DIR.to_string()),
        );
        let scan_name = match var("SCAN_NAME") {
            None => {
                problems.push(
                    "SCAN_NAME is not set: in a cluster the Scan is read from the Kubernetes API \
                     by its name (the secureCodeBox operator sets SCAN_NAME); outside a hook Job, \
                     set SCAN_FILE instead"
                        .to_string(),
                );
                String::new()
            }
            Some(name) => {
                if !is_object_name(&name, 253) {
                    problems.push(format!(
                        "SCAN_NAME '{name}' is not a Kubernetes object name \
                         (lowercase letters, digits, '-' and '.')"
                    ));
                }
                name
            }
        };
        let namespace = match var("NAMESPACE") {
            Some(ns) => ns,
            None => account_namespace(&account_dir),
        };
        if !is_object_name(&namespace, 63) || namespace.contains('.') {
            problems.push(format!(
                "NAMESPACE '{namespace}' is not a Kubernetes namespace name \
                 (lowercase letters, digits and '-')"
            ));
        }
        if !problems.is_empty() {
            return Err(Error::Config(problems));
        }

        let token = read_token(&account_dir)?;
        let ca = read_ca(&account_dir)?;
        Ok(Some(Cluster {
            api: format!("https://{}:{port}", bracket_ipv6(&host)),
            namespace,
            scan_name,
            token,
            agent: agent(ca),
            account_dir,
            categories_read: Vec::new(),
        }))
    }

    /// Reads the Scan, which then goes the way of a `SCAN_FILE`'s JSON.
    pub fn read_scan(&mut self) -> Result<Scan, Error> {
        let what = format!(
            "reading Scan '{}' in namespace '{}' from the Kubernetes API",
            self.scan_name, self.namespace
        );
        log::info!("{what} at {}", self.api);
        let url = self.scan_url("");
        log::debug!("GET {url}");
        let mut resp = self
            .agent
            .get(&url)
            .header("Authorization", bearer(&self.token))
            .header("Accept", "application/json")
            .call()
            .map_err(|e| self.transport_error(&what, e))?;
        if !resp.status().is_success() {
            return Err(self.status_error(&what, Call::GetScan, &mut resp));
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(SCAN_LIMIT)
            .read_to_string()
            .map_err(|e| self.transport_error(&what, e))?;
        let resource = format!("the Scan '{}' from the Kubernetes API", self.scan_name);
        let scan = Scan::from_json(&text).map_err(|reason| Error::protocol(&resource, reason))?;
        if scan.name.as_deref() != Some(self.scan_name.as_str()) {
            return Err(Error::protocol(
                resource,
                format!(
                    "the answer is not that Scan (metadata.name is {})",
                    shown(scan.name)
                ),
            ));
        }
        self.categories_read = categories(&text);
        Ok(scan)
    }

    /// Sets the Scan's `status.findings` to what a sync back wrote, with a
    /// JSON merge patch that leaves the rest of the status alone.
    ///
    /// A merge patch merges maps, so the parser's categories (e.g. "Open
    /// Port") would stay next to the new one; they are removed with `null`,
    /// which leaves `categories` as the Java hook leaves it.
    pub fn update_findings(&self, counts: &Counts) -> Result<(), Error> {
        let what = format!(
            "updating the finding statistics of Scan '{}' in namespace '{}' \
             (DefectDojo's import and the findings upload succeeded)",
            self.scan_name, self.namespace
        );
        log::info!(
            "updating the finding statistics of Scan '{}': {} findings",
            self.scan_name,
            counts.total
        );
        // Read again: a long run may outlive the token read at the start.
        let token = read_token(&self.account_dir).unwrap_or_else(|e| {
            log::debug!("using the token read at the start: {e}");
            self.token.clone()
        });
        let url = self.scan_url("/status");
        log::debug!("PATCH {url}");
        let mut resp = self
            .agent
            .patch(&url)
            .header("Authorization", bearer(&token))
            .header("Accept", "application/json")
            .content_type("application/merge-patch+json")
            .send(findings_patch(counts, &self.categories_read))
            .map_err(|e| self.transport_error(&what, e))?;
        if !resp.status().is_success() {
            return Err(self.status_error(&what, Call::PatchStatus, &mut resp));
        }
        Ok(())
    }

    fn scan_url(&self, sub: &str) -> String {
        format!(
            "{}{API}/namespaces/{}/scans/{}{sub}",
            self.api, self.namespace, self.scan_name
        )
    }

    fn transport_error(&self, what: &str, err: ureq::Error) -> Error {
        let detail = match &err {
            ureq::Error::Timeout(_) => format!(
                "no answer within {} s: is the API server at {} reachable from this pod?",
                TIMEOUT.as_secs(),
                self.api
            ),
            ureq::Error::Rustls(_) | ureq::Error::Tls(_) => {
                format!("TLS failed: {err}{}", self.ca_hint())
            }
            // rustls' handshake errors arrive wrapped in an io::Error.
            ureq::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => {
                format!("TLS failed: {io}{}", self.ca_hint())
            }
            _ => return crate::http::transport_error(what, err),
        };
        Error::Transport {
            what: what.to_string(),
            detail,
        }
    }

    fn ca_hint(&self) -> String {
        format!(
            " (the Kubernetes API is trusted only with the cluster's CA from {})",
            self.account_dir.join("ca.crt").display()
        )
    }

    fn status_error(&self, what: &str, call: Call, resp: &mut Response<ureq::Body>) -> Error {
        let status = resp.status().as_u16();
        let body = crate::http::read_prefix(resp, crate::http::ERROR_BODY_LIMIT);
        let message = status_message(&body);
        let detail = match status {
            401 => format!(
                "{message}: the API server rejected the service account token in {} \
                 (expired, or from another cluster)",
                self.account_dir.join("token").display()
            ),
            403 => format!(
                "{message}: the hook's service account needs the RBAC rule {} \
                 (the persistence-defectdojo chart's Role grants scans get and scans/status get, patch)",
                call.rule()
            ),
            404 => match call {
                Call::GetScan => format!("{message}: check SCAN_NAME and NAMESPACE"),
                Call::PatchStatus => {
                    format!("{message}: the Scan was deleted while the hook ran")
                }
            },
            _ => message,
        };
        Error::Http {
            what: what.to_string(),
            status,
            detail,
        }
    }
}

/// The merge patch of `status.findings` for what a sync back wrote (the
/// shape of the hook SDK's, byte for byte), removing the categories of
/// `categories_read` that no longer apply.
pub fn findings_patch(counts: &Counts, categories_read: &[String]) -> String {
    #[derive(Serialize)]
    struct Patch<'a> {
        status: Status<'a>,
    }
    #[derive(Serialize)]
    struct Status<'a> {
        findings: Findings<'a>,
    }
    #[derive(Serialize)]
    struct Findings<'a> {
        count: u64,
        severities: Severities,
        categories: Categories<'a>,
    }
    /// The synced category with its count (if any findings), then every
    /// other category read as `null`.
    struct Categories<'a> {
        count: u64,
        read: &'a [String],
    }
    impl Serialize for Categories<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(None)?;
            if self.count > 0 {
                map.serialize_entry(SYNCED_CATEGORY, &self.count)?;
            }
            for stale in self.read {
                if self.count == 0 || stale != SYNCED_CATEGORY {
                    map.serialize_entry(stale, &())?;
                }
            }
            map.end()
        }
    }
    #[derive(Serialize)]
    struct Severities {
        informational: u64,
        low: u64,
        medium: u64,
        high: u64,
    }
    let patch = Patch {
        status: Status {
            findings: Findings {
                count: counts.total,
                severities: Severities {
                    informational: counts.informational,
                    low: counts.low,
                    medium: counts.medium,
                    high: counts.high,
                },
                categories: Categories {
                    count: counts.total,
                    read: categories_read,
                },
            },
        },
    };
    // Serialising plain structs of numbers and a string map cannot fail.
    serde_json::to_string(&patch).expect("the patch serialises")
}

/// The category names in a Scan's `status.findings` (absent: none).
fn categories(scan_json: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(scan_json)
        .ok()
        .and_then(|v| {
            v["status"]["findings"]["categories"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
        })
        .unwrap_or_default()
}

/// The variables' problems that no Scan can change, found by building the
/// configuration from those variables alone (the Scan's own settings and
/// the arguments stand in as placeholders). The full check follows once the
/// Scan is read.
fn problems_before_scan(get: Getter, args: &Args) -> Vec<String> {
    const SCAN_INDEPENDENT: &[&str] = &[
        "DEFECTDOJO_URL",
        "DEFECTDOJO_APIKEY",
        "DEFECTDOJO_USER_ID",
        "DEFECTDOJO_LOW_PRIVILEGED_MODE",
        "DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS",
        "DEFECTDOJO_REFETCH_WAIT_SECONDS",
        "DEFECTDOJO_TIMEOUT_SECONDS",
        "DEFECTDOJO_IMPORT_TIMEOUT_SECONDS",
        "DEFECTDOJO_MEMORY_SPOOL_MB",
    ];
    let only = |name: &str| {
        if SCAN_INDEPENDENT.contains(&name) {
            get(name)
        } else {
            None
        }
    };
    let placeholder = Scan {
        name: Some("scan".to_string()),
        ..Scan::default()
    };
    let args = Args {
        raw_result: "raw".to_string(),
        findings: "findings".to_string(),
        ..args.clone()
    };
    match Config::build(&only, placeholder, args) {
        Ok(_) => Vec::new(),
        Err(Error::Config(problems)) => problems,
        Err(other) => vec![other.to_string()],
    }
}

fn read_token(dir: &Path) -> Result<Secret, Error> {
    let path = dir.join("token");
    let text = read_account_file(&path, "service account token")?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::input(
            format!("service account token {}", path.display()),
            "is empty",
        ));
    }
    Ok(Secret::new(token))
}

fn read_ca(dir: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let path = dir.join("ca.crt");
    let what = format!("cluster CA {}", path.display());
    let pem = read_account_file(&path, "cluster CA")?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem.as_bytes()) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(Error::input(&what, format!("is not valid PEM ({e})"))),
        }
    }
    if certs.is_empty() {
        return Err(Error::input(what, "holds no PEM certificate"));
    }
    Ok(certs)
}

/// Reads one of the service account's files; never shows its content.
fn read_account_file(path: &Path, what: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(
            format!("{what} {}", path.display()),
            format!(
                "not found: the pod has no service account token mounted \
                 (automountServiceAccountToken: false?); set {ACCOUNT_DIR_VARIABLE} to where \
                 the token and ca.crt are, or SCAN_FILE"
            ),
        ),
        _ => Error::io(format!("reading {what} {}", path.display()), e),
    })
}

/// The service account's namespace, else `default` (as client-go does).
fn account_namespace(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

fn agent(ca: Vec<Certificate<'static>>) -> Agent {
    let tls = TlsConfig::builder().root_certs(RootCerts::from(ca)).build();
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .tls_config(tls)
        .user_agent(concat!("dojo-hook/", env!("CARGO_PKG_VERSION")))
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

fn bearer(token: &Secret) -> String {
    format!("Bearer {}", token.expose())
}

/// The `message` of the API server's `Status` answer, else the body on one line.
fn status_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string));
    let message = message.unwrap_or_else(|| text.into_owned());
    let line = crate::http::one_line(&message, 400);
    if line.is_empty() {
        "no message".to_string()
    } else {
        line
    }
}

/// An RFC 1123 subdomain of at most `max` characters (Kubernetes object names).
fn is_object_name(name: &str, max: usize) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= max
        && name.chars().all(ok_char)
        && alnum(name.chars().next())
        && alnum(name.chars().last())
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn shown(value: Option<String>) -> String {
    value
        .map(|v| format!("'{v}'"))
        .unwrap_or_else(|| "(not set)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn counts(info: u64, low: u64, medium: u64, high: u64) -> Counts {
        Counts {
            total: info + low + medium + high,
            informational: info,
            low,
            medium,
            high,
            ..Counts::default()
        }
    }

    #[test]
    fn patch_is_the_sdk_shape_byte_for_byte() {
        let want = include_str!("../fixtures/k8s/findings-merge-patch.json");
        assert_eq!(findings_patch(&counts(1, 0, 1, 1), &[]), want.trim_end());
        let synced = [SYNCED_CATEGORY.to_string()];
        assert_eq!(
            findings_patch(&counts(1, 0, 1, 1), &synced),
            want.trim_end()
        );
        assert_eq!(
            findings_patch(&Counts::default(), &[]),
            r#"{"status":{"findings":{"count":0,"severities":{"informational":0,"low":0,"medium":0,"high":0},"categories":{}}}}"#
        );
    }

    #[test]
    fn categories_read_from_the_scan_are_removed() {
        let scan = include_str!("../fixtures/k8s/scan-scheduled.json");
        let read = categories(scan);
        assert_eq!(read.len(), 2);
        assert_eq!(
            findings_patch(&counts(0, 2, 0, 0), &read),
            r#"{"status":{"findings":{"count":2,"severities":{"informational":0,"low":2,"medium":0,"high":0},"categories":{"DefectDojo Imported Finding":2,"Content Security Policy (CSP) Header Not Set":null,"X-Content-Type-Options Header Missing":null}}}}"#
        );
        let synced = [SYNCED_CATEGORY.to_string()];
        assert_eq!(
            findings_patch(&Counts::default(), &synced),
            r#"{"status":{"findings":{"count":0,"severities":{"informational":0,"low":0,"medium":0,"high":0},"categories":{"DefectDojo Imported Finding":null}}}}"#
        );
        assert!(categories(r#"{"status":{}}"#).is_empty());
    }

    #[test]
    fn status_messages_and_names() {
        let forbidden = include_bytes!("../fixtures/k8s/status-403.json");
        assert!(status_message(forbidden).starts_with("scans.execution.securecodebox.io"));
        assert_eq!(
            status_message(b"<html>\n bad  </html>"),
            "<html> bad </html>"
        );
        assert_eq!(status_message(b""), "no message");
        assert!(is_object_name("zap-juiceshop-1795845600", 253));
        assert!(is_object_name("a.b", 253));
        for bad in ["", "-a", "a-", "A", "a/b", "a b", "a%2F"] {
            assert!(!is_object_name(bad, 253), "{bad}");
        }
        assert_eq!(bracket_ipv6("fd00::1"), "[fd00::1]");
        assert_eq!(bracket_ipv6("10.96.0.1"), "10.96.0.1");
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn args() -> Args {
        Args {
            raw_result: String::new(),
            findings: "f".into(),
            raw_result_upload: None,
            findings_upload: None,
        }
    }

    #[test]
    fn outside_a_cluster_or_with_a_scan_file_there_is_no_cluster() {
        let outside = env(&[("SCAN_NAME", "s")]);
        assert!(
            Cluster::from_env(&|k| outside.get(k).cloned(), &args())
                .unwrap()
                .is_none()
        );
        let with_file = env(&[("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("SCAN_FILE", "x")]);
        assert!(
            Cluster::from_env(&|k| with_file.get(k).cloned(), &args())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn in_a_cluster_every_local_problem_is_reported_first() {
        let vars = env(&[
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1/x"),
            ("KUBERNETES_SERVICE_PORT", "https"),
            ("NAMESPACE", "Bad_NS"),
            ("DEFECTDOJO_TIMEOUT_SECONDS", "soon"),
            // Annotations may override these, so they wait for the Scan.
            ("DEFECTDOJO_MINIMUM_SEVERITY", "urgent"),
        ]);
        let err = Cluster::from_env(&|k| vars.get(k).cloned(), &args()).unwrap_err();
        let text = err.to_string();
        for needle in [
            "DEFECTDOJO_URL",
            "DEFECTDOJO_APIKEY",
            "DEFECTDOJO_TIMEOUT_SECONDS",
            "KUBERNETES_SERVICE_HOST '10.0.0.1/x'",
            "KUBERNETES_SERVICE_PORT 'https'",
            "SCAN_NAME is not set",
            "NAMESPACE 'Bad_NS'",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        assert!(!text.contains("minimum severity"), "{text}");
        assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);
    }

    #[test]
    fn missing_token_is_a_local_error_and_debug_hides_the_token() {
        let dir = std::env::temp_dir().join(format!("dojo-hook-k8s-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vars = env(&[
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
            ("SCAN_NAME", "scan-1"),
            ("DEFECTDOJO_URL", "http://dojo"),
            ("DEFECTDOJO_APIKEY", "k"),
            (ACCOUNT_DIR_VARIABLE, dir.to_str().unwrap()),
        ]);
        let get = |k: &str| vars.get(k).cloned();
        let err = Cluster::from_env(&get, &args()).unwrap_err();
        assert!(err.to_string().contains("service account token"), "{err}");
        assert!(err.to_string().contains("not found"), "{err}");
        assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);

        std::fs::write(dir.join("token"), "tok-SECRET\n").unwrap();
        std::fs::write(dir.join("namespace"), "scans\n").unwrap();
        std::fs::write(dir.join("ca.crt"), "not pem").unwrap();
        let err = Cluster::from_env(&get, &args()).unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        std::fs::write(
            dir.join("ca.crt"),
            include_str!("../fixtures/tls/k8s/ca.crt"),
        )
        .unwrap();
        let cluster = Cluster::from_env(&get, &args()).unwrap().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(cluster.namespace, "scans");
        assert_eq!(cluster.api, "https://[fd00::1]:443");
        assert_eq!(
            cluster.scan_url("/status"),
            "https://[fd00::1]:443/apis/execution.securecodebox.io/v1/namespaces/scans/scans/scan-1/status"
        );
        let debug = format!("{cluster:?}");
        assert!(!debug.contains("tok-SECRET"), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");
    }
}
