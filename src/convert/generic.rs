//! (owned by the conversion work)
