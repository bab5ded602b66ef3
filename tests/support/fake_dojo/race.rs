//! Creates that race ([`super::Options::create_gap`]).
//!
//! DefectDojo checks a name's uniqueness in the serializer, then INSERTs: two creates of
//! one new name at once both pass the check, and the second INSERT hits the database's
//! unique constraint. 3.2.0 maps that IntegrityError to 409 (`fixtures/dojo/recorded/v3/168-*` for
//! products, `fixtures/dojo/recorded/v3/169-*` for product types: 1×201, 4×400, 7×409 of 12), 2.58.4 to a
//! generic 500 (`fixtures/dojo/recorded/v2/95-*`;
//! its product type race recorded only 400s, but a hook run got a 500 there too). A
//! create that comes a little later meets the check and gets the 400 "… already exists"
//! (`fixtures/dojo/recorded/v3/10-*`). Engagements, tool configurations and CI/CD rows have no unique name: both
//! creates succeed.
//!
//! The fake runs the check, leaves the lock for the gap, then checks again before the
//! real handler inserts.

use std::sync::Mutex;

use serde_json::Value;

use super::super::http::{Request, Response, lock};
use super::state::State;
use super::{Ctx, Flavour};

const RACE_409: &str =
    include_str!("../../../fixtures/dojo/recorded/v3/168-product-create-race-409.json");
const RACE_500: &str =
    include_str!("../../../fixtures/dojo/recorded/v2/95-product-create-race-500.json");

/// A POST that creates: `insert` is the real handler; `unique` names are checked twice.
pub(super) fn create(
    ctx: &Ctx,
    state: &Mutex<State>,
    req: &Request,
    unique: bool,
    mut insert: impl FnMut(&mut State) -> Response,
) -> Response {
    let gap = ctx.opts.create_gap.unwrap_or_default();
    let name = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v["name"].as_str().map(str::to_string));
    let taken = |st: &State| {
        let Some(name) = name.as_deref().filter(|_| unique) else {
            return false;
        };
        if req.path.contains("/product_types/") {
            st.product_types.iter().any(|p| p.name == name)
        } else if req.path.contains("/products/") {
            st.products.iter().any(|p| p.name == name)
        } else {
            st.tool_types.iter().any(|t| t.name == name)
        }
    };
    {
        // The serializer's check: a name that exists gets its 400 from the handler.
        let mut st = lock(state);
        if name.is_none() || taken(&st) {
            return insert(&mut st);
        }
    }
    std::thread::sleep(gap);
    let mut st = lock(state);
    if taken(&st) {
        // The INSERT hits the unique constraint.
        let body: Value = match ctx.opts.flavour {
            Flavour::V3 => {
                serde_json::from_str(RACE_409).expect("v3/168-product-create-race-409.json")
            }
            Flavour::V2 => {
                serde_json::from_str(RACE_500).expect("v2/95-product-create-race-500.json")
            }
        };
        let status = match ctx.opts.flavour {
            Flavour::V3 => 409,
            Flavour::V2 => 500,
        };
        return Response::json(status, &body);
    }
    insert(&mut st)
}
