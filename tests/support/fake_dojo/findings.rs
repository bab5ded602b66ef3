//! `/api/v2/findings/` with `prefetch`, and where a finding's endpoints live: 3.x
//! `/api/v2/location_findings/` + `/api/v2/location/` (`fixtures/dojo/recorded/v3/102-*` to `fixtures/dojo/recorded/v3/106-*`),
//! 2.x `/api/v2/endpoints/` (`fixtures/dojo/recorded/v2/47-*`).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::super::http::{Request, Response};
use super::common::{
    Fields, Prefetch, bool_filter, filter_param, id_list, list_body, num_filter, with_body,
};
use super::render;
use super::routes::{method_not_allowed, no_match};
use super::state::{Finding, State, by_id};
use super::util::now_iso;
use super::{Ctx, Flavour};

pub(super) fn findings(
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
/// references, `fixtures/dojo/recorded/v3/102-*` vs
/// `fixtures/dojo/recorded/v2/47-*`), `duplicate_finding` (the full original findings),
/// `test`, `found_by`. Keys are the ids as strings.
pub(super) fn finding_prefetch(
    f: Flavour,
    st: &State,
    page: &[&Finding],
    wanted: &[String],
) -> Value {
    let mut out = Map::new();
    for name in wanted {
        let mut m = Map::new();
        match name.as_str() {
            "endpoints" => {
                let ids: HashSet<u64> = page
                    .iter()
                    .flat_map(|x| x.endpoints.iter().copied())
                    .collect();
                let users = if f == Flavour::V2 {
                    st.findings_by_endpoint(&ids)
                } else {
                    HashMap::new()
                };
                for id in page.iter().flat_map(|x| x.endpoints.iter()) {
                    let v = match f {
                        Flavour::V2 => by_id(&st.endpoints, *id, |e| e.id).map(|e| {
                            render::endpoint_v2(e, users.get(&e.id).map_or(&[], Vec::as_slice))
                        }),
                        Flavour::V3 => by_id(&st.location_findings, *id, |r| r.id)
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

/// 3.x `/api/v2/location_findings/?finding_includes=1,2&prefetch=location` (`fixtures/dojo/recorded/v3/103-*`;
/// without `prefetch` the body has no `prefetch` key, `fixtures/dojo/recorded/v3/162-*`).
pub(super) fn location_findings(ctx: &Ctx, st: &State, req: &Request) -> Response {
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
/// location-product references, so a finding's endpoint id is usually a 404
/// (`fixtures/dojo/recorded/v3/105-*`).
pub(super) fn endpoints(ctx: &Ctx, st: &State, req: &Request, id: Option<u64>) -> Response {
    let product = match num_filter(req, "product") {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let host = filter_param(req, "host");
    match (ctx.opts.flavour, id) {
        (Flavour::V2, Some(id)) => match st.endpoints.iter().find(|e| e.id == id) {
            Some(e) => {
                let users = st.findings_by_endpoint(&HashSet::from([id]));
                let findings = users.get(&id).map_or(&[][..], Vec::as_slice);
                Response::json(200, &render::endpoint_v2(e, findings))
            }
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
            let users = st.findings_by_endpoint(&rows.iter().map(|e| e.id).collect());
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |e| render::endpoint_v2(e, users.get(&e.id).map_or(&[], Vec::as_slice)),
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
