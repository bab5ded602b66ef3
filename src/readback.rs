//! Stage 6, the read back: the test's findings as DefectDojo holds them
//! after deduplication, page by page, converted to secureCodeBox findings
//! ([`crate::convert::sync`]) as a stream that outputs consume, while an
//! [`Observer`] (the CI report formats, the count of new findings) sees
//! every finding of the same read and is told its counts when it is
//! finished. Nothing is held but the page being converted.

use std::io::Read;

use crate::convert::sync::{self, Seen};
use crate::dojo::{Dojo, Method};
use crate::error::Error;
use crate::inputs::Inputs;

/// A stream of the test's findings as a secureCodeBox findings.json array.
pub struct ReadBack<'o, 'd> {
    reader: sync::SyncReader<DojoFetch<'o, 'd>>,
}

/// Sees every finding of a read-back once, in order, then its end.
pub trait Observer {
    /// One finding; an error ends the read-back.
    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error>;
    /// The whole read-back was read: its counts. Not called after a failure,
    /// so partial numbers never reach an output.
    fn finished(&mut self, _counts: sync::ReadBackCounts) {}
}

/// Starts reading test `test_id` back. Give the `observer` to the first
/// read only (the body machinery may read twice, and a second pass repeats
/// the same findings).
///
/// After a reimport (`reimported`), the stream leaves out the test's closed
/// findings, closed by earlier runs or by this reimport: what the scan found
/// is what this reimport created, reactivated or left untouched, and a
/// schedule's test would otherwise hand every run all its history (and the
/// ReadOnly hooks after it would act on it). The observer, which writes the
/// CI reports, still sees them (SARIF's `absent`).
pub fn start<'o, 'd>(
    dojo: &'d Dojo<'d>,
    inputs: &Inputs,
    (test_id, reimported): (u64, bool),
    observer: Option<&'o mut dyn Observer>,
) -> Result<ReadBack<'o, 'd>, Error> {
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
    })
}

impl Read for ReadBack<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
}

/// The sync-back reader's view of DefectDojo, and of who watches.
struct DojoFetch<'o, 'd> {
    dojo: &'d Dojo<'d>,
    observer: Option<&'o mut dyn Observer>,
}

impl sync::Fetch for DojoFetch<'_, '_> {
    fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        self.dojo
            .call(Method::Get, path_and_query, None, "reading findings back")
    }

    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error> {
        match &mut self.observer {
            Some(observer) => observer.seen(finding),
            None => Ok(()),
        }
    }

    fn finished(&mut self, counts: sync::ReadBackCounts) {
        if let Some(observer) = &mut self.observer {
            observer.finished(counts);
        }
    }
}
