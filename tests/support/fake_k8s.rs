//! FakeK8s: the Kubernetes API's Scan endpoints over TLS on loopback.
//!
//! Served with the committed fixtures in `fixtures/tls/k8s/` (`server.crt`,
//! signed by `ca.crt`, for 127.0.0.1), by rustls with the ring provider, one
//! std thread per connection and one request per connection
//! (`Connection: close`):
//!
//! - `GET /apis/execution.securecodebox.io/v1/namespaces/NS/scans/NAME` (and
//!   `…/status`): the stored Scan, or the API server's 404 `Status`.
//! - `PATCH …/scans/NAME/status` with `application/merge-patch+json`: merged
//!   (RFC 7386) into the stored Scan's `status` only, as the status
//!   subresource does; answers the whole Scan. Other patch types: 415.
//!
//! Every request needs `Authorization: Bearer <token>` (else 401 `Status`);
//! [`FakeK8s::forbid`] denies a resource and verb with the API server's 403
//! wording. Requests are logged as [`Seen`]; TLS handshakes the client
//! refused are kept in [`FakeK8s::tls_errors`]. Like the other fakes, one that
//! was never connected to panics when dropped, unless told otherwise.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use serde_json::{Value, json};

use super::http::{Seen, find_header, lock};

/// The cluster CA that signed the fake's certificate (a pod's `ca.crt`).
pub const CA_PEM: &str = include_str!("../../fixtures/tls/k8s/ca.crt");
/// A CA that did not: a pod given this one must refuse the fake.
pub const OTHER_CA_PEM: &str = include_str!("../../fixtures/tls/k8s/other-ca.crt");
const CERT_PEM: &[u8] = include_bytes!("../../fixtures/tls/k8s/server.crt");
const KEY_PEM: &[u8] = include_bytes!("../../fixtures/tls/k8s/server.key");

const PREFIX: &str = "/apis/execution.securecodebox.io/v1/namespaces/";
const MERGE_PATCH: &str = "application/merge-patch+json";

#[derive(Default)]
struct State {
    token: String,
    /// (namespace, name) → Scan.
    scans: BTreeMap<(String, String), Value>,
    /// (resource, verb) pairs the service account may not use.
    forbidden: Vec<(String, String)>,
    seen: Vec<Seen>,
    tls_errors: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    connections: AtomicUsize,
    shutdown: AtomicBool,
    no_calls_expected: AtomicBool,
}

/// A running fake Kubernetes API. Dropping it when nothing ever connected panics.
pub struct FakeK8s {
    /// `127.0.0.1`: what `KUBERNETES_SERVICE_HOST` holds.
    pub host: String,
    /// What `KUBERNETES_SERVICE_PORT` holds.
    pub port: u16,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeK8s {
    /// Serves on a free loopback port; requests must carry `token`.
    pub fn start(token: &str) -> FakeK8s {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(CERT_PEM)
            .collect::<Result<_, _>>()
            .expect("fixture server.crt is PEM");
        let key = PrivateKeyDer::from_pem_slice(KEY_PEM).expect("fixture server.key is PEM");
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("fixture certificate and key match");
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").expect("FakeK8s: bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                token: token.to_string(),
                ..State::default()
            }),
            connections: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            no_calls_expected: AtomicBool::new(false),
        });
        let accept_shared = shared.clone();
        thread::Builder::new()
            .name("fake-k8s-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_shared.shutdown.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    accept_shared.connections.fetch_add(1, Ordering::SeqCst);
                    let (shared, config) = (accept_shared.clone(), config.clone());
                    let _ = thread::Builder::new()
                        .name("fake-k8s-conn".into())
                        .spawn(move || serve(stream, config, &shared));
                }
            })
            .expect("spawn FakeK8s accept thread");
        FakeK8s {
            host: addr.ip().to_string(),
            port: addr.port(),
            addr,
            shared,
        }
    }

    /// Stores a Scan under its `metadata.namespace` (default `default`) and name.
    pub fn add_scan(&self, scan: Value) {
        let name = scan["metadata"]["name"]
            .as_str()
            .expect("a Scan has metadata.name")
            .to_string();
        let namespace = scan["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        lock(&self.shared.state)
            .scans
            .insert((namespace, name), scan);
    }

    /// The stored Scan as it is now (after patches).
    pub fn scan(&self, namespace: &str, name: &str) -> Option<Value> {
        lock(&self.shared.state)
            .scans
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Denies `verb` on `resource` (`scans`, `scans/status`) with a 403.
    pub fn forbid(&self, resource: &str, verb: &str) {
        lock(&self.shared.state)
            .forbidden
            .push((resource.to_string(), verb.to_string()));
    }

    /// Every request seen, in order.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.shared.state).seen.clone()
    }

    /// Handshakes that failed (e.g. the client did not trust the certificate).
    pub fn tls_errors(&self) -> Vec<String> {
        lock(&self.shared.state).tls_errors.clone()
    }

    /// This test expects no connection at all.
    pub fn expect_no_calls(&self) {
        self.shared.no_calls_expected.store(true, Ordering::SeqCst);
    }

    /// Writes a service account directory as Kubernetes mounts it: `token`,
    /// `ca.crt` (the fake's CA unless `ca` says otherwise) and `namespace`.
    pub fn write_service_account(&self, dir: &Path, namespace: &str, ca: Option<&str>) {
        std::fs::create_dir_all(dir).expect("create service account dir");
        let token = lock(&self.shared.state).token.clone();
        std::fs::write(dir.join("token"), token).expect("write token");
        std::fs::write(dir.join("ca.crt"), ca.unwrap_or(CA_PEM)).expect("write ca.crt");
        std::fs::write(dir.join("namespace"), namespace).expect("write namespace");
    }
}

impl Drop for FakeK8s {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if !thread::panicking()
            && !self.shared.no_calls_expected.load(Ordering::SeqCst)
            && self.shared.connections.load(Ordering::SeqCst) == 0
        {
            panic!(
                "FakeK8s at {} was never called: a fake that is never called fails its test; \
                 call expect_no_calls() if no request is expected",
                self.addr
            );
        }
    }
}

fn serve(tcp: TcpStream, config: Arc<ServerConfig>, shared: &Shared) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let mut reader = BufReader::new(StreamOwned::new(conn, tcp));
    let request = match read_request(&mut reader) {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(e) => {
            if !shared.shutdown.load(Ordering::SeqCst) {
                lock(&shared.state).tls_errors.push(e.to_string());
            }
            return;
        }
    };
    let (status, body) = {
        let mut state = lock(&shared.state);
        state.seen.push(request.clone());
        answer(&mut state, &request)
    };
    let body = body.to_string();
    let stream = reader.get_mut();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    );
    let _ = stream.flush();
    stream.conn.send_close_notify();
    let _ = stream.flush();
}

/// Reads one request; `None` for a connection closed before a request line
/// (e.g. the Drop wake-up).
fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Seen>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    assert!(
        find_header(&headers, "transfer-encoding").is_none(),
        "FakeK8s: chunked request bodies are not expected from dojo-hook"
    );
    let len: usize = find_header(&headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Ok(Some(Seen {
        method,
        path,
        query,
        headers,
        body_len: body.len(),
        body,
    }))
}

fn answer(state: &mut State, req: &Seen) -> (u16, Value) {
    if req.header("authorization") != Some(&format!("Bearer {}", state.token)) {
        return (401, status_body(401, "Unauthorized", "Unauthorized", None));
    }
    let route = req
        .path
        .strip_prefix(PREFIX)
        .map(|rest| rest.split('/').map(str::to_string).collect::<Vec<String>>());
    let (namespace, name, resource) = match route.as_deref() {
        Some([ns, scans, name]) if scans == "scans" => (ns, name, "scans"),
        Some([ns, scans, name, status]) if scans == "scans" && status == "status" => {
            (ns, name, "scans/status")
        }
        _ => {
            let msg = "the server could not find the requested resource";
            return (404, status_body(404, "NotFound", msg, None));
        }
    };
    let verb = match (req.method.as_str(), resource) {
        ("GET", _) => "get",
        ("PATCH", "scans/status") => "patch",
        _ => {
            let msg = format!("the server does not allow this method on {resource}");
            return (405, status_body(405, "MethodNotAllowed", &msg, None));
        }
    };
    let details = json!({"name": name, "group": "execution.securecodebox.io", "kind": "scans"});
    if state
        .forbidden
        .iter()
        .any(|(r, v)| r == resource && v == verb)
    {
        let msg = format!(
            "scans.execution.securecodebox.io \"{name}\" is forbidden: User \
             \"system:serviceaccount:{namespace}:scan-completion-hook\" cannot {verb} resource \
             \"{resource}\" in API group \"execution.securecodebox.io\" in the namespace \"{namespace}\""
        );
        return (403, status_body(403, "Forbidden", &msg, Some(details)));
    }
    let key = (namespace.clone(), name.clone());
    let Some(scan) = state.scans.get_mut(&key) else {
        let msg = format!("scans.execution.securecodebox.io \"{name}\" not found");
        return (404, status_body(404, "NotFound", &msg, Some(details)));
    };
    if verb == "patch" {
        if req.header("content-type") != Some(MERGE_PATCH) {
            let msg = "the body of the request was in an unknown format - accepted media types \
                       include: application/json-patch+json, application/merge-patch+json, \
                       application/apply-patch+yaml";
            return (415, status_body(415, "UnsupportedMediaType", msg, None));
        }
        let Ok(patch) = serde_json::from_slice::<Value>(&req.body) else {
            let msg = "error decoding patch: invalid JSON";
            return (400, status_body(400, "BadRequest", msg, None));
        };
        // The status subresource applies only the patch's status.
        if scan.get("status").is_none() {
            scan["status"] = json!({});
        }
        merge(&mut scan["status"], &patch["status"]);
    }
    (200, scan.clone())
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    for (key, value) in fields {
        if value.is_null() {
            target.as_object_mut().map(|t| t.remove(key));
        } else {
            merge(&mut target[key.as_str()], value);
        }
    }
}

fn status_body(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code
    });
    if let Some(details) = details {
        status["details"] = details;
    }
    status
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        415 => "Unsupported Media Type",
        _ => "Unknown",
    }
}
