//! Scale: what must not grow with the number of findings. Requests go per page, never
//! per finding, and peak memory stays flat from 1,000 to 100,000 findings on both
//! paths (generic import, sync back), with a spool dir and in two-pass mode, and
//! with the SARIF and JUnit reports written from the same read-back.
//!
//! Not timed: the numbers are request counts and `/usr/bin/time`'s peak RSS. The fake
//! serves generated findings (benchmark mode, `tests/support/fake_dojo/bench/`), lean
//! ones for the 100,000-finding runs so that the debug build gets through them quickly.

use std::io::Write;

use crate::harness::{Hook, Output, TempDir};
use crate::support::fake_dojo::{BenchOptions, FakeDojo, Flavour, Options};
use crate::support::fake_store::{FakeStore, StoreOptions};

/// The sync-back page size (`sync::DEFAULT_PAGE_SIZE`).
const PAGE: u64 = 250;

/// Peak RSS allowed for any run (the Java hook's container limit is 200 MiB).
const MAX_PEAK_KIB: u64 = 16 * 1024;

/// Growth of peak RSS allowed from 1,000 to 100,000 findings: anything kept per
/// finding, even 12 bytes of it, shows up above this.
const MAX_GROWTH_KIB: u64 = 1024;

fn bench_dojo(flavour: Flavour, findings: u64, lean: bool) -> FakeDojo {
    let mut opts = Options::new(flavour);
    opts.bench = Some(BenchOptions {
        findings: Some(findings),
        lean,
    });
    FakeDojo::start_with(opts)
}

fn counting_store() -> FakeStore {
    FakeStore::start_with(StoreOptions {
        count_puts: true,
        ..StoreOptions::default()
    })
}

/// A findings.json of `n` small findings.
fn small_findings(dir: &TempDir, n: u64) -> String {
    let path = dir.path().join(format!("findings-{n}.json"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    out.write_all(b"[").unwrap();
    for i in 0..n {
        let sep = if i == 0 { "" } else { "," };
        write!(
            out,
            r#"{sep}{{"name":"Finding {i}","severity":"LOW","location":"https://h-{}.example.com/a/{i}","attributes":{{"port":443}}}}"#,
            i % 97
        )
        .unwrap();
    }
    out.write_all(b"]").unwrap();
    out.flush().unwrap();
    path.display().to_string()
}

/// A sync-back run: imports one finding, reads `dojo`'s generated findings back and
/// PUTs them to `store`.
fn sync_hook(dojo: &FakeDojo, store: &FakeStore, dir: &TempDir) -> Hook {
    let one = dir.file(
        "one.json",
        r#"[{"name": "one", "severity": "LOW", "location": "https://app.example.com/"}]"#,
    );
    let one = one.display().to_string();
    let target = store.presigned_url("/bucket/findings.json");
    Hook::new(dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Generic Findings Import")
        .args(&[one.as_str(), one.as_str(), "unused", target.as_str()])
}

fn synced_objects(store: &FakeStore) -> u64 {
    let counted: serde_json::Value =
        serde_json::from_slice(&store.object("/bucket/findings.json").unwrap()).unwrap();
    counted["objects"].as_u64().unwrap()
}

#[test]
fn sync_back_asks_per_page_never_per_finding() {
    let n = 1_000;
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = bench_dojo(flavour, n, false);
        let store = counting_store();
        let dir = TempDir::new("scale-requests");
        let out = sync_hook(&dojo, &store, &dir).run();
        out.expect(0);
        assert_eq!(out.summary()["synced"], n, "{out}");
        assert_eq!(synced_objects(&store), n);
        let requests = dojo.requests();
        let pages = requests
            .iter()
            .filter(|r| r.path == "/api/v2/findings/" && r.query.contains("prefetch="))
            .count() as u64;
        let locations = requests
            .iter()
            .filter(|r| r.path == "/api/v2/location_findings/")
            .count() as u64;
        let per_object: Vec<String> = requests
            .iter()
            .filter(|r| {
                r.method == "GET"
                    && (r.path.starts_with("/api/v2/findings/")
                        || r.path.starts_with("/api/v2/endpoints/"))
                    && r.path
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .parse::<u64>()
                        .is_ok()
            })
            .map(|r| r.target())
            .collect();
        assert_eq!(pages, n.div_ceil(PAGE), "{flavour:?}");
        assert!(per_object.is_empty(), "{flavour:?}: {per_object:?}");
        match flavour {
            // One location request per page: its 250 findings and the 50 originals.
            Flavour::V3 => assert_eq!(locations, pages),
            Flavour::V2 => assert_eq!(locations, 0),
        }
        let longest = requests.iter().map(|r| r.target().len()).max().unwrap();
        assert!(longest <= 3500, "{flavour:?}: a request of {longest} bytes");
    }
}

/// Runs `hook` under `/usr/bin/time`; `None` (with the reason printed) without it.
fn peak(hook: &Hook) -> Option<(Output, u64)> {
    let measured = hook.run_measured();
    if measured.is_none() {
        eprintln!(
            "skipped: /usr/bin/time is not installed (`make deps` installs the Debian package `time`)"
        );
    }
    measured
}

#[test]
fn peak_memory_stays_flat_from_1k_to_100k_findings() {
    let mut peaks = Vec::new();
    let dir = TempDir::new("scale-memory");
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    for n in [1_000u64, 100_000] {
        // Generic import: findings.json → Generic Findings JSON → multipart upload.
        let findings = small_findings(&dir, n);
        for (mode, tmp) in [
            ("spool", spool.to_str().unwrap()),
            ("two passes", "/nonexistent"),
        ] {
            let mut opts = Options::new(Flavour::V3);
            opts.bench = Some(BenchOptions::default());
            let dojo = FakeDojo::start_with(opts);
            let hook = Hook::new(&dojo)
                .env("DEFECTDOJO_SCAN_TYPE", "Generic Findings Import")
                .env("TMPDIR", tmp)
                .args(&[findings.as_str(), findings.as_str()]);
            let Some((out, kib)) = peak(&hook) else {
                return;
            };
            out.expect(0);
            assert_eq!(out.summary()["findings"]["total"], n, "{out}");
            peaks.push(("generic import", mode, n, kib));
        }
        // Sync back: n findings read back, converted and PUT; then with the
        // SARIF and JUnit reports from the same read as well.
        let reports = dir.path().join("reports");
        std::fs::create_dir_all(&reports).unwrap();
        for (mode, tmp, memory_mb, with_reports) in [
            ("spool", spool.to_str().unwrap(), "8", false),
            ("two passes", "/nonexistent", "0", false),
            ("spool, all outputs", spool.to_str().unwrap(), "8", true),
            ("two passes, all outputs", "/nonexistent", "0", true),
        ] {
            let dojo = bench_dojo(Flavour::V3, n, true);
            let store = counting_store();
            let mut hook = sync_hook(&dojo, &store, &dir)
                .env("TMPDIR", tmp)
                .env("DEFECTDOJO_MEMORY_SPOOL_MB", memory_mb);
            if with_reports {
                hook = hook
                    .env(
                        "DEFECTDOJO_SARIF_OUTPUT",
                        reports.join("r.sarif").display().to_string(),
                    )
                    .env(
                        "DEFECTDOJO_JUNIT_OUTPUT",
                        reports.join("r.xml").display().to_string(),
                    );
            }
            let Some((out, kib)) = peak(&hook) else {
                return;
            };
            out.expect(0);
            assert_eq!(synced_objects(&store), n);
            if with_reports {
                let s = out.summary();
                assert_eq!(s["junit"]["tests"], n, "{out}");
                assert_eq!(s["sarif"]["results"], n.min(25_000), "{out}");
                let pages = dojo
                    .requests()
                    .iter()
                    .filter(|r| r.path == "/api/v2/findings/" && r.query.contains("prefetch="))
                    .count() as u64;
                let passes = if tmp == "/nonexistent" { 2 } else { 1 };
                assert_eq!(pages, passes * n.div_ceil(PAGE), "one read for all outputs");
            }
            peaks.push(("sync back", mode, n, kib));
        }
    }
    eprintln!("peak RSS (KiB): {peaks:?}");
    for &(path, mode, n, kib) in &peaks {
        assert!(
            kib <= MAX_PEAK_KIB,
            "{path} ({mode}) of {n} findings peaked at {kib} KiB"
        );
        if n == 100_000 {
            let small = peaks
                .iter()
                .find(|p| p.0 == path && p.1 == mode && p.2 == 1_000)
                .unwrap()
                .3;
            assert!(
                kib <= small + MAX_GROWTH_KIB,
                "{path} ({mode}): peak RSS grew from {small} KiB at 1,000 findings to {kib} KiB \
                 at 100,000; something is kept per finding"
            );
        }
    }
}
