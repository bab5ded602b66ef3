//! Converters between secureCodeBox findings and DefectDojo formats.

pub(crate) mod check;
pub mod generic;
pub mod markdown;
pub mod sync;
