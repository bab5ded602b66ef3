//! DefectDojo's verdicts as a secureCodeBox findings.json, written to the
//! fourth argument or `DEFECTDOJO_FINDINGS_OUTPUT` (presigned URL, file or
//! stdout) only once the whole result exists and was checked: a failed read
//! back never overwrites the stored findings.

use std::cell::RefCell;

use super::{Output, Run};
use crate::body::Opened;
use crate::body::{self, Mode};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::readback;
use crate::storage;

pub(super) struct Findings;

impl Output for Findings {
    fn wanted(&self, inputs: &Inputs) -> bool {
        inputs.output.is_some()
    }

    fn write(&self, run: &mut Run<'_>) -> Result<(), Error> {
        let (inputs, test_id) = (run.inputs, run.imported.test_id);
        let Some(output) = &inputs.output else {
            return Ok(());
        };
        let what = format!("DefectDojo's findings of test {test_id}");
        let counts = RefCell::new(None);
        let mut prepared = body::prepare(&what, &inputs.spool, Mode::Output, || {
            readback::start(run.dojo, inputs, test_id, &counts).map(Opened::stream)
        })?;
        storage::store(
            &inputs.agent,
            output,
            &mut prepared,
            "writing DefectDojo's findings",
        )?;
        drop(prepared);
        let counts = counts
            .into_inner()
            .ok_or_else(|| Error::protocol(&what, "the read-back ended before its last page"))?;
        log::info!(
            "wrote {} findings ({} duplicates) to {}",
            counts.total,
            counts.duplicates,
            output.display()
        );
        run.summary.synced = Some(counts.total);
        run.summary.duplicates = counts.duplicates;
        run.read_back = Some(counts);
        Ok(())
    }
}
