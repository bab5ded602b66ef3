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
//!
//! `setup` ([`Cluster::from_env`]) reads the environment and the service
//! account's files; `patch` ([`findings_patch`]) builds the merge patch.

mod patch;
mod setup;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use ureq::Agent;
use ureq::http::Response;
use ureq::tls::Certificate;

use crate::convert::sync::ReadBackCounts;
use crate::error::Error;
use crate::http::redact::Secret;
use crate::scan::Scan;

use patch::categories;
pub use patch::findings_patch;
use setup::read_token;

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
    pub fn update_findings(&self, counts: &ReadBackCounts) -> Result<(), Error> {
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

fn agent(ca: Vec<Certificate<'static>>) -> Agent {
    crate::http::agent::direct_agent(ca, TIMEOUT)
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

fn shown(value: Option<String>) -> String {
    value
        .map(|v| format!("'{v}'"))
        .unwrap_or_else(|| "(not set)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_are_one_line() {
        let forbidden = include_bytes!("../../fixtures/k8s/status-403.json");
        assert!(status_message(forbidden).starts_with("scans.execution.securecodebox.io"));
        assert_eq!(
            status_message(b"<html>\n bad  </html>"),
            "<html> bad </html>"
        );
        assert_eq!(status_message(b""), "no message");
    }
}
