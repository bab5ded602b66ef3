//! Integration tests: the real `dojo-hook` binary against the fake DefectDojo
//! and the fake object store, over real loopback sockets.
//!
//! One test binary (link time); one module per area.

#[path = "../support/mod.rs"]
mod support;

mod harness;

mod ci;
mod errors;
mod fake_bench;
mod fake_selftest;
mod faults;
mod first_run;
mod gate;
mod hostile;
mod house;
mod import;
mod k8s;
mod network;
mod partial;
mod races;
mod report_tools;
mod reports;
mod s3;
mod scale;
mod schedule;
mod secrets;
mod sync;
