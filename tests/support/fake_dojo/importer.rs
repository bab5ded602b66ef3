//! The importer proper (phase 4 of [`super::import`]): auto-created context, findings
//! created or matched by hash, product-wide deduplication that shows up late when
//! asynchronous, reimport's close/reactivate bookkeeping, the import history and the
//! 201 body with its statistics (`fixtures/dojo/recorded/v3/23-*`, `fixtures/dojo/recorded/v3/45-*`, `fixtures/dojo/recorded/v3/151-*` to
//! `fixtures/dojo/recorded/v3/156-*`; `fixtures/dojo/recorded/v2/46-*`).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::import::{Form, GENERIC, Outcome, Valid, fail};
use super::parsers::{Parsed, canned_findings, is_malformed};
use super::render::{User, internal_error};
use super::state::{Engagement, ImportAction, Pending, State, TestImport, severity_rank};
use super::util::{date_plus_days, now_iso, today};
use super::{Ctx, Flavour};

/// `AutoCreateContextManager.get_or_create_engagement`: finds or creates product type,
/// product and engagement. `Err` is the importer's ValueError text.
pub(super) fn auto_create(
    st: &mut State,
    form: &Form,
    v: &Valid,
    user: &User,
) -> Result<u64, String> {
    let product_name = form.get("product_name").unwrap_or_default().to_string();
    let engagement_name = form.get("engagement_name").map(str::to_string);
    if !v.flag("auto_create_context", false) {
        let what = if st.products.iter().any(|p| p.name == product_name) {
            "engagement"
        } else {
            "product"
        };
        return Err(format!(
            "auto_create_context not True, unable to create non-existing {what}"
        ));
    }
    let product = match st.products.iter().find(|p| p.name == product_name) {
        Some(p) => p.id,
        None => {
            let pt_name = form.get("product_type_name").unwrap_or_default();
            let pt = match st.product_types.iter().find(|p| p.name == pt_name) {
                Some(p) => p.id,
                None => st.add_product_type(pt_name),
            };
            st.add_product(&product_name, pt)
        }
    };
    if let Some(e) = st
        .engagements
        .iter()
        .rev()
        .find(|e| e.product == product && e.name == engagement_name)
    {
        return Ok(e.id);
    }
    let start = today();
    let end = v
        .text("engagement_end_date")
        .map(str::to_string)
        .filter(|e| *e >= start)
        .unwrap_or_else(|| date_plus_days(365));
    let id = st.next_id("engagement");
    st.engagements.push(Engagement {
        id,
        name: engagement_name,
        product,
        target_start: start,
        target_end: end,
        status: "In Progress".into(),
        engagement_type: "CI/CD".into(),
        lead: Some(user.id),
        deduplication_on_engagement: v.flag("deduplication_on_engagement", false),
        source_code_management_uri: v.text("source_code_management_uri").map(str::to_string),
        ..Engagement::default()
    });
    Ok(id)
}

/// Product-wide (or engagement-wide) legacy-hash deduplication for one import.
pub(super) struct Dedup {
    enabled: bool,
    /// Flags visible at once (3.x `sync`/`async_wait`, or no delay configured).
    immediate: bool,
    index: HashMap<String, u64>,
    pending: bool,
}

impl Dedup {
    pub(super) fn new(ctx: &Ctx, st: &State, v: &Valid, engagement: u64) -> Dedup {
        let Some(e) = st.engagement(engagement) else {
            return Dedup {
                enabled: false,
                immediate: true,
                index: HashMap::new(),
                pending: false,
            };
        };
        let in_scope: HashSet<u64> = if e.deduplication_on_engagement {
            st.tests
                .iter()
                .filter(|t| t.engagement == e.id)
                .map(|t| t.id)
                .collect()
        } else {
            let engagements: HashSet<u64> = st
                .engagements
                .iter()
                .filter(|x| x.product == e.product)
                .map(|x| x.id)
                .collect();
            st.tests
                .iter()
                .filter(|t| engagements.contains(&t.engagement))
                .map(|t| t.id)
                .collect()
        };
        let mut index = HashMap::new();
        for f in st.findings.iter().filter(|f| in_scope.contains(&f.test)) {
            if !f.duplicate && f.pending_duplicate_of.is_none() {
                index.entry(f.hash_code.clone()).or_insert(f.id);
            }
        }
        let waits = ctx.opts.flavour == Flavour::V3
            && matches!(v.dedup_mode.as_deref(), Some("sync" | "async_wait"));
        Dedup {
            enabled: st.dedup_enabled,
            immediate: waits || ctx.opts.dedup_delay_gets == 0,
            index,
            pending: false,
        }
    }

    pub(super) fn add(&mut self, st: &mut State, id: u64) {
        if !self.enabled {
            return;
        }
        let Some(f) = st.finding_mut(id) else { return };
        match self.index.get(&f.hash_code) {
            Some(&original) if original != id => {
                if self.immediate {
                    f.duplicate = true;
                    f.duplicate_finding = Some(original);
                    f.active = false;
                } else {
                    f.pending_duplicate_of = Some(original);
                    self.pending = true;
                }
            }
            Some(_) => {}
            None => {
                self.index.insert(f.hash_code.clone(), id);
            }
        }
    }

    /// After the import: arm the "visible after N reads" counter of the test.
    pub(super) fn finish(&self, ctx: &Ctx, st: &mut State, test: u64) {
        if let Some(t) = st.test_mut(test) {
            t.dedup_gets_remaining = if self.pending {
                ctx.opts.dedup_delay_gets
            } else {
                0
            };
        }
    }
}

/// Creates one finding from a parsed one, applying the import options; returns its id
/// or `None` when below `minimum_severity`.
pub(super) fn create_finding(
    st: &mut State,
    v: &Valid,
    test: u64,
    product: u64,
    p: Parsed,
    user: &User,
) -> Option<u64> {
    if severity_rank(&p.finding.severity) < severity_rank(&v.minimum_severity) {
        return None;
    }
    let mut f = p.finding;
    if let Some(a) = v.active {
        f.active = a;
    }
    if let Some(x) = v.verified {
        f.verified = x;
    }
    if let Some(d) = &v.scan_date {
        f.date = d.clone();
    }
    if let Some(s) = v.text("service") {
        f.service = Some(s.to_string());
    }
    if v.flag("apply_tags_to_findings", false) {
        f.tags.extend(v.tags.clone().unwrap_or_default());
    }
    f.reporter = user.id;
    f.found_by = 0;
    let id = st.add_finding(test, f);
    for ep in &p.endpoints {
        st.attach_endpoint(id, product, ep);
    }
    Some(id)
}

/// Where a native import fails halfway ([`super::Options::crash_after_findings`]); the
/// generic parser validates the whole report before anything is saved.
fn crash_after(ctx: &Ctx, v: &Valid) -> Option<usize> {
    ctx.opts
        .crash_after_findings
        .filter(|_| v.scan_type != GENERIC)
}

/// The 500 of an import that failed after its test existed (`fixtures/dojo/recorded/v3/145-*`).
fn crashed(test: u64) -> Outcome {
    Outcome {
        status: 500,
        body: internal_error(),
        test: Some(test),
    }
}

pub(super) fn action(st: &mut State, action: char, finding: u64) -> ImportAction {
    ImportAction {
        id: st.next_id("test_import_finding_action"),
        action,
        finding,
        created: now_iso(),
    }
}

#[allow(clippy::too_many_arguments)] // one call site; the parameters are the import's context
pub(super) fn import_into(
    ctx: &Ctx,
    st: &mut State,
    v: &Valid,
    engagement: u64,
    parsed: Option<Vec<Parsed>>,
    file_name: &str,
    bytes: &[u8],
    user: &User,
    via_reimport: bool,
) -> Outcome {
    let test = st.add_test(engagement, v.text("test_title"), &v.scan_type);
    {
        let t = st.test_mut(test).expect("just added");
        if let Some(d) = &v.scan_date {
            t.target_start = format!("{d}T00:00:00Z");
            t.target_end = t.target_start.clone();
        }
        for (k, slot) in [
            ("version", &mut t.version),
            ("build_id", &mut t.build_id),
            ("commit_hash", &mut t.commit_hash),
            ("branch_tag", &mut t.branch_tag),
        ] {
            if let Some(val) = v.text(k) {
                *slot = Some(val.to_string());
            }
        }
        t.tags = v.tags.clone().unwrap_or_default();
        t.lead = v.lead;
        t.percent_complete = Some(50);
    }
    let parsed = match parsed {
        Some(p) => p,
        None if is_malformed(&v.scan_type, file_name, bytes) => {
            // The parser crashed after the test was created: it stays, empty
            // (`fixtures/dojo/recorded/v3/146-*`).
            return crashed(test);
        }
        None => canned_findings(&v.scan_type, bytes.len(), ctx.opts.native_findings),
    };
    let product = st.engagement(engagement).map_or(0, |e| e.product);
    let mut dedup = Dedup::new(ctx, st, v, engagement);
    let mut actions = Vec::new();
    let crash = crash_after(ctx, v);
    for (i, p) in parsed.into_iter().enumerate() {
        if crash == Some(i) {
            // Saving this finding failed: what was saved stays, at 50 %, with no history.
            return crashed(test);
        }
        if let Some(id) = create_finding(st, v, test, product, p, user) {
            dedup.add(st, id);
            actions.push(action(st, 'N', id));
        }
    }
    dedup.finish(ctx, st, test);
    let close_old = v.flag("close_old_findings", false) && !via_reimport;
    if close_old {
        actions.extend(close_old_on_import(st, v, test, engagement));
    }
    if let Some(t) = st.test_mut(test) {
        t.percent_complete = Some(100);
    }
    record_history(st, v, test, "import", actions);
    let after = State::statistics(st.findings.iter().filter(|f| f.test == test));
    let stats = json!({ "after": after });
    hide_tail(ctx, st, test, true);
    Outcome {
        status: 201,
        body: response(ctx, st, v, test, stats, via_reimport),
        test: Some(test),
    }
}

/// `close_old_findings` on import: findings of the same scan type in other tests of the
/// engagement (or the product with `close_old_findings_product_scope`) that are not in
/// this report get mitigated.
pub(super) fn close_old_on_import(
    st: &mut State,
    v: &Valid,
    test: u64,
    engagement: u64,
) -> Vec<ImportAction> {
    let product = st.engagement(engagement).map_or(0, |e| e.product);
    let product_scope = v.flag("close_old_findings_product_scope", false);
    let engagements: HashSet<u64> = st
        .engagements
        .iter()
        .filter(|e| {
            if product_scope {
                e.product == product
            } else {
                e.id == engagement
            }
        })
        .map(|e| e.id)
        .collect();
    let test_type = st.test(test).map_or(0, |t| t.test_type);
    let tests: HashSet<u64> = st
        .tests
        .iter()
        .filter(|t| t.id != test && t.test_type == test_type && engagements.contains(&t.engagement))
        .map(|t| t.id)
        .collect();
    let current: HashSet<String> = st
        .findings
        .iter()
        .filter(|f| f.test == test)
        .map(|f| f.hash_code.clone())
        .collect();
    let now = now_iso();
    let mut closed = Vec::new();
    for f in st.findings.iter_mut().filter(|f| tests.contains(&f.test)) {
        if !f.is_mitigated
            && !current.contains(&f.hash_code)
            && f.service.as_deref() == v.text("service")
        {
            f.is_mitigated = true;
            f.active = false;
            f.mitigated = Some(now.clone());
            closed.push(f.id);
        }
    }
    closed.into_iter().map(|id| action(st, 'C', id)).collect()
}

#[allow(clippy::too_many_arguments)] // one call site; the parameters are the import's context
pub(super) fn reimport_into(
    ctx: &Ctx,
    st: &mut State,
    v: &Valid,
    test: u64,
    parsed: Option<Vec<Parsed>>,
    file_name: &str,
    bytes: &[u8],
    user: &User,
) -> Outcome {
    let parsed = match parsed {
        Some(p) => p,
        None if is_malformed(&v.scan_type, file_name, bytes) => return crashed(test),
        None => canned_findings(&v.scan_type, bytes.len(), ctx.opts.native_findings),
    };
    let Some((engagement, product, _)) = st.lineage(test) else {
        return fail(500, internal_error());
    };
    let before_findings: Vec<_> = st
        .findings
        .iter()
        .filter(|f| f.test == test)
        .cloned()
        .collect();
    let before = State::statistics(&before_findings);
    // Existing findings by hash, oldest first; each can be matched once per reimport.
    let mut by_hash: HashMap<String, Vec<u64>> = HashMap::new();
    for f in &before_findings {
        by_hash.entry(f.hash_code.clone()).or_default().push(f.id);
    }
    let mut matched: HashSet<u64> = HashSet::new();
    let (mut created, mut reactivated, mut untouched, mut closed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let do_not_reactivate = v.flag("do_not_reactivate", false);
    let mut dedup = Dedup::new(ctx, st, v, engagement);
    let crash = crash_after(ctx, v);
    for (i, p) in parsed.into_iter().enumerate() {
        if crash == Some(i) {
            // Findings handled so far stay created or reactivated; nothing is closed and
            // no import is recorded (the history is written last).
            return crashed(test);
        }
        if severity_rank(&p.finding.severity) < severity_rank(&v.minimum_severity) {
            continue;
        }
        let candidates = by_hash.get(&p.finding.hash_code);
        if let Some(id) =
            candidates.and_then(|ids| ids.iter().copied().find(|id| !matched.contains(id)))
        {
            matched.insert(id);
            let f = st.finding_mut(id).expect("existing finding");
            if f.is_mitigated {
                if do_not_reactivate {
                    // Stays closed and is counted in no bucket
                    // (`fixtures/dojo/recorded/v3/154-*`).
                    continue;
                }
                f.is_mitigated = false;
                f.mitigated = None;
                f.active = v.active.unwrap_or(true);
                if let Some(x) = v.verified {
                    f.verified = x;
                }
                f.updated = now_iso();
                reactivated.push(id);
            } else {
                untouched.push(id);
            }
        } else if candidates.is_some() {
            // The same finding twice in one report: it matches the one already matched.
            continue;
        } else if let Some(id) = create_finding(st, v, test, product, p, user) {
            dedup.add(st, id);
            by_hash
                .entry(st.finding(id).expect("created").hash_code.clone())
                .or_default()
                .push(id);
            matched.insert(id);
            created.push(id);
        }
    }
    dedup.finish(ctx, st, test);
    // close_old_findings defaults to true on reimport; the scope is this test.
    if v.flag("close_old_findings", true) {
        let now = now_iso();
        for f in &before_findings {
            if matched.contains(&f.id) || f.is_mitigated {
                continue;
            }
            if let Some(x) = st.finding_mut(f.id) {
                x.is_mitigated = true;
                x.active = false;
                x.mitigated = Some(now.clone());
                x.updated = now.clone();
                closed.push(f.id);
            }
        }
    }
    {
        let t = st.test_mut(test).expect("resolved test");
        if let Some(val) = v.text("version") {
            t.version = Some(val.to_string());
        }
        for (k, slot) in [
            ("build_id", &mut t.build_id),
            ("commit_hash", &mut t.commit_hash),
            ("branch_tag", &mut t.branch_tag),
        ] {
            if let Some(val) = v.text(k) {
                *slot = Some(val.to_string());
            }
        }
        if let Some(tags) = &v.tags {
            t.tags = tags.clone();
        }
        if t.scan_type.is_none() {
            t.scan_type = Some(v.scan_type.clone());
        }
        t.percent_complete = Some(100);
        t.updated = now_iso();
    }
    let bucket =
        |st: &State, ids: &[u64]| State::statistics(ids.iter().filter_map(|id| st.finding(*id)));
    let delta = json!({
        "created": bucket(st, &created),
        "closed": bucket(st, &closed),
        "reactivated": bucket(st, &reactivated),
        "untouched": bucket(st, &untouched),
    });
    let mut actions = Vec::new();
    for (code, ids) in [
        ('N', &created),
        ('C', &closed),
        ('R', &reactivated),
        ('U', &untouched),
    ] {
        for id in ids {
            actions.push(action(st, code, *id));
        }
    }
    record_history(st, v, test, "reimport", actions);
    hide_tail(ctx, st, test, false);
    let after = State::statistics(st.findings.iter().filter(|f| f.test == test));
    let stats = json!({ "before": before, "delta": delta, "after": after });
    Outcome {
        status: 201,
        body: response(ctx, st, v, test, stats, true),
        test: Some(test),
    }
}

/// With [`super::SlowImport`], the import's findings after the first `shown` (of a new
/// test) and its history row are shown only later, as DefectDojo saves them.
fn hide_tail(ctx: &Ctx, st: &mut State, test: u64, new_test: bool) {
    let Some(slow) = ctx.opts.slow_import else {
        return;
    };
    let now = Instant::now();
    let at = |fraction: f64| slow.finish_after.map(|d| now + d.mul_f64(fraction));
    if new_test {
        let ids: Vec<u64> = st
            .findings
            .iter()
            .filter(|f| f.test == test)
            .map(|f| f.id)
            .skip(slow.shown)
            .collect();
        let n = ids.len();
        for (i, id) in ids.into_iter().enumerate() {
            let pos = st.findings.iter().position(|f| f.id == id).expect("listed");
            let f = st.findings.remove(pos);
            let when = at((i + 1) as f64 / (n + 1) as f64);
            st.pending.push((when, Pending::Finding(Box::new(f))));
        }
    }
    if let Some(pos) = st.test_imports.iter().rposition(|r| r.test == test) {
        let row = st.test_imports.remove(pos);
        st.pending.push((at(1.0), Pending::Import(Box::new(row))));
    }
}

pub(super) fn record_history(
    st: &mut State,
    v: &Valid,
    test: u64,
    kind: &str,
    actions: Vec<ImportAction>,
) {
    if !st.import_history {
        return;
    }
    let text = |k: &str| v.text(k).unwrap_or("").to_string();
    let settings = json!({
        "tags": v.tags.clone().unwrap_or_default(),
        "active": v.active,
        "service": v.text("service"),
        "group_by": v.text("group_by"),
        "verified": v.verified,
        "scan_date": v.scan_date.as_ref().map(|d| format!("{d}T00:00:00+00:00")),
        "push_to_jira": v.flag("push_to_jira", false),
        "minimum_severity": v.minimum_severity,
        "do_not_reactivate": v.flag("do_not_reactivate", false),
        "close_old_findings": v.flag("close_old_findings", kind == "reimport"),
        "apply_tags_to_findings": v.flag("apply_tags_to_findings", false),
        "apply_tags_to_endpoints": v.flag("apply_tags_to_endpoints", false),
        "close_old_findings_product_scope": v.flag("close_old_findings_product_scope", false),
        "create_finding_groups_for_all_findings": v.flag("create_finding_groups_for_all_findings", true),
    });
    let row = TestImport {
        id: st.next_id("test_import"),
        test,
        kind: kind.to_string(),
        import_settings: settings,
        actions,
        version: text("version"),
        build_id: text("build_id"),
        commit_hash: text("commit_hash"),
        branch_tag: text("branch_tag"),
        created: now_iso(),
    };
    st.test_imports.push(row);
}

/// The 201 body: the validated fields echoed (optional ones only when sent), the ids and
/// the statistics (`fixtures/dojo/recorded/v3/23-*`, `fixtures/dojo/recorded/v3/45-*`; 2.x without the deduplication fields).
pub(super) fn response(
    ctx: &Ctx,
    st: &State,
    v: &Valid,
    test: u64,
    statistics: Value,
    reimport: bool,
) -> Value {
    let (engagement, product, product_type) = st.lineage(test).unwrap_or((0, 0, 0));
    let mut m = Map::new();
    if let Some(d) = &v.scan_date {
        m.insert("scan_date".into(), json!(d));
    }
    m.insert("minimum_severity".into(), json!(v.minimum_severity));
    // Unsent active/verified are echoed as false (INDEX observation).
    m.insert("active".into(), json!(v.active.unwrap_or(false)));
    m.insert("verified".into(), json!(v.verified.unwrap_or(false)));
    m.insert("endpoint_to_add".into(), json!(v.endpoint_to_add));
    for (k, val) in &v.texts {
        m.insert(k.to_string(), json!(val));
    }
    for (k, default) in [
        ("auto_create_context", false),
        ("deduplication_on_engagement", false),
        ("push_to_jira", false),
        ("create_finding_groups_for_all_findings", true),
        ("apply_tags_to_findings", false),
        ("apply_tags_to_endpoints", false),
        ("close_old_findings", reimport),
        ("close_old_findings_product_scope", false),
    ] {
        m.insert(k.into(), json!(v.flag(k, default)));
    }
    m.insert("lead".into(), json!(v.lead));
    m.insert("api_scan_configuration".into(), Value::Null);
    if let Some(tags) = &v.tags {
        m.insert("tags".into(), json!(tags));
    }
    m.insert("scan_type".into(), json!(v.scan_type));
    m.insert("test_id".into(), json!(test));
    m.insert("engagement_id".into(), json!(engagement));
    m.insert("product_id".into(), json!(product));
    m.insert("product_type_id".into(), json!(product_type));
    m.insert("statistics".into(), statistics);
    m.insert("test".into(), json!(test));
    if reimport {
        m.insert(
            "do_not_reactivate".into(),
            json!(v.flag("do_not_reactivate", false)),
        );
    } else if let Some(e) = v.engagement {
        m.insert("engagement".into(), json!(e));
    }
    if ctx.opts.flavour == Flavour::V3 {
        m.insert("deduplication_execution_mode".into(), json!(v.dedup_mode));
        let complete = matches!(v.dedup_mode.as_deref(), Some("sync" | "async_wait"));
        m.insert("deduplication_complete".into(), json!(complete));
    }
    Value::Object(m)
}
