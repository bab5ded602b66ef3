//! What sync-back is asked to do ([`SyncOptions`]) and what it did
//! ([`ReadBackCounts`]).

use crate::error::Error;

use super::locations::MIN_URI_LEN;
use crate::scan::finding::Severity;

/// Findings per page unless configured otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 250;
/// The largest page size accepted: larger pages cost DefectDojo seconds per
/// request and us memory, for few saved round trips.
pub const MAX_PAGE_SIZE: usize = 500;
/// Longest path and query of a request. DefectDojo's official uWSGI drops
/// requests longer than about 3,880 characters without answering.
pub const DEFAULT_MAX_URI_LEN: usize = 3500;

/// What to read back and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// `DEFECTDOJO_URL` without a trailing slash; used for finding and test
    /// URLs and for the stable finding ids.
    pub base_url: String,
    /// The DefectDojo test whose findings are read.
    pub test_id: u64,
    /// Findings per page, 1 to [`MAX_PAGE_SIZE`].
    pub page_size: usize,
    /// Fail instead of reading more than this many findings pages.
    pub max_pages: Option<u64>,
    /// Longest path and query of a request, in bytes.
    pub max_uri_len: usize,
    /// Leave closed findings (`is_mitigated`) out of the output and the
    /// counts; the observer still sees them. After a reimport they are the
    /// test's history, not what the scan found.
    pub leave_out_closed: bool,
}

impl SyncOptions {
    /// Options with the defaults for `base_url` and `test_id`.
    pub fn new(base_url: impl Into<String>, test_id: u64) -> SyncOptions {
        SyncOptions {
            base_url: base_url.into(),
            test_id,
            page_size: DEFAULT_PAGE_SIZE,
            max_pages: None,
            max_uri_len: DEFAULT_MAX_URI_LEN,
            leave_out_closed: false,
        }
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        let mut problems = Vec::new();
        if self.base_url.is_empty() {
            problems.push("the DefectDojo URL for synced-back findings is empty".to_string());
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            problems.push(format!(
                "page size {} is out of range: use 1 to {MAX_PAGE_SIZE}",
                self.page_size
            ));
        }
        if self.max_pages == Some(0) {
            problems.push("the maximum page count must be at least 1".to_string());
        }
        if self.max_uri_len < MIN_URI_LEN {
            problems.push(format!(
                "the maximum URI length {} is too short: use at least {MIN_URI_LEN}",
                self.max_uri_len
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(problems))
        }
    }
}

/// What was synced back, for the scan's statistics and the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadBackCounts {
    /// Findings written.
    pub total: u64,
    /// … with severity INFORMATIONAL.
    pub informational: u64,
    /// … with severity LOW.
    pub low: u64,
    /// … with severity MEDIUM.
    pub medium: u64,
    /// … with severity HIGH (DefectDojo's Critical and High).
    pub high: u64,
    /// … that DefectDojo marks as duplicates.
    pub duplicates: u64,
    /// … that DefectDojo marks as false positives.
    pub false_positives: u64,
}

impl ReadBackCounts {
    pub(crate) fn add(&mut self, level: Severity, duplicate: bool, false_positive: bool) {
        self.total += 1;
        match level {
            Severity::Informational => self.informational += 1,
            Severity::Low => self.low += 1,
            Severity::Medium => self.medium += 1,
            Severity::High | Severity::Critical => self.high += 1,
        }
        self.duplicates += u64::from(duplicate);
        self.false_positives += u64::from(false_positive);
    }
}
