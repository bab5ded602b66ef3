//! Stage 3, the destination in DefectDojo: the scan type checked against
//! the server, the product type, product and engagement found or created
//! ([`crate::dojo::context`]), and the test a reimport goes into. (This
//! run's own test needs no snapshot: its temporary title tells it,
//! [`crate::dojo::own`].)

use crate::config::Config;
use crate::config::ImportMode;
use crate::dojo::Dojo;
use crate::dojo::cleanup::{self, ReimportBefore};
use crate::dojo::context::{self, ImportContext};
use crate::error::Error;
use crate::inputs::Inputs;

/// Where the import goes.
pub struct Destination {
    /// Product type, product, engagement and the key's user.
    pub ctx: ImportContext,
    /// The test a reimport goes into, and what it held before.
    pub reimport: Option<(u64, ReimportBefore)>,
}

/// Finds or creates the destination (the first stage that may create
/// something in DefectDojo).
pub fn prepare(dojo: &Dojo, inputs: &Inputs) -> Result<Destination, Error> {
    let cfg = &inputs.cfg;
    log::info!(
        "importing into DefectDojo at {}",
        crate::http::redact::url(&cfg.dojo_url)
    );
    check_scan_type(dojo, cfg)?;
    let ctx = context::resolve(dojo, cfg, &crate::util::time::today_utc())?;
    let reimport = match cfg.import.mode {
        ImportMode::Import => None,
        // A new engagement has no test yet.
        ImportMode::Reimport if ctx.engagement_created => None,
        ImportMode::Reimport => latest_test(dojo, ctx.engagement_id, cfg)?,
    };
    Ok(Destination {
        ctx,
        reimport: reimport.map(|test| (test, cleanup::before_reimport(dojo, test))),
    })
}

/// Checks `DEFECTDOJO_SCAN_TYPE` against the server's own list before
/// anything is created, so a typo costs no product and no engagement.
///
/// The list is the `scan_type` enum of DefectDojo's OpenAPI schema, 1.4 MB
/// and 1.5 s on a real 3.2.0 server, so it is only fetched for a scan type
/// dojo-hook does not already know: the targets of the 14 native mappings
/// and Generic Findings Import exist in every DefectDojo dojo-hook supports,
/// and the common paths keep their request count. A list that cannot be read
/// (an old schema, a proxy) is a warning: the import's own answer still
/// tells.
fn check_scan_type(dojo: &Dojo, cfg: &Config) -> Result<(), Error> {
    let scan_type = cfg.import.plan.dojo_type();
    if crate::scan::types::is_known_dojo_type(scan_type) {
        return Ok(());
    }
    match crate::dojo::scan_types::check_scan_type(dojo, scan_type) {
        Ok(None) => Ok(()),
        Ok(Some(problem)) => Err(Error::Config(vec![format!(
            "DEFECTDOJO_SCAN_TYPE {problem} (nothing was created)"
        )])),
        Err(err @ Error::Transport { .. }) => Err(err),
        Err(err) => {
            log::warn!("the scan type was not checked before the import: {err}");
            Ok(())
        }
    }
}

/// The latest test of the engagement with this scan type and title, the
/// one a reimport goes into (as DefectDojo itself picks it by names).
pub fn latest_test(dojo: &Dojo, engagement: u64, cfg: &Config) -> Result<Option<u64>, Error> {
    let title = cfg.target.test_title.as_str();
    let scan_type = cfg.import.plan.dojo_type();
    let latest = context::tests_titled(dojo, engagement, title, scan_type)?
        .last()
        .copied();
    // Why this test: the one of the schedule's earlier runs.
    let why = match &cfg.schedule {
        Some(s) if s.defaults.contains(&"test_title") => {
            format!(", the test of ScheduledScan {}", s.name)
        }
        _ => String::new(),
    };
    match latest {
        Some(id) => log::info!("reimporting into test {id} (\"{title}\", {scan_type}){why}"),
        None => {
            log::info!(
                "no test \"{title}\" of type {scan_type} yet: importing into a new test{why}"
            )
        }
    }
    Ok(latest)
}
