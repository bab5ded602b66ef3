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

/// Length and a 64-bit hash of the bytes seen so far.
///
/// The hash takes 32 bytes per step, in four independent lanes of eight
/// (xor the word in, multiply, fold the high half down), so that the
/// multiplies overlap: it runs at memory speed, where FNV-1a (one multiply per
/// byte) cost a tenth of a second of CPU per 100 MB spooled. It is not a
/// cryptographic hash. It detects a source that changed between two passes (a
/// re-generated report, a replaced object), which is all it is for: whoever
/// controls the source controls the body anyway. Every step is a bijection of
/// its lane, so a change within one 8-byte word always changes the lane; the
/// fold keeps a one-bit change from surviving as one bit into the next step
/// (where a change of the next word could cancel it, FxHash's weakness).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest {
    /// Bytes seen.
    pub len: u64,
    lanes: [u64; 4],
    /// The bytes of an unfinished block (`len % 32` of them), zero-padded, so
    /// that equal content gives equal digests however it was split.
    tail: [u8; 32],
}

impl Digest {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    const SEEDS: [u64; 4] = [
        0xcbf2_9ce4_8422_2325,
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
    ];

    pub fn new() -> Digest {
        Digest {
            len: 0,
            lanes: Digest::SEEDS,
            tail: [0; 32],
        }
    }

    fn mix(&mut self, block: &[u8]) {
        for (lane, word) in self.lanes.iter_mut().zip(block.chunks_exact(8)) {
            // chunks_exact(8) yields 8-byte slices
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            let x = (*lane ^ w).wrapping_mul(Digest::K);
            *lane = x ^ (x >> 32);
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        let pending = (self.len % 32) as usize;
        self.len += bytes.len() as u64;
        let mut rest = bytes;
        if pending > 0 {
            let take = rest.len().min(32 - pending);
            self.tail[pending..pending + take].copy_from_slice(&rest[..take]);
            rest = &rest[take..];
            if pending + take < 32 {
                return;
            }
            let block = self.tail;
            self.mix(&block);
            self.tail = [0; 32];
        }
        let mut blocks = rest.chunks_exact(32);
        for block in &mut blocks {
            self.mix(block);
        }
        let left = blocks.remainder();
        self.tail[..left.len()].copy_from_slice(left);
    }

    /// The hash of everything seen (and its length).
    pub fn value(&self) -> u64 {
        let mut last = *self;
        let tail = self.tail;
        last.mix(&tail);
        let mut h = self.len.wrapping_mul(Digest::K);
        for lane in last.lanes {
            h = (h.rotate_left(29) ^ lane).wrapping_mul(Digest::K);
        }
        // murmur3's finaliser, so that every input bit reaches every output bit
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
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
    state: VerifyState,
}

#[derive(PartialEq, Eq)]
enum VerifyState {
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
            state: VerifyState::Reading,
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
            if first.value() != self.seen.value() {
                return Err(self.fail(Mismatch::Different));
            }
        }
        self.state = VerifyState::Done;
        Ok(())
    }

    fn fail_with(&mut self, err: io::Error) -> io::Error {
        self.state = VerifyState::Failed;
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
            VerifyState::Done => return Ok(0),
            // Never a quiet Ok(0) after a failure: ureq would take it for
            // the end of the body (see the module docs).
            VerifyState::Failed => {
                return Err(
                    Error::protocol(&self.what, "reading the body after it failed").into_io(),
                );
            }
            VerifyState::Reading => {}
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
        match self.expect {
            // Only a second pass is compared by content; an announced length
            // needs no hash (it would cost a tenth of the upload's CPU).
            Expect::SecondPass(_) => self.seen.update(&buf[..n]),
            Expect::Announced(_) => self.seen.len += n as u64,
        }
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
    fn digest_does_not_depend_on_how_the_bytes_are_split() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        let whole = digest_of(&data);
        for a in 0..data.len() {
            for b in [a, a + 1, a + 31, a + 32, a + 33, data.len()] {
                let b = b.min(data.len());
                let mut split = Digest::new();
                split.update(&data[..a]);
                split.update(&data[a..b]);
                split.update(&data[b..]);
                assert_eq!(split, whole, "split at {a} and {b}");
                assert_eq!(split.value(), whole.value());
            }
        }
        assert_eq!(whole.len, 200);
    }

    #[test]
    fn digest_tells_different_content_apart() {
        let data: Vec<u8> = (0..100u8).collect();
        let base = digest_of(&data).value();
        let mut seen = std::collections::HashSet::new();
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut changed = data.clone();
                changed[i] ^= 1 << bit;
                let v = digest_of(&changed).value();
                assert_ne!(v, base, "byte {i} bit {bit}");
                assert!(seen.insert(v), "byte {i} bit {bit} collides");
            }
        }
        // length counts, also for trailing zeros and for swapped words
        assert_ne!(digest_of(b"abc").value(), digest_of(b"abc\0").value());
        assert_ne!(digest_of(b"").value(), digest_of(b"\0").value());
        let (x, y) = ([1u8; 32], [2u8; 32]);
        assert_ne!(
            digest_of(&[x, y].concat()).value(),
            digest_of(&[y, x].concat()).value()
        );
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
