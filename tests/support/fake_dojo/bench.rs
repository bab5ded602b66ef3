//! Benchmark mode: imports that are counted instead of stored, and tests whose findings
//! are generated per request instead of held in memory.
//!
//! With [`super::Options::count_imports`], an import's multipart body streams through a
//! [`MultipartCount`] (the plumbing never holds it): the form fields go through the
//! usual permission and validation phases, the report is only measured (bytes, and the
//! findings of a Generic Findings Import file), and the test is created empty. The test
//! then becomes *virtual*: `GET /api/v2/findings/?test=<id>` serves `n` generated
//! findings ([`Options::bench_findings`](super::Options::bench_findings), else the
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

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

use super::super::count::CountedForm;
use super::super::http::{Body, Request, Response, lock};
use super::common::page_link;
use super::import::{Form, GENERIC, fail, resolve, validate};
use super::importer::{auto_create, import_into};
use super::model::Finding;
use super::render::{self, User, message_only};
use super::state::State;
use super::{Ctx, Flavour};

/// Virtual ids start here, far above the ids the fake hands out itself.
const FIRST_ID: u64 = 10_000_000;

const SEVERITIES: [&str; 5] = ["Info", "Low", "Medium", "High", "Critical"];

/// The benchmark state shared by the request handlers.
#[derive(Default)]
pub struct Bench {
    tests: Mutex<Vec<Virtual>>,
    next_id: Mutex<u64>,
    templates: OnceLock<Templates>,
}

/// A test whose `n` findings are generated.
#[derive(Clone, Copy, Debug)]
struct Virtual {
    test: u64,
    /// The older test holding the originals of the duplicates.
    old_test: u64,
    n: u64,
    product: u64,
    /// Finding `i` has id `findings + i`; original `j` has id `originals + j`.
    findings: u64,
    originals: u64,
    /// 2.x: finding `i` (and its original) use endpoint `endpoints + i`. 3.x: finding
    /// `i` is at location `endpoints + i` through reference `refs + i`; original `j`
    /// through reference `refs + n + j`.
    endpoints: u64,
    refs: u64,
}

/// What kind of finding `i` is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Active,
    Duplicate,
    FalsePositive,
}

fn class(i: u64) -> Class {
    if i % 5 == 2 {
        Class::Duplicate
    } else if i % 50 == 7 {
        Class::FalsePositive
    } else {
        Class::Active
    }
}

fn severity(i: u64) -> &'static str {
    SEVERITIES[((i / 3) % 5) as usize]
}

/// Duplicates among the first `n` findings (`i % 5 == 2`).
fn duplicates(n: u64) -> u64 {
    n / 5 + u64::from(n % 5 > 2)
}

impl Virtual {
    fn id(&self, i: u64) -> u64 {
        self.findings + i
    }

    fn original(&self, i: u64) -> Option<u64> {
        (class(i) == Class::Duplicate).then_some(self.originals + i / 5)
    }

    /// Which finding is at `position` of the list filtered by `duplicate`.
    fn at(&self, duplicate: Option<bool>, position: u64) -> u64 {
        match duplicate {
            None => position,
            Some(true) => 5 * position + 2,
            Some(false) => 5 * (position / 4) + [0, 1, 3, 4][(position % 4) as usize],
        }
    }

    fn count(&self, duplicate: Option<bool>) -> u64 {
        match duplicate {
            None => self.n,
            Some(true) => duplicates(self.n),
            Some(false) => self.n - duplicates(self.n),
        }
    }

    fn location_value(&self, i: u64) -> String {
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
    fn owner(&self, id: u64) -> Option<(Virtual, Result<u64, u64>)> {
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
            Some(findings_page(ctx, req, &v))
        }
        "/api/v2/location_findings/" if ctx.opts.flavour == Flavour::V3 => {
            location_findings(ctx, req)
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
            let n = ctx
                .opts
                .bench_findings
                .unwrap_or(if v.scan_type == GENERIC {
                    form.file_objects
                } else {
                    ctx.opts.native_findings as u64
                });
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
        endpoint: "import-scan".into(),
        status: outcome.status,
        fields: form.fields.clone(),
        file_name: form.file_name.clone(),
        file_len: form.file_len as usize,
        file_content_type: form.file_content_type.clone(),
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

// ---------------------------------------------------------------- finding templates

/// A value filled into a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    Id,
    Test,
    Original,
    Endpoint,
    Title,
    Severity,
    NumericalSeverity,
    Hash,
    UniqueId,
}

const SENTINELS: [(&str, Var); 9] = [
    ("9990000000000001", Var::Id),
    ("9990000000000002", Var::Test),
    ("9990000000000003", Var::Original),
    ("9990000000000004", Var::Endpoint),
    ("@@TITLE@@", Var::Title),
    ("@@SEVERITY@@", Var::Severity),
    ("@@NUMSEV@@", Var::NumericalSeverity),
    ("@@HASH@@", Var::Hash),
    ("@@UNIQUE@@", Var::UniqueId),
];

enum Segment {
    Text(String),
    Var(Var),
}

/// A finding's JSON split at its variable parts.
struct Template(Vec<Segment>);

struct Templates {
    active: Template,
    duplicate: Template,
    false_positive: Template,
}

impl Template {
    fn new(json: &str) -> Template {
        let mut segments = Vec::new();
        let mut rest = json;
        loop {
            let next = SENTINELS
                .iter()
                .filter_map(|(s, var)| rest.find(s).map(|at| (at, s.len(), *var)))
                .min_by_key(|(at, _, _)| *at);
            match next {
                Some((at, len, var)) => {
                    segments.push(Segment::Text(rest[..at].to_string()));
                    segments.push(Segment::Var(var));
                    rest = &rest[at + len..];
                }
                None => {
                    segments.push(Segment::Text(rest.to_string()));
                    return Template(segments);
                }
            }
        }
    }
}

/// What goes into one rendered finding.
struct Values {
    id: u64,
    test: u64,
    original: u64,
    endpoint: u64,
    /// The finding's number in its scan (titles repeat every 5,000).
    number: u64,
    severity: &'static str,
}

impl Template {
    fn render(&self, out: &mut String, v: &Values) {
        for segment in &self.0 {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Var(var) => {
                    let _ = match var {
                        Var::Id => write!(out, "{}", v.id),
                        Var::Test => write!(out, "{}", v.test),
                        Var::Original => write!(out, "{}", v.original),
                        Var::Endpoint => write!(out, "{}", v.endpoint),
                        Var::Title => write!(
                            out,
                            "Synthetic Finding {}: Outdated Component Allows Request Smuggling",
                            v.number % 5000
                        ),
                        Var::Severity => write!(out, "{}", v.severity),
                        Var::NumericalSeverity => {
                            write!(out, "{}", render::numerical_severity(v.severity))
                        }
                        Var::Hash => write!(out, "{:016x}{:048x}", v.number % 5000, v.number),
                        Var::UniqueId => {
                            write!(out, "{:08x}-0000-4000-8000-{:012x}", v.number, v.number)
                        }
                    };
                }
            }
        }
    }
}

/// The keys of a lean finding: what sync-back reads.
const LEAN_KEYS: [&str; 18] = [
    "id",
    "title",
    "description",
    "severity",
    "created",
    "test",
    "duplicate",
    "duplicate_finding",
    "false_p",
    "risk_accepted",
    "out_of_scope",
    "active",
    "verified",
    "is_mitigated",
    "endpoints",
    "cwe",
    "vulnerability_ids",
    "tags",
];

fn templates(f: Flavour, lean: bool) -> Templates {
    let make = |class: Class| {
        let mut x = Finding::new(
            "",
            "@@SEVERITY@@",
            "The component answers with a vulnerable version banner. An attacker can smuggle \
             requests past the proxy and reach internal routes.\n\n**Location:** `see endpoints`\
             \n\n**Attributes:**\n\n- **port:** `8443`\n- **service:**\n    - **name:** `https`\
             \n    - **product:** `nginx`",
        );
        x.title = "@@TITLE@@".into();
        x.id = 9_990_000_000_000_001;
        x.test = 9_990_000_000_000_002;
        x.endpoints = vec![9_990_000_000_000_004];
        x.hash_code = "@@HASH@@".into();
        x.unique_id_from_tool = Some("@@UNIQUE@@".into());
        x.vuln_id_from_tool = Some("CVE-2024-0001".into());
        x.vulnerability_ids = vec!["CVE-2024-0001".into()];
        x.cwe = 444;
        x.cwes = vec!["CWE-444".into()];
        x.mitigation = Some("Upgrade the component to the fixed version.".into());
        x.references = Some("- <https://nvd.nist.gov/vuln/detail/CVE-2024-0001>".into());
        x.found_by = 1;
        x.dynamic_finding = true;
        x.extra
            .insert("numerical_severity".into(), json!("@@NUMSEV@@"));
        match class {
            Class::Active => {}
            Class::Duplicate => {
                x.active = false;
                x.duplicate = true;
                x.duplicate_finding = Some(9_990_000_000_000_003);
            }
            Class::FalsePositive => {
                x.active = false;
                x.false_p = true;
            }
        }
        let mut rendered = render::finding(f, &x);
        if lean {
            if let Some(m) = rendered.as_object_mut() {
                m.retain(|k, _| LEAN_KEYS.contains(&k.as_str()));
            }
        }
        let template = Template::new(&rendered.to_string());
        let vars: Vec<Var> = template
            .0
            .iter()
            .filter_map(|s| match s {
                Segment::Var(v) => Some(*v),
                Segment::Text(_) => None,
            })
            .collect();
        for (_, var) in SENTINELS {
            let dropped = lean && matches!(var, Var::NumericalSeverity | Var::Hash | Var::UniqueId);
            let expected = (var != Var::Original || class == Class::Duplicate) && !dropped;
            assert_eq!(vars.contains(&var), expected, "template variable {var:?}");
        }
        template
    };
    Templates {
        active: make(Class::Active),
        duplicate: make(Class::Duplicate),
        false_positive: make(Class::FalsePositive),
    }
}

fn templates_of(ctx: &Ctx) -> &Templates {
    ctx.bench
        .templates
        .get_or_init(|| templates(ctx.opts.flavour, ctx.opts.bench_lean))
}

// ---------------------------------------------------------------- generated pages

fn limit_offset(req: &Request) -> (u64, u64) {
    let num = |k: &str| req.param(k).and_then(|v| v.parse::<u64>().ok());
    (
        num("limit").filter(|l| *l > 0).unwrap_or(25),
        num("offset").unwrap_or(0),
    )
}

/// DRF's `count`/`next`/`previous` head of a page, up to `"results":[`.
fn page_head(ctx: &Ctx, req: &Request, count: u64, limit: u64, offset: u64) -> String {
    let link = |o: Option<u64>| {
        Value::String(page_link(ctx, req, limit as usize, o.map(|o| o as usize))).to_string()
    };
    let next = if offset + limit < count {
        link(Some(offset + limit))
    } else {
        "null".into()
    };
    let previous = match offset {
        0 => "null".into(),
        o if o <= limit => link(None),
        o => link(Some(o - limit)),
    };
    format!("{{\"count\":{count},\"next\":{next},\"previous\":{previous},\"results\":[")
}

fn findings_page(ctx: &Ctx, req: &Request, v: &Virtual) -> Response {
    let f = ctx.opts.flavour;
    let t = templates_of(ctx);
    let duplicate = req.param("duplicate").and_then(|d| match d.as_str() {
        "true" | "True" | "1" => Some(true),
        "false" | "False" | "0" => Some(false),
        _ => None,
    });
    let (limit, offset) = limit_offset(req);
    let count = v.count(duplicate);
    let end = count.min(offset.saturating_add(limit));
    let page: Vec<u64> = (offset.min(end)..end).map(|p| v.at(duplicate, p)).collect();
    let mut out = page_head(ctx, req, count, limit, offset);
    out.reserve(page.len() * 3000);
    for (k, &i) in page.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let template = match class(i) {
            Class::Active => &t.active,
            Class::Duplicate => &t.duplicate,
            Class::FalsePositive => &t.false_positive,
        };
        let endpoint = match f {
            Flavour::V2 => v.endpoints + i,
            Flavour::V3 => v.refs + i,
        };
        template.render(
            &mut out,
            &Values {
                id: v.id(i),
                test: v.test,
                original: v.original(i).unwrap_or(0),
                endpoint,
                number: i,
                severity: severity(i),
            },
        );
    }
    out.push(']');
    let wanted = req.param("prefetch").unwrap_or_default();
    let wanted: Vec<&str> = wanted.split(',').map(str::trim).collect();
    if wanted
        .iter()
        .any(|w| *w == "endpoints" || *w == "duplicate_finding")
    {
        out.push_str(",\"prefetch\":{");
        let mut first_key = true;
        if wanted.contains(&"endpoints") {
            out.push_str("\"endpoints\":{");
            for (k, &i) in page.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                match f {
                    Flavour::V2 => endpoint_v2(&mut out, v, i),
                    Flavour::V3 => {
                        let _ = write!(out, "\"{}\":", v.refs + i);
                        location_ref(&mut out, v.refs + i, v.endpoints + i, v.id(i));
                    }
                }
            }
            out.push('}');
            first_key = false;
        }
        if wanted.contains(&"duplicate_finding") {
            if !first_key {
                out.push(',');
            }
            out.push_str("\"duplicate_finding\":{");
            let mut first = true;
            for &i in &page {
                let Some(original) = v.original(i) else {
                    continue;
                };
                if !first {
                    out.push(',');
                }
                first = false;
                let j = i / 5;
                let _ = write!(out, "\"{original}\":");
                let endpoint = match f {
                    Flavour::V2 => v.endpoints + i,
                    Flavour::V3 => v.refs + v.n + j,
                };
                t.active.render(
                    &mut out,
                    &Values {
                        id: original,
                        test: v.old_test,
                        original: 0,
                        endpoint,
                        number: i,
                        severity: severity(i),
                    },
                );
            }
            out.push('}');
        }
        out.push('}');
    }
    out.push('}');
    json_response(out)
}

fn json_response(body: String) -> Response {
    Response::new(200)
        .header("Content-Type", "application/json")
        .body(Body::Bytes(body.into_bytes()))
}

/// A 2.x endpoint object (`render::endpoint_v2`'s keys); its findings are finding `i`
/// and, for a duplicate, its original.
fn endpoint_v2(out: &mut String, v: &Virtual, i: u64) {
    let id = v.endpoints + i;
    let findings = match v.original(i) {
        Some(o) => format!("[{o},{}]", v.id(i)),
        None => format!("[{}]", v.id(i)),
    };
    let _ = write!(
        out,
        "\"{id}\":{{\"endpoint_params\":[],\"findings\":{findings},\"fragment\":null,\
         \"host\":\"app-{}.example.com\",\"id\":{id},\"path\":\"api/v{}/items/{i}\",\"port\":8443,\
         \"product\":{},\"protocol\":\"https\",\"query\":null,\"tags\":[],\"userinfo\":null}}",
        i % 97,
        i % 3,
        v.product
    );
}

/// A 3.x location-finding reference (`render::location_finding`'s keys).
fn location_ref(out: &mut String, id: u64, location: u64, finding: u64) {
    let _ = write!(
        out,
        "{{\"audit_time\":null,\"auditor\":null,\"created\":\"2026-01-01T00:00:00.000000Z\",\
         \"finding\":{finding},\"id\":{id},\"location\":{location},\"relationship\":\"\",\
         \"relationship_data\":{{}},\"status\":\"Active\",\"updated\":\"2026-01-01T00:00:00.000000Z\"}}"
    );
}

/// 3.x `location_findings?finding_includes=…&prefetch=location` for virtual findings:
/// one reference per finding (an original's is its own, to the same location).
fn location_findings(ctx: &Ctx, req: &Request) -> Option<Response> {
    let includes = req.param("finding_includes")?;
    let mut ids: Vec<u64> = includes
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    // (reference, location, finding, finding number) of each requested virtual finding
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let Some((v, which)) = ctx.bench.owner(id) else {
            continue;
        };
        rows.push(match which {
            Ok(i) => (v.refs + i, v.endpoints + i, id, i, v),
            Err(j) => (v.refs + v.n + j, v.endpoints + 5 * j + 2, id, 5 * j + 2, v),
        });
    }
    if rows.is_empty() {
        return None;
    }
    let (limit, offset) = limit_offset(req);
    let count = rows.len() as u64;
    let start = offset.min(count) as usize;
    let end = count.min(offset.saturating_add(limit)) as usize;
    let page = &rows[start..end];
    let mut out = page_head(ctx, req, count, limit, offset);
    for (k, (reference, location, finding, _, _)) in page.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        location_ref(&mut out, *reference, *location, *finding);
    }
    out.push(']');
    let with_location = req
        .param("prefetch")
        .is_some_and(|p| p.split(',').any(|s| s.trim() == "location"));
    if with_location {
        out.push_str(",\"prefetch\":{\"location\":{");
        for (k, (_, location, _, i, v)) in page.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "\"{location}\":{{\"created\":\"2026-01-01T00:00:00.000000Z\",\"id\":{location},\
                 \"inherited_tags\":[],\"location_type\":\"url\",\"location_value\":{},\
                 \"tags\":[],\"updated\":\"2026-01-01T00:00:00.000000Z\"}}",
                Value::String(v.location_value(*i))
            );
        }
        out.push_str("}}");
    }
    out.push('}');
    Some(json_response(out))
}
