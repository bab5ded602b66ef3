//! What the resource handlers share: DRF's limit/offset pagination with absolute
//! links, django-filter's parameter rules, request bodies (JSON, form, multipart) and
//! DRF-style field validation that collects every error before answering 400.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use super::super::http::{Request, Response, parse_query, quote_plus};
use super::Ctx;
use super::render::{detail, field_errors};
use super::routes::no_match;
use super::util::{is_date, parse_bool, parse_datetime};

/// Computes a page's `prefetch` object from the page's items.
pub(super) type Prefetch<'a, T> = &'a dyn Fn(&[T]) -> Value;

/// Limit/offset pagination (DRF `LimitOffsetPagination`, default page size 25, no cap):
/// `count`, absolute `next`/`previous` links with the query parameters sorted and
/// form-encoded like DRF's `replace_query_param`, `results`, and `prefetch` when given.
pub(super) fn list_body<T>(
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

pub(super) fn page_link(ctx: &Ctx, req: &Request, limit: usize, offset: Option<usize>) -> String {
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
pub(super) fn filter_param(req: &Request, name: &str) -> Option<String> {
    req.param(name).filter(|v| !v.is_empty())
}

/// A numeric filter; `Err` is the 400 django-filter answers for "abc".
pub(super) fn num_filter(req: &Request, name: &str) -> Result<Option<u64>, Response> {
    match filter_param(req, name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Response::json(400, &json!({ name: ["Enter a number."] }))),
    }
}

pub(super) fn bool_filter(req: &Request, name: &str) -> Option<bool> {
    filter_param(req, name).and_then(|v| parse_bool(&v))
}

/// `1,2,3` (commas possibly sent as `%2C`) as a set of ids.
pub(super) fn id_list(value: Option<String>) -> Option<HashSet<u64>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

// ---------------------------------------------------------------- request bodies

/// Parses a JSON (or form) request body into a map and runs `f` with it.
pub(super) fn with_body(
    req: &Request,
    f: impl FnOnce(&Map<String, Value>) -> Response,
) -> Response {
    match body_map(req) {
        Ok(m) => f(&m),
        Err(resp) => resp,
    }
}

pub(super) fn body_map(req: &Request) -> Result<Map<String, Value>, Response> {
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
        let parts =
            super::multipart::parse_multipart(req.header("content-type").unwrap_or(""), &req.body)
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
pub(super) struct Fields<'a> {
    m: &'a Map<String, Value>,
    errors: Vec<(&'static str, String, &'static str)>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(m: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            m,
            errors: Vec::new(),
        }
    }

    pub(super) fn has(&self, k: &str) -> bool {
        self.m.contains_key(k)
    }

    pub(super) fn err(&mut self, field: &'static str, msg: impl Into<String>, code: &'static str) {
        self.errors.push((field, msg.into(), code));
    }

    /// `Some(None)` for an explicit null.
    pub(super) fn text(&mut self, k: &'static str) -> Option<Option<String>> {
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
    pub(super) fn required_text(&mut self, k: &'static str) -> Option<String> {
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

    pub(super) fn boolean(&mut self, k: &'static str) -> Option<bool> {
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
    pub(super) fn pk(
        &mut self,
        k: &'static str,
        exists: impl Fn(u64) -> bool,
    ) -> Option<Option<u64>> {
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
    pub(super) fn date(&mut self, k: &'static str) -> Option<String> {
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

    pub(super) fn datetime(&mut self, k: &'static str) -> Option<String> {
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

    pub(super) fn choice(&mut self, k: &'static str, choices: &[&str]) -> Option<String> {
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

    pub(super) fn tags(&mut self, k: &'static str) -> Option<Vec<String>> {
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

    pub(super) fn result(self) -> Result<(), Response> {
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
/// present (else 400 "Unable to check for permissions…", `fixtures/dojo/recorded/v3/13-*`) and exist (404).
pub(super) fn parent_id(
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
