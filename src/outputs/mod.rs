//! Stage 7, the outputs: every writer of the run's result plugs in here.
//!
//! Each output is one file with one `Output`: the read-back (`findings`:
//! the findings.json of DefectDojo's verdicts to a presigned URL, file or
//! stdout, and from the same one read the SARIF and JUnit reports of
//! `reports`), the Scan's status in Kubernetes (`scan_status`), the build
//! gate (`verdict`) and the Markdown summary (`step_summary`); the JSON
//! summary line (`summary`) is the [`Outcome`] every run ends with, and
//! `new_findings` counts this run's new findings for the gate and the
//! Markdown summary. They are written only after
//! a successful import, and an output that fails fails the run (except the
//! Markdown summary, a convenience). A new output is one new file and one
//! line in `OUTPUTS`; a new report made from every finding is a writer fed
//! by `reports`.

mod findings;
mod new_findings;
mod reports;
mod scan_status;
mod step_summary;
mod summary;
mod verdict;

use crate::convert::sync::ReadBackCounts;
use crate::destination::Destination;
use crate::dojo::Dojo;
use crate::dojo::import_history::LastImport;
use crate::dojo::model::ImportAnswer;
use crate::dojo::test_findings;
use crate::error::Error;
use crate::import::Imported;
use crate::inputs::Inputs;
use crate::storage::Place;
use new_findings::{NewCounter, NewFindings};
use summary::{BySeverity, Delta, Summary};

/// How a run ended: the summary line and the exit code.
#[derive(Debug)]
pub struct Outcome {
    /// The JSON summary line.
    pub line: String,
    /// 0, or 2 for a dry run that found problems (3 for a failed gate).
    pub code: u8,
    /// True when an output was written to stdout: the line goes to stderr.
    pub stdout_taken: bool,
}

/// One writer of the run's result.
trait Output {
    /// Whether this run writes it (from the configuration alone).
    fn wanted(&self, inputs: &Inputs) -> bool;
    /// Writes it; `run` carries what the outputs before it found.
    fn write(&self, run: &mut Run<'_>) -> Result<(), Error>;
}

/// Every output, in the order they are written: the findings first (the
/// Scan's status reports their counts), the gate before the Markdown
/// summary (which shows its verdict).
const OUTPUTS: [&dyn Output; 4] = [
    &findings::FindingsOutput,
    &scan_status::ScanStatus,
    &verdict::Verdict,
    &step_summary::StepSummary,
];

/// What the outputs share: the run's parts, the summary they fill in, and
/// what was read back (read once, whoever needs it first).
struct Run<'r> {
    dojo: &'r Dojo<'r>,
    inputs: &'r Inputs,
    imported: &'r Imported,
    summary: Summary,
    read_back: Option<ReadBackCounts>,
    new: Option<NewFindings>,
    /// What a reimport did, read once for whoever needs it first.
    history: Option<LastImport>,
    code: u8,
}

impl Run<'_> {
    /// Reads the reimport's history (once); an import has none to read.
    fn load_history(&mut self) -> Result<(), Error> {
        if self.imported.reimport && self.history.is_none() {
            self.history = Some(LastImport::read(self.dojo, self.imported.test_id)?);
        }
        Ok(())
    }

    /// This run's new findings, read from DefectDojo on first use; with the
    /// gate's threshold, so its failing findings are counted on the way.
    fn new_findings(&mut self) -> Result<&NewFindings, Error> {
        if self.new.is_none() {
            self.load_history()?;
            let cfg = &self.inputs.cfg;
            let mut counter = NewCounter::new(
                &cfg.dojo_url,
                self.history.as_ref(),
                cfg.fail_on_reactivated,
                cfg.fail_on.as_deref().map(new_findings::rank),
            );
            test_findings::each(self.dojo, self.imported.test_id, |f| counter.open(f))?;
            let new = counter.finish();
            self.keep_new(new);
        }
        Ok(self.new.as_ref().expect("just read"))
    }

    /// Whether the gate or the Markdown summary will ask for the new findings.
    fn wants_new(&self) -> bool {
        self.inputs.cfg.fail_on.is_some() || self.inputs.cfg.summary_file.is_some()
    }

    fn keep_new(&mut self, new: NewFindings) {
        self.summary.new = Some(BySeverity::from_ranked(new.by_severity));
        self.new = Some(new);
    }
}

/// Writes every wanted output and returns the run's outcome.
pub fn write(
    dojo: &Dojo,
    inputs: &Inputs,
    dest: &Destination,
    imported: &Imported,
) -> Result<Outcome, Error> {
    let mut run = Run {
        dojo,
        inputs,
        imported,
        summary: summary(inputs, dest, imported),
        read_back: None,
        new: None,
        history: None,
        code: 0,
    };
    for output in OUTPUTS {
        if output.wanted(inputs) {
            output.write(&mut run)?;
        }
    }
    run.summary.dojo_requests = dojo.request_counts().0;
    Ok(Outcome {
        line: run.summary.to_line(),
        code: run.code,
        stdout_taken: stdout_taken(inputs),
    })
}

/// Whether an output goes to stdout (then the summary line goes to stderr).
pub fn stdout_taken(inputs: &Inputs) -> bool {
    [&inputs.output, &inputs.sarif, &inputs.junit]
        .into_iter()
        .any(|l| matches!(l, Some(Place::Stdout)))
}

/// The summary as the import's answer tells it; outputs add to it.
fn summary(inputs: &Inputs, dest: &Destination, imported: &Imported) -> Summary {
    let cfg = &inputs.cfg;
    let (answer, ctx, test_id) = (&imported.answer, &dest.ctx, imported.test_id);
    Summary {
        mode: if cfg.sync_back() {
            "import+sync"
        } else {
            "import"
        },
        import_mode: if imported.reimport {
            "reimport"
        } else {
            "import"
        },
        ci: cfg.ci.as_ref().map(|c| c.provider),
        scheduled_scan: cfg.schedule.clone(),
        delta: Delta::from_answer(answer),
        duplicates_by_severity: BySeverity::duplicates_from_answer(answer),
        new: None,
        gate: None,
        scan_type: imported.scan_type.clone(),
        test_id,
        test_url: format!("{}/test/{test_id}", cfg.dojo_url),
        engagement_id: answer.engagement_id.unwrap_or(ctx.engagement_id),
        engagement_created: ctx.engagement_created,
        product_id: answer.product_id.unwrap_or(ctx.product_id),
        product_type_id: answer.product_type_id.unwrap_or(ctx.product_type_id),
        findings: BySeverity::from_answer(answer),
        duplicates: duplicates(answer),
        synced: None,
        body: imported.body.clone(),
        fallback: imported.fallback,
        removed_tests: imported.removed.clone(),
        sarif: None,
        junit: None,
        dojo_requests: 0,
    }
}

fn duplicates(answer: &ImportAnswer) -> u64 {
    answer
        .statistics
        .as_ref()
        .and_then(|s| s.after.as_ref())
        .and_then(|a| a.get("total"))
        .map(|c| c.duplicate)
        .unwrap_or(0)
}
