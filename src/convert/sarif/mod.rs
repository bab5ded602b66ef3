//! SARIF 2.1.0 for code scanning (GitHub), from the read-back findings.
//!
//! Streaming and pure: [`SarifWriter::add`] files each finding's rule and
//! result, already serialized, into one of ten scratch buckets (open before
//! suppressed or closed, then by severity), and [`SarifWriter::finish`]
//! reads the buckets back in that order to write the document. So a run of
//! a million findings holds one finding in memory at a time, and when the
//! results are capped (GitHub rejects a run of more than 25,000) the ones
//! kept are the most urgent, and the scratch stays bounded too: a bucket
//! stops taking entries once it could not be reached under the cap.
//!
//! The scratch space and the output come from the caller; this module does
//! no file or network I/O of its own.

mod document;
mod entry;
mod passes;
mod result;
mod rule;
mod uri;
mod words;

#[cfg(test)]
mod tests;

use std::io::{self, BufWriter, Write};

use crate::convert::scratch::Scratch;
use crate::convert::triage::{Baseline, Judged, RunInfo};
use passes::{Kept, RuleIndex, for_each};
use uri::Root;

/// The most results GitHub accepts in one run.
pub(crate) const GITHUB_MAX_RESULTS: u64 = 25_000;

/// Severity ranks (Critical … Info), and so buckets per openness.
const RANKS: usize = 5;
const BUCKETS: usize = 2 * RANKS;

/// What [`SarifWriter::finish`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SarifStats {
    /// Results in the run.
    pub results: u64,
    /// Findings left out by the cap.
    pub omitted: u64,
    /// Distinct rules.
    pub rules: u64,
    /// Results that carry a suppression (false positive, risk accepted,
    /// out of scope).
    pub suppressed: u64,
}

/// Writes one SARIF run of read-back findings.
pub(crate) struct SarifWriter<S: Scratch> {
    info: RunInfo,
    root: Option<Root>,
    /// Results kept; `u64::MAX` for no cap.
    limit: u64,
    buckets: Vec<Bucket<S>>,
    /// Findings never written to a bucket.
    skipped: u64,
    /// One finding's serialized lines, reused.
    line: Vec<u8>,
}

struct Bucket<S: Write> {
    out: BufWriter<S>,
    entries: u64,
}

impl<S: Scratch> SarifWriter<S> {
    /// `max_results`: results kept in the run (GitHub rejects a run with
    /// more than 25,000); 0 = no limit. `new_scratch` is called ten times,
    /// once per bucket.
    pub fn new(
        info: RunInfo,
        max_results: u64,
        mut new_scratch: impl FnMut() -> io::Result<S>,
    ) -> io::Result<SarifWriter<S>> {
        let buckets = (0..BUCKETS)
            .map(|_| {
                Ok(Bucket {
                    out: BufWriter::new(new_scratch()?),
                    entries: 0,
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        let root = info.source_root.as_deref().and_then(Root::parse);
        Ok(SarifWriter {
            info,
            root,
            limit: if max_results == 0 {
                u64::MAX
            } else {
                max_results
            },
            buckets,
            skipped: 0,
            line: Vec::new(),
        })
    }

    /// One finding (called once per finding, in read-back order, possibly
    /// 1,000,000 times).
    pub fn add(&mut self, f: &Judged<'_>) -> io::Result<()> {
        let b = bucket(f);
        let before: u64 = self.buckets[..b].iter().map(|k| k.entries).sum();
        if self.buckets[b].entries >= self.limit || before >= self.limit {
            // The cap is already filled by findings that come first.
            self.skipped += 1;
            return Ok(());
        }
        self.line.clear();
        let url = result::finding_url(&self.info, f.seen.id);
        entry::encode(&mut self.line, f, &url, self.root.as_ref())?;
        let bucket = &mut self.buckets[b];
        bucket.out.write_all(&self.line)?;
        bucket.entries += 1;
        Ok(())
    }

    /// Writes the whole SARIF document to `out`.
    pub fn finish(self, out: &mut dyn Write) -> io::Result<SarifStats> {
        let mut remaining = self.limit;
        let mut omitted = self.skipped;
        let mut kept = Vec::with_capacity(BUCKETS);
        for b in self.buckets {
            let take = b.entries.min(remaining);
            remaining -= take;
            omitted += b.entries - take;
            let scratch = b.out.into_inner().map_err(|e| e.into_error())?;
            kept.push(Kept { scratch, take });
        }
        let results = kept.iter().map(|k| k.take).sum();
        let mut index = RuleIndex::build(&mut kept)?;
        let mut out = BufWriter::with_capacity(64 * 1024, out);
        document::head(&mut out, &self.info)?;
        let mut list = List::default();
        for_each(&mut kept, |rule, _| {
            let (header, json) = entry::split(rule)?;
            if index.first(header.key) {
                list.item(&mut out, json)?;
            }
            Ok(())
        })?;
        list.end(&mut out)?;
        document::middle(&mut out)?;
        let mut list = List::default();
        for_each(&mut kept, |_, result| list.item(&mut out, result))?;
        list.end(&mut out)?;
        let root_uri = self.root.as_ref().map(Root::base_uri);
        document::tail(&mut out, &self.info, root_uri.as_deref(), omitted)?;
        out.flush()?;
        Ok(SarifStats {
            results,
            omitted,
            rules: index.len() as u64,
            suppressed: index.suppressed,
        })
    }
}

/// The bucket of `f`: open findings (not suppressed, still in the report)
/// first, then the rest, each by severity, Critical first.
fn bucket(f: &Judged<'_>) -> usize {
    let open = f.triage.is_none_or(|t| !t.suppresses()) && f.baseline != Baseline::Absent;
    let rank = f.seen.rank.min(RANKS - 1);
    if open { rank } else { RANKS + rank }
}

/// The elements of a JSON array, one a line.
#[derive(Default)]
struct List {
    any: bool,
}

impl List {
    fn item(&mut self, out: &mut dyn Write, json: &[u8]) -> io::Result<()> {
        out.write_all(if self.any { b",\n" } else { b"\n" })?;
        self.any = true;
        out.write_all(json)
    }

    fn end(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.any {
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
