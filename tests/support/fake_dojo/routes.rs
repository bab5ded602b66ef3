//! Routing, authentication, lists and the CRUD endpoints of the fake DefectDojo.
//!
//! Order of checks per request, as on the real stack: uWSGI's request-size limit (the
//! connection is closed without an answer), Django's URL resolution (unknown path → the
//! HTML 404 page; a known path without its trailing slash → 301 to the slashed one),
//! DRF authentication (403, not 401), permissions, then the method (405) and the
//! serializer's validation (400 with `message` and `pro`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use super::super::http::{Reply, Request, Response, lock, parse_query, quote_plus};
use super::render::{self, ADMIN, LOWPRIV, User, detail, field_errors};
use super::state::{
    CicdInfrastructure, Engagement, Finding, ProductType, State, Test, ToolConfiguration,
};
use super::util::{is_date, now_iso, parse_bool, parse_datetime};
use super::{Ctx, Flavour, import};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Root,
    UserProfile,
    Users,
    SystemSettings,
    ProductTypes,
    Products,
    Engagements,
    Tests,
    Findings,
    ToolTypes,
    ToolConfigurations,
    Cicd,
    ImportScan,
    ReimportScan,
    TestImports,
    TestTypes,
    LocationFindings,
    Locations,
    Endpoints,
    Schema,
}

struct Route {
    kind: Kind,
    /// The `<pk>` segment, if any.
    id: Option<String>,
    /// A further action segment (`/findings/<id>/duplicate/`).
    action: Option<String>,
}

fn route(flavour: Flavour, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/api/v2")?;
    let segs: Vec<&str> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let v3 = flavour == Flavour::V3;
    let kind = match segs.first().copied() {
        None => Kind::Root,
        Some("user_profile") => Kind::UserProfile,
        Some("users") => Kind::Users,
        Some("system_settings") => Kind::SystemSettings,
        Some("product_types") => Kind::ProductTypes,
        Some("organizations") if v3 => Kind::ProductTypes,
        Some("products") => Kind::Products,
        Some("assets") if v3 => Kind::Products,
        Some("engagements") => Kind::Engagements,
        Some("tests") => Kind::Tests,
        Some("findings") => Kind::Findings,
        Some("tool_types") => Kind::ToolTypes,
        Some("tool_configurations") => Kind::ToolConfigurations,
        Some("cicd_infrastructure") if v3 => Kind::Cicd,
        Some("import-scan") => Kind::ImportScan,
        Some("reimport-scan") => Kind::ReimportScan,
        Some("test_imports") => Kind::TestImports,
        Some("test_types") => Kind::TestTypes,
        Some("location_findings") if v3 => Kind::LocationFindings,
        Some("location") if v3 => Kind::Locations,
        Some("endpoints") => Kind::Endpoints,
        Some("oa3") if segs.get(1) == Some(&"schema") && segs.len() == 2 => {
            return Some(Route {
                kind: Kind::Schema,
                id: None,
                action: None,
            });
        }
        _ => return None,
    };
    let singleton = matches!(
        kind,
        Kind::Root | Kind::UserProfile | Kind::ImportScan | Kind::ReimportScan
    );
    match segs.len() {
        0 | 1 => Some(Route {
            kind,
            id: None,
            action: None,
        }),
        2 if !singleton => Some(Route {
            kind,
            id: Some(segs[1].to_string()),
            action: None,
        }),
        3 if kind == Kind::Findings && segs[2] == "duplicate" => Some(Route {
            kind,
            id: Some(segs[1].to_string()),
            action: Some(segs[2].to_string()),
        }),
        _ => None,
    }
}

/// Entry point of every request.
pub fn dispatch(ctx: &Ctx, state: &Mutex<State>, req: Request) -> Reply {
    let uri_len = req.path.len()
        + if req.query.is_empty() {
            0
        } else {
            1 + req.query.len()
        };
    if uri_len > ctx.opts.max_uri_len {
        // uWSGI: "invalid request block size ... skip" — the connection just closes.
        return Reply::Close;
    }
    let Some(route) = route(ctx.opts.flavour, &req.path) else {
        return not_found_html().into();
    };
    if !req.path.ends_with('/') {
        // Django's APPEND_SLASH (CommonMiddleware) redirects before any view runs.
        let mut location = format!("{}/", req.path);
        if !req.query.is_empty() {
            location = format!("{location}?{}", req.query);
        }
        return Response::new(301).header("Location", location).into();
    }
    let user = match authenticate(ctx, &req) {
        Ok(user) => user,
        Err(resp) => return resp.into(),
    };
    match route.kind {
        Kind::ImportScan | Kind::ReimportScan if req.method == "POST" => {
            // The multipart body is parsed before the state is locked.
            import::handle(ctx, state, &req, user, route.kind == Kind::ReimportScan).into()
        }
        _ => {
            let mut st = lock(state);
            handle(ctx, &mut st, &req, user, &route).into()
        }
    }
}

pub fn not_found_html() -> Response {
    Response::bytes(404, "text/html; charset=utf-8", render::NOT_FOUND_HTML)
}

fn forbidden() -> Response {
    Response::json(
        403,
        &detail("You do not have permission to perform this action."),
    )
}

fn method_not_allowed(method: &str) -> Response {
    Response::json(405, &detail(&format!("Method \"{method}\" not allowed.")))
}

fn no_match(model: &str) -> Response {
    Response::json(
        404,
        &detail(&format!("No {model} matches the given query.")),
    )
}

/// DRF `TokenAuthentication` behind `SessionAuthentication`: failures are 403 with a
/// `detail`, never 401 (recorded 03/04).
fn authenticate(ctx: &Ctx, req: &Request) -> Result<&'static User, Response> {
    let not_provided = || {
        Response::json(
            403,
            &detail("Authentication credentials were not provided."),
        )
    };
    let Some(header) = req.header("authorization") else {
        return Err(not_provided());
    };
    let mut parts = header.split_whitespace();
    if !parts
        .next()
        .is_some_and(|s| s.eq_ignore_ascii_case("token"))
    {
        return Err(not_provided());
    }
    let Some(key) = parts.next() else {
        return Err(Response::json(
            403,
            &detail("Invalid token header. No credentials provided."),
        ));
    };
    if parts.next().is_some() {
        return Err(Response::json(
            403,
            &detail("Invalid token header. Token string should not contain spaces."),
        ));
    }
    if key == ctx.opts.admin_key {
        Ok(&ADMIN)
    } else if ctx.opts.lowpriv_key.as_deref() == Some(key) {
        Ok(&LOWPRIV)
    } else {
        Err(Response::json(403, &detail("Invalid token.")))
    }
}

fn handle(ctx: &Ctx, st: &mut State, req: &Request, user: &User, route: &Route) -> Response {
    let f = ctx.opts.flavour;
    let method = req.method.as_str();
    let id = match route.id.as_deref().map(str::parse::<u64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Response::json(404, &detail("Not found.")),
    };
    let lowpriv = user.id == LOWPRIV.id;
    match (route.kind, method, id) {
        (Kind::Root, "GET", _) => Response::json(200, &api_root(ctx)),
        (Kind::UserProfile, "GET", _) => Response::json(200, &render::user_profile(f, user)),
        (Kind::Users | Kind::SystemSettings, _, _) if lowpriv => forbidden(),
        (Kind::Users, "GET", None) => {
            let mut users = vec![render::user(f, &ADMIN)];
            if ctx.opts.lowpriv_key.is_some() {
                users.push(render::user(f, &LOWPRIV));
            }
            Response::json(200, &list_body(ctx, req, &users, |u| u.clone(), None))
        }
        (Kind::SystemSettings, "GET", None) => {
            let rows = [system_settings(st)];
            Response::json(200, &list_body(ctx, req, &rows, |s| s.clone(), None))
        }
        (Kind::SystemSettings, "GET", Some(1)) => Response::json(200, &system_settings(st)),
        (Kind::SystemSettings, "PATCH" | "PUT", Some(1)) => with_body(req, |m| {
            if let Some(on) = m.get("enable_deduplication").and_then(Value::as_bool) {
                st.dedup_enabled = on;
            }
            Response::json(200, &system_settings(st))
        }),
        (Kind::ProductTypes, _, _) => product_types(ctx, st, req, lowpriv, id),
        (Kind::Products, _, _) => products(ctx, st, req, lowpriv, id),
        (Kind::Engagements, _, _) => engagements(ctx, st, req, user, id),
        (Kind::Tests, _, _) => tests(ctx, st, req, user, id),
        (Kind::Findings, _, _) => findings(ctx, st, req, id, route.action.as_deref()),
        (Kind::ToolTypes, _, _) => tool_types(ctx, st, req, id),
        (Kind::ToolConfigurations, _, _) => tool_configurations(ctx, st, req, id),
        (Kind::Cicd, _, _) => cicd(ctx, st, req, id),
        (Kind::TestImports, "GET", _) => test_imports(ctx, st, req, id),
        (Kind::TestTypes, "GET", None) => {
            let name = req.param("name").filter(|n| !n.is_empty());
            let rows: Vec<_> = st
                .test_types
                .iter()
                .filter(|t| name.as_ref().is_none_or(|n| &t.name == n))
                .collect();
            Response::json(
                200,
                &list_body(ctx, req, &rows, |t| render::test_type(t), None),
            )
        }
        (Kind::TestTypes, "GET", Some(id)) => match st.test_types.iter().find(|t| t.id == id) {
            Some(t) => Response::json(200, &render::test_type(t)),
            None => no_match("Test_Type"),
        },
        (Kind::LocationFindings, "GET", None) => location_findings(ctx, st, req),
        (Kind::Locations, "GET", None) => {
            let ids = id_list(req.param("id_includes"));
            let rows: Vec<_> = st
                .locations
                .iter()
                .filter(|l| ids.as_ref().is_none_or(|ids| ids.contains(&l.id)))
                .collect();
            Response::json(
                200,
                &list_body(ctx, req, &rows, |l| render::location(l), None),
            )
        }
        (Kind::Endpoints, "GET", _) => endpoints(ctx, st, req, id),
        (Kind::Schema, "GET", _) => Response::json(200, &render::schema(f)),
        (Kind::ImportScan | Kind::ReimportScan, m, _) => method_not_allowed(m),
        (_, m, _) => method_not_allowed(m),
    }
}

fn api_root(ctx: &Ctx) -> Value {
    let mut m = Map::new();
    for name in [
        "engagements",
        "findings",
        "import-scan",
        "product_types",
        "products",
        "reimport-scan",
        "test_imports",
        "test_types",
        "tests",
        "tool_configurations",
        "tool_types",
        "user_profile",
        "users",
    ] {
        m.insert(
            name.to_string(),
            json!(format!("{}/api/v2/{name}/", ctx.origin())),
        );
    }
    Value::Object(m)
}

fn system_settings(st: &State) -> Value {
    json!({
        "id": 1, "enable_deduplication": st.dedup_enabled, "delete_duplicates": false, "max_dupes": 10,
        "email_from": "no-reply@example.com", "enable_jira": false, "enable_product_tag_inheritance": false,
    })
}

// ---------------------------------------------------------------- lists

/// Computes a page's `prefetch` object from the page's items.
type Prefetch<'a, T> = &'a dyn Fn(&[T]) -> Value;

/// Limit/offset pagination (DRF `LimitOffsetPagination`, default page size 25, no cap):
/// `count`, absolute `next`/`previous` links with the query parameters sorted and
/// form-encoded like DRF's `replace_query_param`, `results`, and `prefetch` when given.
fn list_body<T>(
    ctx: &Ctx,
    req: &Request,
    items: &[T],
    render: impl Fn(&T) -> Value,
    prefetch: Option<Prefetch<'_, T>>,
) -> Value {
    let positive = |name: &str| req.param(name).and_then(|v| v.parse::<usize>().ok());
    let limit = positive("limit").filter(|l| *l > 0).unwrap_or(25);
    let offset = positive("offset").unwrap_or(0);
    let count = items.len();
    let page = &items[offset.min(count)..(offset.saturating_add(limit)).min(count)];
    let next = (offset + limit < count).then(|| page_link(ctx, req, limit, Some(offset + limit)));
    let previous = (offset > 0).then(|| {
        if offset <= limit {
            page_link(ctx, req, limit, None)
        } else {
            page_link(ctx, req, limit, Some(offset - limit))
        }
    });
    let mut body = json!({
        "count": count, "next": next, "previous": previous,
        "results": page.iter().map(render).collect::<Vec<_>>(),
    });
    if let Some(prefetch) = prefetch {
        body["prefetch"] = prefetch(page);
    }
    body
}

fn page_link(ctx: &Ctx, req: &Request, limit: usize, offset: Option<usize>) -> String {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in parse_query(&req.query) {
        params.entry(k).or_default().push(v);
    }
    params.insert("limit".into(), vec![limit.to_string()]);
    match offset {
        Some(o) => params.insert("offset".into(), vec![o.to_string()]),
        None => params.remove("offset"),
    };
    let query: Vec<String> = params
        .iter()
        .flat_map(|(k, vs)| {
            vs.iter()
                .map(move |v| format!("{}={}", quote_plus(k), quote_plus(v)))
        })
        .collect();
    format!("{}{}?{}", ctx.origin(), req.path, query.join("&"))
}

/// Non-empty query parameter (django-filter ignores empty values).
fn filter_param(req: &Request, name: &str) -> Option<String> {
    req.param(name).filter(|v| !v.is_empty())
}

/// A numeric filter; `Err` is the 400 django-filter answers for "abc".
fn num_filter(req: &Request, name: &str) -> Result<Option<u64>, Response> {
    match filter_param(req, name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Response::json(400, &json!({ name: ["Enter a number."] }))),
    }
}

fn bool_filter(req: &Request, name: &str) -> Option<bool> {
    filter_param(req, name).and_then(|v| parse_bool(&v))
}

/// `1,2,3` (commas possibly sent as `%2C`) as a set of ids.
fn id_list(value: Option<String>) -> Option<HashSet<u64>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

// ---------------------------------------------------------------- request bodies

/// Parses a JSON (or form) request body into a map and runs `f` with it.
fn with_body(req: &Request, f: impl FnOnce(&Map<String, Value>) -> Response) -> Response {
    match body_map(req) {
        Ok(m) => f(&m),
        Err(resp) => resp,
    }
}

fn body_map(req: &Request) -> Result<Map<String, Value>, Response> {
    let ct = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if req.body.is_empty() {
        return Ok(Map::new());
    }
    if ct.starts_with("application/json") || ct.is_empty() {
        return match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(other) => {
                let kind = match other {
                    Value::Array(_) => "list",
                    Value::String(_) => "str",
                    Value::Number(_) => "int",
                    Value::Bool(_) => "bool",
                    _ => "NoneType",
                };
                Err(Response::json(
                    400,
                    &field_errors(&[(
                        "non_field_errors",
                        format!("Invalid data. Expected a dictionary, but got {kind}."),
                        "invalid",
                    )]),
                ))
            }
            Err(e) => Err(Response::json(
                400,
                &detail(&format!("JSON parse error - {e}")),
            )),
        };
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        let mut m = Map::new();
        for (k, v) in parse_query(&String::from_utf8_lossy(&req.body)) {
            m.insert(k, Value::String(v));
        }
        return Ok(m);
    }
    if ct.starts_with("multipart/form-data") {
        let parts = import::parse_multipart(req.header("content-type").unwrap_or(""), &req.body)
            .map_err(|e| Response::json(400, &detail(&e)))?;
        let mut m = Map::new();
        for p in parts.into_iter().filter(|p| p.file_name.is_none()) {
            m.insert(
                p.name,
                Value::String(String::from_utf8_lossy(&p.data).into_owned()),
            );
        }
        return Ok(m);
    }
    let raw = req.header("content-type").unwrap_or("");
    Err(Response::json(
        415,
        &detail(&format!("Unsupported media type \"{raw}\" in request.")),
    ))
}

/// Field reader that collects DRF-style validation errors.
struct Fields<'a> {
    m: &'a Map<String, Value>,
    errors: Vec<(&'static str, String, &'static str)>,
}

impl<'a> Fields<'a> {
    fn new(m: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            m,
            errors: Vec::new(),
        }
    }

    fn has(&self, k: &str) -> bool {
        self.m.contains_key(k)
    }

    fn err(&mut self, field: &'static str, msg: impl Into<String>, code: &'static str) {
        self.errors.push((field, msg.into(), code));
    }

    /// `Some(None)` for an explicit null.
    fn text(&mut self, k: &'static str) -> Option<Option<String>> {
        match self.m.get(k)? {
            Value::Null => Some(None),
            Value::String(s) => Some(Some(s.clone())),
            Value::Number(n) => Some(Some(n.to_string())),
            Value::Bool(b) => Some(Some(if *b { "True" } else { "False" }.to_string())),
            _ => {
                self.err(k, "Not a valid string.", "invalid");
                None
            }
        }
    }

    /// A required, non-blank string.
    fn required_text(&mut self, k: &'static str) -> Option<String> {
        match self.text(k) {
            None if !self.has(k) => {
                self.err(k, "This field is required.", "required");
                None
            }
            Some(None) => {
                self.err(k, "This field may not be null.", "null");
                None
            }
            Some(Some(s)) if s.trim().is_empty() => {
                self.err(k, "This field may not be blank.", "blank");
                None
            }
            other => other.flatten(),
        }
    }

    fn boolean(&mut self, k: &'static str) -> Option<bool> {
        match self.m.get(k)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) if n.as_u64() == Some(1) || n.as_u64() == Some(0) => {
                Some(n.as_u64() == Some(1))
            }
            Value::String(s) => parse_bool(s).or_else(|| {
                self.err(k, "Must be a valid boolean.", "invalid");
                None
            }),
            _ => {
                self.err(k, "Must be a valid boolean.", "invalid");
                None
            }
        }
    }

    /// A primary-key field: `Some(None)` for null; checks existence with `exists`.
    fn pk(&mut self, k: &'static str, exists: impl Fn(u64) -> bool) -> Option<Option<u64>> {
        let v = self.m.get(k)?;
        let id = match v {
            Value::Null => return Some(None),
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match id {
            Some(id) if exists(id) => Some(Some(id)),
            Some(id) => {
                self.err(
                    k,
                    format!("Invalid pk \"{id}\" - object does not exist."),
                    "does_not_exist",
                );
                None
            }
            None => {
                let kind = if v.is_string() { "str" } else { "list" };
                self.err(
                    k,
                    format!("Incorrect type. Expected pk value, received {kind}."),
                    "incorrect_type",
                );
                None
            }
        }
    }

    /// A `YYYY-MM-DD` date.
    fn date(&mut self, k: &'static str) -> Option<String> {
        let s = self.text(k).flatten()?;
        if is_date(&s) {
            Some(s)
        } else {
            self.err(
                k,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
                "invalid",
            );
            None
        }
    }

    fn datetime(&mut self, k: &'static str) -> Option<String> {
        let s = self.text(k).flatten()?;
        parse_datetime(&s).or_else(|| {
            self.err(
                k,
                "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
                "invalid",
            );
            None
        })
    }

    fn choice(&mut self, k: &'static str, choices: &[&str]) -> Option<String> {
        let s = self.text(k).flatten()?;
        if choices.contains(&s.as_str()) {
            Some(s)
        } else {
            self.err(
                k,
                format!("\"{s}\" is not a valid choice."),
                "invalid_choice",
            );
            None
        }
    }

    fn tags(&mut self, k: &'static str) -> Option<Vec<String>> {
        match self.m.get(k)? {
            Value::Array(list) => Some(
                list.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
            ),
            Value::String(s) => Some(split_tags(s)),
            Value::Null => Some(Vec::new()),
            _ => {
                self.err(
                    k,
                    "Expected a list of items but got type \"dict\".",
                    "not_a_list",
                );
                None
            }
        }
    }

    fn result(self) -> Result<(), Response> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            let errors: Vec<(&str, String, &str)> = self
                .errors
                .iter()
                .map(|(f, m, c)| (*f, m.clone(), *c))
                .collect();
            Err(Response::json(400, &field_errors(&errors)))
        }
    }
}

/// Tags sent as one string: a JSON list, or comma-separated.
pub fn split_tags(s: &str) -> Vec<String> {
    if let Ok(Value::Array(list)) = serde_json::from_str::<Value>(s) {
        return list
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
    }
    s.split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// POST permission check of DefectDojo's `check_post_permission`: the parent id must be
/// present (else 400 "Unable to check for permissions…", recorded 13) and exist (404).
fn parent_id(
    m: &Map<String, Value>,
    key: &str,
    exists: impl Fn(u64) -> bool,
    model: &str,
) -> Result<u64, Response> {
    let raw = match m.get(key) {
        None | Some(Value::Null) => {
            let msg = format!("Unable to check for permissions: Attribute '{key}' is required");
            return Err(Response::json(400, &detail(&msg)));
        }
        Some(v) => v,
    };
    let id = raw
        .as_u64()
        .or_else(|| raw.as_str().and_then(|s| s.trim().parse().ok()));
    match id {
        Some(id) if exists(id) => Ok(id),
        _ => Err(no_match(model)),
    }
}

// ---------------------------------------------------------------- product types / products

fn product_types(
    ctx: &Ctx,
    st: &mut State,
    req: &Request,
    lowpriv: bool,
    id: Option<u64>,
) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // `name` is exact and case-sensitive; `name_exact` is not a filter here (recorded 109-111).
            let name = filter_param(req, "name");
            let rows: Vec<&ProductType> = st
                .product_types
                .iter()
                .filter(|p| name.as_ref().is_none_or(|n| &p.name == n))
                .collect();
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |p| render::product_type(f, p),
                    Some(&|_| json!({})),
                ),
            )
        }
        ("GET", Some(id)) => match st.product_type(id) {
            Some(p) => Response::json(200, &render::product_type(f, p)),
            None => no_match("Product_Type"),
        },
        ("POST", None) if lowpriv => forbidden(),
        ("POST", None) => with_body(req, |m| {
            let mut fields = Fields::new(m);
            let name = fields.required_text("name");
            let description = fields.text("description").flatten();
            let critical = fields.boolean("critical_product").unwrap_or(false);
            let key = fields.boolean("key_product").unwrap_or(false);
            if let Some(n) = &name {
                if st.product_types.iter().any(|p| &p.name == n) {
                    fields.err(
                        "name",
                        "product_ type with this name already exists.",
                        "unique",
                    );
                }
            }
            if let Err(resp) = fields.result() {
                return resp;
            }
            let id = st.add_product_type(&name.unwrap_or_default());
            let p = st.product_types.last_mut().expect("just added");
            p.description = description;
            p.critical_product = critical;
            p.key_product = key;
            debug_assert_eq!(p.id, id);
            Response::json(201, &render::product_type(f, p))
        }),
        ("PATCH" | "PUT", Some(id)) => {
            if st.product_type(id).is_none() {
                return no_match("Product_Type");
            }
            with_body(req, |m| {
                let mut fields = Fields::new(m);
                let name = fields.text("name").flatten();
                if let Some(n) = &name {
                    if st.product_types.iter().any(|p| &p.name == n && p.id != id) {
                        fields.err(
                            "name",
                            "product_ type with this name already exists.",
                            "unique",
                        );
                    }
                }
                let description = fields.text("description");
                let critical = fields.boolean("critical_product");
                let key = fields.boolean("key_product");
                let users: Option<Vec<u64>> = m
                    .get("authorized_users")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect());
                if let Err(resp) = fields.result() {
                    return resp;
                }
                let p = st
                    .product_types
                    .iter_mut()
                    .find(|p| p.id == id)
                    .expect("checked above");
                if let Some(n) = name {
                    p.name = n;
                }
                if let Some(d) = description {
                    p.description = d;
                }
                if let Some(c) = critical {
                    p.critical_product = c;
                }
                if let Some(k) = key {
                    p.key_product = k;
                }
                if let Some(u) = users {
                    p.authorized_users = u;
                }
                Response::json(200, &render::product_type(f, p))
            })
        }
        ("DELETE", Some(_)) if lowpriv => forbidden(),
        ("DELETE", Some(id)) => {
            if st.product_type(id).is_none() {
                return no_match("Product_Type");
            }
            st.delete_product_type(id);
            Response::new(204)
        }
        (m, _) => method_not_allowed(m),
    }
}

fn products(ctx: &Ctx, st: &mut State, req: &Request, lowpriv: bool, id: Option<u64>) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // `name` is icontains, `name_exact` iexact (recorded 112-115).
            let name = filter_param(req, "name").map(|n| n.to_lowercase());
            let exact = filter_param(req, "name_exact").map(|n| n.to_lowercase());
            let prod_type = match num_filter(req, "prod_type") {
                Ok(v) => v,
                Err(resp) => return resp,
            };
            let rows: Vec<_> = st
                .products
                .iter()
                .filter(|p| {
                    name.as_ref()
                        .is_none_or(|n| p.name.to_lowercase().contains(n.as_str()))
                })
                .filter(|p| exact.as_ref().is_none_or(|n| &p.name.to_lowercase() == n))
                .filter(|p| prod_type.is_none_or(|t| p.prod_type == t))
                .collect();
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |p| render::product(f, p, st),
                    Some(&|_| json!({})),
                ),
            )
        }
        ("GET", Some(id)) => match st.product(id) {
            Some(p) => Response::json(200, &render::product(f, p, st)),
            None => no_match("Product"),
        },
        ("POST", None) => with_body(req, |m| {
            let prod_type = match parent_id(
                m,
                "prod_type",
                |id| st.product_type(id).is_some(),
                "Product_Type",
            ) {
                Ok(id) => id,
                Err(resp) => return resp,
            };
            let mut fields = Fields::new(m);
            let name = fields.required_text("name");
            let description = fields.required_text("description");
            let tags = fields.tags("tags").unwrap_or_default();
            if let Some(n) = &name {
                // Product names are globally unique, whatever the product type (recorded 133).
                if st.products.iter().any(|p| &p.name == n) {
                    fields.err("name", "product with this name already exists.", "unique");
                }
            }
            if let Err(resp) = fields.result() {
                return resp;
            }
            let id = st.add_product(&name.unwrap_or_default(), prod_type);
            let p = st
                .products
                .iter_mut()
                .find(|p| p.id == id)
                .expect("just added");
            p.description = description.unwrap_or_default();
            p.tags = tags;
            let p = p.clone();
            Response::json(201, &render::product(f, &p, st))
        }),
        ("PATCH" | "PUT", Some(id)) => {
            if st.product(id).is_none() {
                return no_match("Product");
            }
            with_body(req, |m| {
                let mut fields = Fields::new(m);
                let name = fields.text("name").flatten();
                if let Some(n) = &name {
                    if st.products.iter().any(|p| &p.name == n && p.id != id) {
                        fields.err("name", "product with this name already exists.", "unique");
                    }
                }
                let description = fields.text("description").flatten();
                let tags = fields.tags("tags");
                let prod_type = fields
                    .pk("prod_type", |t| st.product_type(t).is_some())
                    .flatten();
                if let Err(resp) = fields.result() {
                    return resp;
                }
                let p = st
                    .products
                    .iter_mut()
                    .find(|p| p.id == id)
                    .expect("checked above");
                if let Some(n) = name {
                    p.name = n;
                }
                if let Some(d) = description {
                    p.description = d;
                }
                if let Some(t) = tags {
                    p.tags = t;
                }
                if let Some(t) = prod_type {
                    p.prod_type = t;
                }
                let p = p.clone();
                Response::json(200, &render::product(f, &p, st))
            })
        }
        ("DELETE", Some(_)) if lowpriv => forbidden(),
        ("DELETE", Some(id)) => {
            if st.product(id).is_none() {
                return no_match("Product");
            }
            st.delete_product(id);
            Response::new(204)
        }
        (m, _) => method_not_allowed(m),
    }
}

// ---------------------------------------------------------------- engagements

const ENGAGEMENT_STATUSES: [&str; 8] = [
    "Not Started",
    "Blocked",
    "Cancelled",
    "Completed",
    "In Progress",
    "On Hold",
    "Scheduled",
    "Waiting for Resource",
];

fn engagements(ctx: &Ctx, st: &mut State, req: &Request, user: &User, id: Option<u64>) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // name exact + case-sensitive; product, version (empty ignored), status,
            // threat_model/api_test/pen_test; engagement_type, check_list and
            // deduplication_on_engagement are not filters (hook-behaviour.md §2.2 step 6).
            let product = match num_filter(req, "product") {
                Ok(v) => v,
                Err(resp) => return resp,
            };
            let name = filter_param(req, "name");
            let version = filter_param(req, "version");
            let status = filter_param(req, "status");
            let bools = [
                ("threat_model", bool_filter(req, "threat_model")),
                ("api_test", bool_filter(req, "api_test")),
                ("pen_test", bool_filter(req, "pen_test")),
                ("active", bool_filter(req, "active")),
            ];
            let rows: Vec<&Engagement> = st
                .engagements
                .iter()
                .filter(|e| product.is_none_or(|p| e.product == p))
                .filter(|e| name.as_ref().is_none_or(|n| e.name.as_ref() == Some(n)))
                .filter(|e| {
                    version
                        .as_ref()
                        .is_none_or(|v| e.version.as_ref() == Some(v))
                })
                .filter(|e| status.as_ref().is_none_or(|s| &e.status == s))
                .filter(|e| {
                    bools.iter().all(|(k, want)| {
                        want.is_none_or(|w| {
                            w == match *k {
                                "threat_model" => e.threat_model,
                                "api_test" => e.api_test,
                                "pen_test" => e.pen_test,
                                _ => e.active,
                            }
                        })
                    })
                })
                .collect();
            Response::json(
                200,
                &list_body(ctx, req, &rows, |e| render::engagement(f, e), None),
            )
        }
        ("GET", Some(id)) => match st.engagement(id) {
            Some(e) => Response::json(200, &render::engagement(f, e)),
            None => no_match("Engagement"),
        },
        ("POST", None) => with_body(req, |m| {
            let product = match parent_id(m, "product", |id| st.product(id).is_some(), "Product") {
                Ok(id) => id,
                Err(resp) => return resp,
            };
            let mut e = Engagement {
                product,
                ..Engagement::default()
            };
            if let Err(resp) = apply_engagement(f, st, &mut e, m, true) {
                return resp;
            }
            e.id = st.next_id("engagement");
            let body = render::engagement(f, &e);
            st.engagements.push(e);
            Response::json(201, &body)
        }),
        ("PATCH" | "PUT", Some(id)) => {
            let Some(existing) = st.engagement(id).cloned() else {
                return no_match("Engagement");
            };
            with_body(req, |m| {
                let mut e = existing;
                if let Err(resp) = apply_engagement(f, st, &mut e, m, false) {
                    return resp;
                }
                e.updated = now_iso();
                let body = render::engagement(f, &e);
                if let Some(slot) = st.engagements.iter_mut().find(|x| x.id == id) {
                    *slot = e;
                }
                Response::json(200, &body)
            })
        }
        // 3.x: a user that is only authorized on the product cannot delete (recorded 96);
        // the 2.x Maintainer role can (2.x 41).
        ("DELETE", Some(_)) if user.id == LOWPRIV.id && f == Flavour::V3 => forbidden(),
        ("DELETE", Some(id)) => {
            if st.engagement(id).is_none() {
                return no_match("Engagement");
            }
            st.delete_engagement(id);
            Response::new(204)
        }
        (m, _) => method_not_allowed(m),
    }
}

/// Validates and applies engagement fields (create: `target_start`/`target_end` required).
fn apply_engagement(
    f: Flavour,
    st: &State,
    e: &mut Engagement,
    m: &Map<String, Value>,
    create: bool,
) -> Result<(), Response> {
    let mut fields = Fields::new(m);
    for k in ["target_start", "target_end"] {
        if create && !fields.has(k) {
            fields.err(
                if k == "target_start" {
                    "target_start"
                } else {
                    "target_end"
                },
                "This field is required.",
                "required",
            );
        }
    }
    let start = fields.date("target_start");
    let end = fields.date("target_end");
    let status = fields.choice("status", &ENGAGEMENT_STATUSES);
    let kind = fields.choice("engagement_type", &["Interactive", "CI/CD"]);
    let lead = fields.pk("lead", |id| id == ADMIN.id || id == LOWPRIV.id);
    let texts: Vec<(&str, Option<Option<String>>)> = [
        "name",
        "description",
        "version",
        "branch_tag",
        "build_id",
        "commit_hash",
        "source_code_management_uri",
    ]
    .into_iter()
    .map(|k| (k, fields.text(k)))
    .collect();
    let bools: Vec<(&str, Option<bool>)> = [
        "active",
        "threat_model",
        "api_test",
        "pen_test",
        "check_list",
        "deduplication_on_engagement",
    ]
    .into_iter()
    .map(|k| (k, fields.boolean(k)))
    .collect();
    let tags = fields.tags("tags");
    // 2.x stores tool-configuration links; 3.x dropped those fields (silently, recorded 128)
    // and links cicd_infrastructure rows instead (130-132).
    let links: Vec<(&str, Option<Option<u64>>)> = match f {
        Flavour::V2 => [
            "orchestration_engine",
            "build_server",
            "source_code_management_server",
        ]
        .into_iter()
        .map(|k| {
            (
                k,
                fields.pk(k, |id| st.tool_configurations.iter().any(|t| t.id == id)),
            )
        })
        .collect(),
        Flavour::V3 => [
            "cicd_orchestration_engine",
            "cicd_build_server",
            "cicd_scm_server",
        ]
        .into_iter()
        .map(|k| {
            (
                k,
                fields.pk(k, |id| st.cicd_infrastructure.iter().any(|c| c.id == id)),
            )
        })
        .collect(),
    };
    fields.result()?;
    let start = start.unwrap_or_else(|| e.target_start.clone());
    let end = end.unwrap_or_else(|| e.target_end.clone());
    if start > end {
        return Err(Response::json(
            400,
            &field_errors(&[(
                "non_field_errors",
                "Your target start date exceeds your target end date".to_string(),
                "invalid",
            )]),
        ));
    }
    e.target_start = start;
    e.target_end = end;
    if let Some(s) = status {
        e.status = s;
    }
    if let Some(k) = kind {
        e.engagement_type = k;
    }
    if let Some(l) = lead {
        e.lead = l;
    }
    for (k, v) in texts {
        if let Some(v) = v {
            match k {
                "name" => e.name = v,
                "description" => e.description = v,
                "version" => e.version = v,
                "branch_tag" => e.branch_tag = v,
                "build_id" => e.build_id = v,
                "commit_hash" => e.commit_hash = v,
                _ => e.source_code_management_uri = v,
            }
        }
    }
    for (k, v) in bools {
        if let Some(v) = v {
            match k {
                "active" => e.active = v,
                "threat_model" => e.threat_model = v,
                "api_test" => e.api_test = v,
                "pen_test" => e.pen_test = v,
                "check_list" => e.check_list = v,
                _ => e.deduplication_on_engagement = v,
            }
        }
    }
    if let Some(t) = tags {
        e.tags = t;
    }
    for (k, v) in links {
        if let Some(v) = v {
            match k {
                "orchestration_engine" => e.orchestration_engine = v,
                "build_server" => e.build_server = v,
                "source_code_management_server" => e.source_code_management_server = v,
                "cicd_orchestration_engine" => e.cicd_orchestration_engine = v,
                "cicd_build_server" => e.cicd_build_server = v,
                _ => e.cicd_scm_server = v,
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- tests

fn tests(ctx: &Ctx, st: &mut State, req: &Request, user: &User, id: Option<u64>) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // engagement; title exact + case-sensitive (recorded 119/120).
            let (engagement, test_type) =
                match (num_filter(req, "engagement"), num_filter(req, "test_type")) {
                    (Ok(e), Ok(t)) => (e, t),
                    (Err(resp), _) | (_, Err(resp)) => return resp,
                };
            let title = filter_param(req, "title");
            let rows: Vec<&Test> = st
                .tests
                .iter()
                .filter(|t| engagement.is_none_or(|e| t.engagement == e))
                .filter(|t| test_type.is_none_or(|tt| t.test_type == tt))
                .filter(|t| title.as_ref().is_none_or(|n| t.title.as_ref() == Some(n)))
                .collect();
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |t| render::test(f, t, st),
                    Some(&|_| json!({})),
                ),
            )
        }
        ("GET", Some(id)) => match st.test(id) {
            Some(t) => {
                let mut body = render::test(f, t, st);
                body["prefetch"] = json!({});
                Response::json(200, &body)
            }
            None => no_match("Test"),
        },
        ("POST", None) => with_body(req, |m| {
            let engagement = match parent_id(
                m,
                "engagement",
                |id| st.engagement(id).is_some(),
                "Engagement",
            ) {
                Ok(id) => id,
                Err(resp) => return resp,
            };
            let mut fields = Fields::new(m);
            if !fields.has("test_type") {
                fields.err("test_type", "This field is required.", "required");
            }
            let test_type = fields
                .pk("test_type", |id| st.test_types.iter().any(|t| t.id == id))
                .flatten();
            for k in ["target_start", "target_end"] {
                if !fields.has(k) {
                    fields.err(
                        if k == "target_start" {
                            "target_start"
                        } else {
                            "target_end"
                        },
                        "This field is required.",
                        "required",
                    );
                }
            }
            let start = fields.datetime("target_start");
            let end = fields.datetime("target_end");
            let mut t = Test {
                engagement,
                ..Test::default()
            };
            let title = fields.text("title").flatten();
            let description = fields.text("description").flatten();
            let version = fields.text("version").flatten();
            let build_id = fields.text("build_id").flatten();
            let commit_hash = fields.text("commit_hash").flatten();
            let branch_tag = fields.text("branch_tag").flatten();
            let tags = fields.tags("tags").unwrap_or_default();
            let percent = fields
                .text("percent_complete")
                .flatten()
                .and_then(|p| p.parse().ok());
            let lead = fields
                .pk("lead", |id| id == ADMIN.id || id == LOWPRIV.id)
                .flatten();
            let environment = fields.pk("environment", |id| id == 1).flatten();
            if let Err(resp) = fields.result() {
                return resp;
            }
            let now = now_iso();
            t.id = st.next_id("test");
            t.test_type = test_type.unwrap_or_default();
            t.target_start = start.unwrap_or_default();
            t.target_end = end.unwrap_or_default();
            t.title = title;
            t.description = description;
            t.version = version;
            t.build_id = build_id;
            t.commit_hash = commit_hash;
            t.branch_tag = branch_tag;
            t.tags = tags;
            t.percent_complete = percent;
            t.lead = lead;
            t.environment = environment;
            t.created = now.clone();
            t.updated = now;
            let body = render::test_created(&t);
            st.tests.push(t);
            Response::json(201, &body)
        }),
        ("PATCH" | "PUT", Some(id)) => {
            if st.test(id).is_none() {
                return no_match("Test");
            }
            with_body(req, |m| {
                let mut fields = Fields::new(m);
                let texts: Vec<(&str, Option<Option<String>>)> = [
                    "title",
                    "description",
                    "version",
                    "build_id",
                    "commit_hash",
                    "branch_tag",
                ]
                .into_iter()
                .map(|k| (k, fields.text(k)))
                .collect();
                let tags = fields.tags("tags");
                let start = fields.datetime("target_start");
                let end = fields.datetime("target_end");
                let percent = fields
                    .text("percent_complete")
                    .flatten()
                    .and_then(|p| p.parse().ok());
                if let Err(resp) = fields.result() {
                    return resp;
                }
                let t = st.test_mut(id).expect("checked above");
                for (k, v) in texts {
                    if let Some(v) = v {
                        match k {
                            "title" => t.title = v,
                            "description" => t.description = v,
                            "version" => t.version = v,
                            "build_id" => t.build_id = v,
                            "commit_hash" => t.commit_hash = v,
                            _ => t.branch_tag = v,
                        }
                    }
                }
                if let Some(tags) = tags {
                    t.tags = tags;
                }
                if let Some(s) = start {
                    t.target_start = s;
                }
                if let Some(e) = end {
                    t.target_end = e;
                }
                if percent.is_some() {
                    t.percent_complete = percent;
                }
                t.updated = now_iso();
                let t = t.clone();
                Response::json(200, &render::test(f, &t, st))
            })
        }
        // 3.x: the low-privileged user cannot delete even its own test (recorded 142);
        // the 2.x Maintainer can (2.x 80).
        ("DELETE", Some(_)) if user.id == LOWPRIV.id && f == Flavour::V3 => forbidden(),
        ("DELETE", Some(id)) => {
            if st.test(id).is_none() {
                return no_match("Test");
            }
            st.delete_test(id);
            Response::new(204)
        }
        (m, _) => method_not_allowed(m),
    }
}

// ---------------------------------------------------------------- findings

fn findings(
    ctx: &Ctx,
    st: &mut State,
    req: &Request,
    id: Option<u64>,
    action: Option<&str>,
) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id, action) {
        ("GET", None, _) => {
            let (test, engagement) =
                match (num_filter(req, "test"), num_filter(req, "test__engagement")) {
                    (Ok(t), Ok(e)) => (t, e),
                    (Err(resp), _) | (_, Err(resp)) => return resp,
                };
            if let Some(test) = test {
                // Async dedup: the first `dedup_delay_gets` reads of this test's findings
                // still see them without their duplicate flags.
                match st.test_mut(test) {
                    Some(t) if t.dedup_gets_remaining > 0 => t.dedup_gets_remaining -= 1,
                    Some(_) => st.settle_test(test),
                    None => {}
                }
            }
            let engagement_tests: Option<HashSet<u64>> = engagement.map(|e| {
                st.tests
                    .iter()
                    .filter(|t| t.engagement == e)
                    .map(|t| t.id)
                    .collect()
            });
            let bools: Vec<(&str, bool)> = [
                "active",
                "duplicate",
                "is_mitigated",
                "verified",
                "false_p",
                "risk_accepted",
                "out_of_scope",
            ]
            .into_iter()
            .filter_map(|k| bool_filter(req, k).map(|v| (k, v)))
            .collect();
            let severity = filter_param(req, "severity");
            let title = filter_param(req, "title");
            let hash = filter_param(req, "hash_code");
            let ids = id_list(filter_param(req, "id"));
            let rows: Vec<&Finding> = st
                .findings
                .iter()
                .filter(|x| test.is_none_or(|t| x.test == t))
                .filter(|x| {
                    engagement_tests
                        .as_ref()
                        .is_none_or(|ts| ts.contains(&x.test))
                })
                .filter(|x| ids.as_ref().is_none_or(|ids| ids.contains(&x.id)))
                .filter(|x| severity.as_ref().is_none_or(|s| &x.severity == s))
                .filter(|x| title.as_ref().is_none_or(|t| &x.title == t))
                .filter(|x| hash.as_ref().is_none_or(|h| &x.hash_code == h))
                .filter(|x| {
                    bools.iter().all(|(k, v)| {
                        *v == match *k {
                            "active" => x.active,
                            "duplicate" => x.duplicate,
                            "is_mitigated" => x.is_mitigated,
                            "verified" => x.verified,
                            "false_p" => x.false_p,
                            "risk_accepted" => x.risk_accepted,
                            _ => x.out_of_scope,
                        }
                    })
                })
                .collect();
            let wanted: Vec<String> = req
                .param("prefetch")
                .map(|p| {
                    p.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let prefetch = |page: &[&Finding]| finding_prefetch(f, st, page, &wanted);
            Response::json(
                200,
                &list_body(ctx, req, &rows, |x| render::finding(f, x), Some(&prefetch)),
            )
        }
        ("GET", Some(id), Some(_duplicate)) => {
            let rows: Vec<Value> = st
                .findings
                .iter()
                .filter(|x| x.duplicate_finding == Some(id))
                .map(|x| render::finding(f, x))
                .collect();
            Response::json(200, &json!(rows))
        }
        ("GET", Some(id), None) => match st.finding(id) {
            Some(x) => {
                let mut body = render::finding(f, x);
                let wanted: Vec<String> = req
                    .param("prefetch")
                    .map(|p| p.split(',').map(|s| s.trim().to_string()).collect())
                    .unwrap_or_default();
                body["prefetch"] = finding_prefetch(f, st, &[x], &wanted);
                Response::json(200, &body)
            }
            None => no_match("Finding"),
        },
        ("PATCH" | "PUT", Some(id), None) => {
            if st.finding(id).is_none() {
                return no_match("Finding");
            }
            with_body(req, |m| {
                let mut fields = Fields::new(m);
                let flags: Vec<(&str, Option<bool>)> = [
                    "active",
                    "verified",
                    "false_p",
                    "duplicate",
                    "out_of_scope",
                    "risk_accepted",
                    "under_review",
                    "is_mitigated",
                ]
                .into_iter()
                .map(|k| (k, fields.boolean(k)))
                .collect();
                let severity =
                    fields.choice("severity", &["Info", "Low", "Medium", "High", "Critical"]);
                let texts: Vec<(&str, Option<Option<String>>)> =
                    ["title", "description", "mitigation", "impact", "references"]
                        .into_iter()
                        .map(|k| (k, fields.text(k)))
                        .collect();
                let tags = fields.tags("tags");
                if let Err(resp) = fields.result() {
                    return resp;
                }
                let x = st.finding_mut(id).expect("checked above");
                for (k, v) in flags {
                    if let Some(v) = v {
                        match k {
                            "active" => x.active = v,
                            "verified" => x.verified = v,
                            "false_p" => x.false_p = v,
                            "duplicate" => x.duplicate = v,
                            "out_of_scope" => x.out_of_scope = v,
                            "risk_accepted" => x.risk_accepted = v,
                            "under_review" => x.under_review = v,
                            _ => {
                                x.is_mitigated = v;
                                x.mitigated = v.then(now_iso);
                            }
                        }
                    }
                }
                if let Some(s) = severity {
                    x.severity = s;
                }
                for (k, v) in texts {
                    match (k, v) {
                        ("title", Some(Some(t))) => x.title = t,
                        ("description", Some(Some(d))) => x.description = d,
                        ("mitigation", Some(v)) => x.mitigation = v,
                        ("impact", Some(v)) => x.impact = v,
                        ("references", Some(v)) => x.references = v,
                        _ => {}
                    }
                }
                if let Some(t) = tags {
                    x.tags = t;
                }
                x.updated = now_iso();
                Response::json(200, &render::finding(f, x))
            })
        }
        ("DELETE", Some(id), None) => {
            if st.finding(id).is_none() {
                return no_match("Finding");
            }
            st.findings.retain(|x| x.id != id);
            st.location_findings.retain(|r| r.finding != id);
            Response::new(204)
        }
        (m, _, _) => method_not_allowed(m),
    }
}

/// `prefetch` of a findings page: `endpoints` (2.x endpoint objects; 3.x location-finding
/// references, recorded 102 vs 2.x 47), `duplicate_finding` (the full original findings),
/// `test`, `found_by`. Keys are the ids as strings.
fn finding_prefetch(f: Flavour, st: &State, page: &[&Finding], wanted: &[String]) -> Value {
    let mut out = Map::new();
    for name in wanted {
        let mut m = Map::new();
        match name.as_str() {
            "endpoints" => {
                for id in page.iter().flat_map(|x| x.endpoints.iter()) {
                    let v = match f {
                        Flavour::V2 => st
                            .endpoints
                            .iter()
                            .find(|e| e.id == *id)
                            .map(|e| render::endpoint_v2(e, st)),
                        Flavour::V3 => st
                            .location_findings
                            .iter()
                            .find(|r| r.id == *id)
                            .map(render::location_finding),
                    };
                    if let Some(v) = v {
                        m.insert(id.to_string(), v);
                    }
                }
            }
            "duplicate_finding" => {
                for id in page.iter().filter_map(|x| x.duplicate_finding) {
                    if let Some(orig) = st.finding(id) {
                        m.insert(id.to_string(), render::finding(f, orig));
                    }
                }
            }
            "test" => {
                for x in page {
                    if let Some(t) = st.test(x.test) {
                        m.insert(t.id.to_string(), render::test(f, t, st));
                    }
                }
            }
            "found_by" => {
                for x in page {
                    if let Some(t) = st.test_types.iter().find(|t| t.id == x.found_by) {
                        m.insert(t.id.to_string(), render::test_type(t));
                    }
                }
            }
            _ => continue,
        }
        out.insert(name.clone(), Value::Object(m));
    }
    Value::Object(out)
}

/// 3.x `/api/v2/location_findings/?finding_includes=1,2&prefetch=location` (recorded 103;
/// without `prefetch` the body has no `prefetch` key, recorded 162).
fn location_findings(ctx: &Ctx, st: &State, req: &Request) -> Response {
    let includes = id_list(req.param("finding_includes"));
    let finding = match num_filter(req, "finding") {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let rows: Vec<_> = st
        .location_findings
        .iter()
        .filter(|r| includes.as_ref().is_none_or(|ids| ids.contains(&r.finding)))
        .filter(|r| finding.is_none_or(|id| r.finding == id))
        .collect();
    let with_location = req
        .param("prefetch")
        .is_some_and(|p| p.split(',').any(|s| s.trim() == "location"));
    let prefetch = |page: &[&super::state::LocationFinding]| {
        let mut m = Map::new();
        for r in page {
            if let Some(l) = st.locations.iter().find(|l| l.id == r.location) {
                m.insert(l.id.to_string(), render::location(l));
            }
        }
        json!({ "location": m })
    };
    let prefetch: Option<Prefetch<'_, &super::state::LocationFinding>> =
        if with_location { Some(&prefetch) } else { None };
    Response::json(
        200,
        &list_body(ctx, req, &rows, |r| render::location_finding(r), prefetch),
    )
}

/// `/api/v2/endpoints/`: 2.x endpoints; on 3.x the compatibility view keyed by
/// location-product references, so a finding's endpoint id is usually a 404 (recorded 105).
fn endpoints(ctx: &Ctx, st: &State, req: &Request, id: Option<u64>) -> Response {
    let product = match num_filter(req, "product") {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let host = filter_param(req, "host");
    match (ctx.opts.flavour, id) {
        (Flavour::V2, Some(id)) => match st.endpoints.iter().find(|e| e.id == id) {
            Some(e) => Response::json(200, &render::endpoint_v2(e, st)),
            None => no_match("Endpoint"),
        },
        (Flavour::V3, Some(id)) => match st.location_products.iter().find(|r| r.id == id) {
            Some(r) => Response::json(200, &render::endpoint_compat_v3(r, st)),
            None => no_match("LocationProductReference"),
        },
        (Flavour::V2, None) => {
            let rows: Vec<_> = st
                .endpoints
                .iter()
                .filter(|e| product.is_none_or(|p| e.product == p))
                .filter(|e| host.as_ref().is_none_or(|h| e.host.as_ref() == Some(h)))
                .collect();
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |e| render::endpoint_v2(e, st),
                    Some(&|_| json!({})),
                ),
            )
        }
        (Flavour::V3, None) => {
            let rows: Vec<_> = st
                .location_products
                .iter()
                .filter(|r| product.is_none_or(|p| r.product == p))
                .collect();
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |r| render::endpoint_compat_v3(r, st),
                    Some(&|_| json!({})),
                ),
            )
        }
    }
}

// ---------------------------------------------------------------- tools, cicd, history

fn tool_types(ctx: &Ctx, st: &mut State, req: &Request, id: Option<u64>) -> Response {
    match (req.method.as_str(), id) {
        ("GET", None) => {
            let name = filter_param(req, "name");
            let rows: Vec<_> = st
                .tool_types
                .iter()
                .filter(|t| name.as_ref().is_none_or(|n| &t.name == n))
                .collect();
            Response::json(
                200,
                &list_body(ctx, req, &rows, |t| render::tool_type(t), None),
            )
        }
        ("GET", Some(id)) => match st.tool_types.iter().find(|t| t.id == id) {
            Some(t) => Response::json(200, &render::tool_type(t)),
            None => no_match("Tool_Type"),
        },
        ("POST", None) => with_body(req, |m| {
            let mut fields = Fields::new(m);
            let name = fields.required_text("name");
            let description = fields.text("description").flatten();
            if let Err(resp) = fields.result() {
                return resp;
            }
            let name = name.unwrap_or_default();
            if st.tool_types.iter().any(|t| t.name == name) {
                let msg = "A Tool Type with the name already exists".to_string();
                return Response::json(400, &field_errors(&[("non_field_errors", msg, "invalid")]));
            }
            let id = st.add_tool_type(&name);
            let t = st
                .tool_types
                .iter_mut()
                .find(|t| t.id == id)
                .expect("just added");
            t.description = description;
            Response::json(201, &render::tool_type(t))
        }),
        ("DELETE", Some(id)) => {
            st.tool_types.retain(|t| t.id != id);
            Response::new(204)
        }
        (m, _) => method_not_allowed(m),
    }
}

fn tool_configurations(ctx: &Ctx, st: &mut State, req: &Request, id: Option<u64>) -> Response {
    match (req.method.as_str(), id) {
        ("GET", None) => {
            let name = filter_param(req, "name");
            let url = filter_param(req, "url");
            let tool_type = match num_filter(req, "tool_type") {
                Ok(v) => v,
                Err(resp) => return resp,
            };
            let rows: Vec<&ToolConfiguration> = st
                .tool_configurations
                .iter()
                .filter(|t| name.as_ref().is_none_or(|n| &t.name == n))
                .filter(|t| url.as_ref().is_none_or(|u| t.url.as_ref() == Some(u)))
                .filter(|t| tool_type.is_none_or(|tt| t.tool_type == tt))
                .collect();
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |t| render::tool_configuration(t),
                    Some(&|_| json!({})),
                ),
            )
        }
        ("GET", Some(id)) => match st.tool_configurations.iter().find(|t| t.id == id) {
            Some(t) => Response::json(200, &render::tool_configuration(t)),
            None => no_match("Tool_Configuration"),
        },
        ("POST", None) => with_body(req, |m| {
            // `configuration_url` is not a field: dropped silently (recorded 127).
            let mut fields = Fields::new(m);
            let name = fields.required_text("name");
            if !fields.has("tool_type") {
                fields.err("tool_type", "This field is required.", "required");
            }
            let tool_type = fields
                .pk("tool_type", |id| st.tool_types.iter().any(|t| t.id == id))
                .flatten();
            let url = fields.text("url").flatten();
            let description = fields.text("description").flatten();
            let authentication_type =
                fields.choice("authentication_type", &["API", "Password", "SSH"]);
            let username = fields.text("username").flatten();
            if let Err(resp) = fields.result() {
                return resp;
            }
            let id = st.add_tool_configuration(
                &name.unwrap_or_default(),
                tool_type.unwrap_or_default(),
                url.as_deref(),
            );
            let t = st
                .tool_configurations
                .iter_mut()
                .find(|t| t.id == id)
                .expect("just added");
            t.description = description;
            t.authentication_type = authentication_type;
            t.username = username;
            Response::json(201, &render::tool_configuration(t))
        }),
        ("DELETE", Some(id)) => {
            st.tool_configurations.retain(|t| t.id != id);
            Response::new(204)
        }
        (m, _) => method_not_allowed(m),
    }
}

fn cicd(ctx: &Ctx, st: &mut State, req: &Request, id: Option<u64>) -> Response {
    match (req.method.as_str(), id) {
        ("GET", None) => {
            let name = filter_param(req, "name");
            let kind = filter_param(req, "infrastructure_type");
            let rows: Vec<&CicdInfrastructure> = st
                .cicd_infrastructure
                .iter()
                .filter(|c| name.as_ref().is_none_or(|n| &c.name == n))
                .filter(|c| kind.as_ref().is_none_or(|k| &c.infrastructure_type == k))
                .collect();
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |c| render::cicd_infrastructure(c),
                    Some(&|_| json!({})),
                ),
            )
        }
        ("GET", Some(id)) => match st.cicd_infrastructure.iter().find(|c| c.id == id) {
            Some(c) => Response::json(200, &render::cicd_infrastructure(c)),
            None => no_match("CICDInfrastructure"),
        },
        ("POST", None) => with_body(req, |m| {
            let mut fields = Fields::new(m);
            let name = fields.required_text("name");
            if !fields.has("infrastructure_type") {
                fields.err("infrastructure_type", "This field is required.", "required");
            }
            let kind = fields.choice(
                "infrastructure_type",
                &["scm_server", "build_server", "orchestration"],
            );
            let url = fields.text("url").flatten();
            let description = fields.text("description").flatten();
            if let Err(resp) = fields.result() {
                return resp;
            }
            let c = CicdInfrastructure {
                id: st.next_id("cicd_infrastructure"),
                name: name.unwrap_or_default(),
                description,
                url,
                infrastructure_type: kind.unwrap_or_default(),
            };
            let body = render::cicd_infrastructure(&c);
            st.cicd_infrastructure.push(c);
            Response::json(201, &body)
        }),
        ("DELETE", Some(id)) => {
            st.cicd_infrastructure.retain(|c| c.id != id);
            Response::new(204)
        }
        (m, _) => method_not_allowed(m),
    }
}

/// `/api/v2/test_imports/`, newest first (recorded 156-158). The action filters select
/// whole rows, which keep all their actions.
fn test_imports(ctx: &Ctx, st: &State, req: &Request, id: Option<u64>) -> Response {
    if let Some(id) = id {
        return match st.test_imports.iter().find(|t| t.id == id) {
            Some(t) => Response::json(200, &render::test_import(t)),
            None => no_match("Test_Import"),
        };
    }
    let (test, finding) = match (
        num_filter(req, "test"),
        num_filter(req, "test_import_finding_action__finding"),
    ) {
        (Ok(t), Ok(f)) => (t, f),
        (Err(resp), _) | (_, Err(resp)) => return resp,
    };
    let action = filter_param(req, "test_import_finding_action__action");
    let strings = [
        ("build_id", filter_param(req, "build_id")),
        ("commit_hash", filter_param(req, "commit_hash")),
        ("branch_tag", filter_param(req, "branch_tag")),
        ("version", filter_param(req, "version")),
    ];
    let mut rows: Vec<_> = st
        .test_imports
        .iter()
        .filter(|t| test.is_none_or(|id| t.test == id))
        .filter(|t| finding.is_none_or(|f| t.actions.iter().any(|a| a.finding == f)))
        .filter(|t| {
            action
                .as_ref()
                .is_none_or(|a| t.actions.iter().any(|x| x.action.to_string() == *a))
        })
        .filter(|t| {
            strings.iter().all(|(k, want)| {
                want.as_ref().is_none_or(|w| {
                    w == match *k {
                        "build_id" => &t.build_id,
                        "commit_hash" => &t.commit_hash,
                        "branch_tag" => &t.branch_tag,
                        _ => &t.version,
                    }
                })
            })
        })
        .collect();
    rows.sort_by_key(|t| std::cmp::Reverse(t.id));
    Response::json(
        200,
        &list_body(
            ctx,
            req,
            &rows,
            |t| render::test_import(t),
            Some(&|_| json!({})),
        ),
    )
}
