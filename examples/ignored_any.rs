//! The benchmark's baseline for conversion speed: a bare serde_json pass over
//! findings.json that checks the JSON and keeps nothing.
//!
//! ```text
//! cargo run --release --example ignored_any -- [--slice] findings.json
//! ```
//!
//! By default `serde_json::from_reader` over a 64 KiB `BufReader`,
//! deserialising into `serde::de::IgnoredAny`: the cheapest way serde_json
//! reads a file of any size in constant memory, and the baseline the
//! benchmark reports. `--slice` reads the whole file into memory first and
//! times only `serde_json::from_slice` (a stricter baseline: no reader
//! overhead, but memory grows with the file). Prints one line to stderr:
//! bytes, seconds and throughput.

use std::fs::File;
use std::io::{self, BufReader};
use std::process::ExitCode;
use std::time::Instant;

use serde::de::IgnoredAny;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let slice = args.first().is_some_and(|a| a == "--slice");
    if slice {
        args.remove(0);
    }
    let Some(path) = args.first() else {
        eprintln!("usage: ignored_any [--slice] FINDINGS_JSON");
        return ExitCode::from(2);
    };
    match run(path, slice) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ignored_any: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str, slice: bool) -> io::Result<()> {
    let file = File::open(path)?;
    let input = file.metadata()?.len();
    let (how, secs) = if slice {
        let bytes = std::fs::read(path)?;
        let started = Instant::now();
        let IgnoredAny = serde_json::from_slice(&bytes)?;
        ("from_slice", started.elapsed().as_secs_f64())
    } else {
        let started = Instant::now();
        let IgnoredAny = serde_json::from_reader(BufReader::with_capacity(64 * 1024, file))?;
        ("from_reader", started.elapsed().as_secs_f64())
    };
    eprintln!(
        "ignored_any ({how}): {input} bytes, {secs:.3} s, {:.1} MB/s",
        input as f64 / secs / 1e6
    );
    Ok(())
}
