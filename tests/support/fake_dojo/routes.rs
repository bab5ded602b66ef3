//! Routing, authentication, lists and the CRUD endpoints of the fake DefectDojo.
//!
//! Order of checks per request, as on the real stack: uWSGI's request-size limit (the
//! connection is closed without an answer), Django's URL resolution (unknown path → the
//! HTML 404 page; a known path without its trailing slash → 301 to the slashed one),
//! DRF authentication (403, not 401), permissions, then the method (405) and the
//! serializer's validation (400 with `message` and `pro`).

use std::sync::Mutex;

use serde_json::{Map, Value, json};

use super::super::http::{Reply, Request, Response, lock};
use super::common::{id_list, list_body, with_body};
use super::engagements::{engagements, tests};
use super::findings::{endpoints, findings, location_findings};
use super::products::{product_types, products};
use super::render::{self, ADMIN, LOWPRIV, User, detail};
use super::state::State;
use super::tools::{cicd, test_imports, tool_configurations, tool_types};
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
pub fn dispatch(ctx: &Ctx, state: &Mutex<State>, mut req: Request) -> Reply {
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
    if req.method == "HEAD" {
        // DRF answers HEAD like GET; the plumbing drops the body.
        req.method = "GET".to_string();
    }
    if ctx.opts.bench.is_some() {
        if let Some(resp) = super::bench::intercept(ctx, state, &mut req, user) {
            return resp.into();
        }
    }
    lock(state).apply_due();
    match route.kind {
        Kind::ProductTypes
        | Kind::Products
        | Kind::Engagements
        | Kind::ToolTypes
        | Kind::ToolConfigurations
        | Kind::Cicd
            if req.method == "POST" && route.id.is_none() && ctx.opts.create_gap.is_some() =>
        {
            let unique = matches!(
                route.kind,
                Kind::ProductTypes | Kind::Products | Kind::ToolTypes
            );
            super::race::create(ctx, state, &req, unique, |st| {
                handle(ctx, st, &req, user, &route)
            })
            .into()
        }
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

pub(super) fn forbidden() -> Response {
    Response::json(
        403,
        &detail("You do not have permission to perform this action."),
    )
}

pub(super) fn method_not_allowed(method: &str) -> Response {
    Response::json(405, &detail(&format!("Method \"{method}\" not allowed.")))
}

pub(super) fn no_match(model: &str) -> Response {
    Response::json(
        404,
        &detail(&format!("No {model} matches the given query.")),
    )
}

/// DRF `TokenAuthentication` behind `SessionAuthentication`: failures are 403 with a
/// `detail`, never 401 (`fixtures/dojo/recorded/v3/03-*`, `fixtures/dojo/recorded/v3/04-*`).
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
