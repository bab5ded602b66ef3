//! Reading the buckets back in `finish`: the kept entries in priority
//! order, once per pass, one entry in memory at a time.

use std::io::{self, BufRead, BufReader};

use super::entry::split;
use crate::convert::scratch::Scratch;

/// A bucket's scratch and how many of its entries, from the start, are
/// kept in the report.
pub(super) struct Kept<S> {
    pub(super) scratch: S,
    pub(super) take: u64,
}

/// Calls `each(rule_line, result_line)` for every kept entry, in order
/// (lines without their newline). The two line buffers are reused.
pub(super) fn for_each<S: Scratch>(
    kept: &mut [Kept<S>],
    mut each: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let (mut rule, mut result) = (Vec::new(), Vec::new());
    for k in kept.iter_mut().filter(|k| k.take > 0) {
        let mut r = BufReader::with_capacity(64 * 1024, k.scratch.reread()?);
        for _ in 0..k.take {
            read_line(&mut r, &mut rule)?;
            read_line(&mut r, &mut result)?;
            each(&rule, &result)?;
        }
    }
    Ok(())
}

fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    r.read_until(b'\n', buf)?;
    if buf.pop() != Some(b'\n') {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "sarif: scratch ended inside an entry",
        ));
    }
    Ok(())
}

/// The distinct rules among the kept entries, to write each one once.
///
/// A sorted list of keys and a bitset (8 bytes and a bit per kept entry)
/// rather than a growing hash set: with no cap on results a hash set of a
/// million keys would hold about 18 MiB, past the program's whole budget.
pub(super) struct RuleIndex {
    keys: Vec<u64>,
    written: Vec<u64>,
    /// Kept entries that are suppressed.
    pub(super) suppressed: u64,
}

impl RuleIndex {
    /// Reads the headers of the kept entries (a pass of its own).
    pub(super) fn build<S: Scratch>(kept: &mut [Kept<S>]) -> io::Result<RuleIndex> {
        let total: u64 = kept.iter().map(|k| k.take).sum();
        let mut keys = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut suppressed = 0;
        for_each(kept, |rule, _| {
            let (header, _) = split(rule)?;
            keys.push(header.key);
            suppressed += u64::from(header.suppressed);
            Ok(())
        })?;
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        let written = vec![0; keys.len().div_ceil(64)];
        Ok(RuleIndex {
            keys,
            written,
            suppressed,
        })
    }

    /// The number of distinct rules.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether `key` is met for the first time (and marks it met).
    pub(super) fn first(&mut self, key: u64) -> bool {
        let Ok(i) = self.keys.binary_search(&key) else {
            // Every key of a kept entry was indexed; a stranger is a
            // scratch that changed under us, and writing it is harmless.
            return true;
        };
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let first = self.written[word] & bit == 0;
        self.written[word] |= bit;
        first
    }
}
