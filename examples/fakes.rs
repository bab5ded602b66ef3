//! Runs the fake DefectDojo and the fake S3 store until killed, for scripts and
//! benchmarks that drive the real `dojo-hook` binary:
//!
//! ```text
//! cargo run --example fakes -- --flavour v3|v2 --dojo-port 0 --store-port 0 \
//!     [--store-dir DIR] [--api-key KEY] [--lowpriv-key KEY] [--no-dedup] \
//!     [--dedup-delay-gets N] [--max-file-mb N] [--max-uri-len N] \
//!     [--advertised-origin URL] [--native-findings N] [--crash-after N] [--chunked-gets] [--require-signature] \
//!     [--count-imports] [--bench-findings N] [--bench-lean] [--count-puts] [--log FILE]
//! ```
//!
//! Prints one line per service, flushed, so a script can read the ports:
//!
//! ```text
//! dojo http://127.0.0.1:PORT
//! store http://127.0.0.1:PORT
//! key dojo-admin-key
//! ```
//!
//! (the third line is the API key the fake accepts; stderr says it in a sentence).
//!
//! `--crash-after N` makes every native import save N findings, then answer the recorded
//! 500 (a half import, as a real `trivy k8s` report causes on 3.2.0).
//!
//! With `--store-dir`, GETs fall back to files under DIR (`/bucket/key` = `DIR/bucket/key`)
//! and every PUT is also written there.
//!
//! Benchmark options: `--count-imports` streams import uploads through a counter instead
//! of storing and parsing them; `--bench-findings N` (implies it) makes every imported
//! test serve N findings generated per request (see `tests/support/fake_dojo/bench/`),
//! with only the keys a sync-back reads under `--bench-lean`;
//! `--count-puts` makes the store count PUT bodies (bytes and top-level array elements)
//! instead of keeping them; `--log FILE` appends one line per request of either fake
//! (`FakeDojo(3.2.0)|FakeDojo(2.58.4)|FakeStore METHOD PATH BODY_BYTES QUERY_BYTES QUERY`,
//! the query cut to 120 bytes).

// The example only serves the fakes; the rest of `support` (request logs, faults,
// seeding, the other fakes) is for tests/it, which compiles it with dead-code checks on.
#[allow(dead_code, unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use support::fake_dojo::BenchOptions;
use support::{FakeDojo, FakeStore, Flavour, Options, StoreOptions};

const USAGE: &str = "usage: fakes [--flavour v3|v2] [--dojo-port N] [--store-port N] [--store-dir DIR] \
[--api-key KEY] [--lowpriv-key KEY] [--no-dedup] [--dedup-delay-gets N] [--max-file-mb N] \
[--max-uri-len N] [--advertised-origin URL] [--native-findings N] [--crash-after N] [--chunked-gets] [--require-signature] \
[--count-imports] [--bench-findings N] [--bench-lean] [--count-puts] [--log FILE]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fakes: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = pico_args::Arguments::from_env();
    if args.contains(["-h", "--help"]) {
        println!("{USAGE}");
        return Ok(());
    }
    let e = |err: pico_args::Error| err.to_string();
    let flavour: String = args
        .opt_value_from_str("--flavour")
        .map_err(e)?
        .unwrap_or_else(|| "v3".into());
    let flavour =
        Flavour::parse(&flavour).ok_or(format!("unknown flavour {flavour:?} (v3 or v2)"))?;
    let mut opts = Options::new(flavour);
    opts.port = args
        .opt_value_from_str("--dojo-port")
        .map_err(e)?
        .unwrap_or(0);
    if let Some(key) = args.opt_value_from_str("--api-key").map_err(e)? {
        opts.admin_key = key;
    }
    let admin_key = opts.admin_key.clone();
    opts.lowpriv_key = args.opt_value_from_str("--lowpriv-key").map_err(e)?;
    opts.dedup = !args.contains("--no-dedup");
    if let Some(n) = args.opt_value_from_str("--dedup-delay-gets").map_err(e)? {
        opts.dedup_delay_gets = n;
    }
    if let Some(n) = args.opt_value_from_str("--max-file-mb").map_err(e)? {
        opts.max_file_mb = n;
    }
    if let Some(n) = args.opt_value_from_str("--max-uri-len").map_err(e)? {
        opts.max_uri_len = n;
    }
    if let Some(n) = args.opt_value_from_str("--native-findings").map_err(e)? {
        opts.native_findings = n;
    }
    opts.crash_after_findings = args.opt_value_from_str("--crash-after").map_err(e)?;
    opts.advertised_origin = args.opt_value_from_str("--advertised-origin").map_err(e)?;
    // Parsed in this order (pico-args reports the first bad flag); `--bench-lean` alone
    // changes nothing, as before: it only shapes the findings of benchmark mode.
    let count_imports = args.contains("--count-imports");
    let bench_findings = args.opt_value_from_str("--bench-findings").map_err(e)?;
    let bench_lean = args.contains("--bench-lean");
    opts.bench = (count_imports || bench_findings.is_some()).then_some(BenchOptions {
        findings: bench_findings,
        lean: bench_lean,
    });
    let log: Option<PathBuf> = args
        .opt_value_from_os_str("--log", |s| Ok::<_, String>(PathBuf::from(s)))
        .map_err(e)?;
    let store_opts = StoreOptions {
        port: args
            .opt_value_from_str("--store-port")
            .map_err(e)?
            .unwrap_or(0),
        require_signature: args.contains("--require-signature"),
        count_puts: args.contains("--count-puts"),
        chunked_gets: args.contains("--chunked-gets"),
        dir: args
            .opt_value_from_os_str("--store-dir", |s| Ok::<_, String>(PathBuf::from(s)))
            .map_err(e)?,
    };
    let rest = args.finish();
    if !rest.is_empty() {
        return Err(format!("unexpected arguments {rest:?}"));
    }
    if let Some(dir) = &store_opts.dir {
        std::fs::create_dir_all(dir)
            .map_err(|err| format!("--store-dir {}: {err}", dir.display()))?;
    }

    let native = opts.native_findings;
    let dojo = FakeDojo::start_with(opts);
    let store = FakeStore::start_with(store_opts);
    if let Some(path) = &log {
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|err| format!("--log {}: {err}", path.display()))
        };
        dojo.log_to(open()?);
        store.log_to(open()?);
    }
    // Served until the process is killed, so the "never called" check on drop never runs;
    // say so anyway in case that changes.
    dojo.expect_no_calls();
    store.expect_no_calls();
    let mut out = std::io::stdout().lock();
    writeln!(out, "dojo {}", dojo.url)
        .and_then(|_| writeln!(out, "store {}", store.url))
        .and_then(|_| writeln!(out, "key {admin_key}"))
        .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    // For a person at a terminal: the one key that works, and why a native report's
    // findings are not the report's.
    eprintln!(
        "fakes: the fake DefectDojo's API key is {admin_key} (DEFECTDOJO_APIKEY={admin_key}); \
         any other key is answered 403. It parses \"Generic Findings Import\" for real; \
         any other scan type gets {native} canned findings, not the report's own."
    );
    loop {
        std::thread::park();
    }
}
