//! `POST /api/v2/import-scan/` and `/api/v2/reimport-scan/`.
//!
//! The phases run in DefectDojo's order, because clients see their errors in that order:
//!
//! 1. media type: anything but `multipart/form-data` → 415 (recorded 27);
//! 2. the permission class resolves the target (`UserHasImportPermission` /
//!    `UserHasReimportPermission`): unknown engagement/test, missing names → 400 with a
//!    bare JSON list (recorded 25, 26, 57, 58);
//! 3. the serializer validates the fields (400 with `message`/`pro`: scan type 24,
//!    extension 29, severity 30, future `scan_date`), then `validate()` (missing file 28,
//!    file too large 149);
//! 4. the importer: auto-create context, parse the report (generic parser errors → 400
//!    as 64; a crashing native parser → 500 and an empty test left behind, 31/145/146),
//!    create or match findings, deduplicate, record the import history, answer 201 with
//!    the statistics (23, 45, 151–154; 2.x without `deduplication_complete`, 2.x 46).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use super::super::http::{LOGGED_BODY_LIMIT, Request, Response, lock, percent_decode};
use super::parsers::{ParseError, Parsed, canned_findings, extension, is_malformed, parse_generic};
use super::render::{self, LOWPRIV, User, field_errors, internal_error, message_only};
use super::routes::split_tags;
use super::state::{
    Engagement, ImportAction, ImportRecord, SEVERITIES, State, TestImport, severity_rank,
};
use super::util::{date_plus_days, is_date, now_iso, parse_bool, today};
use super::{Ctx, Flavour};

const SCAN_TYPES: &str = include_str!("../../../fixtures/dojo/scan-types.txt");

/// `DD_FILE_IMPORT_TYPES`.
const ALLOWED_EXTENSIONS: [&str; 15] = [
    "xml", "csv", "nessus", "json", "jsonl", "html", "js", "zip", "xlsx", "txt", "sarif", "fpr",
    "md", "log", "fvdl",
];

const GENERIC: &str = "Generic Findings Import";

/// One part of a multipart/form-data body.
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// Parses a multipart/form-data body (RFC 7578), boundary taken from the content type.
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let invalid = || "Multipart form parse error - Invalid boundary in multipart: None".to_string();
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| {
            p.strip_prefix("boundary=")
                .or_else(|| p.strip_prefix("BOUNDARY="))
        })
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(invalid)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut pos = find(body, &delimiter, 0).ok_or_else(invalid)?;
    let mut parts = Vec::new();
    loop {
        pos += delimiter.len();
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        // Skip the rest of the delimiter line (transport padding, CRLF).
        let line_end = find(body, b"\r\n", pos).ok_or_else(invalid)?;
        let headers_start = line_end + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start).ok_or_else(invalid)?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]).into_owned();
        let data_start = headers_end + 4;
        let data_end = find(body, &next_delimiter, data_start).ok_or_else(invalid)?;
        let mut part = Part {
            name: String::new(),
            file_name: None,
            content_type: None,
            data: body[data_start..data_end].to_vec(),
        };
        for line in headers.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in split_params(v) {
                        let Some((pk, pv)) = param.split_once('=') else {
                            continue;
                        };
                        let pv = pv.trim().trim_matches('"').to_string();
                        match pk.trim().to_ascii_lowercase().as_str() {
                            "name" => part.name = pv,
                            "filename" => part.file_name = Some(pv),
                            // RFC 5987 form: filename*=UTF-8''na%C3%AFve.json
                            "filename*" => {
                                let encoded = pv.split_once("''").map_or(pv.as_str(), |(_, e)| e);
                                part.file_name = Some(percent_decode(encoded, false));
                            }
                            _ => {}
                        }
                    }
                }
                "content-type" => part.content_type = Some(v.trim().to_string()),
                _ => {}
            }
        }
        parts.push(part);
        pos = data_end + 2;
    }
}

/// Splits header parameters on `;` outside quotes.
fn split_params(v: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in v.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// First index of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let j = i + hay[i..hay.len() - needle.len() + 1]
            .iter()
            .position(|&b| b == first)?;
        if &hay[j..j + needle.len()] == needle {
            return Some(j);
        }
        i = j + 1;
    }
    None
}

/// The form fields of an import request. Empty values count as absent, as in
/// DefectDojo's `convert_querydict_to_dict`.
struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

struct Outcome {
    status: u16,
    body: Value,
    test: Option<u64>,
}

fn fail(status: u16, body: Value) -> Outcome {
    Outcome {
        status,
        body,
        test: None,
    }
}

/// A 400 with a bare JSON list of messages (DRF ValidationError raised by a permission class).
fn bare(msg: String) -> Outcome {
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
        endpoint: if reimport {
            "reimport-scan"
        } else {
            "import-scan"
        }
        .to_string(),
        status: 0,
        fields: fields.clone(),
        file_name: file.as_ref().and_then(|f| f.file_name.clone()),
        file_len: file.as_ref().map_or(0, |f| f.data.len()),
        file_content_type: file.as_ref().and_then(|f| f.content_type.clone()),
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

enum Target {
    Engagement(u64),
    Test(u64),
    /// Not found, and `auto_create_context` may create it.
    Create,
}

fn run(
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
    // nothing behind: recorded 64 used no test id); native parsers run after it.
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

fn id_field(form: &Form, key: &str) -> Result<Option<u64>, Outcome> {
    match form.get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bare(format!("{key} must be an integer"))),
    }
}

fn resolve(st: &State, form: &Form, user: &User, reimport: bool) -> Result<Target, Outcome> {
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
fn no_auto_create_error(
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
struct Valid {
    scan_type: String,
    minimum_severity: String,
    active: Option<bool>,
    verified: Option<bool>,
    scan_date: Option<String>,
    dedup_mode: Option<String>,
    /// Explicitly sent booleans (others take their defaults).
    flags: HashMap<&'static str, bool>,
    tags: Option<Vec<String>>,
    texts: Vec<(&'static str, String)>,
    lead: Option<u64>,
    endpoint_to_add: Option<u64>,
    engagement: Option<u64>,
    file_len: usize,
}

impl Valid {
    fn flag(&self, k: &str, default: bool) -> bool {
        self.flags.get(k).copied().unwrap_or(default)
    }

    fn text(&self, k: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
    }
}

const BOOL_FIELDS: [&str; 11] = [
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

const TEXT_FIELDS: [&str; 13] = [
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

fn validate(ctx: &Ctx, form: &Form, file: Option<&Part>) -> Result<Valid, Value> {
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
    // 2.x does not know this field and drops it silently (2.x 46).
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
    if let Some(d) = form.get("engagement_end_date").filter(|d| !is_date(d)) {
        let _ = d;
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
        file_len,
    })
}

// ---------------------------------------------------------------- phase 4: the importer

/// `AutoCreateContextManager.get_or_create_engagement`: finds or creates product type,
/// product and engagement. `Err` is the importer's ValueError text.
fn auto_create(st: &mut State, form: &Form, v: &Valid, user: &User) -> Result<u64, String> {
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
struct Dedup {
    enabled: bool,
    /// Flags visible at once (3.x `sync`/`async_wait`, or no delay configured).
    immediate: bool,
    index: HashMap<String, u64>,
    pending: bool,
}

impl Dedup {
    fn new(ctx: &Ctx, st: &State, v: &Valid, engagement: u64) -> Dedup {
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

    fn add(&mut self, st: &mut State, id: u64) {
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
    fn finish(&self, ctx: &Ctx, st: &mut State, test: u64) {
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
fn create_finding(
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

fn action(st: &mut State, action: char, finding: u64) -> ImportAction {
    ImportAction {
        id: st.next_id("test_import_finding_action"),
        action,
        finding,
        created: now_iso(),
    }
}

#[allow(clippy::too_many_arguments)] // one call site; the parameters are the import's context
fn import_into(
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
            // The parser crashed after the test was created: it stays, empty (recorded 146).
            return Outcome {
                status: 500,
                body: internal_error(),
                test: Some(test),
            };
        }
        None => canned_findings(&v.scan_type, bytes.len(), ctx.opts.native_findings),
    };
    let product = st.engagement(engagement).map_or(0, |e| e.product);
    let mut dedup = Dedup::new(ctx, st, v, engagement);
    let mut actions = Vec::new();
    for p in parsed {
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
    Outcome {
        status: 201,
        body: response(ctx, st, v, test, stats, via_reimport),
        test: Some(test),
    }
}

/// `close_old_findings` on import: findings of the same scan type in other tests of the
/// engagement (or the product with `close_old_findings_product_scope`) that are not in
/// this report get mitigated.
fn close_old_on_import(st: &mut State, v: &Valid, test: u64, engagement: u64) -> Vec<ImportAction> {
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
fn reimport_into(
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
        None if is_malformed(&v.scan_type, file_name, bytes) => {
            return Outcome {
                status: 500,
                body: internal_error(),
                test: Some(test),
            };
        }
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
    for p in parsed {
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
                    // Stays closed and is counted in no bucket (recorded 154).
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
    let after = State::statistics(st.findings.iter().filter(|f| f.test == test));
    let stats = json!({ "before": before, "delta": delta, "after": after });
    Outcome {
        status: 201,
        body: response(ctx, st, v, test, stats, true),
        test: Some(test),
    }
}

fn record_history(st: &mut State, v: &Valid, test: u64, kind: &str, actions: Vec<ImportAction>) {
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
/// the statistics (recorded 23 / 45; 2.x without the deduplication fields).
fn response(
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
    let _ = v.file_len;
    Value::Object(m)
}
