//! The import POST is never sent again blindly.
//!
//! Each import creates a test, so a second POST after one that DefectDojo
//! did process leaves a duplicate test behind. [`import()`] therefore sends
//! again only when the failure proves that nothing was processed (a refused
//! connection, a 429 or 503 answer); a streamed body is produced again. When
//! the answer was lost after the request went out (a timeout, a reset, a
//! proxy's 502 or 504), it asks DefectDojo whether a test with the import's
//! title appeared in the engagement since the run started, and continues
//! with that test if exactly one did.

use std::time::{Duration, Instant};

use super::import::{self, ImportForm, Landed};
use super::model::ImportAnswer;
use super::{Dojo, cleanup};
use crate::body::Prepared;
use crate::error::Error;
use crate::http::{deadline, retry};

/// Produces the report's body again, for a body that can be read only once.
pub type Again<'r, 'a> = &'r mut dyn FnMut() -> Result<Prepared<'a>, Error>;

/// Sends the import (see the module docs): `report` is the body, and how to
/// produce it again. `new_tests` lists the tests of the engagement with the
/// import's title that were not there before; `imports_before` counts a
/// reimport's test's import history before it was sent (a reimport creates
/// no test: its trace is a new row of test_imports).
pub fn import<'a>(
    dojo: &Dojo,
    form: &ImportForm,
    (report, again): (&mut Prepared<'a>, Again<'_, 'a>),
    timeout: Duration,
    (new_tests, imports_before): (&dyn Fn() -> Result<Vec<u64>, Error>, Option<u64>),
) -> Result<ImportAnswer, Error> {
    let started = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let (err, landed) = match import::import(dojo, form, report, timeout) {
            Ok(answer) => return Ok(answer),
            Err(failed) => failed,
        };
        match landed {
            Landed::No => return Err(err),
            Landed::Unknown => {
                return match (form.reimport_test, imports_before) {
                    (Some(test), before) => check_reimported(dojo, test, before, err),
                    (None, _) => check_landed(form, err, new_tests),
                };
            }
            Landed::Refused(after) => {
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
    }
}

/// After a lost answer: continue with the test the import created, or say
/// that it may still appear.
fn check_landed(
    form: &ImportForm,
    err: Error,
    new_tests: &dyn Fn() -> Result<Vec<u64>, Error>,
) -> Result<ImportAnswer, Error> {
    if deadline::expired() {
        return Err(err.note(
            "there was no time left to check whether DefectDojo imported it; it was not sent \
             again, to avoid a duplicate test: check the engagement",
        ));
    }
    let found = match new_tests() {
        Ok(found) => found,
        Err(check) => {
            return Err(err.note(format!(
                "whether DefectDojo imported it could not be checked ({check}); it was not \
                     sent again, to avoid a duplicate test"
            )));
        }
    };
    match found.as_slice() {
        [test] => {
            log::warn!(
                "{err}; but DefectDojo did import it: test {test} \"{}\" appeared in the \
                 engagement, continuing with it (the import's statistics are unknown)",
                form.test_title
            );
            Ok(ImportAnswer {
                test: Some(*test),
                test_id: Some(*test),
                engagement_id: Some(form.engagement),
                product_id: None,
                product_type_id: None,
                statistics: None,
                deduplication_complete: None,
            })
        }
        [] => Err(err.note(
            "DefectDojo shows no new test with this title, but it may still be working on it; \
             the import was not sent again, to avoid a duplicate test: check the engagement, \
             and run again if no test appears",
        )),
        many => Err(err.note(format!(
            "several new tests with this title appeared ({}), from parallel runs or this \
                 one: the import was not sent again; check the engagement",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// After a lost reimport answer: continue if DefectDojo recorded one more
/// import of the test than before.
fn check_reimported(
    dojo: &Dojo,
    test: u64,
    before: Option<u64>,
    err: Error,
) -> Result<ImportAnswer, Error> {
    let now = match before {
        Some(_) if !deadline::expired() => cleanup::import_count(dojo, test),
        _ => None,
    };
    match (before, now) {
        (Some(b), Some(n)) if n > b => {
            log::warn!(
                "{err}; but DefectDojo did reimport it: test {test} has a new import record, \
                 continuing with it (the reimport's statistics are unknown)"
            );
            Ok(ImportAnswer {
                test: Some(test),
                test_id: Some(test),
                engagement_id: None,
                product_id: None,
                product_type_id: None,
                statistics: None,
                deduplication_complete: None,
            })
        }
        _ => Err(err.note(format!(
            "DefectDojo shows no new import of test {test}, but it may still be working on \
                 it; the reimport was not sent again: check the test, and run again if needed"
        ))),
    }
}
