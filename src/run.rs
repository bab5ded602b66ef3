//! One run, as its stages: each takes the previous stage's value and
//! returns the next, and none reaches back to an earlier one. The dry run
//! ([`crate::dryrun`]) goes through the same first stages read-only.

use std::time::Instant;

use crate::cli::Args;
use crate::config::Getter;
use crate::error::Error;
use crate::outputs::Outcome;
use crate::{dedup, destination, dryrun, import, inputs, outputs, signals, upload};

/// One run with the given arguments and variables.
pub fn run(args: Args, get: Getter) -> Result<Outcome, Error> {
    let inputs = inputs::read(args, get)?;
    if inputs.cfg.dry_run {
        return Ok(dryrun::run(&inputs));
    }
    let started = Instant::now();
    // The body exists before anything is created in DefectDojo.
    signals::stage("preparing the upload (nothing was sent to DefectDojo)");
    let upload = upload::prepare(&inputs)?;
    let dojo = inputs.dojo();
    signals::stage("finding or creating the destination in DefectDojo");
    let dest = destination::prepare(&dojo, &inputs)?;
    signals::stage("importing");
    let imported = import::run(&dojo, &inputs, &dest, upload)?;
    signals::stage("waiting for DefectDojo's deduplication");
    dedup::wait(&dojo, &inputs.cfg, &imported)?;
    signals::stage("reading back and writing the outputs");
    let outcome = outputs::write(&dojo, &inputs, &dest, &imported)?;
    log::info!(
        "done in {:.1} s with {} DefectDojo requests",
        started.elapsed().as_secs_f64(),
        dojo.request_counts().0
    );
    Ok(outcome)
}
