//! (owned by the body/transport work: see the issue)
