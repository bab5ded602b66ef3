//! The generated pages: `findings/?test=<virtual>` with its `prefetch`, and 3.x
//! `location_findings/?finding_includes=…&prefetch=location`, written as JSON text
//! directly (no `serde_json::Value` per finding).

use std::fmt::Write as _;

use serde_json::Value;

use super::super::super::http::{Body, Request, Response};
use super::super::common::page_link;
use super::super::{Ctx, Flavour};
use super::template::{Values, templates_of};
use super::{Class, Virtual, class, severity};

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

pub(super) fn findings_page(ctx: &Ctx, req: &Request, v: &Virtual) -> Response {
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
pub(super) fn location_findings(ctx: &Ctx, req: &Request) -> Option<Response> {
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
