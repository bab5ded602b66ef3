//! After a failed import: a reimport is reported with what it may have
//! changed and never followed by anything; a new import's own tests are
//! removed whatever they hold ([`cleanup`]), and when DefectDojo's native
//! parser crashed on a report secureCodeBox parsed fine, findings.json is
//! imported as Generic Findings Import instead of losing it.

use crate::destination::Destination;
use crate::dojo::cleanup::{self, Removed};
use crate::dojo::import_call::ImportForm;
use crate::dojo::{Dojo, landing};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::scan::types::{GENERIC, Plan};
use crate::upload::Remake;

use super::Sent;

/// Handles the failed import `err` (see the module docs); `Ok` is the
/// generic fallback that succeeded, with `form` changed to it.
pub(super) fn after_failure<'a>(
    dojo: &Dojo,
    inputs: &'a Inputs,
    dest: &Destination,
    remake: Remake<'a>,
    form: &mut ImportForm,
    err: Error,
) -> Result<Sent<'a>, Error> {
    let cfg = &inputs.cfg;
    let err = explain_parser_crash(inputs, err);
    if let Some((test, before)) = dest.reimport {
        // A reimport cannot be rolled back, and no fallback goes anywhere else.
        return Err(if may_have_left_something(&err) {
            err.note(cleanup::reimport_damage(dojo, test, &before))
        } else {
            err
        });
    }
    let (removed, err) = remove_leftovers(dojo, dest, &form.test_title, err)?;
    if !can_fall_back(inputs, &err) {
        return Err(err);
    }
    log::warn!(
        "{err}; falling back to the Generic Findings Import of {}",
        inputs.findings.display()
    );
    let generic = match remake.generic() {
        Ok(generic) => generic,
        Err(second) => {
            return Err(err.note(format!("the generic fallback failed too: {second}")));
        }
    };
    let mut body = generic.body;
    let generic_remake = generic.remake;
    form.scan_type = GENERIC.to_string();
    form.file_name = generic.file_name;
    let mut again = || generic_remake.body();
    match landing::import(dojo, form, (&mut body, &mut again), &cfg.timeouts, None) {
        Ok(answer) => Ok(Sent {
            answer,
            body,
            removed,
            remake: generic_remake,
        }),
        Err(second) => {
            let (_, second) = remove_leftovers(dojo, dest, &form.test_title, second)?;
            Err(second.note(format!(
                "this was the Generic Findings Import after DefectDojo's native parser failed ({})",
                removed_sentence(&removed)
            )))
        }
    }
}

/// True when a failed native import may be retried as a generic import:
/// DefectDojo's parser crashed (500), findings.json was given, and the
/// fallback was not switched off.
fn can_fall_back(inputs: &Inputs, err: &Error) -> bool {
    let cfg = &inputs.cfg;
    cfg.generic_fallback
        && matches!(cfg.import.plan, Plan::Raw { .. })
        && !cfg.args.findings.trim().is_empty()
        && matches!(err, Error::Http { status: 500, .. })
}

/// True when a failed import may have left a test or findings behind:
/// DefectDojo failed (any 5xx), answered 429 (a proxy's, maybe, after the
/// body arrived) or its answer was lost. Any other 4xx is DefectDojo
/// refusing the request before it imported anything.
fn may_have_left_something(err: &Error) -> bool {
    matches!(
        err,
        Error::Http {
            status: 429 | 500..,
            ..
        } | Error::Transport { .. }
    )
}

/// A parser crash (HTTP 500) is said to be one.
fn explain_parser_crash(inputs: &Inputs, err: Error) -> Error {
    if !matches!(err, Error::Http { status: 500, .. }) {
        return err;
    }
    let parser = inputs.cfg.import.plan.dojo_type();
    err.note(format!(
        "DefectDojo's \"{parser}\" parser failed on this report (malformed, truncated, a \
         variant the parser does not support, or a finding DefectDojo could not save)"
    ))
}

/// Removes the tests a failed import left behind under this run's
/// temporary title, whatever they hold ([`cleanup`]). `Ok` has what was
/// removed and the error saying so; `Err` is the error when a test stays
/// behind, and nothing else may be imported then.
fn remove_leftovers(
    dojo: &Dojo,
    dest: &Destination,
    temporary: &str,
    err: Error,
) -> Result<(Vec<Removed>, Error), Error> {
    if !may_have_left_something(&err) {
        return Ok((Vec::new(), err));
    }
    let engagement = dest.ctx.engagement_id;
    match cleanup::remove_own_tests(dojo, engagement, temporary) {
        Ok(removed) if removed.is_empty() => Ok((removed, err)),
        Ok(removed) => {
            let err = err.note(removed_sentence(&removed));
            Ok((removed, err))
        }
        Err(stuck) => Err(err.note(stuck)),
    }
}

/// `what it left behind was removed: test 12 with 619 finding(s)`.
fn removed_sentence(removed: &[Removed]) -> String {
    let tests: Vec<String> = removed
        .iter()
        .map(|r| format!("test {} with {} finding(s)", r.id, r.findings))
        .collect();
    if tests.is_empty() {
        "it left no test behind".to_string()
    } else {
        format!("what it left behind was removed: {}", tests.join(", "))
    }
}
