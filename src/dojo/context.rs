//! Finds or creates where an import goes: product type, product, engagement.
//!
//! Differences from the Java hook, on purpose: the product is looked up by
//! exact name across all product types (names are globally unique in
//! DefectDojo); the orchestration engine is linked the way the server's
//! generation supports (2.x `orchestration_engine`, 3.x
//! `cicd_orchestration_engine`), told apart by the engagement's keys; a
//! create that loses a race against a parallel job looks up again.

use serde_json::json;

use super::model::{Engagement, Named, Product, UserProfile};
use super::{Dojo, Method};
use crate::config::Config;
use crate::error::Error;

/// Tool type name the Java hook registers.
pub const TOOL_TYPE: &str = "Security Test Orchestration Engine";
/// Tool configuration / CI/CD infrastructure name.
pub const ENGINE_NAME: &str = "secureCodeBox";
/// Its URL.
pub const ENGINE_URL: &str = "https://github.com/secureCodeBox";
const ENGINE_DESCRIPTION: &str = "secureCodeBox is a kubernetes based, modularized toolchain for continuous security scans of your software project.";

/// Where the import goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The token's user (the engagement and test lead).
    pub user_id: u64,
    /// Product type id.
    pub product_type_id: u64,
    /// Product id.
    pub product_id: u64,
    /// Engagement id.
    pub engagement_id: u64,
    /// True when this run created the engagement.
    pub engagement_created: bool,
}

/// Resolves (and creates where missing) the import's context.
pub fn resolve(dojo: &Dojo, cfg: &Config, today: &str) -> Result<Context, Error> {
    resolve_planned(dojo, cfg, today, None)
}

/// Resolves the context; with `plan`, nothing is created: what a real run
/// would create is said there instead, with id 0 standing for it.
pub fn resolve_planned(
    dojo: &Dojo,
    cfg: &Config,
    today: &str,
    mut plan: Option<&mut Vec<String>>,
) -> Result<Context, Error> {
    let user_id = match cfg.user_id {
        Some(id) => id,
        None => {
            let profile: UserProfile = dojo.get(
                "/api/v2/user_profile/",
                "reading the API key's user (user_profile)",
            )?;
            log::info!(
                "running as DefectDojo user {} (id {})",
                profile.user.username.as_deref().unwrap_or("?"),
                profile.user.id
            );
            profile.user.id
        }
    };
    // The product first: when it exists (every run after the first), its
    // product type needs no lookup.
    let (product_type_id, product_id) = match find_product(dojo, cfg)? {
        Some(found) => (found.prod_type, found.id),
        None => {
            let product_type_id = product_type(dojo, cfg, plan.as_deref_mut())?;
            let product_id = product(dojo, cfg, product_type_id, plan.as_deref_mut())?;
            (product_type_id, product_id)
        }
    };
    let (engagement_id, engagement_created) =
        engagement(dojo, cfg, product_id, user_id, today, plan)?;
    Ok(Context {
        user_id,
        product_type_id,
        product_id,
        engagement_id,
        engagement_created,
    })
}

fn product_type(dojo: &Dojo, cfg: &Config, plan: Option<&mut Vec<String>>) -> Result<u64, Error> {
    let Some(name) = &cfg.target.product_type_name else {
        log::info!(
            "using product type id 1 (no product-type-name annotation or DEFECTDOJO_PRODUCT_TYPE_NAME)"
        );
        return Ok(1);
    };
    let find = || -> Result<Option<u64>, Error> {
        let found: Vec<Named> = dojo.list(
            "/api/v2/product_types/",
            &[("name", name)],
            &format!("looking up product type \"{name}\""),
            |t: &Named| t.name.as_deref() == Some(name),
        )?;
        Ok(found.iter().map(|t| t.id).min())
    };
    if let Some(id) = find()? {
        log::info!("using product type \"{name}\" (id {id})");
        return Ok(id);
    }
    if cfg.low_privileged {
        return Err(Error::protocol(
            format!("product type \"{name}\""),
            "does not exist, and DEFECTDOJO_LOW_PRIVILEGED_MODE never creates product types \
             (only DefectDojo staff users may): ask a DefectDojo administrator to create it and \
             to authorize this API key's user on it",
        ));
    }
    if let Some(plan) = plan {
        plan.push(format!("would create product type \"{name}\""));
        return Ok(0);
    }
    let what = format!("creating product type \"{name}\"");
    create_or_adopt(
        &format!("product type \"{name}\""),
        || dojo.post::<Named>("/api/v2/product_types/", &json!({ "name": name }), &what),
        find,
    )
}

/// The product of the configured name, if it exists, with its product
/// type's name prefetched in the same request (`prefetch=prod_type`).
fn find_product(dojo: &Dojo, cfg: &Config) -> Result<Option<Product>, Error> {
    let name = &cfg.target.product_name;
    // `name_exact` is case-insensitive and `name` is a substring match:
    // compare exactly here.
    let page: ProductPage = dojo.get(
        &format!(
            "/api/v2/products/?name_exact={}&prefetch=prod_type&limit=100",
            crate::http::url::percent_encode(name)
        ),
        &format!("looking up product \"{name}\""),
    )?;
    let found = page
        .results
        .into_iter()
        .filter(|p| &p.name == name)
        .min_by_key(|p| p.id);
    let Some(p) = &found else {
        return Ok(None);
    };
    let type_name = page
        .prefetch
        .prod_type
        .get(&p.prod_type.to_string())
        .and_then(|t| t.name.clone());
    match (&cfg.target.product_type_name, &type_name) {
        (Some(wanted), Some(actual)) if wanted != actual => log::warn!(
            "product \"{name}\" (id {}) belongs to product type \"{actual}\" (id {}), not \
             \"{wanted}\"; using it there (product names are unique across product types)",
            p.id,
            p.prod_type
        ),
        _ => log::info!(
            "using product \"{name}\" (id {}, in product type \"{}\", id {})",
            p.id,
            type_name.as_deref().unwrap_or("?"),
            p.prod_type
        ),
    }
    Ok(found)
}

/// A page of products with their product types prefetched.
#[derive(serde::Deserialize)]
struct ProductPage {
    results: Vec<Product>,
    #[serde(default)]
    prefetch: ProductPrefetch,
}

#[derive(Default, serde::Deserialize)]
struct ProductPrefetch {
    #[serde(default)]
    prod_type: std::collections::BTreeMap<String, Named>,
}

/// Creates the product (it was not found).
fn product(
    dojo: &Dojo,
    cfg: &Config,
    product_type_id: u64,
    plan: Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    let name = &cfg.target.product_name;
    if let Some(plan) = plan {
        let pt = cfg.target.product_type_name.as_deref().unwrap_or("id 1");
        plan.push(format!(
            "would create product \"{name}\" in product type \"{pt}\""
        ));
        return Ok(0);
    }
    let body = json!({
        "name": name,
        "description": cfg.target.product_description,
        "prod_type": product_type_id,
        "tags": cfg.target.product_tags,
    });
    let what = format!("creating product \"{name}\"");
    create_or_adopt(
        &format!("product \"{name}\""),
        || {
            dojo.post::<Product>("/api/v2/products/", &body, &what)
                .map(|p| Named {
                    id: p.id,
                    name: Some(p.name),
                })
        },
        || Ok(find_product(dojo, cfg)?.map(|p| p.id)),
    )
}

fn engagement(
    dojo: &Dojo,
    cfg: &Config,
    product_id: u64,
    user_id: u64,
    today: &str,
    plan: Option<&mut Vec<String>>,
) -> Result<(u64, bool), Error> {
    let t = &cfg.target;
    let would_create = |plan: &mut Vec<String>| {
        plan.push(format!(
            "would create engagement \"{}\" in product \"{}\"",
            t.engagement_name, t.product_name
        ));
        Ok((0, true))
    };
    if product_id == 0 {
        if let Some(plan) = plan {
            return would_create(plan);
        }
    }
    let version = t.engagement_version.clone().unwrap_or_default();
    let product = product_id.to_string();
    let find = || -> Result<Vec<Engagement>, Error> {
        let mut params = vec![
            ("name", t.engagement_name.as_str()),
            ("product", product.as_str()),
            ("status", "In Progress"),
        ];
        if !version.is_empty() {
            params.push(("version", version.as_str()));
        }
        dojo.list(
            "/api/v2/engagements/",
            &params,
            &format!("looking up engagement \"{}\"", t.engagement_name),
            |e: &Engagement| {
                e.name.as_deref() == Some(t.engagement_name.as_str())
                    && e.version.as_deref().unwrap_or("") == version
                    && e.status.as_deref().is_none_or(|s| s == "In Progress")
            },
        )
    };
    let found = find()?;
    if let Some(id) = lowest(&found, &t.engagement_name) {
        log::info!("using engagement \"{}\" (id {id})", t.engagement_name);
        return Ok((id, false));
    }
    if let Some(plan) = plan {
        return would_create(plan);
    }
    let body = new_engagement(cfg, product_id, user_id, &version, today);
    let what = format!("creating engagement \"{}\"", t.engagement_name);
    let created: Engagement = dojo.post("/api/v2/engagements/", &body, &what)?;
    log::info!(
        "created engagement \"{}\" (id {})",
        t.engagement_name,
        created.id
    );
    // Engagement names are not unique: a parallel job may have created one
    // between our lookup and our create. All such jobs settle on the oldest.
    let again = find()?;
    let oldest = again.iter().map(|e| e.id).min().unwrap_or(created.id);
    if oldest < created.id {
        log::info!(
            "a parallel run created engagement \"{}\" too (id {oldest}): using that one",
            t.engagement_name
        );
        remove_empty_engagement(dojo, created.id, &t.engagement_name);
        return Ok((oldest, false));
    }
    if !cfg.low_privileged {
        // Metadata only: a failure here must not fail the import.
        if let Err(err) = link_engine(dojo, &created) {
            log::warn!(
                "could not link secureCodeBox as the engagement's orchestration engine: {err}"
            );
        }
    }
    Ok((created.id, true))
}

/// The body that creates the engagement (dates, CI/CD type, tags, the
/// repository, which DefectDojo keeps only on the engagement).
fn new_engagement(
    cfg: &Config,
    product_id: u64,
    user_id: u64,
    version: &str,
    today: &str,
) -> serde_json::Value {
    let t = &cfg.target;
    let mut body = json!({
        "name": t.engagement_name,
        "product": product_id,
        "lead": user_id,
        "status": "In Progress",
        "tags": t.engagement_tags,
        "description": "",
        "version": version,
        "branch_tag": version,
        "target_start": today,
        "target_end": t.engagement_end_date.as_deref().unwrap_or(today),
        "engagement_type": "CI/CD",
        "deduplication_on_engagement": t.engagement_dedup,
        "threat_model": false,
        "api_test": false,
        "pen_test": false,
        "check_list": false,
    });
    // DefectDojo keeps the repository only on the engagement.
    if let Some(uri) = &t.source_code_management_uri {
        body["source_code_management_uri"] = json!(uri);
    }
    body
}

fn lowest(found: &[Engagement], name: &str) -> Option<u64> {
    let id = found.iter().map(|e| e.id).min()?;
    if found.len() > 1 {
        log::warn!(
            "{} engagements named \"{name}\" match; using the oldest (id {id})",
            found.len()
        );
    }
    Some(id)
}

/// Links the secureCodeBox orchestration engine the way this server's
/// generation supports it; the engagement's keys tell which one it is.
fn link_engine(dojo: &Dojo, engagement: &Engagement) -> Result<(), Error> {
    let path = format!("/api/v2/engagements/{}/", engagement.id);
    if engagement.cicd_orchestration_engine.is_some() {
        let id = find_or_create(
            dojo,
            "/api/v2/cicd_infrastructure/",
            json!({
                "name": ENGINE_NAME,
                "description": ENGINE_DESCRIPTION,
                "url": ENGINE_URL,
                "infrastructure_type": "orchestration",
            }),
        )?;
        dojo.call(
            Method::Patch,
            &path,
            Some(&json!({ "cicd_orchestration_engine": id })),
            "linking the CI/CD orchestration engine",
        )?;
    } else if engagement.orchestration_engine.is_some() {
        let tool_type = find_or_create(
            dojo,
            "/api/v2/tool_types/",
            json!({ "name": TOOL_TYPE, "description": TOOL_TYPE }),
        )?;
        let config = find_or_create(
            dojo,
            "/api/v2/tool_configurations/",
            json!({
                "name": ENGINE_NAME,
                "url": ENGINE_URL,
                "tool_type": tool_type,
                "description": ENGINE_DESCRIPTION,
            }),
        )?;
        dojo.call(
            Method::Patch,
            &path,
            Some(&json!({ "orchestration_engine": config })),
            "linking the orchestration engine",
        )?;
    }
    Ok(())
}

/// Finds an object by exact name, or creates it from `body`.
fn find_or_create(dojo: &Dojo, path: &str, body: serde_json::Value) -> Result<u64, Error> {
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let find = || -> Result<Option<u64>, Error> {
        let found: Vec<Named> = dojo.list(
            path,
            &[("name", &name)],
            &format!("looking up \"{name}\" in {path}"),
            |n: &Named| n.name.as_deref() == Some(name.as_str()),
        )?;
        Ok(found.iter().map(|n| n.id).min())
    };
    if let Some(id) = find()? {
        return Ok(id);
    }
    let what = format!("creating \"{name}\" in {path}");
    create_or_adopt(
        &format!("\"{name}\" in {path}"),
        || dojo.post::<Named>(path, &body, &what),
        find,
    )
}

/// Creates an object, or uses the one a parallel run created at the same
/// time.
///
/// Both DefectDojo generations check a name's uniqueness before the INSERT,
/// so two runs creating one name at once both pass the check, and the loser
/// hits the database's constraint: 3.x answers 409 (`fixtures/dojo/recorded/v3/168-*`,
/// `fixtures/dojo/recorded/v3/169-*`), 2.x answers 500
/// (`fixtures/dojo/recorded/v2/95-*`); a create a little later
/// gets the check's 400 "… already exists". After any of them, and after a
/// 5xx or a proxy's 502/504 that may have hidden a success, the object is
/// looked up by exact name; only if it still does not exist is the create's
/// error the run's.
fn create_or_adopt(
    what: &str,
    create: impl FnOnce() -> Result<Named, Error>,
    find: impl FnOnce() -> Result<Option<u64>, Error>,
) -> Result<u64, Error> {
    match create() {
        Ok(created) => {
            log::info!("created {what} (id {})", created.id);
            Ok(created.id)
        }
        Err(err) if lost_race(&err) => match find()? {
            Some(id) => {
                let status = match &err {
                    Error::Http { status, .. } => *status,
                    _ => 0,
                };
                log::info!(
                    "{what} was created by a parallel run at the same time (HTTP {status}): \
                     using it (id {id})"
                );
                Ok(id)
            }
            None => Err(err),
        },
        Err(err) => Err(err),
    }
}

/// True for a create's failure that a parallel run's create may explain.
fn lost_race(err: &Error) -> bool {
    match err {
        Error::Http {
            status: 400,
            detail,
            ..
        } => detail.contains("already exists"),
        Error::Http { status, .. } => *status == 409 || *status >= 500,
        _ => false,
    }
}

/// Deletes the engagement this run created when a parallel run's is used;
/// a key that may not delete it (3.x authorized users get 403) leaves it,
/// empty, with a warning naming it.
fn remove_empty_engagement(dojo: &Dojo, id: u64, name: &str) {
    match dojo.call(
        Method::Delete,
        &format!("/api/v2/engagements/{id}/"),
        None,
        "deleting the engagement this run created twice",
    ) {
        Ok(_) | Err(Error::Http { status: 404, .. }) => {
            log::info!("deleted the engagement \"{name}\" this run created (id {id}), unused")
        }
        Err(err) => log::warn!(
            "engagement \"{name}\" (id {id}, {}/engagement/{id}), which this run created at the \
             same time as a parallel run, stays behind empty: {err}; delete it in DefectDojo",
            dojo.base()
        ),
    }
}
