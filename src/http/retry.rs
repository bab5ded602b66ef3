//! The retries of idempotent requests.
//!
//! [`run`] retries a request that may safely be sent again (GETs, the
//! storage PUT of a re-readable body, the PATCH of a test's description) on
//! connection failures, timeouts, 429, 502, 503 and 504, with exponential
//! backoff and jitter, within [`Policy`]'s bounds, and never past the run's
//! deadline ([`super::deadline`]). Requests that create objects are never
//! retried here: see [`crate::dojo::landing`].

use std::time::{Duration, Instant};

use ureq::http::Response;

use super::deadline::{check, time_left};
use super::failure::send_error;
use crate::error::Error;

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
            Some((format!("HTTP {status}"), retry_after(resp)))
        }
        Err(err) => transient(err).then(|| (transient_reason(err), None)),
    }
}

/// The wait a server asked for in `Retry-After`, if it gave one in seconds
/// (an HTTP date is ignored).
pub fn retry_after(resp: &Response<ureq::Body>) -> Option<Duration> {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
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
            full.mul_f64(0.5 + 0.5 * crate::util::random::fraction())
        }
    };
    wait.min(policy.max_wait)
}

/// Sends a request that may be sent again, retrying it by `policy`.
///
/// `what` (already redacted) names it in logs and errors. `attempt` builds
/// and sends it once, with [`super::deadline::cap`] applied. A final retryable answer (e.g. a
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
    result.map_err(|e| send_error(what, e))
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
}
