//! `/api/v2/product_types/` and `/api/v2/products/`: exact vs. partial name filters,
//! global name uniqueness, staff-only product type creation (`fixtures/dojo/recorded/v3/09-*` to `fixtures/dojo/recorded/v3/14-*`,
//! `fixtures/dojo/recorded/v3/107-*` to `fixtures/dojo/recorded/v3/115-*`, `fixtures/dojo/recorded/v3/133-*`).

use serde_json::{Value, json};

use super::super::http::{Request, Response};
use super::Ctx;
use super::common::{Fields, filter_param, list_body, num_filter, parent_id, with_body};
use super::render::{self};
use super::routes::{forbidden, method_not_allowed, no_match};
use super::state::{Product, ProductType, State};

pub(super) fn product_types(
    ctx: &Ctx,
    st: &mut State,
    req: &Request,
    lowpriv: bool,
    id: Option<u64>,
) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // `name` is exact and case-sensitive; `name_exact` is not a filter here
            // (`fixtures/dojo/recorded/v3/109-*` to `fixtures/dojo/recorded/v3/111-*`).
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

pub(super) fn products(
    ctx: &Ctx,
    st: &mut State,
    req: &Request,
    lowpriv: bool,
    id: Option<u64>,
) -> Response {
    let f = ctx.opts.flavour;
    match (req.method.as_str(), id) {
        ("GET", None) => {
            // `name` is icontains, `name_exact` iexact (`fixtures/dojo/recorded/v3/112-*` to `fixtures/dojo/recorded/v3/115-*`).
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
            // `prefetch=prod_type` (a `prefetch` parameter of the products list in 3.2.0's
            // OpenAPI schema; the trimmed copy in `fixtures/dojo/` keeps only the import
            // paths): the page's product types, keyed by id.
            let prod_types = req
                .param("prefetch")
                .is_some_and(|p| p.split(',').any(|x| x.trim() == "prod_type"));
            let prefetch = |page: &[&Product]| {
                let mut types = serde_json::Map::new();
                for p in page.iter().filter(|_| prod_types) {
                    if let Some(t) = st.product_type(p.prod_type) {
                        types.insert(t.id.to_string(), render::product_type(f, t));
                    }
                }
                if prod_types {
                    json!({ "prod_type": types })
                } else {
                    json!({})
                }
            };
            Response::json(
                200,
                &list_body(
                    ctx,
                    req,
                    &rows,
                    |p| render::product(f, p, st),
                    Some(&prefetch),
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
                // Product names are globally unique, whatever the product type
                // (`fixtures/dojo/recorded/v3/133-*`).
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
