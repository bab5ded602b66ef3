//! Reimport mode: parallel runs that found no test settle on one.
//!
//! Runs that start at once with one test title all find no test to
//! reimport into, and each imports a new one under its temporary title.
//! Together these tests form a family: the engagement's tests of that scan
//! type titled either the real title or the real title with a run marker.
//! Each run settles on the family's oldest (lowest id) test, as engagements
//! do. Ids only grow, so the oldest never changes once it exists, and every
//! run agrees on it whatever the timing: its own run keeps it (and renames
//! it), every other run waits until it has the real title (its import is
//! complete), reimports its report there and removes its own test, which
//! nobody else targets. If the oldest disappears (its import failed and
//! was removed), the next oldest takes its place.

use std::time::Duration;

use crate::body::Prepared;
use crate::dojo::cleanup;
use crate::dojo::import_call::ImportForm;
use crate::dojo::model::ImportAnswer;
use crate::dojo::own::{self, OwnTitle};
use crate::dojo::{Dojo, landing};
use crate::error::Error;
use crate::http::Timeouts;
use crate::upload::Remake;

/// The test this run's report goes into instead of its own `own_test`, or
/// `None` to keep its own (see the module docs). Waits at most `timeout`
/// for an older test of the family to be complete; after that this run
/// keeps its own, with a warning.
pub(super) fn target(
    dojo: &Dojo,
    form: &ImportForm,
    own: &OwnTitle,
    own_test: u64,
    timeout: Duration,
) -> Result<Option<u64>, Error> {
    let mut waiting = None;
    let decided = own::poll(timeout, || {
        let family = own::family(dojo, form.engagement, &form.scan_type, own)?;
        let Some(oldest) = family.iter().min_by_key(|t| t.id) else {
            return Ok(Some(None));
        };
        if oldest.id >= own_test {
            return Ok(Some(None));
        }
        if oldest.title.as_deref() == Some(own.real.as_str()) {
            return Ok(Some(Some(oldest.id)));
        }
        if waiting != Some(oldest.id) {
            log::info!(
                "a parallel run is importing test {} \"{}\" into this engagement too: waiting \
                 until it is complete, to reimport this report there",
                oldest.id,
                own.real
            );
            waiting = Some(oldest.id);
        }
        Ok(None)
    })?;
    Ok(decided.unwrap_or_else(|| {
        log::warn!(
            "the parallel run's test {} did not complete within {} s \
             (DEFECTDOJO_IMPORT_TIMEOUT_SECONDS): keeping this run's own test {own_test}",
            waiting.unwrap_or_default(),
            timeout.as_secs()
        );
        None
    }))
}

/// Reimports the report into `older` and removes this run's `own_test`;
/// returns the reimport's answer and the test it went into.
pub(super) fn into_older<'a>(
    dojo: &Dojo,
    form: &ImportForm,
    own: &OwnTitle,
    own_test: u64,
    older: u64,
    (report, remake): (&mut Prepared<'a>, Remake<'a>),
    timeouts: &Timeouts,
) -> Result<(ImportAnswer, u64), Error> {
    log::info!(
        "a parallel run imported test {older} \"{}\" into this engagement at the same time: \
         reimporting this report into it and removing this run's test {own_test}",
        own.real
    );
    let before = cleanup::before_reimport(dojo, older);
    let reform = ImportForm {
        reimport_test: Some(older),
        test_title: own.real.clone(),
        ..form.clone()
    };
    if !report.rereadable() {
        *report = remake.body()?;
    }
    let mut again = || remake.body();
    let answer = landing::import(
        dojo,
        &reform,
        (report, &mut again),
        timeouts,
        before.imports,
    )
    .map_err(|err| {
        err.note(format!(
            "this run's own test {own_test} ({}/test/{own_test}) holds the complete import and \
             stays next to test {older}",
            crate::http::redact::url(dojo.base())
        ))
    })?;
    match cleanup::delete_test(dojo, own_test) {
        Ok(()) => log::info!("removed this run's test {own_test}: its report is in test {older}"),
        Err(err) => log::warn!(
            "this run's test {own_test} ({}/test/{own_test}) stays next to test {older}, which \
             now holds its report too: {err}; delete it in DefectDojo",
            crate::http::redact::url(dojo.base())
        ),
    }
    Ok((answer, older))
}
