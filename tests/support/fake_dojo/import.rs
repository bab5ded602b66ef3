//! `POST /api/v2/import-scan/` and `/api/v2/reimport-scan/`.
//!
//! The phases run in DefectDojo's order, because clients see their errors in that order:
//!
//! 1. media type: anything but `multipart/form-data` → 415 (`fixtures/dojo/recorded/v3/27-*`);
//! 2. the permission class resolves the target (`UserHasImportPermission` /
//!    `UserHasReimportPermission`): unknown engagement/test, missing names → 400 with a
//!    bare JSON list (`fixtures/dojo/recorded/v3/25-*`, `fixtures/dojo/recorded/v3/26-*`, `fixtures/dojo/recorded/v3/57-*`, `fixtures/dojo/recorded/v3/58-*`);
//! 3. the serializer validates the fields (400 with `message`/`pro`: scan type
//!    `fixtures/dojo/recorded/v3/24-*`, extension `fixtures/dojo/recorded/v3/29-*`, severity `fixtures/dojo/recorded/v3/30-*`, future `scan_date`), then
//!    `validate()` (missing file `fixtures/dojo/recorded/v3/28-*`, file too large `fixtures/dojo/recorded/v3/149-*`);
//! 4. the importer: auto-create context, parse the report (generic parser errors → 400
//!    as `fixtures/dojo/recorded/v3/64-*`; a crashing native parser → 500 and an empty test left behind,
//!    `fixtures/dojo/recorded/v3/31-*`, `fixtures/dojo/recorded/v3/145-*`, `fixtures/dojo/recorded/v3/146-*`),
//!    create or match findings, deduplicate, record the import history, answer 201 with
//!    the statistics (`fixtures/dojo/recorded/v3/23-*`, `fixtures/dojo/recorded/v3/45-*`, `fixtures/dojo/recorded/v3/151-*` to `fixtures/dojo/recorded/v3/154-*`; 2.x without
//!    `deduplication_complete`, `fixtures/dojo/recorded/v2/46-*`).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::super::http::{LOGGED_BODY_LIMIT, Request, Response, lock};
use super::common::split_tags;
use super::importer::{auto_create, import_into, reimport_into};
use super::multipart::{Part, parse_multipart};
use super::parsers::{ParseError, extension, parse_generic};
use super::render::{self, LOWPRIV, User, field_errors, internal_error, message_only};
use super::state::{ImportRecord, SEVERITIES, State};
use super::util::{is_date, parse_bool, today};
use super::{Ctx, Flavour};

pub(super) const SCAN_TYPES: &str = include_str!("../../../fixtures/dojo/scan-types.txt");

/// `DD_FILE_IMPORT_TYPES`.
pub(super) const ALLOWED_EXTENSIONS: [&str; 15] = [
    "xml", "csv", "nessus", "json", "jsonl", "html", "js", "zip", "xlsx", "txt", "sarif", "fpr",
    "md", "log", "fvdl",
];

pub(super) const GENERIC: &str = "Generic Findings Import";

/// The form fields of an import request. Empty values count as absent, as in
/// DefectDojo's `convert_querydict_to_dict`.
pub(super) struct Form {
    pub(super) fields: Vec<(String, String)>,
}

impl Form {
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

pub(super) struct Outcome {
    pub(super) status: u16,
    pub(super) body: Value,
    pub(super) test: Option<u64>,
}

pub(super) fn fail(status: u16, body: Value) -> Outcome {
    Outcome {
        status,
        body,
        test: None,
    }
}

/// A 400 with a bare JSON list of messages (DRF ValidationError raised by a permission class).
pub(super) fn bare(msg: String) -> Outcome {
    fail(400, json!([msg]))
}

pub fn handle(
    ctx: &Ctx,
    state: &Mutex<State>,
    req: &Request,
    user: &User,
    reimport: bool,
) -> Response {
    let raw_ct = req.header("content-type").unwrap_or("");
    if !raw_ct
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        let msg = format!("Unsupported media type \"{raw_ct}\" in request.");
        return Response::json(415, &render::detail(&msg));
    }
    let parts = match parse_multipart(raw_ct, &req.body) {
        Ok(parts) => parts,
        Err(e) => return Response::json(400, &render::detail(&e)),
    };
    let mut fields = Vec::new();
    let mut file: Option<Part> = None;
    for p in parts {
        match &p.file_name {
            Some(name) if p.name == "file" && !name.is_empty() => file = Some(p),
            Some(name) => fields.push((p.name.clone(), format!("<file {name}>"))),
            None => fields.push((
                p.name.clone(),
                String::from_utf8_lossy(&p.data).into_owned(),
            )),
        }
    }
    let record = ImportRecord {
        status: 0,
        fields: fields.clone(),
        file_name: file.as_ref().and_then(|f| f.file_name.clone()),
        file_len: file.as_ref().map_or(0, |f| f.data.len()),
        file: file
            .as_ref()
            .filter(|f| f.data.len() <= LOGGED_BODY_LIMIT)
            .map(|f| f.data.clone()),
        test: None,
    };
    let mut st = lock(state);
    st.imports.push(record);
    let index = st.imports.len() - 1;
    let outcome = run(
        ctx,
        &mut st,
        &Form { fields },
        file.as_ref(),
        user,
        reimport,
    );
    st.imports[index].status = outcome.status;
    st.imports[index].test = outcome.test;
    Response::json(outcome.status, &outcome.body)
}

pub(super) enum Target {
    Engagement(u64),
    Test(u64),
    /// Not found, and `auto_create_context` may create it.
    Create,
}

pub(super) fn run(
    ctx: &Ctx,
    st: &mut State,
    form: &Form,
    file: Option<&Part>,
    user: &User,
    reimport: bool,
) -> Outcome {
    let target = match resolve(st, form, user, reimport) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let v = match validate(ctx, form, file) {
        Ok(v) => v,
        Err(body) => return fail(400, body),
    };
    let (engagement, test) = match target {
        Target::Engagement(e) => (e, None),
        Target::Test(t) => (st.test(t).map_or(0, |t| t.engagement), Some(t)),
        Target::Create => match auto_create(st, form, &v, user) {
            Ok(e) => (e, None),
            Err(msg) => return fail(400, message_only(&msg)),
        },
    };
    let generic = v.scan_type == GENERIC;
    let file_name = file.and_then(|f| f.file_name.clone()).unwrap_or_default();
    let bytes: &[u8] = file.map_or(&[], |f| &f.data);
    // The generic parser runs before the test exists (a rejected generic report leaves
    // nothing behind: `fixtures/dojo/recorded/v3/64-*` used no test id); native parsers run after it.
    let parsed = if generic {
        match parse_generic(&file_name, bytes) {
            Ok(p) => Some(p),
            Err(ParseError::Invalid(msg)) => return fail(400, message_only(&msg)),
            Err(ParseError::Crash) => return fail(500, internal_error()),
        }
    } else {
        None
    };
    match test {
        Some(test) => reimport_into(ctx, st, &v, test, parsed, &file_name, bytes, user),
        None => import_into(
            ctx, st, &v, engagement, parsed, &file_name, bytes, user, reimport,
        ),
    }
}

// ---------------------------------------------------------------- phase 2: permissions

pub(super) fn id_field(form: &Form, key: &str) -> Result<Option<u64>, Outcome> {
    match form.get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bare(format!("{key} must be an integer"))),
    }
}

pub(super) fn resolve(
    st: &State,
    form: &Form,
    user: &User,
    reimport: bool,
) -> Result<Target, Outcome> {
    let test_id = if reimport {
        id_field(form, "test")?
    } else {
        None
    };
    let engagement_id = id_field(form, "engagement")?;
    id_field(form, "product")?;
    let pt_name = form.get("product_type_name");
    let product_name = form.get("product_name");
    let engagement_name = form.get("engagement_name");
    let test_title = form.get("test_title");
    let scan_type = form.get("scan_type");
    // Python truthiness of the raw value: even "false" counts here, as in DefectDojo.
    let auto_create = form.get("auto_create_context").is_some();

    let product_type = pt_name.and_then(|n| st.product_types.iter().find(|p| p.name == n));
    let product = match product_name.and_then(|n| st.products.iter().find(|p| p.name == n)) {
        Some(p) => {
            let existing = st.product_type(p.prod_type).map_or("", |t| t.name.as_str());
            if let Some(supplied) = pt_name.filter(|s| *s != existing) {
                return Err(bare(format!(
                    "The fetched product has a conflict with the supplied product type name: existing product \
                     type name - {existing} vs supplied product type name - {supplied}"
                )));
            }
            Some(p)
        }
        None => None,
    };
    let engagement = engagement_id.and_then(|id| st.engagement(id)).or_else(|| {
        let (p, name) = (product?, engagement_name?);
        st.engagements
            .iter()
            .rev()
            .find(|e| e.product == p.id && e.name.as_deref() == Some(name))
    });
    let missing = |test_title: Option<&str>, scan_type: Option<&str>, fallback: &str| -> Outcome {
        no_auto_create_error(
            (test_title, scan_type),
            (engagement_name, product_name, pt_name),
            (
                engagement.is_some(),
                product.is_some(),
                product_type.is_some(),
            ),
            fallback,
        )
    };
    if reimport {
        let test = test_id.and_then(|id| st.test(id)).or_else(|| {
            let e = engagement?;
            st.tests.iter().rev().find(|t| {
                t.engagement == e.id
                    && t.scan_type.as_deref() == scan_type
                    && test_title.is_none_or(|title| t.title.as_deref() == Some(title))
            })
        });
        if let Some(t) = test {
            return Ok(Target::Test(t.id));
        }
        if let Some(id) = test_id {
            return Err(bare(format!("Test \"{id}\" does not exist")));
        }
        let fallback =
            "Need test_id or product_name + engagement_name + scan_type to perform reimport";
        if !auto_create {
            return Err(missing(test_title, scan_type, fallback));
        }
    } else {
        if let Some(e) = engagement {
            return Ok(Target::Engagement(e.id));
        }
        if let Some(id) = engagement_id {
            return Err(bare(format!("Engagement \"{id}\" does not exist")));
        }
        if !auto_create {
            return Err(missing(
                None,
                None,
                "Need engagement_id or product_name + engagement_name to perform import",
            ));
        }
    }
    // check_auto_create_permission
    let Some(product_name) = product_name else {
        return Err(bare("product_name parameter missing".into()));
    };
    if engagement_name.is_none() {
        return Err(bare("engagement_name parameter missing".into()));
    }
    if let Some(e) = engagement {
        return Ok(if reimport {
            Target::Create
        } else {
            Target::Engagement(e.id)
        });
    }
    if product.is_some() {
        return Ok(Target::Create);
    }
    let Some(pt_name) = pt_name else {
        return Err(bare(format!(
            "Product \"{product_name}\" does not exist and no product_type_name provided to create the new product in"
        )));
    };
    if product_type.is_none() && user.id == LOWPRIV.id {
        let msg = format!("No permission to create product_type \"{pt_name}\"");
        return Err(fail(403, render::detail(&msg)));
    }
    Ok(Target::Create)
}

/// `raise_no_auto_create_import_validation_error` of DefectDojo's permissions module.
pub(super) fn no_auto_create_error(
    (test_title, scan_type): (Option<&str>, Option<&str>),
    (engagement_name, product_name, pt_name): (Option<&str>, Option<&str>, Option<&str>),
    (engagement, product, product_type): (bool, bool, bool),
    fallback: &str,
) -> Outcome {
    let Some(product_name) = product_name else {
        return bare("product_name parameter missing".into());
    };
    let Some(engagement_name) = engagement_name else {
        return bare("engagement_name parameter missing".into());
    };
    if let Some(pt) = pt_name.filter(|_| !product_type) {
        return bare(format!("Product Type \"{pt}\" does not exist"));
    }
    if !product {
        return bare(match pt_name {
            Some(pt) => {
                format!("Product \"{product_name}\" does not exist in Product_Type \"{pt}\"")
            }
            None => format!("Product \"{product_name}\" does not exist"),
        });
    }
    if !engagement {
        return bare(format!(
            "Engagement \"{engagement_name}\" does not exist in Product \"{product_name}\""
        ));
    }
    if let Some(title) = test_title {
        let scan_type = scan_type.unwrap_or("None");
        return bare(format!(
            "Test \"{title}\" with scan_type \"{scan_type}\" does not exist in Engagement \"{engagement_name}\""
        ));
    }
    if let Some(scan_type) = scan_type {
        return bare(format!(
            "Test with scan_type \"{scan_type}\" does not exist in Engagement \"{engagement_name}\""
        ));
    }
    bare(fallback.to_string())
}

// ---------------------------------------------------------------- phase 3: serializer

/// The validated import options.
pub(super) struct Valid {
    pub(super) scan_type: String,
    pub(super) minimum_severity: String,
    pub(super) active: Option<bool>,
    pub(super) verified: Option<bool>,
    pub(super) scan_date: Option<String>,
    pub(super) dedup_mode: Option<String>,
    /// Explicitly sent booleans (others take their defaults).
    pub(super) flags: HashMap<&'static str, bool>,
    pub(super) tags: Option<Vec<String>>,
    pub(super) texts: Vec<(&'static str, String)>,
    pub(super) lead: Option<u64>,
    pub(super) endpoint_to_add: Option<u64>,
    pub(super) engagement: Option<u64>,
}

impl Valid {
    pub(super) fn flag(&self, k: &str, default: bool) -> bool {
        self.flags.get(k).copied().unwrap_or(default)
    }

    pub(super) fn text(&self, k: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
    }
}

pub(super) const BOOL_FIELDS: [&str; 11] = [
    "auto_create_context",
    "deduplication_on_engagement",
    "push_to_jira",
    "create_finding_groups_for_all_findings",
    "apply_tags_to_findings",
    "apply_tags_to_endpoints",
    "close_old_findings",
    "close_old_findings_product_scope",
    "do_not_reactivate",
    "active",
    "verified",
];

pub(super) const TEXT_FIELDS: [&str; 13] = [
    "test_title",
    "product_type_name",
    "product_name",
    "engagement_name",
    "engagement_end_date",
    "source_code_management_uri",
    "version",
    "build_id",
    "commit_hash",
    "branch_tag",
    "service",
    "environment",
    "group_by",
];

pub(super) fn validate(ctx: &Ctx, form: &Form, file: Option<&Part>) -> Result<Valid, Value> {
    let mut errors: Vec<(&str, String, &str)> = Vec::new();
    let scan_date = form.get("scan_date").map(str::to_string);
    if let Some(d) = &scan_date {
        if !is_date(d) {
            errors.push((
                "scan_date",
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.".into(),
                "invalid",
            ));
        } else if d.as_str() > today().as_str() {
            errors.push((
                "scan_date",
                "The scan_date cannot be in the future!".into(),
                "invalid",
            ));
        }
    }
    // `test_title = CharField(max_length=255)` of the import serializers.
    if form
        .get("test_title")
        .is_some_and(|t| t.chars().count() > 255)
    {
        errors.push((
            "test_title",
            "Ensure this field has no more than 255 characters.".into(),
            "max_length",
        ));
    }
    let minimum_severity = form.get("minimum_severity").unwrap_or("Info").to_string();
    if !SEVERITIES.contains(&minimum_severity.as_str()) {
        errors.push((
            "minimum_severity",
            format!("\"{minimum_severity}\" is not a valid choice."),
            "invalid_choice",
        ));
    }
    let mut flags = HashMap::new();
    for k in BOOL_FIELDS {
        if let Some(raw) = form.get(k) {
            match parse_bool(raw) {
                Some(b) => {
                    flags.insert(k, b);
                }
                None => errors.push((k, "Must be a valid boolean.".into(), "invalid")),
            }
        }
    }
    if let Some(f) = file {
        let ext = extension(f.file_name.as_deref().unwrap_or(""));
        if !ALLOWED_EXTENSIONS.contains(&ext.as_str()) {
            errors.push((
                "file",
                format!(
                    "File extension “{ext}” is not allowed. Allowed extensions are: {}.",
                    ALLOWED_EXTENSIONS.join(", ")
                ),
                "invalid_extension",
            ));
        }
    }
    let lead = match form.get("lead") {
        None => None,
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(id) if id == 1 || id == 2 => Some(id),
            Ok(id) => {
                errors.push((
                    "lead",
                    format!("Invalid pk \"{id}\" - object does not exist."),
                    "does_not_exist",
                ));
                None
            }
            Err(_) => {
                errors.push((
                    "lead",
                    "Incorrect type. Expected pk value, received str.".into(),
                    "incorrect_type",
                ));
                None
            }
        },
    };
    let endpoint_to_add = form
        .get("endpoint_to_add")
        .and_then(|v| v.trim().parse().ok());
    // 2.x does not know this field and drops it silently (`fixtures/dojo/recorded/v2/46-*`).
    let dedup_mode = match ctx.opts.flavour {
        Flavour::V3 => form.get("deduplication_execution_mode").map(str::to_string),
        Flavour::V2 => None,
    };
    if let Some(mode) = &dedup_mode {
        if !["async", "async_wait", "sync"].contains(&mode.as_str()) {
            errors.push((
                "deduplication_execution_mode",
                format!("\"{mode}\" is not a valid choice."),
                "invalid_choice",
            ));
        }
    }
    let scan_type = form.get("scan_type").map(str::to_string);
    match &scan_type {
        None => errors.push(("scan_type", "This field is required.".into(), "required")),
        Some(s) if !SCAN_TYPES.lines().any(|l| l == s) => errors.push((
            "scan_type",
            format!("\"{s}\" is not a valid choice."),
            "invalid_choice",
        )),
        _ => {}
    }
    if form.get("engagement_end_date").is_some_and(|d| !is_date(d)) {
        errors.push((
            "engagement_end_date",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.".into(),
            "invalid",
        ));
    }
    if !errors.is_empty() {
        return Err(field_errors(&errors));
    }
    let scan_type = scan_type.unwrap_or_default();
    // validate(): a file is required unless the parser pulls from an API.
    let api_pull = scan_type.contains("API") || scan_type == "Edgescan Scan";
    let file_len = file.map_or(0, |f| f.data.len());
    if file.is_none() && !api_pull {
        let msg = format!("Uploading a Report File is required for {scan_type}");
        return Err(field_errors(&[("non_field_errors", msg, "invalid")]));
    }
    if file_len as u64 > ctx.opts.max_file_mb * 1024 * 1024 {
        let msg = format!(
            "Report file is too large. Maximum supported size is {} MB",
            ctx.opts.max_file_mb
        );
        return Err(field_errors(&[("non_field_errors", msg, "invalid")]));
    }
    let tags: Vec<String> = form
        .fields
        .iter()
        .filter(|(k, _)| k == "tags")
        .flat_map(|(_, v)| split_tags(v))
        .collect();
    let tags_sent = form.fields.iter().any(|(k, _)| k == "tags");
    Ok(Valid {
        scan_type,
        minimum_severity,
        active: flags.get("active").copied(),
        verified: flags.get("verified").copied(),
        scan_date,
        dedup_mode,
        flags,
        tags: tags_sent.then_some(tags),
        texts: TEXT_FIELDS
            .iter()
            .filter_map(|k| form.get(k).map(|v| (*k, v.to_string())))
            .collect(),
        lead,
        endpoint_to_add,
        engagement: form.get("engagement").and_then(|e| e.parse().ok()),
    })
}
