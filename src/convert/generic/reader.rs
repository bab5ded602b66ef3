//! The streaming reader: a whole findings.json in, the upload body out, one
//! finding held at a time.

use std::io::{self, BufRead, Read};

use super::fields::{ConvertContext, severity_of, write_generic};
use crate::convert::generic::json_array::ArrayElements;
use crate::error::Error;
use crate::scan::finding::{self as scb, Severity};

/// Number of findings converted, in total and per severity.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConvertedCounts {
    /// All findings.
    pub total: u64,
    by_severity: [u64; 5],
}

impl ConvertedCounts {
    /// Findings of severity `s`.
    pub fn get(&self, s: Severity) -> u64 {
        self.by_severity[s.rank()]
    }

    /// Counts one finding of severity `s`.
    pub fn add(&mut self, s: Severity) {
        self.total += 1;
        self.by_severity[s.rank()] += 1;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    Body,
    Done,
    Failed,
}

/// Reads a secureCodeBox findings.json from `R` and yields the DefectDojo
/// Generic Findings Import JSON for it, `{"findings":[…]}` (compact),
/// converting one finding at a time as the output is pulled.
///
/// Errors (a malformed or oversized finding, an unknown severity, a broken
/// file) come out of `read` as `io::Error`s carrying an [`Error`]; get it
/// back with [`Error::from_io`]. After an error, reading fails for good.
///
/// ```
/// use std::io::Read;
/// use dojo_hook::convert::generic::GenericReader;
/// let input = br#"[{"name": "Open Port: 22", "severity": "LOW", "location": "tcp://h:22"}]"#;
/// let mut reader = GenericReader::new(&input[..], 1 << 20);
/// let mut json = String::new();
/// reader.read_to_string(&mut json)?;
/// assert!(json.starts_with(r#"{"findings":[{"title":"Open Port: 22","severity":"Low","#));
/// assert_eq!(reader.counts().total, 1);
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct GenericReader<R> {
    elements: ArrayElements<R>,
    out: Vec<u8>,
    pos: usize,
    phase: Phase,
    counts: ConvertedCounts,
    ctx: ConvertContext,
    /// An error met after some bytes were already handed out in the same
    /// `read` call; returned by the next call.
    pending: Option<Error>,
}

impl<R: BufRead> GenericReader<R> {
    /// Converts the findings.json read from `reader`; a single finding over
    /// `max_finding_bytes` of JSON is an error.
    pub fn new(reader: R, max_finding_bytes: usize) -> Self {
        let elements = ArrayElements::new(reader, max_finding_bytes);
        let ctx = ConvertContext::new(elements.name());
        GenericReader {
            elements,
            out: Vec::with_capacity(4096),
            pos: 0,
            phase: Phase::Open,
            counts: ConvertedCounts::default(),
            ctx,
            pending: None,
        }
    }

    /// Findings converted so far (all of them once `read` returned 0).
    pub fn counts(&self) -> &ConvertedCounts {
        &self.counts
    }

    /// Bytes held by the internal buffers (to check memory stays bounded).
    pub fn buffer_capacity(&self) -> usize {
        self.out.capacity() + self.elements.buffer_capacity()
    }

    /// Refills `out`; `false` when everything has been produced.
    fn refill(&mut self) -> Result<bool, Error> {
        self.pos = 0;
        if self.out.capacity() > 1 << 20 {
            // one huge finding must not pin a huge buffer
            self.out = Vec::with_capacity(4096);
        }
        self.out.clear();
        match self.phase {
            Phase::Open => {
                self.out.extend_from_slice(b"{\"findings\":[");
                self.phase = Phase::Body;
                Ok(true)
            }
            Phase::Body => {
                let result = self.convert_next();
                if result.is_err() {
                    self.phase = Phase::Failed;
                    self.out.clear();
                }
                result.map(|()| true)
            }
            Phase::Done => Ok(false),
            Phase::Failed => Err(Error::input(
                self.elements.name(),
                "conversion stopped after an earlier error",
            )),
        }
    }

    /// Converts the next finding into `out`, or closes the JSON.
    fn convert_next(&mut self) -> Result<(), Error> {
        let Some(element) = self.elements.next_element()? else {
            self.out.extend_from_slice(b"]}");
            self.phase = Phase::Done;
            return Ok(());
        };
        let (raw, index, start) = (element.raw, element.index, element.offset);
        self.ctx.set_index(index);
        if raw.first() != Some(&b'{') {
            return Err(Error::input(
                self.ctx.what(),
                format!("is not a JSON object (it starts at byte {start})"),
            ));
        }
        // One UTF-8 check of the whole element is far cheaper than
        // serde_json's check of every string in `from_slice`; invalid UTF-8
        // goes to `from_slice` for its error message.
        let parsed = match std::str::from_utf8(raw) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(raw),
        };
        let finding: scb::Finding<'_> = parsed.map_err(|e| {
            Error::input(
                self.ctx.what(),
                format!("is not a valid secureCodeBox finding (it starts at byte {start}): {e}"),
            )
        })?;
        let severity = severity_of(&finding, &self.ctx)?;
        if index > 1 {
            self.out.push(b',');
        }
        write_generic(&finding, &mut self.out, &self.ctx)?;
        self.counts.add(severity);
        Ok(())
    }
}

impl<R: BufRead> Read for GenericReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.pending.take() {
            return Err(e.into_io());
        }
        let mut written = 0;
        while written < buf.len() {
            let available = &self.out[self.pos..];
            if !available.is_empty() {
                let n = available.len().min(buf.len() - written);
                buf[written..written + n].copy_from_slice(&available[..n]);
                self.pos += n;
                written += n;
                continue;
            }
            match self.refill() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if written > 0 => {
                    self.pending = Some(e);
                    break;
                }
                Err(e) => return Err(e.into_io()),
            }
        }
        Ok(written)
    }
}
