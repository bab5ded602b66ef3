//! The import call (being written).
