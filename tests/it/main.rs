//! Integration tests: the real `dojo-hook` binary against the fake DefectDojo
//! and the fake object store, over real loopback sockets.
//!
//! One test binary (link time); one module per area.

#[path = "../support/mod.rs"]
mod support;

mod harness;

mod errors;
mod import;
mod scale;
mod secrets;
mod sync;
