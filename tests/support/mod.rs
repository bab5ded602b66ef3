//! Test support: std-only fakes of the services dojo-hook talks to.
//!
//! - [`fake_dojo`]: a stateful fake OWASP DefectDojo (3.2.0 and 2.58.4 flavours).
//! - [`fake_store`]: a fake S3 object store for the presigned input/output URLs.
//! - [`fake_k8s`]: the Kubernetes API's Scan endpoints over TLS (its own CA).
//! - [`http`]: the HTTP/1.1 server plumbing both share (keep-alive, request log, faults).
//! - [`tls`]: the test PKI (`fixtures/tls/`) and HTTPS for the fakes.
//! - [`proxy`]: a CONNECT proxy that logs what went through it.
//! - [`count`]: body sinks that count uploads instead of keeping them (benchmark mode).
//! - [`reports`]: the SARIF and JUnit files checked by the tools their readers use.
//!
//! `tests/it/main.rs`, the one test binary, includes this module by path (the fakes'
//! self-tests are its `fake_selftest` and `fake_bench` modules); `examples/fakes.rs`
//! includes it too and serves the fake DefectDojo and store until killed, for scripts
//! and benchmarks.

pub mod count;
pub mod fake_dojo;
pub mod fake_k8s;
pub mod fake_store;
pub mod http;
pub mod proxy;
pub mod reports;
pub mod sigv4;
pub mod tls;

// Convenience re-exports.
pub use fake_dojo::{FakeDojo, Flavour, Options};
pub use fake_store::{FakeStore, StoreOptions};
pub use http::Fault;
