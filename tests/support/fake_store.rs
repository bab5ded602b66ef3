//! FakeStore: an S3 stand-in for the presigned GET/PUT URLs a secureCodeBox hook gets.
//!
//! Objects are keyed by the percent-decoded request path (`/bucket/dir/file.json`); the
//! query string (the presigning parameters) is ignored except for the optional
//! signature check. It answers like S3 where clients notice:
//!
//! - `PUT` with `Transfer-Encoding: chunked` → 501 `NotImplemented` ("A header you
//!   provided implies functionality that is not implemented"): presigned PUTs need a
//!   length, so a client that streams without `Content-Length` must be caught here.
//! - `PUT` without `Content-Length` → 411 `MissingContentLength`.
//! - `GET`/`HEAD` of a missing object → 404 `NoSuchKey`.
//! - with `require_signature`, a request without `X-Amz-Signature` in the query (or an
//!   `AWS4-HMAC-SHA256` Authorization header) → 403 `AccessDenied`.
//! - `GET` answers with `Content-Length`, or chunked without a length when
//!   `chunked_gets` is set (for clients that must cope with unknown lengths).
//!
//! With `count_puts` (benchmarks), PUT bodies stream through a [`JsonCount`] instead of
//! being kept: the object then holds `{"counted":true,"bytes":…,"objects":…}` (objects =
//! the elements of a top-level JSON array of objects, e.g. synced findings).
//!
//! Errors are S3's XML bodies (`application/xml`). Faults (expired URLs, 500s, slow or
//! hanging answers) are injected with [`FakeStore::fail`]; [`FakeStore::expired`] builds
//! the 403 "Request has expired" one. ETags are a cheap FNV hash, not MD5.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::count::JsonCount;
use super::http::{
    Body, BodySink, Fault, Handler, Reply, Request, Response, Seen, Server, lock, parse_query,
    percent_decode,
};

/// How to start a [`FakeStore`].
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// 0 = any free port.
    pub port: u16,
    /// Answer 403 `AccessDenied` to requests that are not (pre)signed.
    pub require_signature: bool,
    /// Answer GETs with `Transfer-Encoding: chunked` and no `Content-Length`.
    pub chunked_gets: bool,
    /// Also serve objects from files under this directory (path `/a/b` = `DIR/a/b`), and
    /// write every PUT there too. Lets scripts using `examples/fakes.rs` prepare inputs and
    /// inspect outputs as plain files.
    pub dir: Option<PathBuf>,
    /// Count PUT bodies instead of keeping them (see the module docs).
    pub count_puts: bool,
}

#[derive(Clone)]
struct Object {
    body: Body,
    content_type: Option<String>,
}

struct StoreState {
    objects: HashMap<String, Object>,
    opts: StoreOptions,
}

/// A running fake S3 object store. Dropping it without any request panics (see
/// [`FakeStore::expect_no_calls`]).
pub struct FakeStore {
    /// `http://127.0.0.1:PORT` (`https://` with TLS), no trailing slash.
    pub url: String,
    state: Arc<Mutex<StoreState>>,
    server: Server,
}

impl FakeStore {
    pub fn start() -> FakeStore {
        FakeStore::start_with(StoreOptions::default())
    }

    pub fn start_with(opts: StoreOptions) -> FakeStore {
        FakeStore::start_inner(opts, None)
    }

    /// Serves HTTPS with `tls` (see [`super::tls::server_config`]).
    pub fn start_tls(opts: StoreOptions, tls: Arc<rustls::ServerConfig>) -> FakeStore {
        FakeStore::start_inner(opts, Some(tls))
    }

    fn start_inner(opts: StoreOptions, tls: Option<Arc<rustls::ServerConfig>>) -> FakeStore {
        let port = opts.port;
        let count_puts = opts.count_puts;
        let state = Arc::new(Mutex::new(StoreState {
            objects: HashMap::new(),
            opts,
        }));
        let handler_state = state.clone();
        let handler: Handler = Arc::new(move |req| handle(&handler_state, req));
        let server = match tls {
            Some(tls) => Server::start_tls("FakeStore", port, handler, tls),
            None => Server::start("FakeStore", port, handler),
        };
        if count_puts {
            server.count_bodies(Arc::new(|req: &Request| {
                (req.method == "PUT").then(|| Box::new(JsonCount::new(1)) as Box<dyn BodySink>)
            }));
        }
        FakeStore {
            url: server.url.clone(),
            state,
            server,
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    /// Full URL of an object path (`/bucket/key`).
    pub fn url_for(&self, path: &str) -> String {
        format!("{}{}", self.url, normalise(path))
    }

    /// A URL that looks presigned (SigV4 query parameters with a dummy signature).
    pub fn presigned_url(&self, path: &str) -> String {
        format!(
            "{}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=fake%2F20260101%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\
             &X-Amz-Signature={:016x}{:016x}",
            self.url_for(path),
            fnv(path.as_bytes()),
            fnv(path.as_bytes()).rotate_left(17)
        )
    }

    pub fn put_object(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        let object = Object {
            body: Body::Shared(Arc::new(bytes.into())),
            content_type: None,
        };
        lock(&self.state).objects.insert(normalise(path), object);
    }

    /// Stores an object whose `len` bytes are produced by `generate` on every GET, so a
    /// benchmark can serve a 100 MB input without holding it in memory.
    pub fn put_generated(
        &self,
        path: &str,
        len: u64,
        generate: impl Fn(&mut dyn Write) -> io::Result<()> + Send + Sync + 'static,
    ) {
        let object = Object {
            body: Body::Generated(len, Arc::new(generate)),
            content_type: None,
        };
        lock(&self.state).objects.insert(normalise(path), object);
    }

    /// The object's bytes (a generated object is generated into memory).
    pub fn object(&self, path: &str) -> Option<Vec<u8>> {
        let object = lookup(&lock(&self.state), &normalise(path))?;
        match object.body {
            Body::Empty => Some(Vec::new()),
            Body::Bytes(b) => Some(b),
            Body::Shared(b) => Some(b.as_ref().clone()),
            Body::File(p, _) => std::fs::read(p).ok(),
            Body::Generated(len, generate) => {
                let mut out = Vec::with_capacity(len as usize);
                generate(&mut out).ok()?;
                Some(out)
            }
        }
    }

    /// The object as text (lossy UTF-8).
    pub fn object_text(&self, path: &str) -> Option<String> {
        self.object(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    pub fn remove_object(&self, path: &str) {
        lock(&self.state).objects.remove(&normalise(path));
    }

    pub fn set_chunked_gets(&self, on: bool) {
        lock(&self.state).opts.chunked_gets = on;
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.server.requests()
    }

    /// The PUT requests (headers and the first MiB of each body), for asserting
    /// `Content-Length` / `Content-Type`.
    pub fn puts(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| s.method == "PUT")
            .collect()
    }

    pub fn fail(&self, fault: Fault) {
        self.server.fail(fault);
    }

    pub fn expect_no_calls(&self) {
        self.server.expect_no_calls();
    }

    /// Appends a line per request to `file` (see [`Server::log_to`]).
    #[allow(dead_code)] // examples/fakes.rs only (`--log`, read by scripts/bench.py)
    pub fn log_to(&self, file: std::fs::File) {
        self.server.log_to(file);
    }

    /// The 403 an expired presigned URL gets from S3.
    pub fn expired(method: &str, path_prefix: &str) -> Fault {
        Fault::status(
            method,
            path_prefix,
            403,
            &s3_error("AccessDenied", "Request has expired", None),
        )
        .content_type("application/xml")
    }

    /// A fault answering an S3 error document with the given status and code.
    pub fn s3_fault(
        method: &str,
        path_prefix: &str,
        status: u16,
        code: &str,
        message: &str,
    ) -> Fault {
        Fault::status(method, path_prefix, status, &s3_error(code, message, None))
            .content_type("application/xml")
    }
}

/// S3's XML error document.
pub fn s3_error(code: &str, message: &str, key: Option<&str>) -> String {
    let key = key
        .map(|k| format!("<Key>{}</Key>", xml_escape(k)))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message>{key}\
         <RequestId>FAKESTORE0000001</RequestId><HostId>fake-store</HostId></Error>",
        xml_escape(message)
    )
}

fn handle(state: &Mutex<StoreState>, mut req: Request) -> Reply {
    let key = normalise(&percent_decode(&req.path, false));
    let mut st = lock(state);
    let signed = parse_query(&req.query)
        .iter()
        .any(|(k, _)| k == "X-Amz-Signature")
        || req
            .header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256"));
    if st.opts.require_signature && !signed {
        return error(403, "AccessDenied", "Access Denied", None);
    }
    match req.method.as_str() {
        "PUT" => {
            let chunked = req
                .header("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
            if chunked {
                // S3 names the offending header in the error document.
                let body = s3_error(
                    "NotImplemented",
                    "A header you provided implies functionality that is not implemented",
                    None,
                )
                .replace(
                    "<RequestId>",
                    "<Header>Transfer-Encoding</Header><RequestId>",
                );
                return Response::bytes(501, "application/xml", body).into();
            }
            if req.header("content-length").is_none() {
                return error(
                    411,
                    "MissingContentLength",
                    "You must provide the Content-Length HTTP header.",
                    None,
                );
            }
            if let Some(count) = req
                .counted
                .take()
                .and_then(|c| c.downcast::<JsonCount>().ok())
            {
                req.body = format!(
                    "{{\"counted\":true,\"bytes\":{},\"objects\":{}}}",
                    count.bytes, count.objects
                )
                .into_bytes();
            }
            let etag = format!("\"{:016x}{:016x}\"", fnv(&req.body), req.body.len());
            if let Some(dir) = &st.opts.dir {
                if let Some(path) = file_for(dir, &key) {
                    let written = path
                        .parent()
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|_| std::fs::write(&path, &req.body));
                    if let Err(e) = written {
                        return error(
                            500,
                            "InternalError",
                            &format!("fake store cannot write: {e}"),
                            None,
                        );
                    }
                }
            }
            let content_type = req.header("content-type").map(str::to_string);
            st.objects.insert(
                key,
                Object {
                    body: Body::Shared(Arc::new(req.body)),
                    content_type,
                },
            );
            Response::new(200).header("ETag", etag).into()
        }
        "GET" | "HEAD" => match lookup(&st, &key) {
            Some(object) => {
                let content_type = object
                    .content_type
                    .unwrap_or_else(|| "binary/octet-stream".to_string());
                Response::new(200)
                    .header("Content-Type", content_type)
                    .header(
                        "ETag",
                        format!("\"{:016x}\"", fnv(key.as_bytes()) ^ object.body.len()),
                    )
                    .body(object.body)
                    .chunked(st.opts.chunked_gets)
                    .into()
            }
            None => {
                // S3 names the key without the bucket (the first path segment).
                let object_key = key
                    .trim_start_matches('/')
                    .split_once('/')
                    .map_or("", |(_, k)| k);
                error(
                    404,
                    "NoSuchKey",
                    "The specified key does not exist.",
                    Some(object_key),
                )
            }
        },
        "DELETE" => {
            st.objects.remove(&key);
            Response::new(204).into()
        }
        _ => error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            None,
        ),
    }
}

fn error(status: u16, code: &str, message: &str, key: Option<&str>) -> Reply {
    Response::bytes(status, "application/xml", s3_error(code, message, key)).into()
}

fn lookup(st: &StoreState, key: &str) -> Option<Object> {
    if let Some(object) = st.objects.get(key) {
        return Some(object.clone());
    }
    let path = file_for(st.opts.dir.as_ref()?, key)?;
    let len = std::fs::metadata(&path).ok().filter(|m| m.is_file())?.len();
    Some(Object {
        body: Body::File(path, len),
        content_type: None,
    })
}

/// Maps an object path into `dir`, refusing anything that could escape it.
fn file_for(dir: &Path, key: &str) -> Option<PathBuf> {
    let relative = Path::new(key.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(dir.join(relative))
}

fn normalise(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// FNV-1a: a stable, dependency-free stand-in for S3's MD5 ETags and signatures.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
