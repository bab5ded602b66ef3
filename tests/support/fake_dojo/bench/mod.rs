//! Benchmark mode: imports that are counted instead of stored, and tests whose findings
//! are generated per request instead of held in memory.
//!
//! With [`super::Options::bench`] set, an import's multipart body streams through a
//! [`MultipartCount`] (the plumbing never holds it): the form fields go through the
//! usual permission and validation phases, the report is only measured (bytes, and the
//! findings of a Generic Findings Import file), and the test is created empty. The test
//! then becomes *virtual*: `GET /api/v2/findings/?test=<id>` serves `n` generated
//! findings ([`BenchOptions::findings`], else the
//! counted findings, else the canned count of a native report), rendered from templates
//! of [`render::finding`] so they have every key a real finding has.
//!
//! The generated findings look like a re-scan of a product: every fifth finding is a
//! duplicate of an original in an older (virtual) test, one in fifty is a false
//! positive, and each has one endpoint of its own (2.x: an endpoint object; 3.x: a
//! location-finding reference to its own location) that its original shares. Pages
//! prefetch `endpoints` and `duplicate_finding` as DefectDojo does; 3.x
//! `location_findings?finding_includes=…&prefetch=location` is generated as well.
//! Nothing of this grows with `n`: a virtual test is a handful of numbers.

mod pages;
mod template;

/// Benchmark mode, set as [`super::Options::bench`]: import bodies are streamed and
/// counted, never stored, and each import's test serves generated findings.
#[derive(Clone, Debug, Default)]
pub struct BenchOptions {
    /// Every import's test serves this many generated findings (default: as many as the
    /// upload had).
    pub findings: Option<u64>,
    /// Generated findings carry only the keys a sync-back reads (a fifth of the bytes),
    /// for tests that push many findings through a debug build.
    pub lean: bool,
}

use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

use super::super::count::CountedForm;
use super::super::http::{Request, Response, lock};
use super::import::{Form, GENERIC, fail, resolve, validate};
use super::importer::{auto_create, import_into};
use super::render::{self, User, message_only};
use super::state::State;
use super::{Ctx, Flavour};

use template::Templates;

/// Virtual ids start here, far above the ids the fake hands out itself.
const FIRST_ID: u64 = 10_000_000;

pub(super) const SEVERITIES: [&str; 5] = ["Info", "Low", "Medium", "High", "Critical"];

/// The benchmark state shared by the request handlers.
#[derive(Default)]
pub struct Bench {
    tests: Mutex<Vec<Virtual>>,
    next_id: Mutex<u64>,
    pub(super) templates: OnceLock<Templates>,
}

/// A test whose `n` findings are generated.
#[derive(Clone, Copy, Debug)]
pub(super) struct Virtual {
    pub(super) test: u64,
    /// The older test holding the originals of the duplicates.
    pub(super) old_test: u64,
    pub(super) n: u64,
    pub(super) product: u64,
    /// Finding `i` has id `findings + i`; original `j` has id `originals + j`.
    pub(super) findings: u64,
    pub(super) originals: u64,
    /// 2.x: finding `i` (and its original) use endpoint `endpoints + i`. 3.x: finding
    /// `i` is at location `endpoints + i` through reference `refs + i`; original `j`
    /// through reference `refs + n + j`.
    pub(super) endpoints: u64,
    pub(super) refs: u64,
}

/// What kind of finding `i` is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Active,
    Duplicate,
    FalsePositive,
}

pub(super) fn class(i: u64) -> Class {
    if i % 5 == 2 {
        Class::Duplicate
    } else if i % 50 == 7 {
        Class::FalsePositive
    } else {
        Class::Active
    }
}

pub(super) fn severity(i: u64) -> &'static str {
    SEVERITIES[((i / 3) % 5) as usize]
}

/// Duplicates among the first `n` findings (`i % 5 == 2`).
pub(super) fn duplicates(n: u64) -> u64 {
    n / 5 + u64::from(n % 5 > 2)
}

impl Virtual {
    pub(super) fn id(&self, i: u64) -> u64 {
        self.findings + i
    }

    pub(super) fn original(&self, i: u64) -> Option<u64> {
        (class(i) == Class::Duplicate).then_some(self.originals + i / 5)
    }

    /// Which finding is at `position` of the list filtered by `duplicate`.
    pub(super) fn at(&self, duplicate: Option<bool>, position: u64) -> u64 {
        match duplicate {
            None => position,
            Some(true) => 5 * position + 2,
            Some(false) => 5 * (position / 4) + [0, 1, 3, 4][(position % 4) as usize],
        }
    }

    pub(super) fn count(&self, duplicate: Option<bool>) -> u64 {
        match duplicate {
            None => self.n,
            Some(true) => duplicates(self.n),
            Some(false) => self.n - duplicates(self.n),
        }
    }

    pub(super) fn location_value(&self, i: u64) -> String {
        format!(
            "https://app-{}.example.com:8443/api/v{}/items/{i}",
            i % 97,
            i % 3
        )
    }
}

impl Bench {
    fn allocate(&self, n: u64) -> u64 {
        let mut next = lock(&self.next_id);
        if *next < FIRST_ID {
            *next = FIRST_ID;
        }
        let first = *next;
        *next += n.max(1);
        first
    }

    fn find(&self, test: u64) -> Option<Virtual> {
        lock(&self.tests).iter().find(|v| v.test == test).copied()
    }

    /// The virtual test a finding id belongs to, with its index (or, for an original,
    /// `None` and the original's number).
    pub(super) fn owner(&self, id: u64) -> Option<(Virtual, Result<u64, u64>)> {
        lock(&self.tests).iter().find_map(|v| {
            if (v.findings..v.findings + v.n).contains(&id) {
                Some((*v, Ok(id - v.findings)))
            } else if (v.originals..v.originals + duplicates(v.n)).contains(&id) {
                Some((*v, Err(id - v.originals)))
            } else {
                None
            }
        })
    }
}

/// Handles the requests benchmark mode answers itself; `None` leaves the request to the
/// ordinary handlers.
pub(super) fn intercept(
    ctx: &Ctx,
    state: &Mutex<State>,
    req: &mut Request,
    user: &User,
) -> Option<Response> {
    if req.counted.is_some() && req.method == "POST" {
        return Some(import(ctx, state, req, user));
    }
    if req.method != "GET" || lock(&ctx.bench.tests).is_empty() {
        return None;
    }
    match req.path.as_str() {
        "/api/v2/findings/" => {
            let test = req.param("test")?.parse().ok()?;
            let v = ctx.bench.find(test)?;
            Some(pages::findings_page(ctx, req, &v))
        }
        "/api/v2/location_findings/" if ctx.opts.flavour == Flavour::V3 => {
            pages::location_findings(ctx, req)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------- counted imports

fn import(ctx: &Ctx, state: &Mutex<State>, req: &mut Request, user: &User) -> Response {
    let reimport = req.path.ends_with("/reimport-scan/");
    let counted = req
        .counted
        .take()
        .and_then(|c| c.downcast::<CountedForm>().ok());
    let Some(form) = counted else {
        return Response::json(400, &render::detail("the upload could not be counted"));
    };
    if let Some(e) = &form.error {
        return Response::json(
            400,
            &render::detail(&format!("Multipart form parse error - {e}")),
        );
    }
    if reimport {
        let body = message_only("reimport is not supported in benchmark mode");
        return Response::json(400, &body);
    }
    let file = form.file_name.as_ref().map(|name| super::multipart::Part {
        name: form.file_field.clone().unwrap_or_default(),
        file_name: Some(name.clone()),
        content_type: form.file_content_type.clone(),
        data: Vec::new(),
    });
    let fields = Form {
        fields: form.fields.clone(),
    };
    let mut st = lock(state);
    let outcome = (|| {
        let target = resolve(&st, &fields, user, false)?;
        let v = validate(ctx, &fields, file.as_ref()).map_err(|body| fail(400, body))?;
        let engagement = match target {
            super::import::Target::Engagement(e) => e,
            _ => auto_create(&mut st, &fields, &v, user)
                .map_err(|msg| fail(400, message_only(&msg)))?,
        };
        let file_name = form.file_name.clone().unwrap_or_default();
        let mut outcome = import_into(
            ctx,
            &mut st,
            &v,
            engagement,
            Some(Vec::new()),
            &file_name,
            &[],
            user,
            false,
        );
        if let Some(test) = outcome.test.filter(|_| outcome.status == 201) {
            let n = ctx.opts.bench.as_ref().and_then(|b| b.findings).unwrap_or(
                if v.scan_type == GENERIC {
                    form.file_objects
                } else {
                    ctx.opts.native_findings as u64
                },
            );
            let old_test = st.add_test(engagement, Some("bench originals"), &v.scan_type);
            let product = st.engagement(engagement).map_or(0, |e| e.product);
            let virt = Virtual {
                test,
                old_test,
                n,
                product,
                findings: ctx.bench.allocate(n),
                originals: ctx.bench.allocate(duplicates(n)),
                endpoints: ctx.bench.allocate(n),
                refs: ctx.bench.allocate(n + duplicates(n)),
            };
            lock(&ctx.bench.tests).push(virt);
            outcome.body["statistics"] = json!({ "after": statistics(n) });
        }
        Ok::<_, super::import::Outcome>(outcome)
    })()
    .unwrap_or_else(|o| o);
    st.imports.push(super::state::ImportRecord {
        status: outcome.status,
        fields: form.fields.clone(),
        file_name: form.file_name.clone(),
        file_len: form.file_len as usize,
        file: None,
        test: outcome.test,
    });
    Response::json(outcome.status, &outcome.body)
}

/// The import's `statistics.after` for `n` generated findings.
fn statistics(n: u64) -> Value {
    let mut counts = [[0u64; 8]; 6];
    // A cycle of 150 findings repeats every class and severity combination.
    let cycle: Vec<(usize, Class)> = (0..150)
        .map(|i| {
            let rank = SEVERITIES
                .iter()
                .position(|s| *s == severity(i))
                .unwrap_or(0);
            (rank, class(i))
        })
        .collect();
    let (full, rest) = (n / 150, n % 150);
    for (i, (rank, class)) in cycle.iter().enumerate() {
        let times = full + u64::from((i as u64) < rest);
        let flags = [
            *class == Class::Active,
            false,
            *class == Class::Duplicate,
            *class == Class::FalsePositive,
            false,
            false,
            false,
            true,
        ];
        for row in [*rank, 5] {
            for (k, on) in flags.iter().enumerate() {
                counts[row][k] += times * u64::from(*on);
            }
        }
    }
    let bucket = |c: &[u64; 8]| {
        json!({"active": c[0], "verified": c[1], "duplicate": c[2], "false_p": c[3],
               "out_of_scope": c[4], "is_mitigated": c[5], "risk_accepted": c[6], "total": c[7]})
    };
    json!({
        "info": bucket(&counts[0]), "low": bucket(&counts[1]), "medium": bucket(&counts[2]),
        "high": bucket(&counts[3]), "critical": bucket(&counts[4]), "total": bucket(&counts[5]),
    })
}
