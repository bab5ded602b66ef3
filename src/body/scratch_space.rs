//! Scratch space for reports assembled from parts (SARIF, JUnit): a
//! private temp file in the spool dir, else memory within one budget that
//! all of a run's reports share (`DEFECTDOJO_MEMORY_SPOOL_MB`).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::rc::Rc;

use super::Spool;
use super::temp::TempFile;
use crate::convert::scratch::Scratch;

/// Bytes gathered before a write to the temp file.
const BUFFER: usize = 64 * 1024;

/// Where a run's scratches live.
#[derive(Debug, Clone)]
pub(crate) struct ScratchSpace {
    dir: Option<PathBuf>,
    /// Whether `dir` is the spool's (`TMPDIR`), not the fallback.
    in_spool: bool,
    /// Bytes the memory scratches may still take.
    budget: Rc<Cell<u64>>,
    limit: u64,
}

impl ScratchSpace {
    /// The spool's temp dir, else `fallback_dir` (the report's own
    /// directory, which takes new files: it was checked), else memory.
    pub fn new(spool: &Spool, fallback_dir: Option<PathBuf>) -> ScratchSpace {
        ScratchSpace {
            in_spool: spool.dir().is_some(),
            dir: spool.dir().map(PathBuf::from).or(fallback_dir),
            budget: Rc::new(Cell::new(spool.memory_limit())),
            limit: spool.memory_limit(),
        }
    }

    /// Whether the scratches are files in the spool's directory (so a full
    /// device there is `TMPDIR`'s, not the report's).
    pub fn in_spool(&self) -> bool {
        self.in_spool
    }

    /// A new, empty scratch.
    pub fn create(&self) -> io::Result<ScratchBuffer> {
        let kind = match &self.dir {
            Some(dir) => ScratchKind::File {
                temp: TempFile::create(dir)?,
                pending: Vec::with_capacity(BUFFER),
                at_end: true,
            },
            None => ScratchKind::Memory(Vec::new()),
        };
        Ok(ScratchBuffer {
            kind,
            len: 0,
            space: self.clone(),
        })
    }
}

/// One scratch (see the module docs).
pub(crate) struct ScratchBuffer {
    kind: ScratchKind,
    len: u64,
    space: ScratchSpace,
}

enum ScratchKind {
    File {
        temp: TempFile,
        pending: Vec<u8>,
        /// False after a reread moved the file position.
        at_end: bool,
    },
    Memory(Vec<u8>),
}

fn flush_to(file: &File, pending: &mut Vec<u8>, at_end: &mut bool) -> io::Result<()> {
    let mut file = file;
    if !*at_end {
        file.seek(SeekFrom::End(0))?;
        *at_end = true;
    }
    file.write_all(pending)?;
    pending.clear();
    Ok(())
}

impl Write for ScratchBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.kind {
            ScratchKind::File {
                temp,
                pending,
                at_end,
            } => {
                pending.extend_from_slice(buf);
                if pending.len() >= BUFFER {
                    flush_to(&temp.file, pending, at_end)?;
                }
            }
            ScratchKind::Memory(data) => {
                let left = self.space.budget.get();
                if buf.len() as u64 > left {
                    return Err(io::Error::other(format!(
                        "the reports need more than DEFECTDOJO_MEMORY_SPOOL_MB ({} MiB) of \
                         memory without a temp dir: set TMPDIR to a writable directory or \
                         raise DEFECTDOJO_MEMORY_SPOOL_MB",
                        self.space.limit / (1024 * 1024)
                    )));
                }
                self.space.budget.set(left - buf.len() as u64);
                data.extend_from_slice(buf);
            }
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.kind {
            ScratchKind::File {
                temp,
                pending,
                at_end,
            } => flush_to(&temp.file, pending, at_end),
            ScratchKind::Memory(_) => Ok(()),
        }
    }
}

impl Scratch for ScratchBuffer {
    fn reread(&mut self) -> io::Result<Box<dyn Read + '_>> {
        self.flush()?;
        match &mut self.kind {
            ScratchKind::File { temp, at_end, .. } => {
                let mut file = &temp.file;
                file.seek(SeekFrom::Start(0))?;
                *at_end = false;
                Ok(Box::new(BufReader::with_capacity(BUFFER, file)))
            }
            ScratchKind::Memory(data) => Ok(Box::new(&data[..])),
        }
    }

    fn len(&self) -> u64 {
        self.len
    }
}

impl Drop for ScratchBuffer {
    fn drop(&mut self) {
        if let ScratchKind::Memory(data) = &self.kind {
            let budget = &self.space.budget;
            budget.set(budget.get() + data.len() as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(s: &mut ScratchBuffer) -> Vec<u8> {
        let mut out = Vec::new();
        s.reread().unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_file_scratch_rereads_and_takes_more_writes() {
        let dir = crate::body::tests::test_dir("scratch");
        let space = ScratchSpace::new(&Spool::new(None, 0), Some(dir.clone()));
        let mut s = space.create().unwrap();
        let big = vec![b'x'; BUFFER * 2 + 7];
        s.write_all(b"head").unwrap();
        s.write_all(&big).unwrap();
        assert_eq!(read_all(&mut s).len(), big.len() + 4);
        s.write_all(b"tail").unwrap();
        let all = read_all(&mut s);
        assert!(all.starts_with(b"headx") && all.ends_with(b"xtail"));
        assert_eq!(s.len(), all.len() as u64);
        drop(s);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn memory_scratches_share_one_budget() {
        let space = ScratchSpace::new(&Spool::new(None, 10), None);
        let mut a = space.create().unwrap();
        let mut b = space.create().unwrap();
        a.write_all(b"123456").unwrap();
        let err = b.write_all(b"12345").unwrap_err().to_string();
        assert!(err.contains("set TMPDIR"), "{err}");
        drop(a);
        b.write_all(b"12345").unwrap();
        assert_eq!(read_all(&mut b), b"12345");
    }
}
