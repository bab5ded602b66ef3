//! The Scan's `status.findings` in Kubernetes, after a sync back in a hook
//! Job: the counts of what was written back. A failed patch fails the run
//! (exit 1) after the import and the upload succeeded; the error says so.

use super::{Output, Run};
use crate::error::Error;
use crate::inputs::Inputs;

pub(super) struct ScanStatus;

impl Output for ScanStatus {
    fn wanted(&self, inputs: &Inputs) -> bool {
        inputs.cluster.is_some() && inputs.output.is_some()
    }

    fn write(&self, run: &mut Run<'_>) -> Result<(), Error> {
        match (&run.inputs.cluster, &run.read_back) {
            (Some(cluster), Some(counts)) => cluster.update_findings(counts),
            _ => Ok(()),
        }
    }
}
