//! Checking a body stream against what was announced for it.
//!
//! A body is sent with a `Content-Length` taken from metadata, a
//! `Content-Length` answer, or a first (counting) pass. If the stream that is
//! actually sent differs, the request must fail *before* the server has a
//! complete body: [`Verified`] therefore withholds the bytes that complete the
//! body until it has seen the end of the stream and checked the hash.
//!
//! It also protects against a ureq 3.5.2 behaviour: a reader body that ends
//! before its `Content-Length` makes ureq spin, re-reading the finished
//! reader until a timeout (none is set for the whole call), instead of
//! failing. A short stream here is an error, never a quiet `Ok(0)`.

use std::io::{self, ErrorKind, Read};

use crate::error::Error;

/// Length and FNV-1a 64-bit hash of the bytes seen so far.
///
/// FNV-1a is not a cryptographic hash. It detects a source that changed
/// between two passes (a re-generated report, a replaced object), which is
/// all it is for: whoever controls the source controls the body anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest {
    /// Bytes seen.
    pub len: u64,
    /// FNV-1a over those bytes.
    pub hash: u64,
}

impl Digest {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub fn new() -> Digest {
        Digest {
            len: 0,
            hash: Digest::OFFSET_BASIS,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        let mut hash = self.hash;
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(Digest::PRIME);
        }
        self.hash = hash;
        self.len += bytes.len() as u64;
    }
}

/// What the stream is checked against, which also decides the error.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    /// A length announced before reading (file metadata, `Content-Length`):
    /// a mismatch means the source changed while it was being sent.
    Announced(u64),
    /// Length and hash of the first pass: a mismatch means the source
    /// produced different content the second time.
    SecondPass(Digest),
}

impl Expect {
    fn len(self) -> u64 {
        match self {
            Expect::Announced(len) => len,
            Expect::SecondPass(d) => d.len,
        }
    }
}

/// The ways a stream can differ from what was expected.
enum Mismatch {
    Shorter(u64),
    Longer,
    Different,
}

/// A reader that yields exactly the expected bytes or fails.
///
/// The read that would complete the body first confirms the end of the
/// inner stream and, for a second pass, the hash over all bytes; on a
/// mismatch it returns an error instead of those bytes.
pub(crate) struct Verified<R> {
    inner: R,
    what: String,
    expect: Expect,
    seen: Digest,
    state: State,
}

#[derive(PartialEq, Eq)]
enum State {
    Reading,
    Done,
    Failed,
}

impl<R: Read> Verified<R> {
    pub fn new(inner: R, what: &str, expect: Expect) -> Verified<R> {
        Verified {
            inner,
            what: what.to_string(),
            expect,
            seen: Digest::new(),
            state: State::Reading,
        }
    }

    /// Called once all expected bytes were read: the stream must end here
    /// and, for a second pass, hash to the first pass's value.
    fn finish(&mut self) -> io::Result<()> {
        let mut probe = [0u8; 1];
        loop {
            match self.inner.read(&mut probe) {
                Ok(0) => break,
                Ok(_) => return Err(self.fail(Mismatch::Longer)),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fail_with(e)),
            }
        }
        if let Expect::SecondPass(first) = self.expect {
            if first.hash != self.seen.hash {
                return Err(self.fail(Mismatch::Different));
            }
        }
        self.state = State::Done;
        Ok(())
    }

    fn fail_with(&mut self, err: io::Error) -> io::Error {
        self.state = State::Failed;
        err
    }

    fn fail(&mut self, mismatch: Mismatch) -> io::Error {
        let expected = self.expect.len();
        let got = match mismatch {
            Mismatch::Shorter(got) => format!("{got} bytes vs {expected}"),
            Mismatch::Longer => format!("more than {expected} bytes vs {expected}"),
            Mismatch::Different => format!("{expected} bytes both times, but different bytes"),
        };
        let err = match self.expect {
            Expect::Announced(_) => Error::input(
                &self.what,
                format!(
                    "changed while it was being sent ({got} announced); \
                     make sure nothing writes to it during the run"
                ),
            ),
            Expect::SecondPass(_) => Error::protocol(
                &self.what,
                format!(
                    "the second pass produced different content ({got}): the \
                     source changed between passes; with a writable TMPDIR (e.g. an emptyDir \
                     volume) it is produced only once"
                ),
            ),
        };
        self.fail_with(err.into_io())
    }
}

impl<R: Read> Read for Verified<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.state {
            State::Done => return Ok(0),
            // Never a quiet Ok(0) after a failure: ureq would take it for
            // the end of the body (see the module docs).
            State::Failed => {
                return Err(
                    Error::protocol(&self.what, "reading the body after it failed").into_io(),
                );
            }
            State::Reading => {}
        }
        let remaining = self.expect.len() - self.seen.len;
        if remaining == 0 {
            self.finish()?;
            return Ok(0);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Never read past the expected end into the caller's buffer: those
        // bytes would be sent before we could object.
        let want = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = loop {
            match self.inner.read(&mut buf[..want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fail_with(e)),
            }
        };
        if n == 0 {
            return Err(self.fail(Mismatch::Shorter(self.seen.len)));
        }
        self.seen.update(&buf[..n]);
        if self.seen.len == self.expect.len() {
            // These n bytes complete the body: withhold them unless the
            // whole stream checks out.
            self.finish()?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(bytes: &[u8]) -> Digest {
        let mut d = Digest::new();
        d.update(bytes);
        d
    }

    /// Reads like ureq does: until Ok(0) or an error; returns what was
    /// delivered and the error, if any.
    fn drain(mut r: impl Read, chunk: usize) -> (Vec<u8>, Option<Error>) {
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(Error::from_io("test", e))),
            }
        }
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(Digest::new().hash, 0xcbf2_9ce4_8422_2325);
        assert_eq!(digest_of(b"a").hash, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(digest_of(b"foobar").hash, 0x8594_4171_f739_67e8);
        let mut split = Digest::new();
        split.update(b"foo");
        split.update(b"bar");
        assert_eq!(split, digest_of(b"foobar"));
    }

    #[test]
    fn exact_stream_passes_in_any_chunking() {
        let data = b"hello world, this is the body";
        for chunk in [1, 3, 7, 64] {
            let v = Verified::new(&data[..], "b", Expect::SecondPass(digest_of(data)));
            let (out, err) = drain(v, chunk);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(out, data);
        }
        let (out, err) = drain(Verified::new(&b""[..], "b", Expect::Announced(0)), 4);
        assert!(err.is_none() && out.is_empty());
    }

    #[test]
    fn short_stream_fails_instead_of_ending() {
        let v = Verified::new(&b"abc"[..], "report", Expect::Announced(5));
        let (out, err) = drain(v, 2);
        assert_eq!(out, b"abc");
        let msg = err.expect("must fail").to_string();
        assert!(msg.contains("3 bytes vs 5"), "{msg}");
    }

    #[test]
    fn long_stream_withholds_the_last_bytes() {
        let v = Verified::new(&b"abcdef"[..], "report", Expect::Announced(4));
        let (out, err) = drain(v, 2);
        assert_eq!(out, b"ab", "the completing chunk must be withheld");
        let msg = err.expect("must fail").to_string();
        assert!(msg.contains("more than 4 bytes"), "{msg}");
    }

    #[test]
    fn different_second_pass_is_caught_before_the_last_byte() {
        let first = digest_of(b"abcdef");
        let v = Verified::new(&b"abcdeX"[..], "findings", Expect::SecondPass(first));
        let (out, err) = drain(v, 1);
        assert_eq!(out, b"abcde", "never a complete body");
        let err = err.expect("must fail");
        assert!(
            err.to_string().contains(
                "second pass produced different content (6 bytes both times, but different bytes)"
            ),
            "{err}"
        );
        assert_eq!(err.exit_code(), crate::error::EXIT_REMOTE);
    }

    #[test]
    fn failure_is_sticky() {
        let mut v = Verified::new(&b"ab"[..], "x", Expect::Announced(3));
        let mut buf = [0u8; 8];
        assert_eq!(v.read(&mut buf).unwrap(), 2);
        assert!(v.read(&mut buf).is_err());
        assert!(
            v.read(&mut buf).is_err(),
            "a failed body never reads as ended"
        );
    }
}
