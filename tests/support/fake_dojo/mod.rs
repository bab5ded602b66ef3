//! FakeDojo: a stateful fake OWASP DefectDojo API v2 that behaves like the recorded
//! servers — 3.2.0 ([`Flavour::V3`], `fixtures/dojo/recorded/v3/`) and 2.58.4 ([`Flavour::V2`],
//! `fixtures/dojo/recorded/v2/`) — closely enough for a client's integration tests and
//! benchmarks: token auth, the name filters' exact/partial/case rules, uniqueness
//! errors, limit/offset pagination with absolute `next` links, multipart import and
//! reimport with DefectDojo's validation order and error bodies, the generic JSON
//! parser, product-wide deduplication that becomes visible late (Celery), reimport
//! close/reactivate statistics, `prefetch`, 3.x locations vs 2.x endpoints, and uWSGI
//! dropping over-long URLs without an answer.
//!
//! Module map: [`model`] (the data types) and [`state`] (the tables, seedable and
//! inspectable); [`routes`] (routing and auth) with the resource handlers in
//! `products`, `engagements`, `findings`, `tools` and their shared `common` helpers
//! (pagination, filters, bodies, validation); [`import`] (import-scan / reimport-scan
//! up to validation) with `importer` (the import itself) and [`multipart`]; [`parsers`]
//! (what an uploaded report turns into); [`render`] (the JSON shapes); [`util`].
//!
//! ```ignore
//! let dojo = FakeDojo::start(Flavour::V3);
//! let eng = { let mut st = dojo.state(); let p = st.add_product("app", 1); st.add_engagement("ci", p, None) };
//! // … run the client against dojo.url with `Authorization: Token dojo-admin-key` …
//! assert_eq!(dojo.last_import().unwrap().field("scan_type"), Some("Nmap Scan"));
//! ```

pub mod bench;
mod common;
mod engagements;
mod findings;
pub mod import;
mod importer;
pub mod model;
pub mod multipart;
pub mod parsers;
mod products;
mod race;
pub mod render;
pub mod routes;
pub mod state;
mod tools;
pub mod util;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

// The data types, for tests that seed or inspect the state.
pub use model::{Finding, ImportRecord};

pub use bench::BenchOptions;
pub use state::State;

use super::count::MultipartCount;
use super::http::{BodySink, Fault, Handler, Request, Seen, Server, lock};

/// Which recorded server to imitate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// DefectDojo 3.2.0: locations, `cicd_*` engagement fields, `deduplication_execution_mode`.
    V3,
    /// DefectDojo 2.58.4: real endpoints, `orchestration_engine`, always-async dedup.
    V2,
}

impl Flavour {
    #[allow(dead_code)] // examples/fakes.rs only (`--flavour`)
    pub fn parse(s: &str) -> Option<Flavour> {
        match s.to_ascii_lowercase().as_str() {
            "v3" | "3" | "3.2.0" => Some(Flavour::V3),
            "v2" | "2" | "2.58.4" => Some(Flavour::V2),
            _ => None,
        }
    }
}

/// How to start a [`FakeDojo`]. `Options::new(flavour)` gives the defaults.
#[derive(Clone, Debug)]
pub struct Options {
    pub flavour: Flavour,
    /// 0 = any free port.
    pub port: u16,
    /// Token of the admin user (id 1). Default `dojo-admin-key`.
    pub admin_key: String,
    /// Token of a low-privileged user (id 2): may not create product types, list users,
    /// read system settings, delete products/product types, or (3.x) delete tests/engagements.
    pub lowpriv_key: Option<String>,
    /// Initial `enable_deduplication` (a real server starts with false; the fake with true).
    pub dedup: bool,
    /// Async deduplication (3.x without `deduplication_execution_mode=sync|async_wait`,
    /// always on 2.x): the duplicate flags of an import show up only after this many
    /// `GET /findings/?test=<id>` of that test. 0 = immediately.
    pub dedup_delay_gets: u32,
    /// `DD_SCAN_FILE_MAX_SIZE` in MiB (`fixtures/dojo/recorded/v3/149-*`).
    pub max_file_mb: u64,
    /// Longest path+query answered; a longer one gets the connection closed without a
    /// response, like uWSGI with the default 8 KiB buffer
    /// (`fixtures/dojo/recorded/v3/167-*`).
    pub max_uri_len: usize,
    /// Origin used in absolute `next`/`previous` links (default: the fake's own URL).
    /// Set it to simulate a reverse proxy that advertises another host.
    pub advertised_origin: Option<String>,
    /// Canned findings per native (non-generic) report.
    pub native_findings: usize,
    /// A native import saves this many findings (a reimport handles this many), then
    /// fails saving the next one and answers a 500 (`fixtures/dojo/recorded/v3/145-*`): the test keeps what
    /// was saved, at 50 % complete, with no import history. A real `trivy k8s` report whose
    /// cluster-scoped resources build a `service` over 200 characters does this on 3.2.0.
    pub crash_after_findings: Option<usize>,
    /// Benchmark mode ([`bench`]), for benchmarks and scale tests; `None` (the default)
    /// for everything else.
    pub bench: Option<BenchOptions>,
    /// Creates leave the gap between DefectDojo's uniqueness check and its INSERT open
    /// this long ([`race`]), so parallel clients race as on a real server.
    pub create_gap: Option<Duration>,
    /// Imports go on after their answer ([`SlowImport`]).
    pub slow_import: Option<SlowImport>,
    /// `DD_TRACK_IMPORT_HISTORY` (default true): false writes no `test_imports` rows.
    pub import_history: bool,
    /// A misbehaving server, for the hostile-input tests: every finding is passed
    /// through this before it is stored, so the answers carry what no real DefectDojo
    /// stores (a 1 MB title, a line of 2^63-1). `None` (the default): faithful.
    pub hostile: Option<fn(&mut Finding)>,
}

/// A real import saves findings one by one for seconds to minutes, and writes the test's
/// import history row only after the last one (`process_scan`). The fake computes an
/// import at once but shows its result over time: the test and its first `shown`
/// findings at the answer, the other findings spread over `finish_after`, and the
/// history row at its end (`None`: never; the import never finishes). Combined with a
/// [`Fault::handle_then_answer`] this is an ingress that answers 504 (or drops the
/// connection) while DefectDojo goes on saving.
#[derive(Clone, Copy, Debug)]
pub struct SlowImport {
    pub shown: usize,
    pub finish_after: Option<Duration>,
}

impl Options {
    pub fn new(flavour: Flavour) -> Options {
        Options {
            flavour,
            port: 0,
            admin_key: "dojo-admin-key".to_string(),
            lowpriv_key: None,
            dedup: true,
            dedup_delay_gets: 1,
            max_file_mb: 100,
            max_uri_len: 3880,
            advertised_origin: None,
            native_findings: 3,
            crash_after_findings: None,
            bench: None,
            create_gap: None,
            slow_import: None,
            import_history: true,
            hostile: None,
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options::new(Flavour::V3)
    }
}

/// What the request handlers share: the options and the origin for absolute links.
pub struct Ctx {
    pub opts: Options,
    origin: OnceLock<String>,
    /// Benchmark mode's virtual tests.
    pub bench: bench::Bench,
}

impl Ctx {
    pub fn origin(&self) -> &str {
        self.origin.get().map(String::as_str).unwrap_or("")
    }
}

/// A running fake DefectDojo. Dropping it without any request panics (see
/// [`FakeDojo::expect_no_calls`]).
pub struct FakeDojo {
    /// `http://127.0.0.1:PORT` (`https://` with TLS), no trailing slash.
    pub url: String,
    state: Arc<Mutex<State>>,
    server: Server,
}

impl FakeDojo {
    pub fn start(flavour: Flavour) -> FakeDojo {
        FakeDojo::start_with(Options::new(flavour))
    }

    pub fn start_with(opts: Options) -> FakeDojo {
        FakeDojo::start_inner(opts, None)
    }

    /// Serves HTTPS with `tls` (see [`super::tls::server_config`]).
    pub fn start_tls(opts: Options, tls: Arc<rustls::ServerConfig>) -> FakeDojo {
        FakeDojo::start_inner(opts, Some(tls))
    }

    fn start_inner(opts: Options, tls: Option<Arc<rustls::ServerConfig>>) -> FakeDojo {
        let mut state = State::new(opts.flavour, opts.dedup);
        state.import_history = opts.import_history;
        state.hostile = opts.hostile;
        let state = Arc::new(Mutex::new(state));
        let ctx = Arc::new(Ctx {
            opts: opts.clone(),
            origin: OnceLock::new(),
            bench: bench::Bench::default(),
        });
        let (handler_ctx, handler_state) = (ctx.clone(), state.clone());
        let handler: Handler =
            Arc::new(move |req| routes::dispatch(&handler_ctx, &handler_state, req));
        let name = match opts.flavour {
            Flavour::V3 => "FakeDojo(3.2.0)",
            Flavour::V2 => "FakeDojo(2.58.4)",
        };
        let server = match tls {
            Some(tls) => Server::start_tls(name, opts.port, handler, tls),
            None => Server::start(name, opts.port, handler),
        };
        if opts.bench.is_some() {
            server.count_bodies(Arc::new(|req: &Request| {
                let import =
                    req.path.ends_with("/import-scan/") || req.path.ends_with("/reimport-scan/");
                let content_type = req.header("content-type").unwrap_or("");
                let multipart = content_type
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data");
                (req.method == "POST" && import && multipart)
                    .then(|| Box::new(MultipartCount::new(content_type)) as Box<dyn BodySink>)
            }));
        }
        let origin = opts
            .advertised_origin
            .clone()
            .unwrap_or_else(|| server.url.clone());
        let _ = ctx.origin.set(origin.trim_end_matches('/').to_string());
        FakeDojo {
            url: server.url.clone(),
            state,
            server,
        }
    }

    /// The listening address (for raw `TcpStream` tests).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    /// The server's data; hold the guard briefly (requests wait for it).
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.server.requests()
    }

    pub fn request_count(&self) -> usize {
        self.server.request_count()
    }

    /// Requests that could change something (anything but GET/HEAD/OPTIONS).
    pub fn mutating_requests(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| !matches!(s.method.as_str(), "GET" | "HEAD" | "OPTIONS"))
            .collect()
    }

    /// Requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| s.path.starts_with(prefix))
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

    /// The last import-scan / reimport-scan request that reached the import logic.
    pub fn last_import(&self) -> Option<ImportRecord> {
        self.state().imports.last().cloned()
    }

    pub fn imports(&self) -> Vec<ImportRecord> {
        self.state().imports.clone()
    }

    // Seeding shortcuts (each returns the new id); see `State::add_*` for the details.

    pub fn seed_product_type(&self, name: &str) -> u64 {
        self.state().add_product_type(name)
    }

    pub fn seed_product(&self, name: &str, prod_type: u64) -> u64 {
        self.state().add_product(name, prod_type)
    }

    pub fn seed_engagement(&self, name: &str, product: u64, version: Option<&str>) -> u64 {
        self.state().add_engagement(name, product, version)
    }

    pub fn seed_test(&self, engagement: u64, title: Option<&str>, scan_type: &str) -> u64 {
        self.state().add_test(engagement, title, scan_type)
    }

    pub fn seed_finding(&self, test: u64, finding: Finding) -> u64 {
        self.state().add_finding(test, finding)
    }

    /// An import history row for a seeded test (a real server writes one per import).
    pub fn seed_import_history(&self, test: u64) -> u64 {
        let mut st = self.state();
        let id = st.next_id("test_import");
        st.test_imports.push(model::TestImport {
            id,
            test,
            kind: "import".into(),
            import_settings: serde_json::json!({}),
            actions: Vec::new(),
            version: String::new(),
            build_id: String::new(),
            commit_hash: String::new(),
            branch_tag: String::new(),
            created: util::now_iso(),
        });
        id
    }
}
