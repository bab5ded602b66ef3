//! The run's deadline and the retries of idempotent requests.
//!
//! `DEFECTDOJO_DEADLINE_SECONDS` bounds the whole run: no request (and no
//! retry) starts after it, and every request's overall timeout is capped by
//! the time left ([`cap`], ureq's per-request `timeout_global`). A transfer
//! (the import, object storage) is bounded as a whole by
//! `DEFECTDOJO_IMPORT_TIMEOUT_SECONDS` instead of an ordinary call's bound
//! ([`cap_transfer`]). The run is single-threaded, so these limits are kept
//! per thread ([`start`]).
//!
//! [`run`] retries a request that may safely be sent again (GETs, the
//! storage PUT of a re-readable body, the PATCH of a test's description) on
//! connection failures, timeouts, 429, 502, 503 and 504, with exponential
//! backoff and jitter, within [`Policy`]'s bounds. Requests that create
//! objects are never retried here: see [`crate::dojo::landing`].

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::http::Response;

use crate::error::Error;
use crate::http::Timeouts;

/// How often and how long an idempotent request is tried.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the first retry; doubled for each further one.
    pub base: Duration,
    /// The longest wait between two attempts (`Retry-After` included).
    pub max_wait: Duration,
    /// No retry starts later than this after the first attempt.
    pub budget: Duration,
}

/// 4 attempts; waits of 0.5 s, 1 s, 2 s, each scaled by a jitter to 50–100 %
/// (`Retry-After` instead, when given); at most 30 s per wait; no retry
/// later than 60 s after the first attempt.
pub const POLICY: Policy = Policy {
    attempts: 4,
    base: Duration::from_millis(500),
    max_wait: Duration::from_secs(30),
    budget: Duration::from_secs(60),
};

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
    static LIMITS: Cell<Limits> = Cell::new(Limits::from(&Timeouts::default()));
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
    LIMITS.with(|l| l.get())
}

/// Starts the run's limits: the deadline from now, and the bounds of one
/// call and one transfer ([`cap_transfer`], [`local_wait`]).
pub fn start(timeouts: &Timeouts) {
    LIMITS.with(|l| l.set(Limits::from(timeouts)));
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
/// agent (`DEFECTDOJO_TIMEOUT_SECONDS`, [`crate::http::config_builder`]);
/// the deadline is its global timeout, so a timeout's kind tells the two
/// apart ([`crate::http::transport_error`]).
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

/// Why a request is worth another attempt, and how long the server asked
/// us to wait (`Retry-After`), if it did.
pub fn retryable(
    result: &Result<Response<ureq::Body>, ureq::Error>,
) -> Option<(String, Option<Duration>)> {
    match result {
        Ok(resp) => {
            let status = resp.status().as_u16();
            if !matches!(status, 429 | 502 | 503 | 504) {
                return None;
            }
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            Some((format!("HTTP {status}"), after))
        }
        Err(err) => transient(err).then(|| (transient_reason(err), None)),
    }
}

/// Connection failures and timeouts; not DNS, TLS, bad URLs, nor a failure
/// of our own request body.
fn transient(err: &ureq::Error) -> bool {
    use std::io::ErrorKind::*;
    match err {
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(io) => {
            !io.get_ref().is_some_and(|inner| inner.is::<Error>())
                && matches!(
                    io.kind(),
                    ConnectionRefused
                        | ConnectionReset
                        | ConnectionAborted
                        | BrokenPipe
                        | UnexpectedEof
                        | TimedOut
                )
        }
        _ => false,
    }
}

fn transient_reason(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Io(io) => format!("connection error ({})", io.kind()),
        other => other.to_string(),
    }
}

/// True when `err` is a timeout that the deadline's cap caused.
pub fn deadline_hit(err: &ureq::Error) -> bool {
    matches!(err, ureq::Error::Timeout(_)) && expired()
}

/// The wait before retry number `retry` (1 for the first): `base·2^(retry-1)`
/// scaled by a jitter between 50 % and 100 %, or the server's `Retry-After`;
/// at most `max_wait` either way.
pub fn backoff(policy: &Policy, retry: u32, retry_after: Option<Duration>) -> Duration {
    let wait = match retry_after {
        Some(after) => after,
        None => {
            let full = policy
                .base
                .saturating_mul(1 << retry.saturating_sub(1).min(16));
            full.mul_f64(0.5 + 0.5 * jitter())
        }
    };
    wait.min(policy.max_wait)
}

/// A number in [0, 1) from the clock's nanoseconds (no RNG crate): enough
/// to spread parallel jobs' retries apart.
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // A multiplicative hash spreads nearby clock readings over the range.
    let mixed = nanos.wrapping_mul(2_654_435_761) % 1_000_000;
    f64::from(mixed) / 1_000_000.0
}

/// Sends a request that may be sent again, retrying it by `policy`.
///
/// `what` (already redacted) names it in logs and errors. `attempt` builds
/// and sends it once, with [`cap`] applied. A final retryable answer (e.g. a
/// fourth 503) is returned as it is, for the caller to turn into its error
/// with the server's message.
pub fn run(
    what: &str,
    policy: &Policy,
    mut attempt: impl FnMut() -> Result<Response<ureq::Body>, ureq::Error>,
) -> Result<Response<ureq::Body>, Error> {
    let started = Instant::now();
    let mut tries = 0;
    loop {
        check(what)?;
        tries += 1;
        let result = attempt();
        let Some((reason, after)) = retryable(&result) else {
            return finish(what, result);
        };
        let wait = backoff(policy, tries, after);
        let budget_left = policy.budget.saturating_sub(started.elapsed());
        let deadline_ok = time_left().is_none_or(|left| wait < left);
        if tries >= policy.attempts || wait > budget_left || !deadline_ok {
            if tries > 1 {
                log::info!("{what}: {reason}; giving up after {tries} attempts");
            }
            return finish(what, result);
        }
        log::info!(
            "{what}: {reason}; retrying in {:.1} s (attempt {} of {})",
            wait.as_secs_f64(),
            tries + 1,
            policy.attempts
        );
        drop(result);
        std::thread::sleep(wait);
    }
}

fn finish(
    what: &str,
    result: Result<Response<ureq::Body>, ureq::Error>,
) -> Result<Response<ureq::Body>, Error> {
    result.map_err(|e| crate::source::send_error(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after_up_to_the_cap() {
        for retry in 1..=3 {
            let full = POLICY.base * (1 << (retry - 1));
            let wait = backoff(&POLICY, retry, None);
            assert!(wait >= full / 2 && wait <= full, "{retry}: {wait:?}");
        }
        assert_eq!(
            backoff(&POLICY, 1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            backoff(&POLICY, 1, Some(Duration::from_secs(3600))),
            POLICY.max_wait
        );
        assert!(backoff(&POLICY, 40, None) <= POLICY.max_wait);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        use std::io;
        assert!(transient(&ureq::Error::ConnectionFailed));
        assert!(transient(&ureq::Error::Timeout(
            ureq::Timeout::RecvResponse
        )));
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert!(transient(&ureq::Error::Io(reset)));
        assert!(!transient(&ureq::Error::HostNotFound));
        // A failure of our own body (e.g. a second pass that differed).
        let ours = io::Error::new(io::ErrorKind::BrokenPipe, Error::input("body", "changed"));
        assert!(!transient(&ureq::Error::Io(ours)));
    }

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
}
