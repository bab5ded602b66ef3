//! Stage 5, the deduplication wait: verdicts read back must be final.
//! DefectDojo 3.x says so in the import's answer (`async_wait`); 2.x ignores
//! that field, so there the test's duplicate count is polled until it is
//! unchanged twice in a row.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::dojo::Dojo;
use crate::dojo::test_findings;
use crate::error::Error;
use crate::import::Imported;

const POLL_LIMIT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Waits until DefectDojo's deduplication of the import has finished, when
/// anything reads verdicts back.
pub fn wait(dojo: &Dojo, cfg: &Config, imported: &Imported) -> Result<(), Error> {
    if !cfg.needs_final_verdicts() {
        return Ok(());
    }
    if !cfg.refetch_wait.is_zero() {
        log::info!(
            "waiting {} s before reading back (DEFECTDOJO_REFETCH_WAIT_SECONDS, deprecated)",
            cfg.refetch_wait.as_secs()
        );
        // Not past the deadline: the next request would fail anyway.
        let left = crate::http::deadline::time_left().unwrap_or(cfg.refetch_wait);
        std::thread::sleep(cfg.refetch_wait.min(left));
    }
    if imported.answer.deduplication_complete == Some(true) {
        return Ok(());
    }
    let test_id = imported.test_id;
    log::info!(
        "DefectDojo did not confirm finished deduplication (2.x ignores async_wait): \
         polling test {test_id}'s duplicate count until it is unchanged twice in a row (at most {} s)",
        POLL_LIMIT.as_secs()
    );
    let deadline = Instant::now() + POLL_LIMIT;
    let mut last = None;
    let mut unchanged = 0;
    loop {
        let count = test_findings::duplicate_count(dojo, test_id)?;
        if count == last {
            unchanged += 1;
            if unchanged >= 2 {
                return Ok(());
            }
        } else {
            unchanged = 0;
            last = count;
        }
        if Instant::now() >= deadline {
            log::warn!(
                "deduplication still changing after {} s; reading back anyway",
                POLL_LIMIT.as_secs()
            );
            return Ok(());
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
