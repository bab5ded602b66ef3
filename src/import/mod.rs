//! Stage 4, the import: one streamed `import-scan` (or `reimport-scan`) of
//! the upload into the destination, never sent again blindly
//! ([`crate::dojo::landing`]). When it fails, `recovery` removes what this
//! run's import left behind and, when DefectDojo's native parser crashed,
//! imports findings.json as Generic Findings Import instead.

mod recovery;

use crate::destination::Destination;
use crate::dojo::cleanup::{self, Removed};
use crate::dojo::import::ImportForm;
use crate::dojo::model::ImportAnswer;
use crate::dojo::{Dojo, Method, landing};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::upload::Upload;

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
    let Upload {
        body: mut report,
        file_name,
        remake,
    } = upload;
    let mut form = form(inputs, dest, file_name);
    let title = cfg.target.test_title.as_str();
    let own_tests = |scan_type: &str| {
        cleanup::own_tests(dojo, dest.ctx.engagement_id, title, scan_type, &dest.before)
    };
    let native_type = form.scan_type.clone();
    let new_tests = || own_tests(&native_type);
    let mut again = || remake.body();
    let sent = landing::import(
        dojo,
        &form,
        (&mut report, &mut again),
        cfg.timeouts.import,
        (
            &new_tests,
            dest.reimport.and_then(|(_, before)| before.imports),
        ),
    );
    let (answer, fallback, removed) = match sent {
        Ok(answer) => (answer, None, Vec::new()),
        Err(err) => {
            drop(report);
            let fallen = recovery::after_failure(dojo, inputs, dest, remake, &mut form, err)?;
            report = fallen.body;
            (fallen.answer, Some("generic"), fallen.removed)
        }
    };
    let test_id = answer.test_id().ok_or_else(|| {
        Error::protocol("the import's answer", "has no test id (`test` / `test_id`)")
    })?;
    let reimport = dest.reimport.is_some();
    log::info!(
        "{} test {test_id}: {}/test/{test_id}",
        if reimport {
            "reimported into"
        } else {
            "imported as"
        },
        cfg.dojo_url
    );
    if !reimport {
        describe_test(dojo, inputs, test_id);
    }
    Ok(Imported {
        answer,
        test_id,
        scan_type: form.scan_type,
        reimport,
        fallback,
        removed,
        body: report.mode().to_string(),
    })
}

/// The import's form from the configuration and the destination.
fn form(inputs: &Inputs, dest: &Destination, file_name: String) -> ImportForm {
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
        test_title: cfg.target.test_title.clone(),
        version: cfg.target.engagement_version.clone(),
        lead: Some(dest.ctx.user_id),
        minimum_severity: cfg.import.minimum_severity.clone(),
        scan_date: cfg.import.scan_date.clone(),
        deduplication_execution_mode: None,
        file_name,
        extra,
    }
}

/// The Java hook's scan summary as the test's description; a failure here
/// is a warning, not a failed import.
fn describe_test(dojo: &Dojo, inputs: &Inputs, test_id: u64) {
    let cfg = &inputs.cfg;
    let text = crate::describe::test_description(
        &cfg.scan,
        cfg.import.plan.dojo_type(),
        &crate::time::now_utc_rfc3339(),
    );
    let body = serde_json::json!({ "description": text });
    if let Err(err) = dojo.call(
        Method::Patch,
        &format!("/api/v2/tests/{test_id}/"),
        Some(&body),
        "setting the test's description",
    ) {
        log::warn!("the import succeeded, but {err}");
    }
}
