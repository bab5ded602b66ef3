//! Stage 1, the inputs: the command line, the variables and the scan (read
//! from the cluster or `SCAN_FILE`) become one checked [`Inputs`]: the
//! configuration, where each file comes from and goes to, and the run's HTTP
//! agent and spool. Nothing here sends anything to DefectDojo.

mod places;

use crate::body::Spool;
use crate::cli::Args;
use crate::config::{Config, Getter};
use crate::dojo::Dojo;
use crate::error::Error;
use crate::k8s::Cluster;
use crate::scan::Scan;
use crate::storage::Place;

/// Everything a run works from, checked.
pub struct Inputs {
    /// The configuration.
    pub cfg: Config,
    /// The Kubernetes cluster the scan came from, in a hook Job.
    pub cluster: Option<Cluster>,
    /// Where the raw scanner report is.
    pub raw: Place,
    /// Where secureCodeBox's findings.json is.
    pub findings: Place,
    /// Where DefectDojo's verdicts go (four arguments or
    /// `DEFECTDOJO_FINDINGS_OUTPUT`).
    pub output: Option<Place>,
    /// Where the SARIF report goes (`DEFECTDOJO_SARIF_OUTPUT`).
    pub sarif: Option<Place>,
    /// Where the JUnit report goes (`DEFECTDOJO_JUNIT_OUTPUT`).
    pub junit: Option<Place>,
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
    let raw = Place::parse(&cfg.args.raw_result);
    let findings = Place::parse(&cfg.args.findings);
    let output = cfg.args.findings_upload.as_deref().map(Place::parse);
    let sarif = cfg.reports.sarif.as_deref().map(Place::parse);
    let junit = cfg.reports.junit.as_deref().map(Place::parse);
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
    let inputs = Inputs {
        cfg,
        cluster,
        raw,
        findings,
        output,
        sarif,
        junit,
        agent,
        spool,
    };
    places::check_run(&inputs, get)?;
    Ok(inputs)
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
