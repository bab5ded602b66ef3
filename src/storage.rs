//! Where content comes from and goes to: local files, presigned object
//! storage URLs, stdout, and devices or named pipes.
//!
//! [`open`] gives a stream and, when known, its length; [`put`],
//! [`write_local`] and [`write_stdout`] send a [`Prepared`] body. Presigned
//! URLs carry their credentials in the query string, so every URL that
//! reaches a log line or an error goes through `redact::url`, and error
//! bodies of object storage are reduced to their `Code` and `Message` (some
//! S3 errors quote the signed request). This module does not decide how a
//! body is held until it is sent: that is [`crate::body`].

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use log::debug;
use ureq::Agent;
use ureq::http::Response;

use crate::body::{self, Opened, Prepared};
use crate::error::Error;
use crate::http::url::percent_decode_str;
use crate::http::{self, deadline, redact, retry};

/// Where an input is read from or an output written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// An `http://` or `https://` URL, usually presigned.
    Url(String),
    /// A local file.
    Path(PathBuf),
    /// Standard output (`-`), for outputs only.
    Stdout,
}

impl Place {
    /// `http://…` and `https://…` are URLs, `-` is stdout, anything else is
    /// a local path.
    pub fn parse(arg: &str) -> Place {
        let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Place::Url(arg.to_string())
        } else if arg == "-" {
            Place::Stdout
        } else {
            Place::Path(PathBuf::from(arg))
        }
    }

    /// The location as it may be printed: URLs without query string or
    /// user info.
    pub fn display(&self) -> String {
        match self {
            Place::Url(url) => redact::url(url),
            Place::Path(path) => path.display().to_string(),
            Place::Stdout => "stdout".to_string(),
        }
    }

    /// The last segment of the URL's path (percent-decoded, query ignored)
    /// or the file's name; `None` if there is none. This keeps the file
    /// extension, which DefectDojo's parsers look at.
    pub fn file_name(&self) -> Option<String> {
        let name = match self {
            Place::Url(url) => {
                let end = url.find(['?', '#']).unwrap_or(url.len());
                let without_query = &url[..end];
                let after_scheme = without_query
                    .split_once("://")
                    .map_or(without_query, |(_, rest)| rest);
                let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
                percent_decode_str(path.rsplit('/').next().unwrap_or(""))
            }
            Place::Path(path) => path.file_name()?.to_string_lossy().into_owned(),
            Place::Stdout => return None,
        };
        (!name.is_empty()).then_some(name)
    }
}

/// A reader whose plain I/O errors become an [`Error`] with context.
struct Labeled<R, F> {
    inner: R,
    label: F,
}

impl<R: Read, F: FnMut(io::Error) -> Error> Read for Labeled<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted
                || e.get_ref().is_some_and(|inner| inner.is::<Error>())
            {
                e
            } else {
                (self.label)(e).into_io()
            }
        })
    }
}

/// Opens an input: a local file (with its length) or a GET of a URL (with
/// its `Content-Length`, if it has one and no `Content-Encoding`).
///
/// `what` names the content in errors, e.g. `scan report`.
pub fn open(agent: &Agent, location: &Place, what: &str) -> Result<Opened<'static>, Error> {
    match location {
        Place::Path(path) => open_file(path, what),
        Place::Url(url) => open_url(agent, url, what),
        Place::Stdout => Err(Error::input(
            what,
            "'-' (stdout) can only be used for outputs; give a file path or a URL",
        )),
    }
}

fn open_file(path: &Path, what: &str) -> Result<Opened<'static>, Error> {
    let named = format!("{what} ({})", path.display());
    let mut reading = fs::OpenOptions::new();
    reading.read(true);
    let file = open_waiting(path, &reading, "writing").map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::input(&named, "not found: check the path"),
        io::ErrorKind::TimedOut => Error::input(&named, e.to_string()),
        io::ErrorKind::PermissionDenied => Error::input(
            &named,
            "permission denied: check the file's permissions and the container's user",
        ),
        _ => Error::io(format!("opening {named}"), e),
    })?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io(format!("opening {named}"), e))?;
    if meta.is_dir() {
        return Err(Error::input(&named, "is a directory, not a file"));
    }
    // Pipes and devices report a length of 0 whatever they deliver.
    let len = meta.is_file().then_some(meta.len());
    let label = format!("reading {named}");
    Ok(Opened {
        reader: Box::new(Labeled {
            inner: file,
            label: move |e| Error::io(&label, e),
        }),
        len,
    })
}

fn open_url(agent: &Agent, url: &str, what: &str) -> Result<Opened<'static>, Error> {
    let request = format!("{what}: GET {}", redact::url(url));
    let mut resp = retry::run(&request, &retry::POLICY, || {
        debug!("GET {}", redact::url(url));
        deadline::cap_transfer(agent.get(url)).call()
    })?;
    if !resp.status().is_success() {
        return Err(storage_error(&request, url, &mut resp));
    }
    // ureq is built without decompression: with a Content-Encoding the
    // bytes are passed on as they come, but their length is left to the
    // spool so that decoding could be added without a wrong length.
    let encoded = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    let len = if encoded {
        None
    } else {
        resp.body().content_length()
    };
    debug!(
        "{}: {}",
        redact::url(url),
        len.map_or("length unknown".to_string(), |n| format!("{n} bytes"))
    );
    Ok(Opened {
        reader: Box::new(Labeled {
            inner: resp.into_body().into_reader(),
            label: move |e| http::transport_error(&request, ureq::Error::from(e)),
        }),
        len,
    })
}

/// Uploads a body to a presigned URL with `PUT`.
///
/// The body is sent with its exact `Content-Length` (presigned URLs reject
/// chunked uploads) and without `Content-Type` (they are signed without
/// one), and with `Expect: 100-continue`, so that an expired or wrong URL
/// is refused with S3's message before gigabytes are sent. A non-2xx answer
/// becomes an [`Error::Http`] carrying the S3 error code and message.
pub fn put(agent: &Agent, url: &str, body: &mut Prepared<'_>, what: &str) -> Result<(), Error> {
    let shown = redact::url(url);
    let request = format!("{what}: PUT {shown}");
    debug!("PUT {shown} ({} bytes, {})", body.len(), body.mode());
    let len = body.len();
    // Each attempt reads the body again; a streamed body can be read once
    // only, so it gets one attempt.
    let policy = if body.rereadable() {
        retry::POLICY
    } else {
        retry::Policy {
            attempts: 1,
            ..retry::POLICY
        }
    };
    let mut resp = retry::run(&request, &policy, || {
        let mut reader = body.reader().map_err(|e| ureq::Error::Io(e.into_io()))?;
        deadline::cap_transfer(agent.put(url))
            .header("Content-Length", len.to_string())
            .header("Expect", "100-continue")
            .send(ureq::SendBody::from_reader(&mut reader))
    })?;
    if !resp.status().is_success() {
        return Err(storage_error(&request, url, &mut resp));
    }
    Ok(())
}

/// Writes a body to a local path.
///
/// A regular file (or a path that does not exist yet) is written
/// atomically: to a temp file in the same directory, renamed over it, so a
/// failed run never leaves a half-written file (an existing one is kept).
/// A symbolic link is followed: its target is written that way, in the
/// target's directory, and the link is kept (a mounted ConfigMap's path).
/// A device or a named pipe (`/dev/null`, `/dev/stdout`) is written in
/// place: a rename would replace the node itself with a regular file.
pub fn write_local(path: &Path, body: &mut Prepared<'_>) -> Result<(), Error> {
    let named = format!("writing {}", path.display());
    // The kernel follows the links to tell the kind: `/dev/stdout` links
    // to `/proc/self/fd/1`, whose link text (`pipe:[…]`) is no path.
    match fs::metadata(path) {
        Ok(meta) if is_stream(meta.file_type()) => write_in_place(path, body, &named),
        Ok(meta) if meta.is_dir() => Err(Error::input(&named, "is a directory: give a file path")),
        _ => {
            let target = follow_links(path).map_err(|e| Error::output(&named, e))?;
            write_atomic(&target, body, &named)
        }
    }
}

/// Devices and named pipes: written as they are, never replaced.
fn is_stream(kind: fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_char_device() || kind.is_block_device() || kind.is_fifo()
}

/// Limit of links followed, as the kernel's `ELOOP`.
const MAX_LINKS: usize = 40;

/// The path a chain of symbolic links ends at, which need not exist yet (a
/// dangling link names the file to create). Relative links are relative to
/// their own directory.
pub(crate) fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links: is there a loop?"
    )))
}

/// Streams a body into a device or named pipe; what was written before an
/// error (a full device) cannot be taken back.
fn write_in_place(path: &Path, body: &mut Prepared<'_>, named: &str) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    let mut file = open_waiting(path, &options, "reading").map_err(|e| Error::output(named, e))?;
    body::copy_to(&mut body.reader()?, &mut file, named)?;
    Ok(())
}

/// Opens `path`; a named pipe's open waits for its other end (`other_end`
/// is `reading` or `writing`), at most [`deadline::local_wait`]: a pipe
/// nobody opens must not block the run past its bounds.
pub(crate) fn open_waiting(
    path: &Path,
    options: &fs::OpenOptions,
    other_end: &str,
) -> io::Result<File> {
    use std::os::unix::fs::FileTypeExt;
    let fifo = fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
    if !fifo {
        return options.open(path);
    }
    // std cannot cancel a blocking open: it runs on a thread that is left
    // behind if the wait ends first (the run then ends with this error).
    let (tx, rx) = std::sync::mpsc::channel();
    let (owned, opening) = (path.to_path_buf(), options.clone());
    std::thread::spawn(move || tx.send(opening.open(owned)));
    let (wait, variable) = deadline::local_wait();
    rx.recv_timeout(wait).unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "is a named pipe (FIFO) that nothing opened for {other_end} within {} s \
                 ({variable}): start the other end first, or give a regular file",
                wait.as_secs_f64().ceil()
            ),
        ))
    })
}

/// Writes a body to a new file in `path`'s directory and renames it over
/// `path`.
fn write_atomic(path: &Path, body: &mut Prepared<'_>, named: &str) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map_or("output".into(), |n| n.to_string_lossy())
    );
    let (mut file, temp) =
        body::create_unique(dir, &prefix, false).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => {
                Error::input(named, "the directory does not exist: check the path")
            }
            _ => Error::output(
                format!("{named} (creating a temp file in {})", dir.display()),
                e,
            ),
        })?;
    let pending = Pending(Some(temp));
    body::copy_to(&mut body.reader()?, &mut file, named)?;
    file.sync_all().map_err(|e| Error::output(named, e))?;
    drop(file);
    pending.commit(path).map_err(|e| Error::output(named, e))
}

/// A temp file that is removed unless it was renamed into place.
struct Pending(Option<PathBuf>);

impl Pending {
    fn commit(mut self, target: &Path) -> io::Result<()> {
        match &self.0 {
            Some(temp) => fs::rename(temp, target).map(|()| self.0 = None),
            None => Ok(()),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(temp) = &self.0 {
            let _ = fs::remove_file(temp);
        }
    }
}

/// Writes a body to stdout. Unlike a file, stdout cannot be taken back: if
/// a second pass differs, what came before the error has been written.
pub fn write_stdout(body: &mut Prepared<'_>) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    body::copy_to(&mut body.reader()?, &mut out, "writing to stdout")?;
    Ok(())
}

/// Writes a body to any [`Place`]: [`put`], [`write_local`] or
/// [`write_stdout`].
pub fn store(
    agent: &Agent,
    location: &Place,
    body: &mut Prepared<'_>,
    what: &str,
) -> Result<(), Error> {
    match location {
        Place::Url(url) => put(agent, url, body, what),
        Place::Path(path) => write_local(path, body),
        Place::Stdout => write_stdout(body),
    }
}

/// The error for a non-2xx answer of object storage.
fn storage_error(request: &str, url: &str, resp: &mut Response<ureq::Body>) -> Error {
    let status = resp.status().as_u16();
    let body = http::read_prefix(resp, http::ERROR_BODY_LIMIT);
    let query = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q));
    Error::Http {
        what: request.to_string(),
        status,
        detail: storage_detail(status, &body, query),
    }
}

/// The useful part of an object storage error body, on one line.
///
/// S3 and MinIO answer with `<Error><Code>…</Code><Message>…</Message>…`;
/// only code and message are shown, because other elements
/// (`StringToSign`, `CanonicalRequest`, `AWSAccessKeyId`) quote the signed
/// request. Other bodies are shown only if they do not contain the query
/// string (`secret`) or anything that looks like a signature.
pub(crate) fn storage_detail(status: u16, body: &[u8], secret: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let code = xml_element(trimmed, "Code");
    let mut detail = match (&code, xml_element(trimmed, "Message")) {
        (Some(code), Some(message)) if !message.is_empty() => format!("{code}: {message}"),
        (Some(code), _) => code.clone(),
        (None, _) if trimmed.starts_with('<') => {
            "an XML or HTML answer without an error code".into()
        }
        (None, _) => http::one_line(trimmed, 300),
    };
    let leaks = secret.is_some_and(|q| !q.is_empty() && detail.contains(q))
        || ["signature", "x-amz-", "credential"]
            .iter()
            .any(|s| detail.to_ascii_lowercase().contains(s) && code.is_none());
    if leaks {
        detail = "(the answer is not shown: it quotes the signed URL)".into();
    }
    let hint = match (status, code.as_deref()) {
        (_, Some("SignatureDoesNotMatch")) => {
            "; the URL was signed for another method or other headers, or it was changed \
             after signing"
        }
        (403, _) => {
            "; presigned URLs expire (secureCodeBox signs them for 1 h by default): the URL \
             may have expired before this hook ran"
        }
        (404, _) | (_, Some("NoSuchKey")) => "; the object does not exist (yet)",
        _ => "",
    };
    format!("{}{hint}", http::one_line(&detail, 600))
}

/// The text of the first `<name>…</name>`, unescaped, on one line.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    let text = xml[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    Some(http::one_line(&text, 300))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Mode, Spool, prepare};
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    /// One request as the fake server saw it.
    #[derive(Debug)]
    struct SeenRequest {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// False when the client hung up before sending `Content-Length` bytes.
        complete: bool,
    }

    impl SeenRequest {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    /// What the fake answers to one connection.
    struct Reply {
        raw: Vec<u8>,
        /// Answer right after the headers, without reading the body (as S3
        /// does for `Expect: 100-continue` when it refuses the request).
        refuse_early: bool,
    }

    fn reply(status: u16, body: &[u8]) -> Reply {
        let mut raw = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(body);
        Reply {
            raw,
            refuse_early: false,
        }
    }

    /// A `Transfer-Encoding: chunked` answer: no length up front.
    fn chunked(body: &[u8]) -> Reply {
        let mut raw =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for chunk in body.chunks(1000) {
            raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            raw.extend_from_slice(chunk);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        Reply {
            raw,
            refuse_early: false,
        }
    }

    /// A std-only HTTP/1.1 server answering one connection per reply, in
    /// order; dropping it checks that every reply was asked for.
    struct Fake {
        url: String,
        rx: mpsc::Receiver<SeenRequest>,
        expected: usize,
        seen: Vec<SeenRequest>,
    }

    fn serve(replies: Vec<Reply>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        let expected = replies.len();
        thread::spawn(move || {
            for reply in replies {
                let (stream, _) = listener.accept().unwrap();
                let seen = handle(&stream, &reply);
                if tx.send(seen).is_err() {
                    return;
                }
            }
        });
        Fake {
            url,
            rx,
            expected,
            seen: Vec::new(),
        }
    }

    fn handle(stream: &TcpStream, reply: &Reply) -> SeenRequest {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':').unwrap();
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let mut seen = SeenRequest {
            method,
            path,
            headers,
            body: Vec::new(),
            complete: true,
        };
        let len: u64 = seen
            .header("content-length")
            .map_or(0, |v| v.parse().unwrap());
        let mut out = stream;
        if reply.refuse_early {
            out.write_all(&reply.raw).unwrap();
            seen.complete = len == 0;
            return seen;
        }
        if seen.header("expect") == Some("100-continue") {
            out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
        }
        // Read the whole body before answering (else the client sees a
        // reset); a chunked body is not read: the tests reject it.
        if seen.header("transfer-encoding").is_none() {
            let _ = (&mut reader).take(len).read_to_end(&mut seen.body);
            seen.complete = seen.body.len() as u64 == len;
        }
        if seen.complete {
            let _ = out.write_all(&reply.raw);
        }
        seen
    }

    impl Fake {
        /// The requests seen so far, waiting for those still in flight.
        fn requests(&mut self) -> &[SeenRequest] {
            while self.seen.len() < self.expected {
                match self.rx.recv_timeout(Duration::from_secs(10)) {
                    Ok(seen) => self.seen.push(seen),
                    Err(_) => break,
                }
            }
            &self.seen
        }
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            if !thread::panicking() {
                let got = self.requests().len();
                assert_eq!(
                    got, self.expected,
                    "the fake server was not called as expected"
                );
            }
        }
    }

    fn agent() -> Agent {
        http::agent(&http::Timeouts::default(), &http::Network::default())
    }

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    const SIGNED: &str = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101\
                          &X-Amz-Signature=deadbeefcafe";

    #[test]
    fn put_sends_exact_length_without_chunking_or_content_type() {
        let data = content(300_000);
        let mut fake = serve(vec![reply(200, b"")]);
        let spool = Spool::new(None, 1 << 20);
        let mut body = prepare("findings", &spool, Mode::Output, || {
            Ok(Opened::stream(&data[..]))
        })
        .unwrap();
        assert_eq!(body.mode(), "in memory");
        put(
            &agent(),
            &format!("{}/b/findings.json{SIGNED}", fake.url),
            &mut body,
            "findings",
        )
        .unwrap();
        let seen = &fake.requests()[0];
        assert_eq!(seen.method, "PUT");
        assert!(seen.path.starts_with("/b/findings.json?"));
        assert_eq!(seen.header("content-length"), Some("300000"));
        assert_eq!(seen.header("transfer-encoding"), None);
        assert_eq!(seen.header("content-type"), None);
        assert_eq!(seen.header("expect"), Some("100-continue"));
        assert!(seen.body == data);
    }

    #[test]
    fn url_without_length_is_spooled() {
        let data = content(250_000);
        let mut fake = serve(vec![chunked(&data)]);
        let url = format!("{}/b/scan/report.xml{SIGNED}", fake.url);
        let agent = agent();
        let dir = crate::body::tests::test_dir("source-spool");
        let spool = Spool::new(Some(dir.clone()), 0);
        let location = Place::parse(&url);
        let mut body = prepare("scan report", &spool, Mode::Input, || {
            let opened = open(&agent, &location, "scan report")?;
            assert_eq!(opened.len, None, "a chunked answer has no length");
            Ok(opened)
        })
        .unwrap();
        assert_eq!((body.mode(), body.len()), ("spooled", 250_000));
        let mut out = Vec::new();
        body.reader().unwrap().read_to_end(&mut out).unwrap();
        assert!(out == data);
        assert_eq!(fake.requests()[0].method, "GET");
        drop(body);
        fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn url_with_length_is_streamed() {
        let data = content(5000);
        let mut fake = serve(vec![reply(200, &data)]);
        let opened = open(
            &agent(),
            &Place::Url(format!("{}/r.json", fake.url)),
            "report",
        )
        .unwrap();
        assert_eq!(opened.len, Some(5000));
        let mut out = Vec::new();
        { opened.reader }.read_to_end(&mut out).unwrap();
        assert!(out == data);
        assert_eq!(fake.requests().len(), 1);
    }

    const EXPIRED: &[u8] =
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
        <Message>Request has expired</Message><Key>scan/findings.json</Key>\
        <StringToSign>AWS4-HMAC-SHA256 deadbeefcafe</StringToSign>\
        <CanonicalRequest>GET /b/x X-Amz-Credential=AKIAEXAMPLE</CanonicalRequest></Error>";

    #[test]
    fn forbidden_xml_becomes_a_readable_error_without_secrets() {
        let fake = serve(vec![reply(403, EXPIRED)]);
        let url = format!("{}/b/scan/findings.json{SIGNED}", fake.url);
        let err = open(&agent(), &Place::Url(url), "scan results")
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "scan results: GET {}/b/scan/findings.json?…: HTTP 403: AccessDenied: Request has expired; presigned URLs expire",
                fake.url
            )),
            "{msg}"
        );
        assert!(msg.contains("1 h"), "{msg}");
        for secret in ["deadbeef", "AKIA", "X-Amz", "Signature"] {
            assert!(!msg.contains(secret), "{secret} leaked: {msg}");
        }
        assert_eq!(err.exit_code(), crate::error::EXIT_REMOTE);
    }

    #[test]
    fn two_pass_body_over_http_arrives_byte_identical() {
        let data = content(400_000);
        let mut fake = serve(vec![chunked(&data), chunked(&data), reply(200, b"")]);
        let agent = agent();
        let input = Place::Url(format!("{}/in/report.json{SIGNED}", fake.url));
        let mut body = prepare("report", &Spool::new(None, 0), Mode::Input, || {
            open(&agent, &input, "report")
        })
        .unwrap();
        assert_eq!((body.mode(), body.len()), ("two passes", 400_000));
        put(
            &agent,
            &format!("{}/out/report.json{SIGNED}", fake.url),
            &mut body,
            "report",
        )
        .unwrap();
        let seen = fake.requests();
        let methods: Vec<_> = seen.iter().map(|s| s.method.as_str()).collect();
        assert_eq!(methods, ["GET", "GET", "PUT"]);
        assert_eq!(seen[2].header("content-length"), Some("400000"));
        assert_eq!(seen[2].header("transfer-encoding"), None);
        assert!(seen[2].body == data, "byte-identical");
    }

    #[test]
    fn a_changed_second_pass_never_reaches_the_server_complete() {
        let data = content(400_000);
        let mut changed = data.clone();
        changed[399_999] ^= 0xff;
        let mut fake = serve(vec![chunked(&data), chunked(&changed), reply(200, b"")]);
        let agent = agent();
        let input = Place::Url(format!("{}/in/report.json", fake.url));
        let mut body = prepare("report", &Spool::new(None, 0), Mode::Input, || {
            open(&agent, &input, "report")
        })
        .unwrap();
        let err = put(
            &agent,
            &format!("{}/out{SIGNED}", fake.url),
            &mut body,
            "report",
        )
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .starts_with("report: the second pass produced different content"),
            "{err}"
        );
        let put_seen = &fake.requests()[2];
        assert!(
            !put_seen.complete,
            "the server must not get a complete body"
        );
        assert!(put_seen.body.len() < 400_000);
    }

    #[test]
    fn a_refused_put_reports_s3s_message_before_sending_the_body() {
        let mut refused = reply(403, EXPIRED);
        refused.refuse_early = true;
        let mut fake = serve(vec![refused]);
        let data = content(1 << 20);
        let read = std::cell::Cell::new(0usize);
        struct Counting<'a>(&'a [u8], &'a std::cell::Cell<usize>);
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1.set(self.1.get() + n);
                Ok(n)
            }
        }
        let mut body = prepare("findings", &Spool::new(None, 0), Mode::Input, || {
            Ok(Opened::sized(Counting(&data, &read), data.len() as u64))
        })
        .unwrap();
        let err = put(
            &agent(),
            &format!("{}/b/f.json{SIGNED}", fake.url),
            &mut body,
            "findings",
        )
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .contains("HTTP 403: AccessDenied: Request has expired"),
            "{err}"
        );
        assert_eq!(read.get(), 0, "Expect: 100-continue spared the upload");
        assert!(!fake.requests()[0].complete);
    }

    #[test]
    fn missing_and_odd_local_inputs() {
        let err = open(
            &agent(),
            &Place::parse("/nonexistent/zap.xml"),
            "scan report",
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "scan report (/nonexistent/zap.xml): not found: check the path"
        );
        assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);
        let dir = std::env::temp_dir();
        let err = open(&agent(), &Place::Path(dir), "scan report")
            .err()
            .unwrap();
        assert!(
            err.to_string().ends_with("is a directory, not a file"),
            "{err}"
        );
        let err = open(&agent(), &Place::Stdout, "scan report").err().unwrap();
        assert!(err.to_string().contains("only be used for outputs"));
    }

    #[test]
    fn local_file_has_its_length() {
        let dir = crate::body::tests::test_dir("local");
        let path = dir.join("report.json");
        fs::write(&path, b"[1,2,3]").unwrap();
        let opened = open(&agent(), &Place::Path(path.clone()), "report").unwrap();
        assert_eq!(opened.len, Some(7));
        fs::remove_file(&path).unwrap();
        fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn write_local_is_atomic() {
        let dir = crate::body::tests::test_dir("write");
        let target = dir.join("findings.json");
        fs::write(&target, b"old").unwrap();
        let data = content(100_000);
        let mut body = prepare("findings", &Spool::new(None, 1 << 20), Mode::Output, || {
            Ok(Opened::stream(&data[..]))
        })
        .unwrap();
        write_local(&target, &mut body).unwrap();
        assert!(fs::read(&target).unwrap() == data);

        // A second pass that differs: the old file stays, no temp file is left.
        let passes = [data.clone(), data[..10].to_vec()];
        let n = std::cell::Cell::new(0);
        let mut body = prepare("findings", &Spool::new(None, 0), Mode::Output, || {
            let pass = &passes[n.get()];
            n.set(n.get() + 1);
            Ok(Opened::stream(&pass[..]))
        })
        .unwrap();
        fs::write(&target, b"old").unwrap();
        let err = write_local(&target, &mut body).err().unwrap();
        assert!(err.to_string().contains("second pass"), "{err}");
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temp file left behind"
        );

        let err = write_local(&dir.join("missing/x.json"), &mut body)
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("the directory does not exist"),
            "{err}"
        );
        fs::remove_file(&target).unwrap();
        fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn locations_parse_display_and_name() {
        let url = format!("HTTPS://u:p@minio:9000/bucket/scan-1/zap%20report.xml{SIGNED}#x");
        let loc = Place::parse(&url);
        assert_eq!(loc, Place::Url(url.clone()));
        assert_eq!(
            loc.display(),
            "HTTPS://minio:9000/bucket/scan-1/zap%20report.xml?…"
        );
        assert_eq!(loc.file_name().as_deref(), Some("zap report.xml"));
        assert_eq!(Place::parse("http://host").file_name(), None);
        assert_eq!(Place::parse("http://host/dir/?a=b").file_name(), None);
        assert_eq!(
            Place::parse("http://host/a%2").file_name().as_deref(),
            Some("a%2")
        );
        assert_eq!(Place::parse("-"), Place::Stdout);
        assert_eq!(Place::Stdout.display(), "stdout");
        assert_eq!(Place::Stdout.file_name(), None);
        let path = Place::parse("./out/findings.json");
        assert_eq!(path, Place::Path(PathBuf::from("./out/findings.json")));
        assert_eq!(path.file_name().as_deref(), Some("findings.json"));
        assert_eq!(path.display(), "./out/findings.json");
        assert!(matches!(Place::parse("httpx.json"), Place::Path(_)));
    }

    #[test]
    fn storage_details() {
        assert_eq!(
            storage_detail(404, b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>", None),
            "NoSuchKey: The specified key does not exist.; the object does not exist (yet)"
        );
        let d = storage_detail(403, b"<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message><StringToSign>x</StringToSign></Error>", Some("X-Amz-Signature=abc"));
        assert!(d.starts_with("SignatureDoesNotMatch: The request signature we calculated does not match; the URL was signed"), "{d}");
        assert_eq!(
            storage_detail(500, b"<html><body>oops</body></html>", None),
            "an XML or HTML answer without an error code"
        );
        assert_eq!(
            storage_detail(502, b"upstream  timed out", None),
            "upstream timed out"
        );
        let leak = storage_detail(
            400,
            b"bad request a=1&X-Amz-Signature=abc",
            Some("a=1&X-Amz-Signature=abc"),
        );
        assert!(!leak.contains("abc"), "{leak}");
        assert_eq!(
            storage_detail(403, b"<Error><Code>A&amp;B</Code></Error>", None)
                .split(';')
                .next(),
            Some("A&B")
        );
    }

    // The multipart form around it (dojo/multipart.rs) is tested there and,
    // in two-pass mode against the fake DefectDojo, by
    // tests/it/import.rs::two_pass_mode_without_a_writable_temp_dir.
    #[test]
    fn a_two_pass_report_is_sent_with_its_exact_length() {
        let data = content(300_000);
        let mut fake = serve(vec![chunked(&data), chunked(&data), reply(201, b"{}")]);
        let agent = agent();
        let input = Place::parse(&format!("{}/b/scan-1/zap-report.xml{SIGNED}", fake.url));
        let mut body = prepare("scan report", &Spool::new(None, 0), Mode::Input, || {
            open(&agent, &input, "scan report")
        })
        .unwrap();
        let len = body.len();
        let resp = agent
            .post(format!("{}/upload/zap-report.xml", fake.url))
            .header("Content-Length", len.to_string())
            .send(ureq::SendBody::from_reader(&mut body.reader().unwrap()))
            .unwrap();
        assert_eq!(resp.status(), 201);
        let seen = &fake.requests()[2];
        assert_eq!(
            seen.header("content-length"),
            Some(len.to_string().as_str())
        );
        assert_eq!(seen.header("transfer-encoding"), None);
        assert_eq!(len, data.len() as u64);
        assert!(seen.body == data);
    }

    #[test]
    fn encoded_answers_have_no_length() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\
                    Connection: close\r\n\r\nabc"
            .to_vec();
        let mut fake = serve(vec![Reply {
            raw,
            refuse_early: false,
        }]);
        let opened = open(
            &agent(),
            &Place::Url(format!("{}/r.json.gz", fake.url)),
            "r",
        )
        .unwrap();
        assert_eq!(opened.len, None);
        assert_eq!(fake.requests().len(), 1);
    }
}
