//! `DEFECTDOJO_DRY_RUN=true`: everything a real run would check, with GET
//! requests only.
//!
//! The report is checked locally (present, an extension DefectDojo accepts,
//! under `DEFECTDOJO_MAX_UPLOAD_MB`, valid Generic Findings JSON with only
//! allowed keys), the scan type against the server's own list (the
//! `scan_type` enum of its OpenAPI schema), and the context is resolved as a
//! real run would resolve it, saying what would be created instead of
//! creating it. The outcome is a plan and the problems a real run would hit.

use serde::Serialize;

use crate::config::Config;
use crate::config::ImportMode;
use crate::dojo::Dojo;
use crate::dojo::context;
use crate::error::Error;
use crate::inputs::Inputs;
use crate::outputs::Outcome;
use crate::scan::types::{GENERIC, Plan};
use crate::{destination, upload};

/// What a dry run found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Always true: tells the summary apart from a real run's.
    pub dry_run: bool,
    /// True when a real run would get past every check.
    pub would_succeed: bool,
    /// The DefectDojo scan type.
    pub scan_type: String,
    /// The file name the report would be uploaded as.
    pub file_name: String,
    /// Its size in bytes, when it could be produced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// What a real run would do, in order.
    pub plan: Vec<String>,
    /// Why a real run would fail.
    pub problems: Vec<String>,
}

/// Checks everything a real run would, with GET requests only, and says
/// what it would do: the same upload and destination stages, read-only.
pub fn run(inputs: &Inputs) -> Outcome {
    let plan = &inputs.cfg.import.plan;
    let mut report = Report {
        dry_run: true,
        scan_type: plan.dojo_type().to_string(),
        file_name: upload::file_name(plan, &inputs.raw),
        ..Report::default()
    };
    check_upload(inputs, &mut report);
    let dojo = inputs.dojo();
    match crate::dojo::scan_types::check_scan_type(&dojo, plan.dojo_type()) {
        Ok(problem) => report.problems.extend(problem),
        Err(err) => report.problems.push(err.to_string()),
    }
    plan_destination(&dojo, inputs, &mut report);
    let outputs = [
        ("DefectDojo's verdicts", &inputs.output),
        ("the SARIF report", &inputs.sarif),
        ("the JUnit report", &inputs.junit),
    ];
    for (what, out) in outputs {
        if let Some(out) = out {
            report
                .plan
                .push(format!("would write {what} to {}", out.display()));
        }
    }
    for line in &report.plan {
        log::info!("dry run: {line}");
    }
    for problem in &report.problems {
        log::error!("dry run: a real run would fail: {problem}");
    }
    report.would_succeed = report.problems.is_empty();
    Outcome {
        line: serde_json::to_string(&report).unwrap_or_default(),
        code: if report.would_succeed {
            0
        } else {
            crate::error::EXIT_LOCAL
        },
        // As in a real run, so that a pipeline reads the same streams.
        stdout_taken: crate::outputs::stdout_taken(inputs),
    }
}

/// The local checks: the file name, the body, DefectDojo's generic JSON.
fn check_upload(inputs: &Inputs, report: &mut Report) {
    if let Err(problem) = upload::check_file_name(&report.file_name) {
        report.problems.push(problem);
    }
    match upload::report(inputs) {
        Ok(mut upload) => {
            report.bytes = Some(upload.body.len());
            if is_raw_generic(&inputs.cfg.import.plan) {
                let checked = upload
                    .body
                    .reader()
                    .map_err(|e| e.to_string())
                    .and_then(crate::convert::check::generic_json);
                if let Err(why) = checked {
                    report.problems.push(format!(
                        "the report is not valid Generic Findings Import JSON: {why}"
                    ));
                }
            }
        }
        Err(err) => report.problems.push(err.to_string()),
    }
}

/// The destination as a real run would resolve it, and the test it would
/// import into.
fn plan_destination(dojo: &Dojo, inputs: &Inputs, report: &mut Report) {
    let cfg = &inputs.cfg;
    let ctx = match plan_context(dojo, cfg, report) {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return,
        Err(err) => return report.problems.push(err.to_string()),
    };
    let title = &cfg.target.test_title;
    let reimport = match cfg.import.mode {
        ImportMode::Reimport => match ctx.engagement {
            context::PlanSlot::Exists(engagement) => {
                destination::latest_test(dojo, engagement, cfg)
            }
            // A new engagement has no test yet.
            context::PlanSlot::WouldCreate => Ok(None),
        },
        _ => Ok(None),
    };
    match reimport {
        Ok(Some(test)) => report.plan.push(format!(
            "would reimport {} as \"{}\" into test {test}",
            report.file_name, report.scan_type
        )),
        Ok(None) => report.plan.push(format!(
            "would import {} as \"{}\" into a new test \"{title}\" of engagement \"{}\"",
            report.file_name, report.scan_type, cfg.target.engagement_name
        )),
        Err(err) => report.problems.push(err.to_string()),
    }
}

/// Resolves the context as a real run would, creating nothing.
fn plan_context(
    dojo: &Dojo,
    cfg: &Config,
    report: &mut Report,
) -> Result<Option<context::Planned>, Error> {
    match context::plan(dojo, cfg) {
        Ok(planned) => {
            report.plan.extend(planned.creations(cfg));
            Ok(Some(planned))
        }
        Err(err @ (Error::Transport { .. } | Error::Config(_))) => Err(err),
        Err(err) => {
            report.problems.push(err.to_string());
            Ok(None)
        }
    }
}

/// True when the report is uploaded as DefectDojo's own generic JSON.
fn is_raw_generic(plan: &Plan) -> bool {
    matches!(plan, Plan::Raw { dojo_type } if dojo_type == GENERIC)
}
