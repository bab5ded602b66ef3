//! Stage 6, the read back: the test's findings as DefectDojo holds them
//! after deduplication, page by page, converted to secureCodeBox findings
//! ([`crate::convert::sync`]) as a stream that outputs consume, while an
//! [`Observer`] (the CI report formats) sees every finding of the same
//! read. Nothing is held but the page being converted.

use std::cell::RefCell;
use std::io::Read;

use crate::convert::sync::{self, Seen};
use crate::dojo::{Dojo, Method};
use crate::error::Error;
use crate::inputs::Inputs;

/// A stream of the test's findings as a secureCodeBox findings.json array;
/// its counts are known once it has been read to the end.
pub struct ReadBack<'c, 'd> {
    reader: sync::SyncReader<DojoFetch<'c, 'd>>,
    counts: &'c RefCell<Option<sync::Counts>>,
}

/// Sees every finding of a read-back once, in order.
pub trait Observer {
    /// One finding; an error ends the read-back.
    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error>;
}

/// Starts reading test `test_id` back; `counts` receives the totals when
/// the stream ends (the body machinery owns the reader and may run it
/// twice, so the counts cannot be returned by value). Give the `observer`
/// to the first read only: a second pass repeats the same findings.
///
/// After a reimport (`reimported`), the stream leaves out the test's closed
/// findings, closed by earlier runs or by this reimport: what the scan found
/// is what this reimport created, reactivated or left untouched, and a
/// schedule's test would otherwise hand every run all its history (and the
/// ReadOnly hooks after it would act on it). The observer, which writes the
/// CI reports, still sees them (SARIF's `absent`).
pub fn start<'c, 'd>(
    dojo: &'d Dojo<'d>,
    inputs: &Inputs,
    (test_id, reimported): (u64, bool),
    counts: &'c RefCell<Option<sync::Counts>>,
    observer: Option<&'c RefCell<dyn Observer + 'c>>,
) -> Result<ReadBack<'c, 'd>, Error> {
    let options = sync::SyncOptions {
        base_url: inputs.cfg.dojo_url.clone(),
        test_id,
        page_size: sync::DEFAULT_PAGE_SIZE,
        max_pages: inputs.cfg.max_pages,
        max_uri_len: sync::DEFAULT_MAX_URI_LEN,
        leave_out_closed: reimported,
    };
    Ok(ReadBack {
        reader: sync::SyncReader::new(DojoFetch { dojo, observer }, options)?,
        counts,
    })
}

impl Read for ReadBack<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.reader.read(buf)?;
        if n == 0 && !buf.is_empty() {
            *self.counts.borrow_mut() = self.reader.counts();
        }
        Ok(n)
    }
}

/// The sync-back reader's view of DefectDojo, and of who watches.
struct DojoFetch<'c, 'd> {
    dojo: &'d Dojo<'d>,
    observer: Option<&'c RefCell<dyn Observer + 'c>>,
}

impl sync::Fetch for DojoFetch<'_, '_> {
    fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        self.dojo
            .call(Method::Get, path_and_query, None, "reading findings back")
    }

    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error> {
        match self.observer {
            Some(observer) => observer.borrow_mut().seen(finding),
            None => Ok(()),
        }
    }
}
