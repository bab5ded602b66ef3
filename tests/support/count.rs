//! Body sinks that count instead of keeping (see [`super::http::BodySink`]): the fakes
//! use them in benchmark mode, where uploads are hundreds of megabytes and only their
//! size, their number of findings and their form fields matter.
//!
//! - [`JsonCount`]: bytes and objects at one nesting depth of a JSON text (the findings
//!   of a Generic Findings Import file at depth 2, of a secureCodeBox findings array at
//!   depth 1), in one pass and constant memory. It frames, it does not validate.
//! - [`MultipartCount`]: a streaming `multipart/form-data` reader that keeps the text
//!   fields and the file part's headers and runs the file's bytes through a
//!   [`JsonCount`].

use std::any::Any;
use std::io::{self, Write};

use super::http::BodySink;

/// Counts the JSON objects that open at nesting depth `depth` (the outermost value is
/// depth 0) and the bytes seen.
#[derive(Debug, Clone)]
pub struct JsonCount {
    depth: usize,
    current: usize,
    in_string: bool,
    escaped: bool,
    /// Objects seen at `depth`.
    pub objects: u64,
    /// Bytes seen.
    pub bytes: u64,
}

impl JsonCount {
    pub fn new(depth: usize) -> JsonCount {
        JsonCount {
            depth,
            current: 0,
            in_string: false,
            escaped: false,
            objects: 0,
            bytes: 0,
        }
    }

    pub fn update(&mut self, buf: &[u8]) {
        self.bytes += buf.len() as u64;
        let mut i = 0;
        while i < buf.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                match quote_or_backslash(&buf[i..]) {
                    None => return,
                    Some(p) => {
                        i += p;
                        if buf[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                        }
                        i += 1;
                    }
                }
                continue;
            }
            match buf[i] {
                b'"' => self.in_string = true,
                b'{' => {
                    if self.current == self.depth {
                        self.objects += 1;
                    }
                    self.current += 1;
                }
                b'[' => self.current += 1,
                b'}' | b']' => self.current = self.current.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
}

impl Write for JsonCount {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl BodySink for JsonCount {
    fn finish(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// Position of the first `"` or `\`, eight bytes per step (SWAR).
fn quote_or_backslash(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= s.len() {
        let w = u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
        let q = w ^ (LO * u64::from(b'"'));
        let b = w ^ (LO * u64::from(b'\\'));
        let hits = ((q.wrapping_sub(LO) & !q) | (b.wrapping_sub(LO) & !b)) & HI;
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|p| i + p)
}

/// What [`MultipartCount`] found in a form.
#[derive(Debug, Clone, Default)]
pub struct CountedForm {
    /// Text parts (name, value), in order.
    pub fields: Vec<(String, String)>,
    /// Name of the file part (the first part with a `filename`).
    pub file_field: Option<String>,
    pub file_name: Option<String>,
    pub file_content_type: Option<String>,
    /// Bytes of the file part.
    pub file_len: u64,
    /// Objects at depth 2 of a `.json` file (the findings of `{"findings": [...]}`);
    /// other files are not looked into.
    pub file_objects: u64,
    /// Why the form could not be read, if it could not.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the first delimiter.
    Preamble,
    /// Right after a delimiter: `--` ends the form, else a line break and headers.
    AfterDelimiter,
    Headers,
    Data,
    Done,
}

/// A streaming `multipart/form-data` reader: text parts are kept (up to 1 MiB each),
/// the file part is counted.
pub struct MultipartCount {
    /// `--boundary`.
    delimiter: Vec<u8>,
    /// `\r\n--boundary`, which ends a part's data.
    data_end: Vec<u8>,
    phase: Phase,
    pending: Vec<u8>,
    /// The part being read: `None` for a text part, else the file's counter
    /// (which only counts bytes unless the file is JSON).
    file: Option<(JsonCount, bool)>,
    text: Vec<u8>,
    name: String,
    form: CountedForm,
}

const MAX_TEXT: usize = 1 << 20;

impl MultipartCount {
    /// A reader for a body with this `Content-Type` (its `boundary` parameter).
    pub fn new(content_type: &str) -> MultipartCount {
        let boundary = content_type
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_string())
            .unwrap_or_default();
        let mut form = CountedForm::default();
        if boundary.is_empty() {
            form.error = Some("no boundary in the content type".into());
        }
        MultipartCount {
            delimiter: format!("--{boundary}").into_bytes(),
            data_end: format!("\r\n--{boundary}").into_bytes(),
            phase: if boundary.is_empty() {
                Phase::Done
            } else {
                Phase::Preamble
            },
            pending: Vec::new(),
            file: None,
            text: Vec::new(),
            name: String::new(),
            form,
        }
    }

    pub fn into_form(mut self) -> CountedForm {
        if self.phase != Phase::Done && self.form.error.is_none() {
            self.form.error = Some("the form ends before its closing delimiter".into());
        }
        self.form
    }

    fn data(&mut self, bytes: &[u8]) {
        match &mut self.file {
            Some((count, true)) => count.update(bytes),
            Some((count, false)) => count.bytes += bytes.len() as u64,
            None => {
                let room = MAX_TEXT.saturating_sub(self.text.len());
                self.text.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
        }
    }

    fn end_part(&mut self) {
        match self.file.take() {
            Some((count, _)) => {
                self.form.file_len = count.bytes;
                self.form.file_objects = count.objects;
            }
            None => {
                let value = String::from_utf8_lossy(&self.text).into_owned();
                self.form
                    .fields
                    .push((std::mem::take(&mut self.name), value));
            }
        }
        self.text.clear();
    }

    fn headers(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let mut name = String::new();
        let mut file_name = None;
        let mut content_type = None;
        for line in text.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in v.split(';').map(str::trim) {
                        if let Some(n) = param.strip_prefix("name=") {
                            name = n.trim_matches('"').to_string();
                        } else if let Some(f) = param.strip_prefix("filename=") {
                            file_name = Some(f.trim_matches('"').to_string());
                        }
                    }
                }
                "content-type" => content_type = Some(v.trim().to_string()),
                _ => {}
            }
        }
        if file_name.is_some() && self.form.file_field.is_none() {
            let json = file_name
                .as_deref()
                .is_some_and(|f| f.to_ascii_lowercase().ends_with(".json"));
            self.form.file_field = Some(name.clone());
            self.form.file_name = file_name;
            self.form.file_content_type = content_type;
            self.file = Some((JsonCount::new(2), json));
        }
        self.name = name;
    }

    /// Handles what it can of `pending`; returns how far it got.
    fn step(&mut self, pending: &[u8]) -> usize {
        let mut pos = 0;
        loop {
            let rest = &pending[pos..];
            match self.phase {
                Phase::Preamble => match find(rest, &self.delimiter) {
                    Some(i) => {
                        pos += i + self.delimiter.len();
                        self.phase = Phase::AfterDelimiter;
                    }
                    None => return pos + rest.len().saturating_sub(self.delimiter.len()),
                },
                Phase::AfterDelimiter => {
                    if rest.len() < 2 {
                        return pos;
                    }
                    if rest.starts_with(b"--") {
                        self.phase = Phase::Done;
                        return pending.len();
                    }
                    match find(rest, b"\r\n") {
                        Some(i) => {
                            pos += i + 2;
                            self.phase = Phase::Headers;
                        }
                        None => return pos,
                    }
                }
                Phase::Headers => match find(rest, b"\r\n\r\n") {
                    Some(i) => {
                        self.headers(&rest[..i]);
                        pos += i + 4;
                        self.phase = Phase::Data;
                    }
                    None => return pos,
                },
                Phase::Data => match find(rest, &self.data_end) {
                    Some(i) => {
                        self.data(&rest[..i]);
                        self.end_part();
                        pos += i + self.data_end.len();
                        self.phase = Phase::AfterDelimiter;
                    }
                    None => {
                        // Keep what could be the start of the delimiter: from a `\r`
                        // among the last bytes, if there is one.
                        let tail = rest.len().saturating_sub(self.data_end.len() - 1);
                        let safe = rest[tail..]
                            .iter()
                            .position(|&b| b == b'\r')
                            .map_or(rest.len(), |p| tail + p);
                        self.data(&rest[..safe]);
                        return pos + safe;
                    }
                },
                Phase::Done => return pending.len(),
            }
        }
    }
}

impl Write for MultipartCount {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            // The usual case: no copy, only an unfinished delimiter is kept.
            let used = self.step(buf);
            self.pending.extend_from_slice(&buf[used..]);
        } else {
            let mut pending = std::mem::take(&mut self.pending);
            pending.extend_from_slice(buf);
            let used = self.step(&pending);
            pending.drain(..used);
            self.pending = pending;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl BodySink for MultipartCount {
    fn finish(self: Box<Self>) -> Box<dyn Any + Send> {
        Box::new(self.into_form())
    }
}

/// First index of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let j = i + hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        if hay[j..].starts_with(needle) {
            return Some(j);
        }
        i = j + 1;
    }
    None
}
