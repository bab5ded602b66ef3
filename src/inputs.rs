//! Stage 1, the inputs: the command line, the variables and the scan (read
//! from the cluster or `SCAN_FILE`) become one checked [`Inputs`]: the
//! configuration, where each file comes from and goes to, and the run's HTTP
//! agent and spool. Nothing here sends anything to DefectDojo.

use std::path::{Path, PathBuf};

use crate::body::Spool;
use crate::cli::Args;
use crate::config::{Config, Getter};
use crate::dojo::Dojo;
use crate::error::Error;
use crate::k8s::Cluster;
use crate::scan::Scan;
use crate::storage::Location;

/// Everything a run works from, checked.
pub struct Inputs {
    /// The configuration.
    pub cfg: Config,
    /// The Kubernetes cluster the scan came from, in a hook Job.
    pub cluster: Option<Cluster>,
    /// Where the raw scanner report is.
    pub raw: Location,
    /// Where secureCodeBox's findings.json is.
    pub findings: Location,
    /// Where DefectDojo's verdicts go (four arguments or
    /// `DEFECTDOJO_FINDINGS_OUTPUT`).
    pub output: Option<Location>,
    /// Where the SARIF report goes (`DEFECTDOJO_SARIF_OUTPUT`).
    pub sarif: Option<Location>,
    /// Where the JUnit report goes (`DEFECTDOJO_JUNIT_OUTPUT`).
    pub junit: Option<Location>,
    /// The one HTTP agent of the run (trust, proxies, timeouts).
    pub agent: ureq::Agent,
    /// Where bodies of unknown length are spooled.
    pub spool: Spool,
}

impl Inputs {
    /// The DefectDojo client of this run.
    pub fn dojo(&self) -> Dojo<'_> {
        Dojo::new(
            &self.agent,
            &self.cfg.dojo_url,
            self.cfg.api_key.clone(),
            self.cfg.max_pages,
        )
        .with_headers(self.cfg.network.dojo_headers.clone())
    }
}

/// Reads and checks the inputs, and starts the run's deadline.
pub fn read(args: Args, get: Getter) -> Result<Inputs, Error> {
    let mut cluster = Cluster::from_env(get, &args)?;
    let scan = match &mut cluster {
        Some(cluster) => cluster.read_scan()?,
        None => read_scan_file(get)?,
    };
    let cfg = Config::build(get, scan, args)?;
    remember_presigned_queries(&cfg.args);
    let reports = [&cfg.reports.sarif, &cfg.reports.junit];
    for url in reports.into_iter().flatten() {
        crate::http::redact::remember_query(url);
    }
    let raw = Location::parse(&cfg.args.raw_result);
    let findings = Location::parse(&cfg.args.findings);
    let output = cfg.args.findings_upload.as_deref().map(Location::parse);
    let sarif = cfg.reports.sarif.as_deref().map(Location::parse);
    let junit = cfg.reports.junit.as_deref().map(Location::parse);
    let named = [
        ("FINDINGS_UPLOAD", &output),
        ("DEFECTDOJO_SARIF_OUTPUT", &sarif),
        ("DEFECTDOJO_JUNIT_OUTPUT", &junit),
    ];
    for (name, location) in named {
        if let Some(Location::Path(path)) = location {
            check_output_dir(name, path)?;
        }
    }
    if cfg.import.no_scan_type {
        log::warn!(
            "no scan type given (SCAN_TYPE, DEFECTDOJO_SCAN_TYPE or the scan's spec.scanType): \
             importing FINDINGS as \"Generic Findings Import\""
        );
    }
    if let Some(schedule) = &cfg.schedule {
        log::info!("{}", schedule.explain());
    }
    // Also starts the run's deadline.
    let agent = crate::http::agent(&cfg.timeouts, &cfg.network);
    let spool = Spool::from_env_values(Some(&cfg.tmpdir), cfg.memory_spool_mb);
    Ok(Inputs {
        cfg,
        cluster,
        raw,
        findings,
        output,
        sarif,
        junit,
        agent,
        spool,
    })
}

fn read_scan_file(get: Getter) -> Result<Scan, Error> {
    let Some(path) = get("SCAN_FILE").filter(|p| !p.trim().is_empty()) else {
        return Ok(Scan::default());
    };
    let what = format!("SCAN_FILE {path}");
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(&what, "not found: check the path"),
        _ => Error::io(format!("reading {what}"), e),
    })?;
    Scan::from_json(&text).map_err(|reason| Error::input(what, reason))
}

/// Presigned URLs carry their credentials in the query string; a storage
/// error may quote them back ([`crate::http::redact::remember_query`]).
fn remember_presigned_queries(args: &Args) {
    let given = [Some(&args.raw_result), Some(&args.findings)];
    let uploads = [
        args.raw_result_upload.as_ref(),
        args.findings_upload.as_ref(),
    ];
    for url in given.into_iter().chain(uploads).flatten() {
        crate::http::redact::remember_query(url);
    }
}

/// The output's directory must exist and take new files before anything
/// is created in DefectDojo (outputs are written to a temp file there and
/// renamed); for a symbolic link, the directory of the file it points to.
/// A device or named pipe is written in place, so its directory is not
/// asked.
fn check_output_dir(name: &str, path: &Path) -> Result<(), Error> {
    // The kernel follows the links to tell the kind: `/dev/stdout` links to
    // `/proc/self/fd/1`, whose link text (`pipe:[…]`) is no path.
    if std::fs::metadata(path).is_ok_and(|m| is_stream(m.file_type())) {
        return Ok(());
    }
    let target = link_target(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let what = format!("{name} {}", path.display());
    if !dir.is_dir() {
        return Err(Error::input(
            what,
            format!("its directory {} does not exist", dir.display()),
        ));
    }
    crate::body::probe(dir).map_err(|e| {
        Error::input(
            what,
            format!(
                "its directory {} does not take new files ({e}): give a writable directory",
                dir.display()
            ),
        )
    })
}

fn is_stream(kind: std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_char_device() || kind.is_block_device() || kind.is_fifo()
}

/// The file a chain of symbolic links ends at (40 links at most, as Linux
/// follows), or `path` itself.
fn link_target(path: &Path) -> PathBuf {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&at) {
            Ok(next) if next.is_absolute() => at = next,
            Ok(next) => {
                let dir = at.parent().map(Path::to_path_buf).unwrap_or_default();
                at = dir.join(next);
            }
            Err(_) => break,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dangling_link_is_checked_at_its_target() {
        let dir = std::env::temp_dir().join(format!("dojo-hook-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("out.json");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("missing-dir/findings.json", &link).unwrap();
        let err = check_output_dir("FINDINGS_UPLOAD", &link)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing-dir"), "{err}");
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("findings.json", &link).unwrap();
        assert!(check_output_dir("FINDINGS_UPLOAD", &link).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_that_takes_no_files_is_refused_and_devices_are_not_asked() {
        // procfs refuses new files even to root.
        let err = check_output_dir("DEFECTDOJO_SARIF_OUTPUT", Path::new("/proc/self/x.sarif"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not take new files"), "{err}");
        assert!(
            err.starts_with("DEFECTDOJO_SARIF_OUTPUT /proc/self/x.sarif"),
            "{err}"
        );
        assert!(check_output_dir("DEFECTDOJO_JUNIT_OUTPUT", Path::new("/dev/null")).is_ok());
    }
}
