//! The seam between the report writers (SARIF, JUnit) and where they keep
//! their parts: the writers are pure and write to a [`Scratch`]; the run
//! gives them temp files or memory (`body::scratch_space`), tests a `Vec<u8>`.

use std::io::{self, Read, Write};

/// Scratch space a report writer keeps its parts in until the whole report
/// exists (a private temp file, or memory when there is no temp dir).
pub trait Scratch: Write {
    /// Everything written so far, from the start; may be called again.
    fn reread(&mut self) -> io::Result<Box<dyn Read + '_>>;
    /// Bytes written so far.
    fn len(&self) -> u64;
}

impl Scratch for Vec<u8> {
    fn reread(&mut self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self[..]))
    }
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
}
