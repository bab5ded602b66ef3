//! Converters between secureCodeBox findings and DefectDojo formats.

pub(crate) mod check;
pub mod generic;
pub(crate) mod junit;
pub mod markdown;
pub(crate) mod sarif;
pub mod sync;
pub(crate) mod triage;
