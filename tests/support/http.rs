//! Shared std-only HTTP/1.1 server plumbing for the fakes ([`super::fake_dojo`],
//! [`super::fake_store`]).
//!
//! One `TcpListener` on 127.0.0.1 (port 0 = the OS picks a free one), one thread per
//! connection, HTTP/1.1 keep-alive: a connection serves requests until the client
//! closes it, sends `Connection: close`, or speaks HTTP/1.0 without keep-alive. The whole
//! request body (by `Content-Length`, or decoded from `Transfer-Encoding: chunked`) is
//! read before the answer goes out, otherwise a client still sending would see a broken
//! pipe instead of the status (`docs/style.md`, "Fake HTTP servers in the tests").
//!
//! Every request is logged as a [`Seen`]; bodies are kept only up to
//! [`LOGGED_BODY_LIMIT`] bytes plus their total length, because benchmarks upload
//! 100 MB. Tests inject failures with [`Fault`]s (status answers, hangs, closed
//! connections, delays). A [`Server`] that never saw a request panics when dropped
//! ("a fake that is never called fails its test"), unless the test says so with
//! [`Server::expect_no_calls`].
//!
//! Reads and writes are buffered (64 KiB) so that large uploads and downloads do not
//! cost a syscall per byte or per line.
//!
//! [`Server::start_tls`] serves HTTPS instead (rustls, [`super::tls`]); plain HTTP
//! stays the default.
//! Benchmarks upload gigabytes, so two hooks keep the plumbing out of their way: a
//! [`BodyCounter`] ([`Server::count_bodies`]) lets a request body stream through a
//! [`BodySink`] instead of being collected (the handler gets the sink's summary in
//! [`Request::counted`]), and [`Server::log_to`] appends one line per request to a file,
//! for scripts that run the fakes as a separate program.

use std::any::Any;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

/// How much of each request body the log keeps (the total length is always kept).
pub const LOGGED_BODY_LIMIT: usize = 1 << 20;
/// Upper bound for the request line plus headers; a longer head is answered 431.
/// Generous on purpose: uWSGI-style URI limits are the fake's business, not the plumbing's.
const MAX_HEAD_BYTES: usize = 1 << 20;
/// Idle connections wake up this often to notice that their server was dropped.
const POLL: Duration = Duration::from_millis(100);
const IO_BUFFER: usize = 64 * 1024;

/// One request as the server saw it.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub method: String,
    /// Path without the query string, still percent-encoded as sent.
    pub path: String,
    /// Raw query string (without `?`), as sent.
    pub query: String,
    /// Header names lower-cased, values trimmed, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The first [`LOGGED_BODY_LIMIT`] bytes of the (de-chunked) body.
    pub body: Vec<u8>,
    /// Total length of the (de-chunked) body.
    pub body_len: usize,
}

impl Seen {
    /// First header of that (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The logged body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `path?query` as sent (just `path` without a query).
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// A request handed to a handler: like [`Seen`], but with the whole body.
#[derive(Debug, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The whole body; empty when it was streamed into a [`BodySink`].
    pub body: Vec<u8>,
    /// What the [`BodySink`] made of a streamed body ([`BodySink::finish`]).
    pub counted: Option<Box<dyn Any + Send>>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn params(&self) -> Vec<(String, String)> {
        parse_query(&self.query)
    }

    pub fn param(&self, name: &str) -> Option<String> {
        last_param(&self.params(), name)
    }
}

/// Something that writes a response body of a promised length.
pub type Generator = Arc<dyn Fn(&mut dyn Write) -> io::Result<()> + Send + Sync>;

/// A response body. `Shared`, `File` and `Generated` avoid copying big objects per GET.
#[derive(Clone, Default)]
pub enum Body {
    #[default]
    Empty,
    Bytes(Vec<u8>),
    Shared(Arc<Vec<u8>>),
    /// A file streamed from disk, with its length.
    File(PathBuf, u64),
    /// `len` bytes written by the generator; a generator that writes a different number
    /// of bytes gets the connection closed (the client then sees a truncated body).
    Generated(u64, Generator),
}

impl Body {
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::Shared(b) => b.len() as u64,
            Body::File(_, len) | Body::Generated(len, _) => *len,
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Body({} bytes)", self.len())
    }
}

/// A response. `Content-Length` (or `Transfer-Encoding: chunked`) and `Connection` are
/// added by the plumbing; everything else goes in `headers`.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Send the body chunked, without `Content-Length`.
    pub chunked: bool,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
            chunked: false,
        }
    }

    /// A JSON body (`application/json`), compact as DefectDojo sends it.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let body = serde_json::to_vec(value).expect("serde_json::Value always serialises");
        Response::bytes(status, "application/json", body)
    }

    pub fn bytes(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status)
            .header("Content-Type", content_type)
            .body(Body::Bytes(body.into()))
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: Body) -> Response {
        self.body = body;
        self
    }

    pub fn chunked(mut self, chunked: bool) -> Response {
        self.chunked = chunked;
        self
    }
}

/// What a handler wants done with a request.
#[derive(Debug)]
pub enum Reply {
    Send(Response),
    /// Close the connection without any response (what uWSGI does with an oversized request).
    Close,
    /// Keep the connection open and never answer (until the server is dropped).
    Hang,
}

impl From<Response> for Reply {
    fn from(r: Response) -> Reply {
        Reply::Send(r)
    }
}

/// The request handler of a server; called on the connection's thread.
pub type Handler = Arc<dyn Fn(Request) -> Reply + Send + Sync>;

/// Takes a request body as it arrives, instead of the plumbing collecting it.
pub trait BodySink: Write + Send {
    /// Called after the last byte; the result reaches the handler as [`Request::counted`].
    fn finish(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// Decides, from a request's head (its `body` is still empty), whether the body is
/// streamed into a [`BodySink`] (`Some`) or collected as usual (`None`).
pub type BodyCounter = Arc<dyn Fn(&Request) -> Option<Box<dyn BodySink>> + Send + Sync>;

/// What an injected [`Fault`] does to a matching request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Read the request, answer `status` / `body` / `content_type`.
    Respond,
    /// Read the request, wait, then let the normal handler answer.
    Delay(Duration),
    /// Read the request and never answer (the connection stays open until the fake is dropped).
    Hang,
    /// Read the request and close the connection without any response.
    Close,
    /// Read the request, let the normal handler process it, then close the
    /// connection without its response (it landed, but the answer was lost).
    HandleThenClose,
    /// Read the request, let the normal handler process it, wait, then answer the
    /// fault's `status` / `body` instead of the handler's (a proxy in front that gave
    /// up while the server went on, or Envoy's 503 after the upstream reset). With a
    /// `Close` status of 0 the connection is closed instead.
    HandleThenAnswer(Duration),
    /// Let the normal handler answer, but send its body one byte per interval
    /// after prompt headers (a server that trickles, so no single read waits long).
    Trickle(Duration),
}

/// A failure injected for requests whose method and path match.
///
/// `method` is compared case-insensitively; empty matches every method. `path_prefix`
/// is matched against the path only (not the query); empty matches every path. Each
/// match uses up one of `times` (default 1, [`Fault::ALWAYS`] for every match); faults
/// are tried in the order they were added.
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: String,
    pub path_prefix: String,
    pub status: u16,
    pub body: String,
    pub content_type: String,
    /// Extra headers of the fault's answer (`Retry-After`, `Location`).
    pub headers: Vec<(String, String)>,
    pub times: usize,
    pub action: FaultAction,
}

impl Default for Fault {
    fn default() -> Fault {
        Fault {
            method: String::new(),
            path_prefix: String::new(),
            status: 500,
            body: String::new(),
            content_type: "application/json".to_string(),
            headers: Vec::new(),
            times: 1,
            action: FaultAction::Respond,
        }
    }
}

impl Fault {
    /// `times` value for a fault that never runs out.
    pub const ALWAYS: usize = usize::MAX;

    /// Answer `status` with `body` (content type `application/json` unless changed).
    pub fn status(method: &str, path_prefix: &str, status: u16, body: &str) -> Fault {
        Fault {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            status,
            body: body.to_string(),
            ..Fault::default()
        }
    }

    /// Accept the request and never answer.
    pub fn hang(method: &str, path_prefix: &str) -> Fault {
        Fault {
            action: FaultAction::Hang,
            ..Fault::status(method, path_prefix, 0, "")
        }
    }

    /// Read the request and close the connection without a response.
    pub fn close(method: &str, path_prefix: &str) -> Fault {
        Fault {
            action: FaultAction::Close,
            ..Fault::status(method, path_prefix, 0, "")
        }
    }

    /// Answer normally, but only after `delay`.
    pub fn delay(method: &str, path_prefix: &str, delay: Duration) -> Fault {
        Fault {
            action: FaultAction::Delay(delay),
            ..Fault::status(method, path_prefix, 0, "")
        }
    }

    /// Process the request normally, then close without answering.
    pub fn handle_then_close(method: &str, path_prefix: &str) -> Fault {
        Fault {
            action: FaultAction::HandleThenClose,
            ..Fault::status(method, path_prefix, 0, "")
        }
    }

    /// Process the request normally, wait `after`, then answer `status` / `body`
    /// (0: close without an answer) instead of the handler's answer.
    pub fn handle_then_answer(
        method: &str,
        path_prefix: &str,
        after: Duration,
        status: u16,
        body: &str,
    ) -> Fault {
        Fault {
            action: FaultAction::HandleThenAnswer(after),
            ..Fault::status(method, path_prefix, status, body)
        }
    }

    /// Answer normally, with the body sent one byte per `every`.
    pub fn trickle(method: &str, path_prefix: &str, every: Duration) -> Fault {
        Fault {
            action: FaultAction::Trickle(every),
            ..Fault::status(method, path_prefix, 0, "")
        }
    }

    pub fn times(mut self, times: usize) -> Fault {
        self.times = times;
        self
    }

    pub fn always(self) -> Fault {
        self.times(Fault::ALWAYS)
    }

    /// Adds a header to the fault's answer.
    pub fn header(mut self, name: &str, value: &str) -> Fault {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn content_type(mut self, content_type: &str) -> Fault {
        self.content_type = content_type.to_string();
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && (self.method.is_empty() || self.method.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

struct Shared {
    seen: Mutex<Vec<Seen>>,
    count: AtomicUsize,
    faults: Mutex<Vec<Fault>>,
    shutdown: AtomicBool,
    no_calls_expected: AtomicBool,
    tls: Option<Arc<rustls::ServerConfig>>,
    counter: OnceLock<BodyCounter>,
    log_file: OnceLock<Mutex<File>>,
    name: &'static str,
}

/// A running server: the listener thread plus its connection threads.
pub struct Server {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    pub addr: SocketAddr,
    name: &'static str,
    shared: Arc<Shared>,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0 = any free port) and serves `handler` until dropped.
    /// `name` is used in panic messages ("FakeDojo was never called").
    pub fn start(name: &'static str, port: u16, handler: Handler) -> Server {
        Server::start_with(name, port, handler, None)
    }

    /// Like [`Server::start`], but every connection speaks TLS with `tls` (see
    /// [`super::tls::server_config`]); `url` is then `https://127.0.0.1:PORT`.
    pub fn start_tls(
        name: &'static str,
        port: u16,
        handler: Handler,
        tls: Arc<rustls::ServerConfig>,
    ) -> Server {
        Server::start_with(name, port, handler, Some(tls))
    }

    fn start_with(
        name: &'static str,
        port: u16,
        handler: Handler,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Server {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("{name}: cannot bind 127.0.0.1:{port}: {e}"));
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let shared = Arc::new(Shared {
            seen: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            faults: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            no_calls_expected: AtomicBool::new(false),
            tls,
            counter: OnceLock::new(),
            log_file: OnceLock::new(),
            name,
        });
        let accept_shared = shared.clone();
        thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || accept_loop(listener, accept_shared, handler))
            .expect("spawn accept thread");
        let scheme = if shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        Server {
            url: format!("{scheme}://{addr}"),
            addr,
            name,
            shared,
        }
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    pub fn request_count(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    pub fn fail(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Declare that this test does not expect any request, so dropping the server
    /// without one is not an error.
    pub fn expect_no_calls(&self) {
        self.shared.no_calls_expected.store(true, Ordering::SeqCst);
    }

    /// Streams the bodies `counter` picks into its sinks instead of collecting them
    /// (set once; later calls are ignored).
    pub fn count_bodies(&self, counter: BodyCounter) {
        let _ = self.shared.counter.set(counter);
    }

    /// Appends one line per request to `file`: `NAME METHOD PATH BODY_BYTES QUERY_BYTES
    /// QUERY` (`NAME` as given to [`Server::start`]; `QUERY` cut to 120 bytes, `-` when
    /// empty), written when the request has been read (set once; later calls are ignored).
    #[allow(dead_code)] // examples/fakes.rs only, through FakeDojo/FakeStore::log_to
    pub fn log_to(&self, file: File) {
        let _ = self.shared.log_file.set(Mutex::new(file));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the listener thread sees the flag and exits.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if !thread::panicking()
            && !self.shared.no_calls_expected.load(Ordering::SeqCst)
            && self.request_count() == 0
        {
            panic!(
                "{} at {} was never called: a fake that is never called fails its test \
                 (docs/style.md); call expect_no_calls() if no request is expected",
                self.name, self.url
            );
        }
    }
}

/// Locks a mutex even if a panicking test thread poisoned it: the fakes' state stays
/// usable for the assertions and the Drop check that follow.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, handler: Handler) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let (shared, handler) = (shared.clone(), handler.clone());
        let _ = thread::Builder::new()
            .name("fake-conn".to_string())
            .spawn(move || serve_connection(stream, shared, handler));
    }
}

/// A read half that retries timeouts until the server shuts down, so a connection
/// thread blocked on an idle keep-alive connection still notices its server's Drop.
struct Patient {
    stream: Box<dyn Read + Send>,
    shared: Arc<Shared>,
}

impl Read for Patient {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.stream.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.shared.shutdown.load(Ordering::SeqCst) {
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "server dropped",
                        ));
                    }
                }
                other => return other,
            }
        }
    }
}

struct Head {
    method: String,
    path: String,
    query: String,
    version: String,
    headers: Vec<(String, String)>,
}

fn serve_connection(stream: TcpStream, shared: Arc<Shared>, handler: Handler) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL));
    // `stream` stays the socket to shut down; reads and writes go through the halves.
    let (read_half, mut out): (Box<dyn Read + Send>, Box<dyn Write + Send>) = match &shared.tls {
        None => match (stream.try_clone(), stream.try_clone()) {
            (Ok(r), Ok(w)) => (Box::new(r), Box::new(w)),
            _ => return,
        },
        Some(config) => match super::tls::accept(config, &stream) {
            Some(halves) => halves,
            None => return,
        },
    };
    let mut reader = BufReader::with_capacity(
        IO_BUFFER,
        Patient {
            stream: read_half,
            shared: shared.clone(),
        },
    );
    loop {
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) => return, // clean EOF between requests
            Err(HeadError::TooLarge) => {
                let resp = Response::bytes(431, "text/plain", "request header too large");
                let _ = write_response(&mut *out, "GET", resp, true);
                return;
            }
            Err(HeadError::Bad) => {
                let resp = Response::bytes(400, "text/plain", "bad request");
                let _ = write_response(&mut *out, "GET", resp, true);
                return;
            }
            Err(HeadError::Io) => return,
        };
        let connection = find_header(&head.headers, "connection")
            .unwrap_or("")
            .to_ascii_lowercase();
        let close = connection.contains("close")
            || (head.version == "HTTP/1.0" && !connection.contains("keep-alive"));
        let fault = take_fault(&shared, &head.method, &head.path);

        let expects_continue = find_header(&head.headers, "expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if expects_continue
            && (out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() || out.flush().is_err())
        {
            return;
        }
        let sink = shared
            .counter
            .get()
            .and_then(|counter| counter(&to_request(head.method.clone(), &head, Vec::new())));
        let read = match sink {
            Some(mut sink) => read_body_into(&mut reader, &head.headers, &mut *sink)
                .map(|len| (Vec::new(), len as usize, Some(sink.finish()))),
            None => read_body(&mut reader, &head.headers).map(|body| {
                let len = body.len();
                (body, len, None)
            }),
        };
        let (body, body_len, counted) = match read {
            Ok(read) => read,
            Err(_) => {
                let resp = Response::bytes(400, "text/plain", "bad request body");
                let _ = write_response(&mut *out, &head.method, resp, true);
                return;
            }
        };
        log_request(&shared, &head, &body, body_len);
        let request = |body| Request {
            counted,
            ..to_request(head.method.clone(), &head, body)
        };

        let reply = match fault {
            Some(f) => match f.action {
                FaultAction::Respond => Reply::Send(fault_response(&f)),
                FaultAction::Hang => Reply::Hang,
                FaultAction::Close => Reply::Close,
                FaultAction::HandleThenClose => {
                    drop(handler(to_request(head.method.clone(), &head, body)));
                    Reply::Close
                }
                FaultAction::HandleThenAnswer(after) => {
                    drop(handler(to_request(head.method.clone(), &head, body)));
                    sleep_unless_shutdown(&shared, after);
                    if f.status == 0 {
                        Reply::Close
                    } else {
                        Reply::Send(fault_response(&f))
                    }
                }
                FaultAction::Delay(d) => {
                    sleep_unless_shutdown(&shared, d);
                    handler(request(body))
                }
                FaultAction::Trickle(every) => match handler(request(body)) {
                    Reply::Send(resp) => Reply::Send(trickled(resp, every)),
                    other => other,
                },
            },
            None => handler(request(body)),
        };
        match reply {
            Reply::Send(resp) => {
                if write_response(&mut *out, &head.method, resp, close).is_err() || close {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
            }
            Reply::Close => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Reply::Hang => {
                while !shared.shutdown.load(Ordering::SeqCst) {
                    thread::sleep(POLL);
                }
                return;
            }
        }
    }
}

fn to_request(method: String, head: &Head, body: Vec<u8>) -> Request {
    Request {
        method,
        path: head.path.clone(),
        query: head.query.clone(),
        headers: head.headers.clone(),
        body,
        counted: None,
    }
}

fn sleep_unless_shutdown(shared: &Shared, total: Duration) {
    let mut left = total;
    while !left.is_zero() && !shared.shutdown.load(Ordering::SeqCst) {
        let step = left.min(POLL);
        thread::sleep(step);
        left -= step;
    }
}

fn take_fault(shared: &Shared, method: &str, path: &str) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let i = faults.iter().position(|f| f.matches(method, path))?;
    let fault = faults[i].clone();
    if faults[i].times != Fault::ALWAYS {
        faults[i].times -= 1;
        if faults[i].times == 0 {
            faults.remove(i);
        }
    }
    Some(fault)
}

/// `resp` with its body sent one byte per `every`, each byte flushed; it
/// stops when the client hangs up.
fn trickled(mut resp: Response, every: Duration) -> Response {
    let mut bytes = Vec::new();
    write_body(&mut bytes, &resp.body).expect("the handler's body");
    let len = bytes.len() as u64;
    let slow: Generator = Arc::new(move |w: &mut dyn Write| {
        for byte in &bytes {
            w.write_all(std::slice::from_ref(byte))?;
            w.flush()?;
            thread::sleep(every);
        }
        Ok(())
    });
    resp.body = Body::Generated(len, slow);
    resp
}

fn fault_response(f: &Fault) -> Response {
    f.headers.iter().fold(
        Response::bytes(f.status, &f.content_type, f.body.clone()),
        |r, (k, v)| r.header(k, v.clone()),
    )
}

fn log_request(shared: &Shared, head: &Head, body: &[u8], body_len: usize) {
    let seen = Seen {
        method: head.method.clone(),
        path: head.path.clone(),
        query: head.query.clone(),
        headers: head.headers.clone(),
        body: body[..body.len().min(LOGGED_BODY_LIMIT)].to_vec(),
        body_len,
    };
    if let Some(file) = shared.log_file.get() {
        let query = match head.query.char_indices().nth(120) {
            Some((cut, _)) => &head.query[..cut],
            None if head.query.is_empty() => "-",
            None => &head.query,
        };
        let line = format!(
            "{} {} {} {} {} {query}\n",
            shared.name,
            head.method,
            head.path,
            body_len,
            head.query.len()
        );
        // One write per line, so lines of concurrent connections do not interleave.
        let _ = lock(file).write_all(line.as_bytes());
    }
    lock(&shared.seen).push(seen);
    shared.count.fetch_add(1, Ordering::SeqCst);
}

enum HeadError {
    Io,
    Bad,
    TooLarge,
}

fn read_head(reader: &mut impl BufRead) -> Result<Option<Head>, HeadError> {
    let mut total = 0usize;
    let mut line = Vec::new();
    // A TLS ClientHello on a plain port has no line end to wait for: answer 400 at
    // once, as nginx does (the client then sees HTTP where it expected TLS).
    if reader.fill_buf().map_err(|_| HeadError::Io)?.first() == Some(&0x16) {
        return Err(HeadError::Bad);
    }
    // Request line; tolerate empty lines before it (RFC 9112 2.2).
    let request_line = loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|_| HeadError::Io)?;
        if n == 0 {
            return Ok(None);
        }
        total += n;
        if total > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if !text.is_empty() {
            break text;
        }
    };
    let mut parts = request_line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Bad);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(HeadError::Bad);
    }
    // Absolute-form targets (sent to proxies) are reduced to origin-form.
    let target = match target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|_| HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Io);
        }
        total += n;
        if total > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(HeadError::Bad);
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Some(Head {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        version: version.to_string(),
        headers,
    }))
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"))
}

fn content_length(headers: &[(String, String)]) -> io::Result<Option<u64>> {
    find_header(headers, "content-length")
        .map(|len| {
            len.parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))
        })
        .transpose()
}

fn read_body(reader: &mut impl BufRead, headers: &[(String, String)]) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if !is_chunked(headers) {
        // Cap the up-front allocation; the vector grows if the length was honest.
        let len = content_length(headers)?.unwrap_or(0);
        body.reserve_exact(len.min(256 << 20) as usize);
    }
    read_body_into(reader, headers, &mut body)?;
    Ok(body)
}

/// Copies the body (by `Content-Length`, or de-chunked) into `sink`; returns its length.
fn read_body_into(
    reader: &mut impl BufRead,
    headers: &[(String, String)],
    sink: &mut dyn Write,
) -> io::Result<u64> {
    if is_chunked(headers) {
        return read_chunked(reader, sink);
    }
    let Some(len) = content_length(headers)? else {
        return Ok(0);
    };
    let copied = io::copy(&mut reader.take(len), sink)?;
    if copied < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "body shorter than Content-Length",
        ));
    }
    Ok(copied)
}

fn read_chunked(reader: &mut impl BufRead, sink: &mut dyn Write) -> io::Result<u64> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut total = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(bad("EOF in chunk size"));
        }
        let text = String::from_utf8_lossy(&line);
        let size_text = text
            .trim()
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let size = u64::from_str_radix(&size_text, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 || line.trim_ascii().is_empty() {
                    return Ok(total);
                }
            }
        }
        if io::copy(&mut reader.take(size), sink)? < size {
            return Err(bad("EOF in chunk"));
        }
        total += size;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

fn write_response(
    out: &mut dyn Write,
    method: &str,
    resp: Response,
    close: bool,
) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(IO_BUFFER, out);
    write!(w, "HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status))?;
    for (k, v) in &resp.headers {
        write!(w, "{k}: {v}\r\n")?;
    }
    let no_body_status = resp.status == 204 || resp.status == 304 || resp.status < 200;
    let send_body = method != "HEAD" && !no_body_status;
    if resp.chunked && !no_body_status {
        w.write_all(b"Transfer-Encoding: chunked\r\n")?;
    } else if !no_body_status {
        write!(w, "Content-Length: {}\r\n", resp.body.len())?;
    }
    write!(
        w,
        "Connection: {}\r\n\r\n",
        if close { "close" } else { "keep-alive" }
    )?;
    if send_body {
        if resp.chunked {
            {
                let mut chunks = BufWriter::with_capacity(IO_BUFFER, Chunked(&mut w));
                write_body(&mut chunks, &resp.body)?;
                chunks.flush()?;
            }
            w.write_all(b"0\r\n\r\n")?;
        } else {
            write_body(&mut w, &resp.body)?;
        }
    }
    w.flush()
}

fn write_body(w: &mut dyn Write, body: &Body) -> io::Result<()> {
    match body {
        Body::Empty => Ok(()),
        Body::Bytes(b) => w.write_all(b),
        Body::Shared(b) => w.write_all(b),
        Body::File(path, len) => {
            let copied = io::copy(&mut File::open(path)?.take(*len), w)?;
            check_len(copied, *len)
        }
        Body::Generated(len, generate) => {
            let mut counting = Counting { inner: w, count: 0 };
            generate(&mut counting)?;
            check_len(counting.count, *len)
        }
    }
}

fn check_len(written: u64, promised: u64) -> io::Result<()> {
    if written == promised {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "body wrote {written} bytes, promised {promised}"
        )))
    }
}

struct Counting<'a> {
    inner: &'a mut dyn Write,
    count: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Frames every write as one chunk; a `BufWriter` in front makes those 64 KiB chunks.
struct Chunked<W: Write>(W);

impl<W: Write> Write for Chunked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        write!(self.0, "{:x}\r\n", buf.len())?;
        self.0.write_all(buf)?;
        self.0.write_all(b"\r\n")?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Splits a query string the way Django's `QueryDict` does: `&`-separated pairs,
/// `+` decodes to a space, `%XX` to bytes (invalid UTF-8 is replaced), a pair without
/// `=` has an empty value. A literal `&` inside a value therefore splits it
/// (`fixtures/dojo/recorded/v3/138-*`).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Last value of `name` (Django's `QueryDict.get` returns the last one).
pub fn last_param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Percent-decodes `s`; with `plus_as_space`, `+` becomes a space (form encoding).
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_as_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.quote_plus`: keeps `A-Za-z0-9_.-~`, a space becomes `+`,
/// everything else `%XX` (so `,` is `%2C`, as in DefectDojo's `next` links).
pub fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
