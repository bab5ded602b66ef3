//! Orchestration of a run: configuration → upload body → DefectDojo context →
//! import → test description → (sync back) → summary.
//!
//! Takes its inputs as arguments and a variable getter; never reads the
//! process environment itself except in [`main_with_env`].

use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{BufReader, Read, Write};
use std::time::{Duration, Instant};

use crate::body::Opened;
use crate::body::{self, Mode, Prepared, Spool};
use crate::cli::{self, Args, Command};
use crate::config::{Config, Getter};
use crate::convert::generic::GenericReader;
use crate::convert::sync;
use crate::dojo::cleanup;
use crate::dojo::context::{self, Context};
use crate::dojo::import::ImportForm;
use crate::dojo::landing;
use crate::dojo::model::{ImportAnswer, Page, Test};
use crate::dojo::{Dojo, Method};
use crate::error::EXIT_GATE;
use crate::error::Error;
use crate::form;
use crate::minify::Minify;
use crate::scan::Scan;
use crate::scantype::Plan;
use crate::storage::{self, Location};
use crate::summary::{BySeverity, Delta, Gate, Summary};
use crate::{convert, describe, dryrun, gate, http, k8s, step_summary, time};

/// The largest single finding accepted in findings.json: a bound on memory
/// (one finding is held at a time), far above any real finding.
pub const MAX_FINDING_BYTES: usize = 16 * 1024 * 1024;

/// Runs with the process's arguments and environment; returns the exit code.
pub fn main_with_env() -> u8 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let get = |name: &str| std::env::var(name).ok();
    match cli::parse(args) {
        Ok(Command::Help) => {
            print!("{}", crate::help::HELP);
            0
        }
        Ok(Command::Version) => {
            println!("dojo-hook {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Run(args)) => {
            let output = args
                .findings_upload
                .clone()
                .or_else(|| get("DEFECTDOJO_FINDINGS_OUTPUT"));
            let to_stdout = output.as_deref().map(str::trim) == Some("-");
            match run(args, &get) {
                Ok(Outcome { line, code }) => {
                    let line = crate::http::redact::terminal(&line);
                    // The findings own stdout when they are written there.
                    let written = if to_stdout {
                        writeln!(std::io::stderr(), "{line}")
                    } else {
                        writeln!(std::io::stdout(), "{line}")
                    };
                    // A closed stdout (e.g. `| head`) is not a failure of the import.
                    drop(written);
                    code
                }
                Err(err) => report(&err),
            }
        }
        Err(err) => report(&err),
    }
}

fn report(err: &Error) -> u8 {
    eprintln!(
        "dojo-hook: error: {}",
        crate::http::redact::terminal(&err.to_string())
    );
    err.exit_code()
}

/// How a run ended: the summary line and the exit code.
#[derive(Debug)]
pub struct Outcome {
    /// The JSON summary line.
    pub line: String,
    /// 0, or 2 for a dry run that found problems (3 for a failed gate).
    pub code: u8,
}

/// One run with the given arguments and variables.
pub fn run(args: Args, get: Getter) -> Result<Outcome, Error> {
    let mut cluster = k8s::Cluster::from_env(get, &args)?;
    let scan = match &mut cluster {
        Some(cluster) => cluster.read_scan()?,
        None => read_scan_file(get)?,
    };
    let cfg = Config::build(get, scan, args)?;
    remember_presigned_queries(&cfg.args);
    let raw = Location::parse(&cfg.args.raw_result);
    let findings = Location::parse(&cfg.args.findings);
    let output = cfg.args.findings_upload.as_deref().map(Location::parse);
    if let Some(Location::Path(path)) = &output {
        check_output_dir(path)?;
    }
    if cfg.import.no_scan_type {
        log::warn!(
            "no scan type given (SCAN_TYPE, DEFECTDOJO_SCAN_TYPE or the scan's spec.scanType): \
             importing FINDINGS as \"Generic Findings Import\""
        );
    }

    crate::http::deadline::start(&cfg.timeouts);
    let agent = http::agent(&cfg.timeouts, &cfg.network);
    let spool = Spool::from_env_values(Some(&cfg.tmpdir), cfg.memory_spool_mb);
    let started = Instant::now();
    if cfg.dry_run {
        return Ok(dry_run(
            &cfg,
            &agent,
            &spool,
            &raw,
            &findings,
            output.as_ref(),
        ));
    }

    // What the dry run finds locally, a real run refuses before it sends
    // anything: DefectDojo would answer 400 after the context was created.
    let name = upload_name(&cfg.import.plan, &raw);
    dryrun::check_file_name(&name)
        .map_err(|why| Error::input(format!("raw report {}", raw.display()), rename_hint(why)))?;
    // The body is produced (downloaded, converted, checked) before anything
    // is created in DefectDojo: a broken input creates nothing there.
    let (mut report, file_name) = prepare_report(&cfg, &agent, &spool, &raw, &findings)?;

    let dojo = Dojo::new(&agent, &cfg.dojo_url, cfg.api_key.clone(), cfg.max_pages)
        .with_headers(cfg.network.dojo_headers.clone());
    log::info!(
        "importing into DefectDojo at {}",
        crate::http::redact::url(&cfg.dojo_url)
    );
    let run_started = time::now_utc_parts().unix_seconds();
    check_scan_type(&dojo, &cfg)?;
    let ctx = context::resolve(&dojo, &cfg, &time::today_utc())?;
    let before = cleanup::Before {
        tests: if ctx.engagement_created {
            Vec::new()
        } else {
            tests_titled(&dojo, &ctx, &cfg.target.test_title)?
        },
        started: run_started,
    };

    let reimport_test = match cfg.import.mode {
        form::Mode::Import => None,
        form::Mode::Reimport => latest_test(&dojo, &ctx, &cfg)?,
    };
    let reimport_before = reimport_test
        .map(|test| cleanup::before_reimport(&dojo, test))
        .unwrap_or_default();
    let mut extra = cfg.import.fields.clone();
    if cfg.needs_final_verdicts() && cfg.import.field("deduplication_execution_mode").is_none() {
        // Verdicts read back must be final.
        extra.push(("deduplication_execution_mode".into(), "async_wait".into()));
    }
    let mut form = ImportForm {
        scan_type: cfg.import.plan.dojo_type().to_string(),
        engagement: ctx.engagement_id,
        reimport_test,
        test_title: cfg.target.test_title.clone(),
        version: cfg.target.engagement_version.clone(),
        lead: Some(ctx.user_id),
        minimum_severity: cfg.import.minimum_severity.clone(),
        scan_date: cfg.import.scan_date.clone(),
        deduplication_execution_mode: None,
        file_name,
        extra,
    };
    let mut fallback = None;
    let mut removed = Vec::new();
    let title = cfg.target.test_title.as_str();
    let own_tests =
        |scan_type: &str| cleanup::own_tests(&dojo, ctx.engagement_id, title, scan_type, &before);
    let native_type = form.scan_type.clone();
    let new_tests = || own_tests(&native_type);
    let mut again = || prepare_report(&cfg, &agent, &spool, &raw, &findings).map(|(p, _)| p);
    let answer = match landing::import(
        &dojo,
        &form,
        (&mut report, &mut again),
        cfg.timeouts.import,
        (&new_tests, reimport_before.imports),
    ) {
        Ok(answer) => answer,
        Err(err) => {
            let err = explain_parser_crash(&cfg, err);
            if let Some(test) = reimport_test {
                // A reimport cannot be rolled back, and no fallback goes anywhere else.
                return Err(if may_have_left_something(&err) {
                    err.note(cleanup::reimport_damage(&dojo, test, &reimport_before))
                } else {
                    err
                });
            }
            let (gone, err) = remove_leftovers(&dojo, &ctx, title, &form.scan_type, &before, err)?;
            removed = gone;
            if !can_fall_back(&cfg, &err) {
                return Err(err);
            }
            // DefectDojo's native parser crashed on a report secureCodeBox
            // parsed fine: import the parsed findings instead of losing them.
            log::warn!(
                "{err}; falling back to the Generic Findings Import of {}",
                findings.display()
            );
            drop(report);
            let (generic, file_name) = match prepare_generic(&cfg, &agent, &spool, &findings) {
                Ok(prepared) => prepared,
                Err(second) => {
                    return Err(err.note(format!("the generic fallback failed too: {second}")));
                }
            };
            report = generic;
            form.scan_type = crate::scantype::GENERIC.to_string();
            form.file_name = file_name;
            fallback = Some("generic");
            let generic_tests = || own_tests(crate::scantype::GENERIC);
            let mut again = || prepare_generic(&cfg, &agent, &spool, &findings).map(|(p, _)| p);
            match landing::import(
                &dojo,
                &form,
                (&mut report, &mut again),
                cfg.timeouts.import,
                (&generic_tests, None),
            ) {
                Ok(answer) => answer,
                Err(second) => {
                    let (_, second) =
                        remove_leftovers(&dojo, &ctx, title, &form.scan_type, &before, second)?;
                    return Err(second.note(format!(
                        "this was the Generic Findings Import after DefectDojo's native parser \
                         failed ({})",
                        removed_sentence(&removed)
                    )));
                }
            }
        }
    };
    let test_id = answer.test_id().ok_or_else(|| {
        Error::protocol("the import's answer", "has no test id (`test` / `test_id`)")
    })?;
    log::info!(
        "{} test {test_id}: {}/test/{test_id}",
        if reimport_test.is_some() {
            "reimported into"
        } else {
            "imported as"
        },
        cfg.dojo_url
    );
    if reimport_test.is_none() {
        describe_test(&dojo, &cfg, test_id);
    }

    let mut summary = Summary {
        mode: if cfg.sync_back() {
            "import+sync"
        } else {
            "import"
        },
        import_mode: if reimport_test.is_some() {
            "reimport"
        } else {
            "import"
        },
        ci: cfg.ci.as_ref().map(|c| c.provider),
        delta: Delta::from_answer(&answer),
        duplicates_by_severity: BySeverity::duplicates_from_answer(&answer),
        new: None,
        gate: None,
        scan_type: form.scan_type.clone(),
        test_id,
        test_url: format!("{}/test/{test_id}", cfg.dojo_url),
        engagement_id: answer.engagement_id.unwrap_or(ctx.engagement_id),
        engagement_created: ctx.engagement_created,
        product_id: answer.product_id.unwrap_or(ctx.product_id),
        product_type_id: answer.product_type_id.unwrap_or(ctx.product_type_id),
        findings: BySeverity::from_answer(&answer),
        duplicates: duplicates(&answer),
        synced: None,
        body: report.mode().to_string(),
        fallback,
        removed_tests: removed,
        dojo_requests: 0,
    };
    drop(report);

    if cfg.needs_final_verdicts() {
        wait_for_deduplication(&dojo, &cfg, &answer, test_id)?;
    }
    if let Some(output) = &output {
        let counts = sync_back(&dojo, &cfg, &agent, &spool, test_id, output)?;
        if let Some(cluster) = &cluster {
            cluster.update_findings(&counts)?;
        }
        summary.synced = Some(counts.total);
        summary.duplicates = counts.duplicates;
    }
    let mut code = 0;
    if cfg.fail_on.is_some() || cfg.summary_file.is_some() {
        let threshold = cfg.fail_on.as_deref().map(gate::rank);
        let new = gate::new_findings(
            &dojo,
            test_id,
            reimport_test.is_some(),
            cfg.fail_on_reactivated,
            threshold,
        )?;
        summary.new = Some(BySeverity::from_ranked(new.by_severity));
        if let Some(fail_on) = &cfg.fail_on {
            let failed = new.failing_count > 0;
            summary.gate = Some(Gate {
                fail_on: fail_on.clone(),
                reactivated: cfg.fail_on_reactivated,
                findings: new.failing_count,
                failed,
            });
            if failed {
                // Finding titles come from the scanner and DefectDojo.
                let reason = crate::http::redact::terminal(&gate::reason(fail_on, &new));
                eprintln!("dojo-hook: {reason}");
                code = EXIT_GATE;
            } else {
                log::info!("build gate passed: no new finding at or above {fail_on}");
            }
        }
        if let Some((path, append)) = &cfg.summary_file {
            write_summary(
                path,
                *append,
                &step_summary::render(&summary, &cfg.dojo_url, &new),
            );
        }
    }
    summary.dojo_requests = dojo.request_counts().0;
    log::info!(
        "done in {:.1} s with {} DefectDojo requests",
        started.elapsed().as_secs_f64(),
        summary.dojo_requests
    );
    Ok(Outcome {
        line: summary.to_line(),
        code,
    })
}

/// The name the report is uploaded as: its own for a raw report (several
/// DefectDojo parsers dispatch on the extension), `findings.json` for a
/// converted one.
fn upload_name(plan: &Plan, raw: &Location) -> String {
    match plan {
        Plan::Raw { .. } => raw.file_name().unwrap_or_else(|| "report".to_string()),
        Plan::Generic => "findings.json".to_string(),
    }
}

fn rename_hint(why: String) -> String {
    format!(
        "{why}: give the file the extension of its format (e.g. report.json, report.xml); \
         nothing was sent to DefectDojo"
    )
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
    if crate::scantype::is_known_dojo_type(scan_type) {
        return Ok(());
    }
    match dryrun::check_scan_type(dojo, scan_type) {
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

/// Writes the Markdown summary; a failure is a warning, the import stands.
/// It is opened in place (never renamed over), so a link's target or a
/// device gets it; a named pipe is waited for as an output is.
fn write_summary(path: &str, append: bool, markdown: &str) {
    let mut options = std::fs::OpenOptions::new();
    options
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append);
    let written = storage::open_waiting(std::path::Path::new(path), &options, "reading")
        .and_then(|mut f| f.write_all(markdown.as_bytes()));
    match written {
        Ok(()) => log::info!("wrote the Markdown summary to {path}"),
        Err(e) => log::warn!("could not write the Markdown summary to {path}: {e}"),
    }
}

/// Checks everything a real run would, with GET requests only, and says
/// what it would do.
fn dry_run(
    cfg: &Config,
    agent: &ureq::Agent,
    spool: &Spool,
    raw: &Location,
    findings: &Location,
    output: Option<&Location>,
) -> Outcome {
    let plan = &cfg.import.plan;
    let mut report = dryrun::Report {
        dry_run: true,
        scan_type: plan.dojo_type().to_string(),
        ..dryrun::Report::default()
    };
    report.file_name = upload_name(plan, raw);
    if let Err(problem) = dryrun::check_file_name(&report.file_name) {
        report.problems.push(problem);
    }
    match prepare_report(cfg, agent, spool, raw, findings) {
        Ok((mut prepared, _)) => {
            report.bytes = Some(prepared.len());
            if dryrun::is_raw_generic(plan) {
                let checked = prepared
                    .reader()
                    .map_err(|e| e.to_string())
                    .and_then(convert::check::generic_json);
                if let Err(why) = checked {
                    report.problems.push(format!(
                        "the report is not valid Generic Findings Import JSON: {why}"
                    ));
                }
            }
        }
        Err(err) => report.problems.push(err.to_string()),
    }
    let dojo = Dojo::new(agent, &cfg.dojo_url, cfg.api_key.clone(), cfg.max_pages)
        .with_headers(cfg.network.dojo_headers.clone());
    match dryrun::check_scan_type(&dojo, plan.dojo_type()) {
        Ok(problem) => report.problems.extend(problem),
        Err(err) => report.problems.push(err.to_string()),
    }
    match dryrun::plan_context(&dojo, cfg, &mut report) {
        Ok(Some(ctx)) => {
            let title = &cfg.target.test_title;
            let reimport = match cfg.import.mode {
                form::Mode::Reimport if ctx.engagement_id != 0 => latest_test(&dojo, &ctx, cfg),
                _ => Ok(None),
            };
            match reimport {
                Ok(Some(test)) => report.plan.push(format!(
                    "would reimport {} as \"{}\" into test {test}",
                    report.file_name, report.scan_type
                )),
                Ok(None) => report.plan.push(format!(
                    "would import {} as \"{}\" into a new test \"{title}\" of engagement \"{}\"",
                    report.file_name, report.scan_type, cfg.target.engagement_name
                )),
                Err(err) => report.problems.push(err.to_string()),
            }
        }
        Ok(None) => {}
        Err(err) => report.problems.push(err.to_string()),
    }
    if let Some(out) = output {
        report.plan.push(format!(
            "would write DefectDojo's verdicts to {}",
            out.display()
        ));
    }
    for line in &report.plan {
        log::info!("dry run: {line}");
    }
    for problem in &report.problems {
        log::error!("dry run: a real run would fail: {problem}");
    }
    report.would_succeed = report.problems.is_empty();
    Outcome {
        line: serde_json::to_string(&report).unwrap_or_default(),
        code: if report.would_succeed {
            0
        } else {
            crate::error::EXIT_LOCAL
        },
    }
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

fn check_output_dir(path: &std::path::Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::input(
            format!("FINDINGS_UPLOAD {}", path.display()),
            format!("its directory {} does not exist", dir.display()),
        ))
    }
}

/// Produces the upload: the raw report as is, or findings.json converted,
/// checked against DEFECTDOJO_MAX_UPLOAD_MB before anything is sent.
fn prepare_report<'a>(
    cfg: &Config,
    agent: &'a ureq::Agent,
    spool: &Spool,
    raw: &'a Location,
    findings: &'a Location,
) -> Result<(Prepared<'a>, String), Error> {
    let limit = cfg.max_upload_bytes();
    match &cfg.import.plan {
        Plan::Raw { dojo_type } => {
            let what = format!("raw report {}", raw.display());
            let name = raw.file_name().unwrap_or_else(|| "report".to_string());
            let open_what = what.clone();
            let prepared = body::prepare(&what, spool, Mode::Input, move || {
                storage::open(agent, raw, &open_what)
            })?;
            if prepared.is_empty() {
                return Err(Error::input(
                    what,
                    format!(
                        "is empty (0 bytes): the scanner produced no report, so there is nothing for DefectDojo's \"{dojo_type}\" parser to import"
                    ),
                ));
            }
            if prepared.len() <= limit {
                return Ok((prepared, name));
            }
            let is_json = name.to_ascii_lowercase().ends_with(".json")
                || name.to_ascii_lowercase().ends_with(".sarif");
            if !is_json {
                return Err(too_large(&what, prepared.len(), cfg.max_upload_mb));
            }
            // Pretty-printed JSON often fits once its whitespace is gone.
            let before = prepared.len();
            drop(prepared);
            let open_what = what.clone();
            let minified = body::prepare(&what, spool, Mode::Input, move || {
                let opened = storage::open(agent, raw, &open_what)?;
                Ok(Opened::stream(Minify::new(opened.reader)))
            })?;
            if minified.len() > limit {
                return Err(too_large(&what, minified.len(), cfg.max_upload_mb));
            }
            log::warn!(
                "{what} is {before} bytes, over DEFECTDOJO_MAX_UPLOAD_MB={}: uploading it minified \
                 ({} bytes, the same JSON without whitespace)",
                cfg.max_upload_mb,
                minified.len()
            );
            Ok((minified, name))
        }
        Plan::Generic => prepare_generic(cfg, agent, spool, findings),
    }
}

/// findings.json converted to Generic Findings Import JSON.
fn prepare_generic<'a>(
    cfg: &Config,
    agent: &'a ureq::Agent,
    spool: &Spool,
    findings: &'a Location,
) -> Result<(Prepared<'a>, String), Error> {
    let what = format!("findings {}", findings.display());
    let open_what = what.clone();
    let prepared = body::prepare(&what, spool, Mode::Input, move || {
        let opened = storage::open(agent, findings, &open_what)?;
        let reader = GenericReader::new(
            BufReader::with_capacity(64 * 1024, opened.reader),
            MAX_FINDING_BYTES,
        );
        Ok(Opened::stream(reader))
    })?;
    if prepared.len() > cfg.max_upload_bytes() {
        return Err(too_large(
            &format!("{what}, converted to Generic Findings Import JSON,"),
            prepared.len(),
            cfg.max_upload_mb,
        ));
    }
    Ok((prepared, "findings.json".to_string()))
}

fn too_large(what: &str, len: u64, max_mb: u64) -> Error {
    Error::input(
        what,
        format!(
            "is {:.1} MiB, over the upload limit of {max_mb} MiB (DEFECTDOJO_MAX_UPLOAD_MB, which should \
             match DefectDojo's DD_SCAN_FILE_MAX_SIZE): raise both, or split the report; nothing was sent",
            len as f64 / 1048576.0
        ),
    )
}

/// The latest test of the engagement with this scan type and title, the
/// one a reimport goes into (as DefectDojo itself picks it by names).
fn latest_test(dojo: &Dojo, ctx: &Context, cfg: &Config) -> Result<Option<u64>, Error> {
    let engagement = ctx.engagement_id.to_string();
    let title = cfg.target.test_title.as_str();
    let scan_type = cfg.import.plan.dojo_type();
    let tests: Vec<Test> = dojo.list(
        "/api/v2/tests/",
        &[("engagement", &engagement), ("title", title)],
        "looking up the test to reimport into",
        |t: &Test| t.title.as_deref() == Some(title) && t.scan_type.as_deref() == Some(scan_type),
    )?;
    let latest = tests.iter().map(|t| t.id).max();
    match latest {
        Some(id) => log::info!("reimporting into test {id} (\"{title}\", {scan_type})"),
        None => {
            log::info!("no test \"{title}\" of type {scan_type} yet: importing into a new test")
        }
    }
    Ok(latest)
}

/// Tests of the engagement with this title (to tell a failed import's
/// leftover from tests that were there before).
fn tests_titled(dojo: &Dojo, ctx: &Context, title: &str) -> Result<Vec<u64>, Error> {
    let engagement = ctx.engagement_id.to_string();
    let tests: Vec<Test> = dojo.list(
        "/api/v2/tests/",
        &[("engagement", &engagement), ("title", title)],
        "listing the engagement's tests",
        |t: &Test| t.title.as_deref() == Some(title),
    )?;
    Ok(tests.iter().map(|t| t.id).collect())
}

/// True when a failed native import may be retried as a generic import:
/// DefectDojo's parser crashed (500), findings.json was given, and the
/// fallback was not switched off.
fn can_fall_back(cfg: &Config, err: &Error) -> bool {
    cfg.generic_fallback
        && matches!(cfg.import.plan, Plan::Raw { .. })
        && !cfg.args.findings.trim().is_empty()
        && matches!(err, Error::Http { status: 500, .. })
}

/// True when a failed import may have left a test or findings behind:
/// DefectDojo failed (any 5xx) or its answer was lost. A 4xx is DefectDojo
/// refusing the request before it imported anything.
fn may_have_left_something(err: &Error) -> bool {
    matches!(
        err,
        Error::Http { status: 500.., .. } | Error::Transport { .. }
    )
}

/// A parser crash (HTTP 500) is said to be one.
fn explain_parser_crash(cfg: &Config, err: Error) -> Error {
    if !matches!(err, Error::Http { status: 500, .. }) {
        return err;
    }
    let parser = cfg.import.plan.dojo_type();
    err.note(format!(
        "DefectDojo's \"{parser}\" parser failed on this report (malformed, truncated, a \
         variant the parser does not support, or a finding DefectDojo could not save)"
    ))
}

/// Removes the tests a failed import of `scan_type` left behind, whatever
/// they hold ([`cleanup`]). `Ok` has what was removed and the error saying
/// so; `Err` is the error when a test stays behind, and nothing else may be
/// imported then.
fn remove_leftovers(
    dojo: &Dojo,
    ctx: &Context,
    title: &str,
    scan_type: &str,
    before: &cleanup::Before,
    err: Error,
) -> Result<(Vec<cleanup::Removed>, Error), Error> {
    if !may_have_left_something(&err) {
        return Ok((Vec::new(), err));
    }
    match cleanup::remove_own_tests(dojo, ctx.engagement_id, title, scan_type, before) {
        Ok(removed) if removed.is_empty() => Ok((removed, err)),
        Ok(removed) => {
            let err = err.note(removed_sentence(&removed));
            Ok((removed, err))
        }
        Err(stuck) => Err(err.note(stuck)),
    }
}

/// `the test 12 it left behind (619 findings) was removed`.
fn removed_sentence(removed: &[cleanup::Removed]) -> String {
    let tests: Vec<String> = removed
        .iter()
        .map(|r| format!("test {} with {} finding(s)", r.id, r.findings))
        .collect();
    if tests.is_empty() {
        "it left no test behind".to_string()
    } else {
        format!("what it left behind was removed: {}", tests.join(", "))
    }
}

/// The Java hook's scan summary as the test's description; a failure here
/// is a warning, not a failed import.
fn describe_test(dojo: &Dojo, cfg: &Config, test_id: u64) {
    let text = describe::test_description(
        &cfg.scan,
        cfg.import.plan.dojo_type(),
        &time::now_utc_rfc3339(),
    );
    let body = serde_json::json!({ "description": text });
    if let Err(err) = dojo.call(
        Method::Patch,
        &format!("/api/v2/tests/{test_id}/"),
        Some(&body),
        "setting the test's description",
    ) {
        log::warn!("the import succeeded, but {err}");
    }
}

fn duplicates(answer: &ImportAnswer) -> u64 {
    answer
        .statistics
        .as_ref()
        .and_then(|s| s.after.as_ref())
        .and_then(|a| a.get("total"))
        .map(|c| c.duplicate)
        .unwrap_or(0)
}

/// Makes sure DefectDojo's deduplication has finished before verdicts are
/// read: 3.x says so in the answer (`async_wait`); 2.x ignores that field,
/// so there the test's duplicate count is polled until it settles.
fn wait_for_deduplication(
    dojo: &Dojo,
    cfg: &Config,
    answer: &ImportAnswer,
    test_id: u64,
) -> Result<(), Error> {
    if !cfg.refetch_wait.is_zero() {
        log::info!(
            "waiting {} s before reading back (DEFECTDOJO_REFETCH_WAIT_SECONDS, deprecated)",
            cfg.refetch_wait.as_secs()
        );
        // Not past the deadline: the next request would fail anyway.
        let left = crate::http::deadline::time_left().unwrap_or(cfg.refetch_wait);
        std::thread::sleep(cfg.refetch_wait.min(left));
    }
    if answer.deduplication_complete == Some(true) {
        return Ok(());
    }
    log::info!(
        "DefectDojo did not confirm finished deduplication (2.x ignores async_wait): \
         polling test {test_id}'s duplicate count until it is unchanged twice in a row (at most {} s)",
        DEDUP_POLL_LIMIT.as_secs()
    );
    let path = format!("/api/v2/findings/?test={test_id}&duplicate=true&limit=1");
    let deadline = Instant::now() + DEDUP_POLL_LIMIT;
    let mut last = None;
    let mut unchanged = 0;
    loop {
        let page: Page<serde::de::IgnoredAny> =
            dojo.get(&path, "polling the test's duplicate count")?;
        if page.count == last {
            unchanged += 1;
            if unchanged >= 2 {
                return Ok(());
            }
        } else {
            unchanged = 0;
            last = page.count;
        }
        if Instant::now() >= deadline {
            log::warn!(
                "deduplication still changing after {} s; reading back anyway",
                DEDUP_POLL_LIMIT.as_secs()
            );
            return Ok(());
        }
        std::thread::sleep(DEDUP_POLL_INTERVAL);
    }
}

const DEDUP_POLL_LIMIT: Duration = Duration::from_secs(30);
const DEDUP_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Reads the test's findings back, converts them and writes them to
/// FINDINGS_UPLOAD, only once the whole result exists and was checked.
fn sync_back(
    dojo: &Dojo,
    cfg: &Config,
    agent: &ureq::Agent,
    spool: &Spool,
    test_id: u64,
    output: &Location,
) -> Result<sync::Counts, Error> {
    let what = format!("DefectDojo's findings of test {test_id}");
    let options = sync::SyncOptions {
        base_url: cfg.dojo_url.clone(),
        test_id,
        page_size: sync::DEFAULT_PAGE_SIZE,
        max_pages: cfg.max_pages,
        max_uri_len: sync::DEFAULT_MAX_URI_LEN,
    };
    let counts = RefCell::new(None);
    let mut prepared = body::prepare(&what, spool, Mode::Output, || {
        let reader = sync::SyncReader::new(DojoFetch(dojo), options.clone())?;
        Ok(Opened::stream(Finished {
            reader,
            counts: &counts,
        }))
    })?;
    storage::store(
        agent,
        output,
        &mut prepared,
        "writing DefectDojo's findings",
    )?;
    drop(prepared);
    let counts = counts
        .into_inner()
        .ok_or_else(|| Error::protocol(&what, "the read-back ended before its last page"))?;
    log::info!(
        "wrote {} findings ({} duplicates) to {}",
        counts.total,
        counts.duplicates,
        output.display()
    );
    Ok(counts)
}

/// Passes a sync-back reader through and keeps its counts once it is done
/// (the body machinery owns the reader, and may run it twice).
struct Finished<'c, F: sync::Fetch> {
    reader: sync::SyncReader<F>,
    counts: &'c RefCell<Option<sync::Counts>>,
}

impl<F: sync::Fetch> Read for Finished<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.reader.read(buf)?;
        if n == 0 && !buf.is_empty() {
            *self.counts.borrow_mut() = self.reader.counts();
        }
        Ok(n)
    }
}

/// The sync-back reader's view of DefectDojo.
struct DojoFetch<'a, 'b>(&'a Dojo<'b>);

impl sync::Fetch for DojoFetch<'_, '_> {
    fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        self.0
            .call(Method::Get, path_and_query, None, "reading findings back")
    }
}
