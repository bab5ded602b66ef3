//! The Markdown summary a person reads ([`crate::step_summary`]), appended
//! to `$GITHUB_STEP_SUMMARY` or written to `DEFECTDOJO_SUMMARY_FILE`. A
//! failure to write it is a warning: the import stands.

use std::io::Write;
use std::path::Path;

use super::{Output, Run};
use crate::error::Error;
use crate::inputs::Inputs;

pub(super) struct Markdown;

impl Output for Markdown {
    fn wanted(&self, inputs: &Inputs) -> bool {
        inputs.cfg.summary_file.is_some()
    }

    fn write(&self, run: &mut Run<'_>) -> Result<(), Error> {
        let Some((path, append)) = run.inputs.cfg.summary_file.clone() else {
            return Ok(());
        };
        run.new_findings()?;
        let new = run.new.as_ref().expect("read above");
        let markdown = crate::step_summary::render(&run.summary, &run.inputs.cfg.dojo_url, new);
        write_file(&path, append, &markdown);
        Ok(())
    }
}

/// Opened in place (never renamed over), so a link's target or a device
/// gets it; a named pipe is waited for as an output is.
fn write_file(path: &str, append: bool, markdown: &str) {
    let mut options = std::fs::OpenOptions::new();
    options
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append);
    let written = crate::storage::open_waiting(Path::new(path), &options, "reading")
        .and_then(|mut f| f.write_all(markdown.as_bytes()));
    match written {
        Ok(()) => log::info!("wrote the Markdown summary to {path}"),
        Err(e) => log::warn!("could not write the Markdown summary to {path}: {e}"),
    }
}
