//! dojo-hook: publishes security scan results to OWASP DefectDojo and hands
//! DefectDojo's verdicts back.
//!
//! A run is blocking and single-threaded, and reads as its stages
//! ([`run::run`]): [`inputs`] → [`upload`] body → [`destination`] in
//! DefectDojo → [`import`] (with its recovery and fallback) → [`dedup`]lication
//! wait → [`readback`] → [`outputs`]. The dry run ([`dryrun`]) uses the same
//! stages read-only. Findings are streamed one at a time ([`json_array`]); no
//! module holds all findings. ARCHITECTURE.md draws the whole house.
#![forbid(unsafe_code)]

pub mod app;
pub mod body;
pub mod ci;
pub mod cli;
pub mod config;
pub mod convert;
pub mod credentials;
pub mod decimal;
pub mod dedup;
pub mod describe;
pub mod destination;
pub mod dojo;
pub mod dryrun;
pub mod error;
pub mod gate;
pub mod help;
pub mod http;
pub mod import;
pub mod inputs;
pub mod json_array;
pub mod k8s;
pub mod logging;
pub mod minify;
pub mod multipart;
pub mod outputs;
pub mod readback;
pub mod run;
pub mod scan;
pub mod step_summary;
pub mod storage;
pub mod suggest;
pub mod summary;
pub mod time;
pub mod upload;
pub mod uuid;

pub use error::Error;
