//! Which test is this run's own, and when its import is finished.
//!
//! Parallel runs import into one engagement under one title at the same
//! time, and an import's answer can be lost (an ingress's 504, a dropped
//! connection) while DefectDojo goes on saving findings for minutes. A run
//! therefore imports under a temporary title that carries a random run id
//! ([`OwnTitle`]): DefectDojo stores it as the test's title (both 2.x and
//! 3.x, on import-scan), so an exact title lookup finds this run's test and
//! no other, whatever else is imported at the same time. Once the import is
//! complete the test is renamed to its real title (reimports find their
//! test by title). A test under any other title is never deleted, adopted
//! or read back as this run's.
//!
//! DefectDojo writes a test's import history row only after the last
//! finding is saved and old findings are closed (`process_scan` in
//! `dojo/importers/default_importer.py`), so that row is the sign that a
//! test whose answer was lost is complete ([`wait_finished`]). A server
//! that keeps no history (`DD_TRACK_IMPORT_HISTORY=false`) has no row for
//! any test; then a finding count that stays the same over several polls
//! has to do, with a warning.

use std::time::{Duration, Instant};

use serde::de::IgnoredAny;

use super::model::{Page, Test};
use super::{Dojo, Method};
use crate::error::Error;
use crate::http::deadline;

/// DefectDojo's longest test title (`Test.title`, max_length 255).
pub const TITLE_MAX: usize = 255;

/// The finding count must stay the same this many polls in a row when the
/// server keeps no import history.
const STABLE_POLLS: u32 = 4;

/// The test title an import is sent under, and the one it gets after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnTitle {
    /// The title the test ends with.
    pub real: String,
    /// The run-unique title it is imported under.
    pub temporary: String,
}

impl OwnTitle {
    /// A new run id for `real`.
    pub fn new(real: &str) -> OwnTitle {
        OwnTitle::with_id(real, &run_id())
    }

    /// The temporary title for `real` and `id`, cut to DefectDojo's length
    /// (the run id is kept whole; the real title gives way).
    pub fn with_id(real: &str, id: &str) -> OwnTitle {
        let suffix = format!(" [dojo-hook run {id}]");
        let room = TITLE_MAX.saturating_sub(suffix.chars().count());
        let head: String = real.chars().take(room).collect();
        OwnTitle {
            real: real.to_string(),
            temporary: format!("{head}{suffix}"),
        }
    }
}

/// 64 random bits ([`crate::util::random`]).
fn run_id() -> String {
    format!("{:016x}", crate::util::random::bits())
}

/// The tests of `engagement` titled `temporary`: this run's own.
pub fn own_tests(dojo: &Dojo, engagement: u64, temporary: &str) -> Result<Vec<u64>, Error> {
    let tests: Vec<Test> = dojo.list(
        "/api/v2/tests/",
        &[
            ("engagement", &engagement.to_string()),
            ("title", temporary),
        ],
        "looking for this run's test",
        |t: &Test| t.title.as_deref() == Some(temporary),
    )?;
    Ok(tests.iter().map(|t| t.id).collect())
}

/// The tests of `engagement` with `scan_type` that carry `own`'s real title,
/// or its title with any run's marker: the new tests that runs of this title
/// import at the same time (reimport mode settles them on one).
pub fn family(
    dojo: &Dojo,
    engagement: u64,
    scan_type: &str,
    own: &OwnTitle,
) -> Result<Vec<Test>, Error> {
    let marked = format!("{} [dojo-hook run ", own.real);
    dojo.list(
        "/api/v2/tests/",
        &[("engagement", &engagement.to_string())],
        "looking for parallel runs' tests of the same title",
        |t: &Test| {
            let title = t.title.as_deref().unwrap_or("");
            t.scan_type.as_deref() == Some(scan_type)
                && (title == own.real || title.starts_with(&marked))
        },
    )
}

/// Gives this run's complete test `test_id` its real title and
/// `description` in one PATCH; a failure says which test holds the import
/// under its temporary title, and what to do.
pub fn give_real_title(
    dojo: &Dojo,
    test_id: u64,
    own: &OwnTitle,
    description: &str,
) -> Result<(), Error> {
    let body = serde_json::json!({ "title": own.real, "description": description });
    dojo.call(
        Method::Patch,
        &format!("/api/v2/tests/{test_id}/"),
        Some(&body),
        "giving the test its title and description",
    )
    .map(drop)
    .map_err(|err| {
        err.note(format!(
            "the import itself succeeded: test {test_id} ({}/test/{test_id}) holds it under the \
             temporary title \"{}\"; rename it to \"{}\" in DefectDojo (or delete it) and \
             run again",
            crate::http::redact::url(dojo.base()),
            own.temporary,
            own.real
        ))
    })
}

/// How a wait for an import ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// DefectDojo recorded the import in the test's history, which now has
    /// this many rows.
    Recorded(u64),
    /// No history is kept on this server; the finding count stayed the same.
    Settled,
    /// Neither within the bound.
    Unfinished,
}

/// Waits until DefectDojo has finished the import into `test` (its history
/// has more than `rows_before` rows), at most `bound` and never past the
/// run's deadline.
pub fn wait_finished(
    dojo: &Dojo,
    test: u64,
    rows_before: u64,
    bound: Duration,
) -> Result<Finish, Error> {
    let mut counts: Vec<u64> = Vec::new();
    let mut warned = false;
    let mut kept = false;
    let finish = poll(bound, || {
        let rows = count(dojo, &format!("/api/v2/test_imports/?test={test}&limit=1"))?;
        if rows > rows_before {
            return Ok(Some(Finish::Recorded(rows)));
        }
        // A server that records nothing for any test keeps no history; one
        // that shows a row anywhere does (asked until it does).
        if !kept {
            kept = rows_before > 0 || count(dojo, "/api/v2/test_imports/?limit=1")? > 0;
        }
        if kept {
            return Ok(None);
        }
        if !warned {
            log::warn!(
                "DefectDojo shows no import history for any test (a new server, or \
                 DD_TRACK_IMPORT_HISTORY=false): waiting until test {test}'s history appears or \
                 its finding count stays the same over {STABLE_POLLS} polls, which cannot see \
                 an import that pauses longer"
            );
            warned = true;
        }
        counts.push(count(
            dojo,
            &format!("/api/v2/findings/?test={test}&limit=1"),
        )?);
        let last = &counts[counts.len().saturating_sub(STABLE_POLLS as usize)..];
        let settled = last.len() == STABLE_POLLS as usize && last.iter().all(|c| *c == last[0]);
        Ok(settled.then_some(Finish::Settled))
    })?;
    Ok(finish.unwrap_or(Finish::Unfinished))
}

/// Calls `check` until it gives a value or `bound` has passed, with waits
/// growing from 0.25 s to 2 s, never past the run's deadline.
pub fn poll<T>(
    bound: Duration,
    mut check: impl FnMut() -> Result<Option<T>, Error>,
) -> Result<Option<T>, Error> {
    let started = Instant::now();
    let mut wait = Duration::from_millis(250);
    loop {
        if let Some(value) = check()? {
            return Ok(Some(value));
        }
        let left = bound.saturating_sub(started.elapsed());
        let left = deadline::time_left().map_or(left, |d| d.min(left));
        if left.is_zero() {
            return Ok(None);
        }
        std::thread::sleep(wait.min(left));
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// The `count` of a list answer (0 when DefectDojo leaves it out).
fn count(dojo: &Dojo, path: &str) -> Result<u64, Error> {
    let page: Page<IgnoredAny> = dojo.get(path, "checking the import's progress")?;
    Ok(page.count.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_title_keeps_the_run_id_within_255_characters() {
        let t = OwnTitle::with_id("Trivy Scan", "0123456789abcdef");
        assert_eq!(t.temporary, "Trivy Scan [dojo-hook run 0123456789abcdef]");
        let long = "é".repeat(300);
        let t = OwnTitle::with_id(&long, "0123456789abcdef");
        assert_eq!(t.temporary.chars().count(), TITLE_MAX);
        assert!(t.temporary.ends_with(" [dojo-hook run 0123456789abcdef]"));
        assert_eq!(t.real, long);
    }

    #[test]
    fn run_ids_differ() {
        let a = OwnTitle::new("t");
        let b = OwnTitle::new("t");
        assert_ne!(a.temporary, b.temporary);
    }
}
