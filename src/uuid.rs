//! (owned by the sync-back conversion work)
