//! dojo-hook: publishes security scan results to OWASP DefectDojo and hands
//! DefectDojo's verdicts back.
//!
//! A run is blocking and single-threaded, and reads as its stages
//! (`run::run`): `inputs` → `upload` body → `destination` in
//! DefectDojo → `import` (with its recovery and fallback) → `dedup` (deduplication)
//! wait → `readback` → `outputs`. The dry run (`dryrun`) uses the same
//! stages read-only. Findings are streamed one at a time (`convert::generic::json_array`); no
//! module holds all findings. ARCHITECTURE.md draws the whole house.
#![forbid(unsafe_code)]

// The public surface is what the binary, the tests, the examples and the doc
// examples use: the entry point, the converters, and the streaming building
// blocks (bodies of exact length, storage, the findings array and the finding
// model). Everything else is the crate's own.

pub mod app;
pub mod body;
pub(crate) mod cli;
pub(crate) mod config;
pub mod convert;
pub(crate) mod dedup;
pub(crate) mod destination;
pub(crate) mod dojo;
pub(crate) mod dryrun;
pub(crate) mod error;
pub(crate) mod help;
pub(crate) mod http;
pub(crate) mod import;
pub(crate) mod inputs;
pub(crate) mod k8s;
pub mod logging;
pub(crate) mod outputs;
pub(crate) mod readback;
pub(crate) mod run;
pub mod scan;
pub mod signals;
pub mod storage;
pub(crate) mod upload;
pub(crate) mod util;

pub use error::Error;
