//! `/api/v2/engagements/` and `/api/v2/tests/`: filters, creation, PATCH, DELETE; the
//! flavour-specific orchestration fields (2.x `orchestration_engine` vs 3.x
//! `cicd_*`, `fixtures/dojo/recorded/v3/128-*` to `fixtures/dojo/recorded/v3/132-*`) and the low-privileged delete rules
//! (`fixtures/dojo/recorded/v3/142-*` vs `fixtures/dojo/recorded/v2/80-*`).

use serde_json::{Map, Value, json};

use super::super::http::{Request, Response};
use super::common::{
    Fields, bool_filter, filter_param, list_body, num_filter, parent_id, with_body,
};
use super::render::{self, ADMIN, LOWPRIV, User, field_errors};
use super::routes::{forbidden, method_not_allowed, no_match};
use super::state::{Engagement, State, Test};
use super::util::now_iso;
use super::{Ctx, Flavour};

pub(super) const ENGAGEMENT_STATUSES: [&str; 8] = [
    "Not Started",
    "Blocked",
    "Cancelled",
    "Completed",
    "In Progress",
    "On Hold",
    "Scheduled",
    "Waiting for Resource",
];

pub(super) fn engagements(
    ctx: &Ctx,
    st: &mut State,
    req: &Request,
    user: &User,
    id: Option<u64>,
) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // name exact + case-sensitive; product, version (empty ignored), status,
            // threat_model/api_test/pen_test; engagement_type, check_list and
            // deduplication_on_engagement are not filters (`docs/java-hook.md`, "Engagement lookup").
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
        // 3.x: a user that is only authorized on the product cannot delete
        // (`fixtures/dojo/recorded/v3/96-*`); the 2.x Maintainer role can (`fixtures/dojo/recorded/v2/41-*`).
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
pub(super) fn apply_engagement(
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
    // 2.x stores tool-configuration links; 3.x dropped those fields (silently, `fixtures/dojo/recorded/v3/128-*`)
    // and links cicd_infrastructure rows instead (`fixtures/dojo/recorded/v3/130-*` to `fixtures/dojo/recorded/v3/132-*`).
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

pub(super) fn tests(
    ctx: &Ctx,
    st: &mut State,
    req: &Request,
    user: &User,
    id: Option<u64>,
) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // engagement; title exact + case-sensitive
            // (`fixtures/dojo/recorded/v3/119-*`, `fixtures/dojo/recorded/v3/120-*`).
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
        // 3.x: the low-privileged user cannot delete even its own test
        // (`fixtures/dojo/recorded/v3/142-*`); the 2.x Maintainer can (`fixtures/dojo/recorded/v2/80-*`).
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
