//! Stage 4, the import: one streamed `import-scan` (or `reimport-scan`) of
//! the upload into the destination, never sent again blindly
//! ([`crate::dojo::landing`]). When it fails, `recovery` removes what this
//! run's import left behind and, when DefectDojo's native parser crashed,
//! imports findings.json as Generic Findings Import instead.

mod describe;
mod recovery;
mod settle;

use crate::body::Prepared;
use crate::config::ImportMode;
use crate::destination::Destination;
use crate::dojo::cleanup::Removed;
use crate::dojo::import_call::ImportForm;
use crate::dojo::model::ImportAnswer;
use crate::dojo::own::{self, OwnTitle};
use crate::dojo::{Dojo, landing};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::signals;
use crate::upload::{Remake, Upload};

/// What the import did.
pub struct Imported {
    /// DefectDojo's answer (statistics unknown when a lost answer was
    /// recovered by the landing check).
    pub answer: ImportAnswer,
    /// The test imported into.
    pub test_id: u64,
    /// The scan type it was imported as.
    pub scan_type: String,
    /// True for a reimport into an existing test.
    pub reimport: bool,
    /// `Some("generic")` when findings.json was imported instead.
    pub fallback: Option<&'static str>,
    /// Tests a failed import left behind, removed before the fallback.
    pub removed: Vec<Removed>,
    /// How the body got its length (`streamed`, `spooled`, …).
    pub body: String,
}

/// Imports `upload` into `dest`, recovering from a failed import as the
/// module docs say.
pub fn run<'a>(
    dojo: &Dojo,
    inputs: &'a Inputs,
    dest: &Destination,
    upload: Upload<'a>,
) -> Result<Imported, Error> {
    let cfg = &inputs.cfg;
    let own = OwnTitle::new(&cfg.target.test_title);
    let mut form = form(inputs, dest, upload.file_name, &own);
    let reimport = dest.reimport.is_some();
    match dest.reimport {
        Some((test, _)) => signals::reimporting(dojo, test),
        None => signals::importing(dojo, dest.ctx.engagement_id, &own.temporary),
    }
    let (mut sent, fallback) = send(dojo, inputs, dest, &mut form, (upload.body, upload.remake))?;
    let test_id = sent.answer.test_id().ok_or_else(|| {
        Error::protocol("the import's answer", "has no test id (`test` / `test_id`)")
    })?;
    let mut imported = Imported {
        answer: sent.answer,
        test_id,
        scan_type: form.scan_type.clone(),
        reimport,
        fallback,
        removed: sent.removed,
        body: String::new(),
    };
    if !reimport {
        signals::own_test(test_id);
        let report = (&mut sent.body, sent.remake);
        settle_new_test(dojo, inputs, &form, &own, &mut imported, report)?;
    }
    signals::own_test(imported.test_id);
    signals::finished();
    log::info!(
        "{} test {}: {}/test/{}",
        if imported.reimport {
            "reimported into"
        } else {
            "imported as"
        },
        imported.test_id,
        crate::http::redact::url(&cfg.dojo_url),
        imported.test_id
    );
    imported.body = sent.body.mode().to_string();
    Ok(imported)
}

/// What was imported, with the body it was sent from and how to make that
/// again.
struct Sent<'a> {
    answer: ImportAnswer,
    body: Prepared<'a>,
    /// Tests a failed import left behind, removed before the fallback.
    removed: Vec<Removed>,
    remake: Remake<'a>,
}

/// Sends the import; when it fails, `recovery` removes what it left and
/// may import findings.json instead (then the second value is
/// `Some("generic")`).
fn send<'a>(
    dojo: &Dojo,
    inputs: &'a Inputs,
    dest: &Destination,
    form: &mut ImportForm,
    (mut report, remake): (Prepared<'a>, Remake<'a>),
) -> Result<(Sent<'a>, Option<&'static str>), Error> {
    let sent = {
        let mut again = || remake.body();
        landing::import(
            dojo,
            form,
            (&mut report, &mut again),
            &inputs.cfg.timeouts,
            dest.reimport.and_then(|(_, before)| before.imports),
        )
    };
    match sent {
        Ok(answer) => {
            let removed = Vec::new();
            let sent = Sent {
                answer,
                body: report,
                removed,
                remake,
            };
            Ok((sent, None))
        }
        Err(err) => {
            // The fallback makes a body of its own.
            drop(report);
            let sent = recovery::after_failure(dojo, inputs, dest, remake, form, err)?;
            Ok((sent, Some("generic")))
        }
    }
}

/// A new test gets its real title; in reimport mode, parallel runs' new
/// tests of this title first settle on one (see `settle`), and `imported`
/// then names that one.
fn settle_new_test<'a>(
    dojo: &Dojo,
    inputs: &Inputs,
    form: &ImportForm,
    own: &OwnTitle,
    imported: &mut Imported,
    report: (&mut Prepared<'a>, Remake<'a>),
) -> Result<(), Error> {
    let (cfg, test_id) = (&inputs.cfg, imported.test_id);
    let older = match cfg.import.mode {
        ImportMode::Reimport => settle::target(dojo, form, own, test_id, cfg.timeouts.import)
            .unwrap_or_else(|err| {
                log::warn!(
                    "could not look for parallel runs' tests of this title ({err}): keeping \
                     this run's test {test_id}"
                );
                None
            }),
        ImportMode::Import => None,
    };
    let Some(older) = older else {
        return finish_new_test(dojo, inputs, test_id, own);
    };
    match settle::into_older(dojo, form, own, test_id, older, report, &cfg.timeouts) {
        Ok((answer, into)) => {
            imported.answer = answer;
            imported.test_id = into;
            imported.reimport = true;
            Ok(())
        }
        // This run's complete test stays: under its real title at least.
        Err(err) => Err(match finish_new_test(dojo, inputs, test_id, own) {
            Ok(()) => err,
            Err(rename) => err.note(format!("then {rename}")),
        }),
    }
}

/// The import's form from the configuration and the destination: a new
/// test is imported under this run's temporary title.
fn form(inputs: &Inputs, dest: &Destination, file_name: String, own: &OwnTitle) -> ImportForm {
    let cfg = &inputs.cfg;
    let mut extra = cfg.import.fields.clone();
    if cfg.needs_final_verdicts() && cfg.import.field("deduplication_execution_mode").is_none() {
        // Verdicts read back must be final.
        extra.push(("deduplication_execution_mode".into(), "async_wait".into()));
    }
    ImportForm {
        scan_type: cfg.import.plan.dojo_type().to_string(),
        engagement: dest.ctx.engagement_id,
        reimport_test: dest.reimport.map(|(test, _)| test),
        test_title: match dest.reimport {
            Some(_) => own.real.clone(),
            None => own.temporary.clone(),
        },
        version: cfg.target.engagement_version.clone(),
        lead: Some(dest.ctx.user_id),
        minimum_severity: cfg.import.minimum_severity.clone(),
        scan_date: cfg.import.scan_date.clone(),
        file_name,
        extra,
    }
}

/// Gives the complete new test its real title and, as the Java hook
/// does, the scan summary as its description, in one PATCH. Reimports find
/// their test by title, so a test left under the temporary title is a
/// failed run that names it.
fn finish_new_test(
    dojo: &Dojo,
    inputs: &Inputs,
    test_id: u64,
    own: &OwnTitle,
) -> Result<(), Error> {
    let cfg = &inputs.cfg;
    let text = describe::test_description(
        &cfg.scan,
        cfg.import.plan.dojo_type(),
        &crate::util::time::now_utc_rfc3339(),
    );
    own::give_real_title(dojo, test_id, own, &text)
}
