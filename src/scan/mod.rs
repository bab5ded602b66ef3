//! What is known about a scan: the Scan resource (or flat annotations) it
//! ran as, the secureCodeBox findings it produced, and the DefectDojo scan
//! type it is imported as.

pub mod finding;
pub mod resource;
pub mod types;

// The type most callers want, one step shorter.
pub use resource::Scan;
