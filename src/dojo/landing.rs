//! The import POST is never sent again blindly, and a test is adopted only
//! once it is this run's own and complete.
//!
//! Each import creates a test, so a second POST after one that DefectDojo
//! did process leaves a duplicate test behind. [`import()`] sends again
//! right away only when the connection was refused (nothing reached
//! DefectDojo). A 429 or 503 is no such proof (Envoy and Istio answer 503
//! when the upstream resets after the body arrived): the import is sent
//! again only after a look shows that no test of this run exists. When the
//! answer was lost after the request went out (a timeout, a reset, a
//! proxy's 502 or 504), it waits, at most `DEFECTDOJO_IMPORT_TIMEOUT_SECONDS`,
//! for this run's own test ([`own`]) to appear and for DefectDojo to finish
//! it, and continues with it; a test that does not finish in time is a
//! failed import. A reimport's trace is a new row of its test's import
//! history instead.

use std::time::{Duration, Instant};

use super::import_call::{self, ImportForm, Landed};
use super::model::ImportAnswer;
use super::own::{self, Finish};
use super::{Dojo, cleanup};
use crate::body::Prepared;
use crate::error::Error;
use crate::http::Timeouts;
use crate::http::{deadline, retry};

/// Produces the report's body again, for a body that can be read only once.
pub type Again<'r, 'a> = &'r mut dyn FnMut() -> Result<Prepared<'a>, Error>;

/// Sends the import (see the module docs): `report` is the body, and how to
/// produce it again. A new import's `form.test_title` is this run's
/// temporary title ([`own::OwnTitle`]); `imports_before` counts a
/// reimport's test's import history before it was sent.
pub fn import<'a>(
    dojo: &Dojo,
    form: &ImportForm,
    (report, again): (&mut Prepared<'a>, Again<'_, 'a>),
    timeouts: &Timeouts,
    imports_before: Option<u64>,
) -> Result<ImportAnswer, Error> {
    let started = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let (err, landed) = match import_call::import(dojo, form, report, timeouts.import) {
            Ok(answer) if tries > 1 => return drop_earlier_attempts(dojo, form, answer),
            Ok(answer) => return Ok(answer),
            Err(failed) => failed,
        };
        let after = match landed {
            Landed::No => return Err(err),
            Landed::Unknown => return after_lost_answer(dojo, form, imports_before, timeouts, err),
            Landed::Refused(after) => after,
            Landed::Busy(after) => match landed_anyway(dojo, form, imports_before) {
                Ok(false) => after,
                Ok(true) => return after_lost_answer(dojo, form, imports_before, timeouts, err),
                Err(check) => {
                    return Err(err.note(format!(
                        "whether DefectDojo imported it anyway could not be checked ({check}); \
                         it was not sent again, to avoid a duplicate test"
                    )));
                }
            },
        };
        let wait = retry::backoff(&retry::POLICY, tries, after);
        let in_time = wait < retry::POLICY.budget.saturating_sub(started.elapsed())
            && deadline::time_left().is_none_or(|left| wait < left);
        if tries >= retry::POLICY.attempts || !in_time {
            return Err(err);
        }
        log::info!(
            "{err}; DefectDojo did not process the import: sending it again in {:.1} s \
             (attempt {} of {})",
            wait.as_secs_f64(),
            tries + 1,
            retry::POLICY.attempts
        );
        std::thread::sleep(wait);
        if !report.rereadable() {
            // A streamed body was used up: open the source again.
            *report = again()?;
        }
    }
}

/// After a 429 or 503: true when the import landed all the same (a test
/// of this run exists, or the reimport's test has a new history row).
fn landed_anyway(
    dojo: &Dojo,
    form: &ImportForm,
    imports_before: Option<u64>,
) -> Result<bool, Error> {
    match (form.reimport_test, imports_before) {
        (Some(test), Some(before)) => {
            Ok(cleanup::import_count(dojo, test).is_some_and(|n| n > before))
        }
        // Without the count before, a new row cannot be told apart.
        (Some(_), None) => Err(Error::protocol(
            "the reimport's test",
            "had no countable import history before the reimport",
        )),
        (None, _) => Ok(!own::own_tests(dojo, form.engagement, &form.test_title)?.is_empty()),
    }
}

/// A resent import succeeded, but an earlier attempt may have created a
/// test too, late: it is this run's (its title carries the run id), so it
/// is removed rather than left as a duplicate.
fn drop_earlier_attempts(
    dojo: &Dojo,
    form: &ImportForm,
    answer: ImportAnswer,
) -> Result<ImportAnswer, Error> {
    let (Some(test), None) = (answer.test_id(), form.reimport_test) else {
        return Ok(answer);
    };
    let earlier: Vec<u64> = own::own_tests(dojo, form.engagement, &form.test_title)?
        .into_iter()
        .filter(|id| *id != test)
        .collect();
    if !earlier.is_empty() {
        cleanup::remove_tests(
            dojo,
            &earlier,
            "an earlier attempt of this run's import left",
        )
        .map_err(|stuck| {
            Error::protocol(
                format!("the import into test {test}"),
                format!("succeeded when sent again, but {stuck}"),
            )
        })?;
    }
    Ok(answer)
}

/// After a lost answer: wait for this run's test (or the reimport's new
/// history row) to be complete, then continue with it; else fail.
fn after_lost_answer(
    dojo: &Dojo,
    form: &ImportForm,
    imports_before: Option<u64>,
    timeouts: &Timeouts,
    err: Error,
) -> Result<ImportAnswer, Error> {
    if deadline::expired() {
        return Err(err.note(
            "there was no time left to check whether DefectDojo imported it; it was not sent \
             again, to avoid a duplicate test: check the engagement",
        ));
    }
    log::warn!(
        "{err}; the answer was lost, so waiting (at most {} s, DEFECTDOJO_IMPORT_TIMEOUT_SECONDS) \
         for DefectDojo to finish the import",
        timeouts.import.as_secs()
    );
    match form.reimport_test {
        Some(test) => lost_reimport(dojo, test, imports_before, timeouts.import, err),
        None => lost_import(dojo, form, timeouts, err),
    }
}

/// A request that reached DefectDojo has its test within moments (it is
/// created before the parser runs), so the test must appear within one
/// call's time (`DEFECTDOJO_TIMEOUT_SECONDS`); finishing it may take the
/// import's (`DEFECTDOJO_IMPORT_TIMEOUT_SECONDS`).
fn lost_import(
    dojo: &Dojo,
    form: &ImportForm,
    timeouts: &Timeouts,
    err: Error,
) -> Result<ImportAnswer, Error> {
    let started = Instant::now();
    let timeout = timeouts.import;
    let appear = timeouts.call.min(timeout);
    let unchecked = |check: Error| {
        format!(
            "whether DefectDojo imported it could not be checked ({check}); it was not sent \
             again, to avoid a duplicate test"
        )
    };
    let found = own::poll(appear, || {
        let ids = own::own_tests(dojo, form.engagement, &form.test_title)?;
        Ok((!ids.is_empty()).then_some(ids))
    });
    let test = match found {
        Ok(Some(ids)) if ids.len() == 1 => ids[0],
        Ok(Some(ids)) => {
            return Err(err.note(format!(
                "this run's import created {} tests ({})",
                ids.len(),
                join(&ids)
            )));
        }
        Ok(None) => {
            return Err(err.note(format!(
                "no test of this run appeared in engagement {} within {} s \
                 (DEFECTDOJO_TIMEOUT_SECONDS), so DefectDojo most likely never got it; the import \
                 was not sent again, to avoid a duplicate test: check the engagement for a test \
                 \"{}\", and run again if none appears",
                form.engagement,
                appear.as_secs(),
                form.test_title
            )));
        }
        Err(check) => return Err(err.note(unchecked(check))),
    };
    let left = timeout.saturating_sub(started.elapsed());
    match own::wait_finished(dojo, test, 0, left) {
        Ok(Finish::Recorded(_) | Finish::Settled) => {
            log::warn!(
                "DefectDojo did import it: test {test} is this run's own (its title carries the \
                 run id) and complete; continuing with it (the import's statistics are unknown)"
            );
            Ok(adopted(test, Some(form.engagement)))
        }
        Ok(Finish::Unfinished) => Err(err.note(format!(
            "this run's test {test} was still being filled after {} s \
             (DEFECTDOJO_IMPORT_TIMEOUT_SECONDS): the import counts as failed",
            timeout.as_secs()
        ))),
        Err(check) => Err(err.note(unchecked(check))),
    }
}

fn lost_reimport(
    dojo: &Dojo,
    test: u64,
    before: Option<u64>,
    timeout: Duration,
    err: Error,
) -> Result<ImportAnswer, Error> {
    let not_sent = "the reimport was not sent again: check the test, and run again if needed";
    let Some(before) = before else {
        return Err(err.note(format!(
            "test {test}'s import history could not be counted before the reimport, so its \
             landing cannot be told; {not_sent}"
        )));
    };
    match own::wait_finished(dojo, test, before, timeout) {
        Ok(Finish::Recorded(rows)) if rows == before + 1 => {
            log::warn!(
                "DefectDojo did reimport it: test {test} has one new import record, complete; \
                 continuing with it (the reimport's statistics are unknown)"
            );
            Ok(adopted(test, None))
        }
        Ok(Finish::Recorded(rows)) => Err(err.note(format!(
            "test {test} got {} new import records meanwhile, from parallel runs or this one, \
             so which is this run's cannot be told; {not_sent}",
            rows - before
        ))),
        Ok(Finish::Settled) => Err(err.note(format!(
            "DefectDojo keeps no import history, so whether the reimport into test {test} \
             landed cannot be told; {not_sent}"
        ))),
        Ok(Finish::Unfinished) => Err(err.note(format!(
            "test {test} shows no finished reimport after {} s \
             (DEFECTDOJO_IMPORT_TIMEOUT_SECONDS); {not_sent}",
            timeout.as_secs()
        ))),
        Err(check) => Err(err.note(format!(
            "whether DefectDojo reimported it could not be checked ({check}); {not_sent}"
        ))),
    }
}

/// The answer for a test whose import answer was lost.
fn adopted(test: u64, engagement: Option<u64>) -> ImportAnswer {
    ImportAnswer {
        test: Some(test),
        test_id: Some(test),
        engagement_id: engagement,
        product_id: None,
        product_type_id: None,
        statistics: None,
        deduplication_complete: None,
    }
}

fn join(ids: &[u64]) -> String {
    ids.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
