//! Conversion alone, for the benchmark: findings.json → Generic Findings
//! Import JSON through the library's [`GenericReader`], written to a sink.
//!
//! ```text
//! cargo run --release --example convert -- findings.json [OUT]
//! ```
//!
//! Reads the file through a 64 KiB `BufReader` (as the pipeline does) and
//! prints one line to stderr: input bytes, output bytes, findings and the
//! throughput over the input. OUT defaults to nothing (an `io::sink`).

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::process::ExitCode;
use std::time::Instant;

use dojo_hook::convert::generic::{GenericReader, MAX_FINDING_BYTES};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: convert FINDINGS_JSON [OUT]");
        return ExitCode::from(2);
    };
    match run(path, args.get(1).map(String::as_str)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("convert: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str, out: Option<&str>) -> io::Result<()> {
    let file = File::open(path)?;
    let input = file.metadata()?.len();
    let started = Instant::now();
    let mut reader =
        GenericReader::new(BufReader::with_capacity(64 * 1024, file), MAX_FINDING_BYTES);
    let mut sink: Box<dyn Write> = match out {
        Some(p) => Box::new(File::create(p)?),
        None => Box::new(io::sink()),
    };
    let written = io::copy(&mut reader, &mut sink)?;
    sink.flush()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "convert: {input} bytes in, {written} bytes out, {} findings, {secs:.3} s, {:.1} MB/s",
        reader.counts().total,
        input as f64 / secs / 1e6
    );
    Ok(())
}
