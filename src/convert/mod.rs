//! Converters between secureCodeBox findings and DefectDojo formats.

pub(crate) mod check;
pub mod generic;
pub(crate) mod junit;
pub(crate) mod sarif;
pub(crate) mod scratch;
pub mod sync;
pub(crate) mod triage;
