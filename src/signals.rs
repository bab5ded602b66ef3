//! A run stopped by SIGTERM, SIGINT or SIGHUP: one line saying where it
//! stopped and what it may have left in DefectDojo, this run's unfinished
//! test removed when the run can prove it is its own, outputs untouched,
//! and exit 128 + the signal's number (143, 130, 129).
//!
//! Kubernetes sends SIGTERM when a hook pod is deleted or evicted and kills
//! it 30 s later. The pipeline blocks in socket reads that no signal
//! handler may safely interrupt, so the binary (`src/main.rs`, the only
//! place with the few lines of `unsafe` this takes) blocks the three
//! signals and waits for them on a watcher thread, which calls [`stopped`].
//! The run tells this module what it is doing as it goes ([`stage`],
//! [`importing`], [`own_test`], [`finished`]).

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use crate::dojo::{Dojo, cleanup, own};
use crate::http::redact::{self, Secret};

/// How long the removal of an unfinished test may take before the process
/// exits anyway (well inside Kubernetes' 30 s grace period).
const CLEANUP_BOUND: Duration = Duration::from_secs(8);

/// What the run is doing, as far as a signal needs to know.
struct Progress {
    stage: &'static str,
    /// How to reach DefectDojo from the watcher thread, once importing.
    dojo: Option<Detached>,
    /// The engagement and temporary title of this run's import.
    import: Option<(u64, String)>,
    /// This run's own test, once known.
    test: Option<u64>,
    /// The existing test a reimport goes into.
    reimport: Option<u64>,
    /// True once the test is complete and renamed (nothing to undo).
    finished: bool,
}

/// A DefectDojo client's parts that another thread can own.
struct Detached {
    agent: ureq::Agent,
    base: String,
    key: Secret,
    headers: Vec<(String, Secret)>,
}

static PROGRESS: Mutex<Progress> = Mutex::new(Progress {
    stage: "starting",
    dojo: None,
    import: None,
    test: None,
    reimport: None,
    finished: false,
});

fn progress() -> std::sync::MutexGuard<'static, Progress> {
    PROGRESS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The run entered a stage ("importing", "reading back", …).
pub fn stage(what: &'static str) {
    progress().stage = what;
}

/// The import into `engagement` under `temporary` is about to be sent.
pub fn importing(dojo: &Dojo, engagement: u64, temporary: &str) {
    let mut p = progress();
    p.dojo = Some(Detached::from(dojo));
    p.import = Some((engagement, temporary.to_string()));
}

/// A reimport into the existing `test` is about to be sent.
pub fn reimporting(dojo: &Dojo, test: u64) {
    let mut p = progress();
    p.dojo = Some(Detached::from(dojo));
    p.reimport = Some(test);
}

impl From<&Dojo<'_>> for Detached {
    fn from(dojo: &Dojo<'_>) -> Detached {
        let (agent, base, key, headers) = dojo.parts();
        Detached {
            agent,
            base,
            key,
            headers,
        }
    }
}

/// The import answered (or was found) with this run's own test.
pub fn own_test(test: u64) {
    progress().test = Some(test);
}

/// The test is complete and has its real title: a signal removes nothing.
pub fn finished() {
    progress().finished = true;
}

/// Handles signal `signal` (see the module docs): prints the line, removes
/// an unfinished test of this run, and exits.
pub fn stopped(signal: i32) -> ! {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    };
    let (stage, left) = {
        let p = progress();
        (p.stage, left_behind(&p))
    };
    eprintln!(
        "dojo-hook: error: stopped by {name} while {stage}; {}; outputs were left as they were",
        redact::terminal(&left)
    );
    std::process::exit(128 + signal)
}

/// What the run leaves in DefectDojo, after removing an unfinished test of
/// its own (within [`CLEANUP_BOUND`]).
fn left_behind(p: &Progress) -> String {
    let Some(dojo) = &p.dojo else {
        return "no test of this run exists in DefectDojo".to_string();
    };
    let base = redact::url(&dojo.base);
    if p.finished {
        return match p.test.or(p.reimport) {
            Some(test) => format!("test {test} ({base}/test/{test}) holds this run's import"),
            None => "the import was done".to_string(),
        };
    }
    if let Some(test) = p.reimport {
        return format!(
            "the reimport into test {test} ({base}/test/{test}) may not have finished, and a \
             reimport cannot be undone: check the test (a complete reimport settles it)"
        );
    }
    let Some((engagement, temporary)) = &p.import else {
        return "no test of this run exists in DefectDojo".to_string();
    };
    let (engagement, temporary, test) = (*engagement, temporary.clone(), p.test);
    let (agent, key, headers, url) = (
        dojo.agent.clone(),
        dojo.key.clone(),
        dojo.headers.clone(),
        dojo.base.clone(),
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // This thread's own limits: no request starts after the bound.
        crate::http::deadline::start(&crate::http::Timeouts {
            deadline: Some(CLEANUP_BOUND),
            ..crate::http::Timeouts::default()
        });
        let dojo = Dojo::new(&agent, &url, key, None).with_headers(headers);
        let _ = tx.send(remove_unfinished(&dojo, engagement, &temporary, test));
    });
    rx.recv_timeout(CLEANUP_BOUND).unwrap_or_else(|_| {
        format!(
            "this run's unfinished import may have left a test titled \"{}\" in engagement \
             {engagement} ({base}/engagement/{engagement}), which could not be removed in \
             time: delete it",
            p.import.as_ref().map_or("", |(_, t)| t.as_str())
        )
    })
}

/// Removes this run's unfinished test(s) and says what happened.
fn remove_unfinished(dojo: &Dojo, engagement: u64, temporary: &str, test: Option<u64>) -> String {
    let base = redact::url(dojo.base());
    let ids = match test {
        Some(test) => Ok(vec![test]),
        None => own::own_tests(dojo, engagement, temporary),
    };
    let later = format!(
        "if DefectDojo still creates a test titled \"{temporary}\" in engagement {engagement}, \
         it is this run's and incomplete: delete it"
    );
    let ids = match ids {
        Ok(ids) if ids.is_empty() => {
            return format!("no test of this run was found in DefectDojo yet; {later}");
        }
        Ok(ids) => ids,
        Err(err) => return format!("this run's test could not be looked up ({err}); {later}"),
    };
    let mut said = Vec::new();
    for id in ids {
        match cleanup::delete_test(dojo, id) {
            Ok(_) => said.push(format!("this run's unfinished test {id} was removed")),
            Err(err) => said.push(format!(
                "this run's unfinished test {id} ({base}/test/{id}) stays ({err}): delete it"
            )),
        }
    }
    said.join("; ")
}
