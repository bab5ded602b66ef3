//! The read-back output: DefectDojo's verdicts as a secureCodeBox
//! findings.json, written to the fourth argument or
//! `DEFECTDOJO_FINDINGS_OUTPUT` (presigned URL, file or stdout), and the CI
//! reports ([`super::reports`]) and the count of new findings (for the
//! gate and the Markdown summary) from the same one read. Each is written
//! only once the whole result exists and was checked: a failed read-back
//! never overwrites the stored findings nor leaves a partial report.

use super::new_findings::{self, NewCounter};
use super::reports::{self, ReportWriters};
use super::{Output, Run};
use crate::body::Opened;
use crate::body::{self, Mode};
use crate::convert::sync::{ReadBackCounts, Seen};
use crate::convert::triage::History;
use crate::error::Error;
use crate::inputs::Inputs;
use crate::readback::{self, Observer};
use crate::storage;

pub(super) struct FindingsOutput;

impl Output for FindingsOutput {
    fn wanted(&self, inputs: &Inputs) -> bool {
        inputs.output.is_some() || reports::wanted(inputs)
    }

    fn write(&self, run: &mut Run<'_>) -> Result<(), Error> {
        let (inputs, dojo, test_id) = (run.inputs, run.dojo, run.imported.test_id);
        let test = (test_id, run.imported.reimport);
        let what = format!("DefectDojo's findings of test {test_id}");
        let (with_reports, with_new) = (reports::wanted(inputs), run.wants_new());
        if with_reports || with_new {
            run.load_history()?;
        }
        // Read once (`Run::load_history`), lent to the watchers.
        let history = run.history.as_ref();
        let mut watchers = Watchers {
            reports: match with_reports {
                true => Some(ReportWriters::start(
                    inputs,
                    run.imported,
                    history.map(|h| h as &dyn History),
                )?),
                false => None,
            },
            new: with_new.then(|| {
                let cfg = &inputs.cfg;
                let threshold = cfg.fail_on.as_deref().map(new_findings::rank);
                NewCounter::new(&cfg.dojo_url, history, cfg.fail_on_reactivated, threshold)
            }),
            counts: None,
        };
        match &inputs.output {
            Some(output) => {
                let mut first = Some(&mut watchers as &mut dyn Observer);
                let mut prepared = body::prepare(&what, &inputs.spool, Mode::Output, || {
                    readback::start(dojo, inputs, test, first.take()).map(Opened::stream)
                })?;
                storage::store(
                    &inputs.agent,
                    output,
                    &mut prepared,
                    "writing DefectDojo's findings",
                )?;
            }
            None => {
                let mut stream = readback::start(dojo, inputs, test, Some(&mut watchers))?;
                std::io::copy(&mut stream, &mut std::io::sink())
                    .map_err(|e| Error::from_io(format!("reading {what}"), e))?;
            }
        }
        let Watchers {
            reports,
            new,
            counts,
        } = watchers;
        let counts = counts
            .ok_or_else(|| Error::protocol(&what, "the read-back ended before its last page"))?;
        if let Some(output) = &inputs.output {
            log::info!(
                "wrote {} findings ({} duplicates) to {}",
                counts.total,
                counts.duplicates,
                output.display()
            );
            run.summary.synced = Some(counts.total);
        }
        run.summary.duplicates = counts.duplicates;
        run.read_back = Some(counts);
        let new = new.map(NewCounter::finish);
        if let Some(reports) = reports {
            reports.finish(inputs, &mut run.summary)?;
        }
        if let Some(new) = new {
            run.keep_new(new);
        }
        Ok(())
    }
}

/// Whoever takes part in the one read: the CI reports, and the count of
/// new findings the gate and the Markdown summary are made from; and the
/// read's counts, once it is finished.
struct Watchers<'h> {
    reports: Option<ReportWriters<'h>>,
    new: Option<NewCounter<'h>>,
    counts: Option<ReadBackCounts>,
}

impl Observer for Watchers<'_> {
    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error> {
        if let Some(new) = &mut self.new {
            new.seen(finding);
        }
        match &mut self.reports {
            Some(reports) => reports.seen(finding),
            None => Ok(()),
        }
    }

    fn finished(&mut self, counts: ReadBackCounts) {
        self.counts = Some(counts);
    }
}
