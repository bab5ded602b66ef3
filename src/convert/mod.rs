//! Converters between secureCodeBox findings and DefectDojo formats.

pub mod check;
pub mod generic;
pub mod markdown;
pub mod sync;
