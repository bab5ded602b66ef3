//! Request bodies with an exact length, built from streams of unknown size.
//!
//! S3 presigned PUTs reject `Transfer-Encoding: chunked` and DefectDojo's
//! import needs a length too, but a downloaded report or a converter's
//! output may not announce one. The container has a read-only root, often
//! no writable volume and 200 MiB of memory, and bodies reach gigabytes.
//! [`prepare`] therefore picks, per body, the first that applies:
//!
//! 1. **streamed**: the source announces its length (a local file, a GET
//!    with `Content-Length`): send it as it is read, checked on the way.
//! 2. **spooled**: a temp dir is writable ([`Spool`]): copy the stream into
//!    a private temp file and send that.
//! 3. **in memory** (outputs only, [`Mode::Output`]): the whole stream fits
//!    in `DEFECTDOJO_MEMORY_SPOOL_MB`.
//! 4. **two passes**: count the bytes and hash them, then produce the stream
//!    again when sending, and fail the request before its last byte if the
//!    second pass differs from the first.
//!
//! This module never opens a source itself: the caller hands in a closure
//! that opens it (again), so files, URLs and converters are treated alike.

mod scratch_space;
mod temp;
mod verify;

use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use log::{debug, info, warn};

use crate::error::{Error, is_out_of_space};

pub(crate) use scratch_space::{ScratchBuffer, ScratchSpace};
use temp::TempFile;
pub(crate) use temp::create_unique;
use verify::{Digest, Expect, Verified};

/// Default temp dir when `TMPDIR` is unset or empty.
pub const DEFAULT_TMPDIR: &str = "/tmp";

/// Copy buffer: large enough for fast gigabyte copies, small for the heap.
const COPY_BUFFER: usize = 64 * 1024;

/// Where bodies of unknown length are kept until they are sent.
#[derive(Debug, Clone)]
pub struct Spool {
    /// A temp dir found writable, or `None` for two-pass mode.
    dir: Option<PathBuf>,
    /// Bytes an output may keep in memory when there is no temp dir.
    memory_limit: u64,
}

impl Spool {
    /// The spool for `TMPDIR` (`None` or empty: `/tmp`) and
    /// `DEFECTDOJO_MEMORY_SPOOL_MB`, probing once whether the dir is
    /// writable by creating and removing a file in it.
    pub fn from_env_values(tmpdir: Option<&str>, memory_limit_mb: u64) -> Spool {
        let dir = PathBuf::from(tmpdir.filter(|d| !d.is_empty()).unwrap_or(DEFAULT_TMPDIR));
        let memory_limit = memory_limit_mb.saturating_mul(1024 * 1024);
        match probe(&dir) {
            // Said when a body is spooled: most runs (local files, sized
            // downloads, a dry run, a failed one) never spool.
            Ok(()) => {
                debug!("temp dir {} is writable", dir.display());
                Spool::new(Some(dir), memory_limit)
            }
            Err(e) => {
                info!(
                    "no writable temp dir ({}: {e}): two-pass mode, outputs up to \
                     {memory_limit_mb} MiB are kept in memory",
                    dir.display()
                );
                Spool::new(None, memory_limit)
            }
        }
    }

    /// A spool with the given dir (not probed) and memory limit in bytes.
    pub fn new(dir: Option<PathBuf>, memory_limit: u64) -> Spool {
        Spool { dir, memory_limit }
    }

    /// The writable temp dir, if there is one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Bytes an output may keep in memory when there is no temp dir.
    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
    }
}

/// Whether `dir` takes new files: creates and removes one.
pub(crate) fn probe(dir: &Path) -> io::Result<()> {
    let (file, path) = create_unique(dir, ".dojo-hook-probe-", true)?;
    drop(file);
    if let Err(e) = std::fs::remove_file(&path) {
        warn!("could not remove probe file {}: {e}", path.display());
    }
    Ok(())
}

/// How expensive producing the content again is, which decides whether
/// memory is used when there is no temp dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A report read from a file or URL: re-reading is cheap, so memory is
    /// left to the rest of the run and a second pass is used instead.
    Input,
    /// A converter's output: producing it again costs DefectDojo calls, so
    /// up to [`Spool::memory_limit`] bytes are kept in memory first.
    Output,
}

/// An opened source: a stream and, when known up front, its exact length.
pub struct Opened<'a> {
    /// The content. Its errors carry an [`Error`] ([`Error::from_io`]).
    pub reader: Box<dyn Read + 'a>,
    /// The exact length, if the source announced it.
    pub len: Option<u64>,
}

impl<'a> Opened<'a> {
    /// A stream of unknown length, e.g. a converter's output.
    pub fn stream(reader: impl Read + 'a) -> Opened<'a> {
        Opened {
            reader: Box::new(reader),
            len: None,
        }
    }

    /// A stream whose exact length is known up front.
    pub fn sized(reader: impl Read + 'a, len: u64) -> Opened<'a> {
        Opened {
            reader: Box::new(reader),
            len: Some(len),
        }
    }
}

/// A body of exact length, ready to be sent (see [`prepare`]).
pub struct Prepared<'a> {
    what: String,
    len: u64,
    kind: Kind<'a>,
}

/// Opens the source again for the second pass.
type Reopen<'a> = Box<dyn FnMut() -> Result<Opened<'a>, Error> + 'a>;

enum Kind<'a> {
    /// The first stream itself; `None` once handed out.
    Streamed(Option<Box<dyn Read + 'a>>),
    Spooled(TempFile),
    Memory(Vec<u8>),
    TwoPass {
        reopen: Reopen<'a>,
        first: Digest,
    },
}

impl<'a> Prepared<'a> {
    /// A body whose exact length is known: streamed as it is read.
    pub(crate) fn streamed(what: &str, reader: Box<dyn Read + 'a>, len: u64) -> Prepared<'a> {
        Prepared {
            what: what.to_string(),
            len,
            kind: Kind::Streamed(Some(reader)),
        }
    }

    /// The exact number of bytes [`Prepared::reader`] yields: the
    /// `Content-Length` to send.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How the body is held, for logs and the run summary: `streamed`,
    /// `spooled`, `in memory` or `two passes`.
    pub fn mode(&self) -> &'static str {
        match self.kind {
            Kind::Streamed(_) => "streamed",
            Kind::Spooled(_) => "spooled",
            Kind::Memory(_) => "in memory",
            Kind::TwoPass { .. } => "two passes",
        }
    }

    /// True when [`Prepared::reader`] can be called again (every body but a
    /// streamed one), so a failed request may be sent again.
    pub fn rereadable(&self) -> bool {
        !matches!(self.kind, Kind::Streamed(_))
    }

    /// A reader over the body, to be sent with `Content-Length: len()`.
    ///
    /// It yields exactly `len()` bytes or fails with an [`Error`] carried
    /// through `io::Error` ([`Error::from_io`] recovers it); if the content
    /// differs from what was announced or counted, it fails before the
    /// last byte. Call it once per request. A streamed body can be read only
    /// once; the others can be read again (a spooled file is rewound, a
    /// two-pass source is opened again).
    pub fn reader(&mut self) -> Result<Box<dyn Read + '_>, Error> {
        let what = self.what.as_str();
        let len = self.len;
        match &mut self.kind {
            Kind::Streamed(stream) => match stream.take() {
                Some(stream) => Ok(Box::new(Verified::new(
                    stream,
                    what,
                    Expect::Announced(len),
                ))),
                None => Err(Error::protocol(
                    what,
                    "the body was streamed once already and cannot be sent again",
                )),
            },
            Kind::Spooled(temp) => {
                temp.file
                    .rewind()
                    .map_err(|e| Error::io(format!("rewinding the temp file of {what}"), e))?;
                let file = &mut temp.file;
                Ok(Box::new(Verified::new(file, what, Expect::Announced(len))))
            }
            Kind::Memory(bytes) => Ok(Box::new(&bytes[..])),
            Kind::TwoPass { reopen, first } => {
                let again = reopen()?;
                if let Some(announced) = again.len {
                    // Fail before anything is sent when we can tell already.
                    if announced != first.len {
                        return Err(Error::protocol(
                            what,
                            format!(
                                "the second pass produced different content ({announced} bytes \
                                 vs {}): the source changed between passes",
                                first.len
                            ),
                        ));
                    }
                }
                Ok(Box::new(Verified::new(
                    again.reader,
                    what,
                    Expect::SecondPass(*first),
                )))
            }
        }
    }
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("what", &self.what)
            .field("len", &self.len)
            .field("mode", &self.mode())
            .finish()
    }
}

/// Prepares the body of a request from a source of possibly unknown length.
///
/// `what` names the content in errors (e.g. `scan report (./report.xml)`).
/// `open` opens the source; it is called once now and, in two-pass mode,
/// once more by [`Prepared::reader`], so it must produce the same bytes
/// each time. The strategy is described in the [module docs](self).
///
/// A streamed body keeps the first stream (for a URL, its connection) open
/// until it is sent: prepare right before sending.
///
/// ```no_run
/// use dojo_hook::body::{self, Mode, Opened, Spool};
/// use dojo_hook::storage::{self, Place};
/// # fn run(agent: &ureq::Agent, token: &str) -> Result<(), dojo_hook::Error> {
/// let spool = Spool::from_env_values(Some("/tmp"), 8);
///
/// // An input, sent on with its exact length (DefectDojo's import wraps it
/// // in a multipart form the same way: a head, the file, a tail).
/// let report = Place::parse("https://minio/b/scan-1/zap.xml?X-Amz-Signature=…");
/// let mut file = body::prepare("scan report", &spool, Mode::Input, || {
///     storage::open(agent, &report, "scan report")
/// })?;
/// let len = file.len();
/// let mut reader = file.reader()?;
/// let resp = agent
///     .post("https://upload.example/reports/zap.xml")
///     .header("Authorization", format!("Token {token}"))
///     .header("Content-Length", len.to_string()) // else ureq sends chunked
///     .content_type("application/octet-stream")
///     .send(ureq::SendBody::from_reader(&mut reader));
/// # let _ = resp;
///
/// // An output (a converter's JSON of unknown length), PUT to a presigned URL.
/// let json: &[u8] = b"[]";
/// let mut findings = body::prepare("findings", &spool, Mode::Output, || {
///     Ok(Opened::stream(json))
/// })?;
/// storage::put(agent, "https://minio/b/findings.json?X-Amz-Signature=…", &mut findings, "findings")?;
/// # Ok(()) }
/// ```
pub fn prepare<'a>(
    what: &str,
    spool: &Spool,
    mode: Mode,
    mut open: impl FnMut() -> Result<Opened<'a>, Error> + 'a,
) -> Result<Prepared<'a>, Error> {
    let first = open()?;
    let done = |len, kind| {
        let body = Prepared {
            what: what.to_string(),
            len,
            kind,
        };
        debug!("{what}: {len} bytes, {}", body.mode());
        Ok(body)
    };
    if let Some(len) = first.len {
        return done(len, Kind::Streamed(Some(first.reader)));
    }
    let mut source = first.reader;
    let mut digest = Digest::new();

    if let Some(dir) = spool.dir() {
        match spool_to_file(what, dir, &mut source, &mut digest)? {
            Ok(temp) => {
                info!("{what}: spooled to a temp file in {}", dir.display());
                return done(digest.len, Kind::Spooled(temp));
            }
            // The bytes so far are counted: go on as a two-pass body.
            Err(reason) => warn!(
                "{what}: cannot spool to {} ({reason}); counting the content instead and \
                 producing it again when it is sent",
                dir.display()
            ),
        }
    } else if mode == Mode::Output {
        let mut buffer = Vec::new();
        if read_up_to(what, &mut source, spool.memory_limit, &mut buffer)? {
            buffer.shrink_to_fit();
            return done(buffer.len() as u64, Kind::Memory(buffer));
        }
        digest.update(&buffer);
    }

    copy_counting(&mut source, &mut io::sink(), Some(&mut digest)).map_err(|e| match e {
        CopyError::Read(e) => Error::from_io(format!("reading {what}"), e),
        CopyError::Write(e) => Error::io(format!("counting {what}"), e),
    })?;
    drop(source);
    let reopen: Reopen<'a> = Box::new(open);
    done(
        digest.len,
        Kind::TwoPass {
            reopen,
            first: digest,
        },
    )
}

/// Copies the rest of `source` into a new temp file in `dir`.
///
/// The outer error is fatal (reading the source failed, or an unexpected
/// write error); the inner one means the temp dir cannot hold it (full,
/// or no longer writable), and the caller falls back to two passes. All
/// bytes consumed are in `digest` either way.
fn spool_to_file(
    what: &str,
    dir: &Path,
    source: &mut dyn Read,
    digest: &mut Digest,
) -> Result<Result<TempFile, String>, Error> {
    let mut temp = match TempFile::create(dir) {
        Ok(temp) => temp,
        Err(e) => return Ok(Err(e.to_string())),
    };
    match copy_counting(source, &mut temp.file, Some(digest)) {
        Ok(_) => Ok(Ok(temp)),
        Err(CopyError::Read(e)) => Err(Error::from_io(format!("reading {what}"), e)),
        Err(CopyError::Write(e)) if is_out_of_space(&e) => {
            Ok(Err(format!("{e}, after {} bytes", digest.len)))
        }
        Err(CopyError::Write(e)) => Err(Error::io(
            format!("writing {what} to a temp file in {}", dir.display()),
            e,
        )),
    }
}

/// Reads `source` into `buffer` if it has at most `limit` bytes; returns
/// whether it did. Otherwise `buffer` holds the first `limit + 1` bytes.
fn read_up_to(
    what: &str,
    source: &mut dyn Read,
    limit: u64,
    buffer: &mut Vec<u8>,
) -> Result<bool, Error> {
    let Ok(cap) = usize::try_from(limit.saturating_add(1)) else {
        return Ok(false);
    };
    // Reserve once: growing by doubling could take twice the limit.
    if buffer.try_reserve_exact(cap).is_err() {
        warn!("{what}: cannot reserve {limit} bytes of memory; using two passes");
        return Ok(false);
    }
    source
        .take(cap as u64)
        .read_to_end(buffer)
        .map_err(|e| Error::from_io(format!("reading {what}"), e))?;
    Ok(buffer.len() as u64 <= limit)
}

/// A failed copy: reading the source or writing to the sink.
enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `source` to `sink`, adding every byte to `digest` if given;
/// returns the number of bytes copied.
fn copy_counting(
    source: &mut dyn Read,
    sink: &mut dyn Write,
    mut digest: Option<&mut Digest>,
) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut copied = 0u64;
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        if let Some(digest) = digest.as_deref_mut() {
            digest.update(&buf[..n]);
        }
        sink.write_all(&buf[..n]).map_err(CopyError::Write)?;
        copied += n as u64;
    }
    sink.flush().map_err(CopyError::Write)?;
    Ok(copied)
}

/// Copies a prepared body to `sink`, whose errors are about `destination`
/// (e.g. `writing ./findings.json`). Errors of the body carry their own
/// context ([`Prepared::reader`]).
pub(crate) fn copy_to(
    body: &mut dyn Read,
    sink: &mut dyn Write,
    destination: &str,
) -> Result<u64, Error> {
    copy_counting(body, sink, None).map_err(|e| match e {
        CopyError::Read(e) => Error::from_io("reading the body", e),
        CopyError::Write(e) => Error::output(destination, e),
    })
}

#[cfg(test)]
pub(crate) mod tests;
