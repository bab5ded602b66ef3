//! Orchestration of a run (being written).

/// Runs with the process's arguments and environment; returns the exit code.
pub fn main_with_env() -> u8 {
    crate::error::EXIT_LOCAL
}
