//! The CI report formats: SARIF for code scanning and JUnit for test-report
//! widgets. Both are fed by the read-back that writes findings.json (one
//! read of DefectDojo for every output), each finding judged once
//! ([`crate::convert::triage`]); they are assembled in scratch space and
//! written, atomically, only after the whole read-back succeeded.

use std::path::Path;

use super::new_findings;
use crate::body::{Prepared, ScratchBuffer, ScratchSpace};
use crate::convert::junit::JunitWriter;
use crate::convert::sarif::SarifWriter;
use crate::convert::scratch::Scratch as _;
use crate::convert::sync::Seen;
use crate::convert::triage::{History, Rules, RunInfo};
use crate::error::Error;
use crate::import::Imported;
use crate::inputs::Inputs;
use crate::outputs::summary::{JunitLine, SarifLine, Summary};
use crate::readback::Observer;
use crate::storage::{self, Place};

const SARIF: &str = "the SARIF report";
const JUNIT: &str = "the JUnit report";
const SARIF_VAR: &str = "DEFECTDOJO_SARIF_OUTPUT";
const JUNIT_VAR: &str = "DEFECTDOJO_JUNIT_OUTPUT";

/// Where a report's scratch space is, as a no-space hint names it: in
/// `TMPDIR`, else beside the report (so its variable) ([`scratch_space`]).
fn scratch_place(space: &ScratchSpace, var: &'static str) -> &'static str {
    if space.in_spool() { "TMPDIR" } else { var }
}

/// The report writers of one run.
pub(super) struct ReportWriters<'h> {
    rules: Rules<'h>,
    sarif: Option<(SarifWriter<ScratchBuffer>, ScratchSpace)>,
    junit: Option<(JunitWriter<ScratchBuffer>, ScratchSpace)>,
}

/// Whether this run writes a CI report.
pub(super) fn wanted(inputs: &Inputs) -> bool {
    inputs.sarif.is_some() || inputs.junit.is_some()
}

impl<'h> ReportWriters<'h> {
    /// The writers the configuration asks for; `history` is the reimport's.
    pub fn start(
        inputs: &Inputs,
        imported: &Imported,
        history: Option<&'h dyn History>,
    ) -> Result<ReportWriters<'h>, Error> {
        let cfg = &inputs.cfg;
        let info = run_info(inputs, imported);
        let scratch_error = |what: &str, place: &'static str| {
            let what = format!("preparing {what} (scratch space)");
            move |e| Error::output(what, e).at(place)
        };
        let sarif = match &inputs.sarif {
            Some(location) => {
                let space = scratch_space(inputs, location);
                let max = cfg.reports.sarif_max_results;
                let writer = SarifWriter::new(info.clone(), max, || space.create())
                    .map_err(scratch_error(SARIF, scratch_place(&space, SARIF_VAR)))?;
                Some((writer, space))
            }
            None => None,
        };
        let junit = match &inputs.junit {
            Some(location) => {
                let space = scratch_space(inputs, location);
                let scratch = space
                    .create()
                    .map_err(scratch_error(JUNIT, scratch_place(&space, JUNIT_VAR)))?;
                Some((JunitWriter::new(info, scratch), space))
            }
            None => None,
        };
        Ok(ReportWriters {
            rules: Rules {
                history,
                threshold: cfg.fail_on.as_deref().map(new_findings::rank),
                fail_on_reactivated: cfg.fail_on_reactivated,
            },
            sarif,
            junit,
        })
    }

    /// Writes every report to its place, once the read-back is complete.
    pub fn finish(self, inputs: &Inputs, summary: &mut Summary) -> Result<(), Error> {
        if let (Some((writer, space)), Some(location)) = (self.sarif, &inputs.sarif) {
            let scratch = scratch_place(&space, SARIF_VAR);
            let mut doc = space
                .create()
                .map_err(|e| Error::output(SARIF, e).at(scratch))?;
            let stats = writer
                .finish(&mut doc)
                .map_err(|e| Error::output(format!("writing {SARIF}"), e).at(scratch))?;
            store(inputs, location, doc, SARIF).map_err(|e| e.at(SARIF_VAR))?;
            if stats.omitted > 0 {
                log::warn!(
                    "{SARIF} holds {} of {} findings (DEFECTDOJO_SARIF_MAX_RESULTS, GitHub's \
                     limit per run): the most severe open ones are kept first",
                    stats.results,
                    stats.results + stats.omitted
                );
            }
            summary.sarif = Some(SarifLine {
                results: stats.results,
                omitted: stats.omitted,
                suppressed: stats.suppressed,
                rules: stats.rules,
            });
        }
        if let (Some((writer, space)), Some(location)) = (self.junit, &inputs.junit) {
            let scratch = scratch_place(&space, JUNIT_VAR);
            let mut doc = space
                .create()
                .map_err(|e| Error::output(JUNIT, e).at(scratch))?;
            let stats = writer
                .finish(&mut doc)
                .map_err(|e| Error::output(format!("writing {JUNIT}"), e).at(scratch))?;
            store(inputs, location, doc, JUNIT).map_err(|e| e.at(JUNIT_VAR))?;
            summary.junit = Some(JunitLine {
                tests: stats.tests,
                failures: stats.failures,
                skipped: stats.skipped,
            });
        }
        Ok(())
    }
}

impl Observer for ReportWriters<'_> {
    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error> {
        let judged = self.rules.judge(finding.clone());
        if let Some((sarif, space)) = &mut self.sarif {
            let place = scratch_place(space, SARIF_VAR);
            sarif
                .add(&judged)
                .map_err(|e| Error::output(format!("writing {SARIF}"), e).at(place))?;
        }
        if let Some((junit, space)) = &mut self.junit {
            let place = scratch_place(space, JUNIT_VAR);
            junit
                .add(&judged)
                .map_err(|e| Error::output(format!("writing {JUNIT}"), e).at(place))?;
        }
        Ok(())
    }
}

/// Writes a finished report: a file atomically (temp file and rename), a
/// URL with its exact length, or stdout.
fn store(
    inputs: &Inputs,
    location: &Place,
    mut doc: ScratchBuffer,
    what: &str,
) -> Result<(), Error> {
    let len = doc.len();
    let reader = doc
        .reread()
        .map_err(|e| Error::output(format!("reading back {what}"), e))?;
    let mut body = Prepared::streamed(what, reader, len);
    storage::store(
        &inputs.agent,
        location,
        &mut body,
        &format!("writing {what}"),
    )?;
    log::info!("wrote {what} ({len} bytes) to {}", location.display());
    Ok(())
}

/// Where a report's parts wait: the temp dir, else the directory the
/// report is written to (a hook Job may have no temp dir but a volume for
/// its reports), else memory.
fn scratch_space(inputs: &Inputs, location: &Place) -> ScratchSpace {
    let dir = match location {
        Place::Path(path) => {
            let target = storage::follow_links(path).unwrap_or_else(|_| path.clone());
            Some(match target.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => std::path::PathBuf::from("."),
            })
        }
        _ => None,
    };
    ScratchSpace::new(&inputs.spool, dir)
}

/// What the reports say about the run.
fn run_info(inputs: &Inputs, imported: &Imported) -> RunInfo {
    let cfg = &inputs.cfg;
    let source_root = cfg.reports.source_root.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .map(|d| d.to_string_lossy().into_owned())
    });
    RunInfo {
        dojo_url: cfg.dojo_url.clone(),
        scan_type: imported.scan_type.clone(),
        test_id: imported.test_id,
        test_title: cfg.target.test_title.clone(),
        reimport: imported.reimport,
        source_root: source_root.filter(|r| Path::new(r).is_absolute()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}
