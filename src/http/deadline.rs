//! The run's deadline and the bounds of one call and one transfer.
//!
//! `DEFECTDOJO_DEADLINE_SECONDS` bounds the whole run: no request (and no
//! retry) starts after it, and every request's overall timeout is capped by
//! the time left ([`cap`], ureq's per-request `timeout_global`). A transfer
//! (the import, object storage) is bounded as a whole by
//! `DEFECTDOJO_IMPORT_TIMEOUT_SECONDS` instead of an ordinary call's bound
//! ([`cap_transfer`]). The run is single-threaded, so these limits are kept
//! per thread, set by [`start`] when the run's agent is built
//! ([`super::agent::agent`]); using them before is a bug a debug build
//! catches.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::error::Error;

/// Timeouts of a run, from `DEFECTDOJO_TIMEOUT_SECONDS` and
/// `DEFECTDOJO_IMPORT_TIMEOUT_SECONDS`.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Connect, and each ordinary call as a whole, its answer included (a
    /// server that trickles its answer is cut off).
    pub call: Duration,
    /// The import call and object-storage transfers as a whole (DefectDojo
    /// parses the report before it answers, which takes minutes for large
    /// reports; storage bodies can be gigabytes): [`cap_transfer`].
    pub import: Duration,
    /// The whole run (`DEFECTDOJO_DEADLINE_SECONDS`), if bounded
    /// (this module).
    pub deadline: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            call: Duration::from_secs(60),
            import: Duration::from_secs(1800),
            deadline: None,
        }
    }
}

/// The bounds of a run that calls and local waits need: the deadline
/// (when, and its configured seconds for the error), the bound of one
/// ordinary call and of one transfer.
#[derive(Clone, Copy)]
struct Limits {
    deadline: Option<(Instant, u64)>,
    call: Duration,
    transfer: Duration,
}

thread_local! {
    /// `None` until [`start`]: a call before it is a bug (a debug build
    /// panics); a release build then uses the default timeouts and no
    /// deadline rather than fail the run.
    static LIMITS: Cell<Option<Limits>> = const { Cell::new(None) };
}

impl From<&Timeouts> for Limits {
    fn from(t: &Timeouts) -> Limits {
        // Configured seconds are capped (`config::MAX_SECONDS`); an
        // unrepresentable instant is no deadline rather than a panic.
        let deadline = t
            .deadline
            .and_then(|l| Some((Instant::now().checked_add(l)?, l.as_secs())));
        Limits {
            deadline,
            call: t.call,
            transfer: t.import,
        }
    }
}

fn limits() -> Limits {
    let started = LIMITS.with(|l| l.get());
    debug_assert!(
        started.is_some(),
        "http::deadline used before deadline::start (http::agent starts it)"
    );
    started.unwrap_or_else(|| Limits::from(&Timeouts::default()))
}

/// Starts the run's limits: the deadline from now, and the bounds of one
/// call and one transfer ([`cap_transfer`], [`local_wait`]).
pub fn start(timeouts: &Timeouts) {
    LIMITS.with(|l| l.set(Some(Limits::from(timeouts))));
}

/// The time left before the deadline (zero once it passed); `None` without
/// a deadline.
pub fn time_left() -> Option<Duration> {
    limits()
        .deadline
        .map(|(at, _)| at.saturating_duration_since(Instant::now()))
}

/// True once the deadline has passed.
pub fn expired() -> bool {
    time_left().is_some_and(|left| left.is_zero())
}

/// An error if the deadline has passed: `what` must not start.
pub fn check(what: &str) -> Result<(), Error> {
    if expired() {
        Err(deadline_error(what))
    } else {
        Ok(())
    }
}

/// The error for a request stopped by the deadline.
pub fn deadline_error(what: &str) -> Error {
    let secs = limits().deadline.map_or(0, |(_, s)| s);
    Error::Transport {
        what: what.to_string(),
        detail: format!(
            "the run's deadline (DEFECTDOJO_DEADLINE_SECONDS={secs}) was reached: \
             raise it, or find out why DefectDojo or the storage is slow"
        ),
    }
}

/// Caps a request's overall timeout by the time left before the deadline.
///
/// An ordinary call's own bound is ureq's per-call timeout, set on the
/// agent (`DEFECTDOJO_TIMEOUT_SECONDS`, [`super::agent::agent`]);
/// the deadline is its global timeout, so a timeout's kind tells the two
/// apart ([`super::failure::transport_error`]).
pub fn cap<B>(request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
    match time_left() {
        Some(left) => request
            .config()
            .timeout_global(Some(left.max(Duration::from_millis(1))))
            .build(),
        None => request,
    }
}

/// Bounds a transfer — the import, an object-storage GET or PUT — as a
/// whole by `DEFECTDOJO_IMPORT_TIMEOUT_SECONDS` (capped by the time left),
/// instead of an ordinary call's bound: these bodies can be gigabytes.
/// Its global timeout is then either bound; one that fires before the
/// deadline is the transfer's own ([`deadline_hit`] tells).
pub fn cap_transfer<B>(request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
    let limit = match time_left() {
        Some(left) => left.min(limits().transfer).max(Duration::from_millis(1)),
        None => limits().transfer,
    };
    request
        .config()
        .timeout_per_call(None)
        .timeout_global(Some(limit))
        .build()
}

/// How long a local open may wait for the other end of a named pipe: an
/// ordinary call's bound, capped by the time left; with the variable that
/// set it, for the error.
pub fn local_wait() -> (Duration, &'static str) {
    let call = limits().call;
    match time_left() {
        Some(left) if left < call => (left, "DEFECTDOJO_DEADLINE_SECONDS"),
        _ => (call, "DEFECTDOJO_TIMEOUT_SECONDS"),
    }
}

/// The configured seconds of an ordinary call and of a transfer, for errors.
pub fn bound_secs() -> (u64, u64) {
    let l = limits();
    (l.call.as_secs(), l.transfer.as_secs())
}

/// True when `err` is a timeout that the deadline's cap caused.
pub fn deadline_hit(err: &ureq::Error) -> bool {
    matches!(err, ureq::Error::Timeout(_)) && expired()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_per_run_and_checked() {
        let start_deadline = |deadline| {
            start(&Timeouts {
                deadline,
                ..Timeouts::default()
            })
        };
        start_deadline(None);
        assert!(check("x").is_ok());
        start_deadline(Some(Duration::ZERO));
        let err = check("GET x").unwrap_err();
        assert!(
            err.to_string().contains("DEFECTDOJO_DEADLINE_SECONDS=0"),
            "{err}"
        );
        assert_eq!(err.exit_code(), crate::error::EXIT_REMOTE);
        start_deadline(None);
    }

    #[cfg(debug_assertions)]
    #[test]
    fn limits_never_started_are_a_bug_not_a_silent_default() {
        let unstarted = std::thread::spawn(time_left).join();
        assert!(unstarted.is_err(), "a debug build panics");
        let started = std::thread::spawn(|| {
            let _ = crate::http::agent(&Timeouts::default(), &Default::default());
            time_left()
        });
        assert_eq!(started.join().ok(), Some(None), "the agent started them");
    }
}
