//! Unit tests of [`crate::body`] with in-memory sources.

use super::*;
use std::cell::Cell;
use std::fs;
use std::rc::Rc;

/// A fresh, empty directory for one test.
pub(crate) fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(temp::unique_name(&format!("dojo-hook-test-{name}-")));
    fs::create_dir(&dir).unwrap();
    dir
}

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 253) as u8).collect()
}

/// Reads a prepared body as ureq would (until Ok(0) or an error).
fn send(body: &mut Prepared<'_>) -> (Vec<u8>, Option<Error>) {
    let mut out = Vec::new();
    let mut reader = match body.reader() {
        Ok(r) => r,
        Err(e) => return (out, Some(e)),
    };
    let mut buf = vec![0u8; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(Error::from_io("sending", e))),
        }
    }
}

fn send_ok(body: &mut Prepared<'_>) -> Vec<u8> {
    let (out, err) = send(body);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(out.len() as u64, body.len());
    out
}

/// A source that yields `passes[i]` on the i-th open, and counts opens.
fn source<'a>(
    passes: &'a [Vec<u8>],
    opens: &'a Cell<usize>,
) -> impl FnMut() -> Result<Opened<'a>, Error> + 'a {
    move || {
        let i = opens.get();
        opens.set(i + 1);
        let pass = passes
            .get(i)
            .ok_or_else(|| Error::input("test", "opened too often"))?;
        Ok(Opened::stream(&pass[..]))
    }
}

fn no_dir(memory: u64) -> Spool {
    Spool::new(None, memory)
}

#[test]
fn known_length_is_streamed_and_checked() {
    let data = content(10_000);
    let mut body = prepare("report", &no_dir(0), Mode::Input, || {
        Ok(Opened::sized(&data[..], 10_000))
    })
    .unwrap();
    assert_eq!((body.mode(), body.len()), ("streamed", 10_000));
    assert_eq!(send_ok(&mut body), data);
    let (_, err) = send(&mut body);
    assert!(err.unwrap().to_string().contains("cannot be sent again"));

    // A file that shrank after its length was taken.
    let mut short = prepare("report (r.xml)", &no_dir(0), Mode::Input, || {
        Ok(Opened::sized(&data[..9_000], 10_000))
    })
    .unwrap();
    let (out, err) = send(&mut short);
    assert_eq!(out.len(), 9_000);
    let err = err.expect("a short stream must fail");
    assert!(
        err.to_string()
            .contains("changed while it was being sent (9000 bytes vs 10000"),
        "{err}"
    );
    assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);
}

#[test]
fn unknown_length_is_spooled_to_a_private_file_that_disappears() {
    let dir = test_dir("spool");
    let passes = [content(200_000)];
    let opens = Cell::new(0);
    let mut body = prepare(
        "report",
        &Spool::new(Some(dir.clone()), 0),
        Mode::Input,
        source(&passes, &opens),
    )
    .unwrap();
    assert_eq!((body.mode(), body.len()), ("spooled", 200_000));
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        0,
        "the spool file has no name"
    );
    assert_eq!(send_ok(&mut body), passes[0]);
    assert_eq!(send_ok(&mut body), passes[0], "a spooled body is rewound");
    assert_eq!(opens.get(), 1, "spooling reads the source once");
    drop(body);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    fs::remove_dir(&dir).unwrap();
}

#[test]
fn a_failing_source_leaves_no_temp_file() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(Error::input("report (x)", "broke halfway").into_io());
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(b'x');
            self.0 -= n;
            Ok(n)
        }
    }
    let dir = test_dir("broken");
    let err = prepare(
        "report",
        &Spool::new(Some(dir.clone()), 0),
        Mode::Input,
        || Ok(Opened::stream(Broken(100_000))),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "report (x): broke halfway",
        "the source's own error is kept"
    );
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    fs::remove_dir(&dir).unwrap();
}

#[test]
fn outputs_stay_in_memory_up_to_the_limit() {
    let passes = [content(1000)];
    let opens = Cell::new(0);
    let mut body = prepare(
        "findings",
        &no_dir(1000),
        Mode::Output,
        source(&passes, &opens),
    )
    .unwrap();
    assert_eq!((body.mode(), body.len()), ("in memory", 1000));
    assert_eq!(send_ok(&mut body), passes[0]);
    assert_eq!(opens.get(), 1);

    let empty = [Vec::new()];
    let opens = Cell::new(0);
    let mut body = prepare(
        "findings",
        &no_dir(1000),
        Mode::Output,
        source(&empty, &opens),
    )
    .unwrap();
    assert_eq!((body.mode(), body.len()), ("in memory", 0));
    assert!(body.is_empty() && send_ok(&mut body).is_empty());
}

#[test]
fn over_the_memory_limit_becomes_two_passes() {
    let data = content(1001);
    let passes = [data.clone(), data.clone()];
    let opens = Cell::new(0);
    let mut body = prepare(
        "findings",
        &no_dir(1000),
        Mode::Output,
        source(&passes, &opens),
    )
    .unwrap();
    assert_eq!((body.mode(), body.len()), ("two passes", 1001));
    assert_eq!(opens.get(), 1);
    assert_eq!(send_ok(&mut body), data);
    assert_eq!(opens.get(), 2);
}

#[test]
fn inputs_without_a_dir_use_two_passes_not_memory() {
    let data = content(70_000);
    let passes = [data.clone(), data.clone()];
    let opens = Cell::new(0);
    let mut body = prepare(
        "report",
        &no_dir(1 << 30),
        Mode::Input,
        source(&passes, &opens),
    )
    .unwrap();
    assert_eq!((body.mode(), body.len()), ("two passes", 70_000));
    assert_eq!(send_ok(&mut body), data);
}

#[test]
fn a_shorter_or_longer_second_pass_fails() {
    let data = content(10_000);
    let passes = [data.clone(), data[..9_999].to_vec()];
    let opens = Cell::new(0);
    let mut body = prepare(
        "findings",
        &no_dir(0),
        Mode::Output,
        source(&passes, &opens),
    )
    .unwrap();
    let (out, err) = send(&mut body);
    assert_eq!(out.len(), 9_999);
    let err = err.expect("short second pass").to_string();
    assert!(
        err.contains("the second pass produced different content (9999 bytes vs 10000): the source changed between passes"),
        "{err}"
    );

    let mut longer = data.clone();
    longer.push(0);
    let passes = [data.clone(), longer];
    let opens = Cell::new(0);
    let mut body = prepare(
        "findings",
        &no_dir(0),
        Mode::Output,
        source(&passes, &opens),
    )
    .unwrap();
    let (out, err) = send(&mut body);
    assert!(out.len() < data.len(), "the completing bytes are withheld");
    assert!(
        err.unwrap()
            .to_string()
            .contains("more than 10000 bytes vs 10000")
    );
}

#[test]
fn a_different_second_pass_is_caught_before_the_last_byte() {
    let data = content(50_000);
    let mut changed = data.clone();
    changed[49_999] ^= 1;
    let passes = [data.clone(), changed];
    let opens = Cell::new(0);
    let mut body = prepare(
        "findings",
        &no_dir(0),
        Mode::Output,
        source(&passes, &opens),
    )
    .unwrap();
    let (out, err) = send(&mut body);
    assert!(
        out.len() < data.len(),
        "never a complete body: got {} bytes",
        out.len()
    );
    assert_eq!(out[..], data[..out.len()]);
    let err = err.expect("different content");
    assert!(
        err.to_string()
            .contains("50000 bytes both times, but different bytes"),
        "{err}"
    );
}

#[test]
fn a_second_pass_announcing_another_length_fails_before_sending() {
    let data = content(100);
    let calls = Rc::new(Cell::new(0));
    let seen = Rc::clone(&calls);
    let mut body = prepare("report", &no_dir(0), Mode::Input, move || {
        seen.set(seen.get() + 1);
        Ok(Opened {
            reader: Box::new(io::Cursor::new(data.clone())),
            len: if seen.get() == 1 { None } else { Some(99) },
        })
    })
    .unwrap();
    let err = body.reader().err().expect("must fail at once");
    assert!(err.to_string().contains("(99 bytes vs 100)"), "{err}");
    assert_eq!(calls.get(), 2);
}

#[test]
fn a_full_spool_dir_falls_back_to_two_passes() {
    /// Accepts `room` bytes, then fails like a full tmpfs.
    struct Full(usize);
    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            let n = buf.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let data = content(300_000);
    let mut source: &[u8] = &data;
    let mut digest = Digest::new();
    let err = copy_counting(&mut source, &mut Full(100_000), Some(&mut digest)).err();
    assert!(matches!(err, Some(CopyError::Write(ref e)) if is_out_of_space(e)));
    // What was consumed is counted; counting the rest gives the whole.
    copy_counting(&mut source, &mut io::sink(), Some(&mut digest))
        .ok()
        .unwrap();
    let mut whole = Digest::new();
    whole.update(&data);
    assert_eq!(digest, whole);
}

#[test]
fn spool_probe_tells_writable_from_read_only() {
    let dir = test_dir("probe");
    let spool = Spool::from_env_values(dir.to_str(), 8);
    assert_eq!(spool.dir(), Some(dir.as_path()));
    assert_eq!(spool.memory_limit(), 8 * 1024 * 1024);
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        0,
        "the probe file is removed"
    );
    fs::remove_dir(&dir).unwrap();

    let missing = dir.join("does-not-exist");
    let spool = Spool::from_env_values(missing.to_str(), 8);
    assert_eq!(spool.dir(), None);
    assert_eq!(
        Spool::from_env_values(Some(""), 0)
            .dir()
            .map(Path::to_path_buf)
            .is_some(),
        Path::new(DEFAULT_TMPDIR).is_dir()
    );
}
