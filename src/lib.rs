//! dojo-hook: publishes security scan results to OWASP DefectDojo and hands
//! DefectDojo's verdicts back.
//!
//! The pipeline is blocking and single-threaded:
//! configuration ([`config`], [`cli`]) → inputs ([`storage`]) → DefectDojo
//! context and import ([`dojo`], [`multipart`], [`body`]) → read back and
//! convert ([`convert`]) → write the result ([`storage`]). Findings are
//! streamed one at a time ([`json_array`]); no module holds all findings.
#![forbid(unsafe_code)]

pub mod body;
pub mod ci;
pub mod cli;
pub mod config;
pub mod convert;
pub mod credentials;
pub mod describe;
pub mod dojo;
pub mod dryrun;
pub mod error;
pub mod form;
pub mod gate;
pub mod help;
pub mod http;
pub mod json_array;
pub mod k8s;
pub mod logging;
pub mod minify;
pub mod multipart;
pub mod pipeline;
pub mod scan;
pub mod scantype;
pub mod scb;
pub mod step_summary;
pub mod storage;
pub mod summary;
pub mod time;
pub mod uuid;

pub use error::Error;
