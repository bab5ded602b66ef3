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
    let product_type_id = product_type(dojo, cfg, plan.as_deref_mut())?;
    let product_id = product(dojo, cfg, product_type_id, plan.as_deref_mut())?;
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
    match dojo.post::<Named>("/api/v2/product_types/", &json!({ "name": name }), &what) {
        Ok(created) => {
            log::info!("created product type \"{name}\" (id {})", created.id);
            Ok(created.id)
        }
        Err(err) if already_exists(&err) => find()?.ok_or(err),
        Err(err) => Err(err),
    }
}

fn product(
    dojo: &Dojo,
    cfg: &Config,
    product_type_id: u64,
    plan: Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    let name = &cfg.target.product_name;
    // `name_exact` is case-insensitive and `name` is a substring match:
    // compare exactly here.
    let find = || -> Result<Option<Product>, Error> {
        let found: Vec<Product> = dojo.list(
            "/api/v2/products/",
            &[("name_exact", name)],
            &format!("looking up product \"{name}\""),
            |p: &Product| &p.name == name,
        )?;
        Ok(found.into_iter().min_by_key(|p| p.id))
    };
    if let Some(found) = find()? {
        if found.prod_type != product_type_id && cfg.target.product_type_name.is_some() {
            log::warn!(
                "product \"{name}\" (id {}) belongs to product type id {}, not {product_type_id}; \
                 using it there (product names are unique across product types)",
                found.id,
                found.prod_type
            );
        }
        log::info!("using product \"{name}\" (id {})", found.id);
        return Ok(found.id);
    }
    if let Some(plan) = plan {
        let pt = match cfg.target.product_type_name.as_deref() {
            Some(pt) => format!("\"{pt}\""),
            None => "id 1 (no DEFECTDOJO_PRODUCT_TYPE_NAME)".to_string(),
        };
        plan.push(format!(
            "would create product \"{name}\" in product type {pt}"
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
    match dojo.post::<Product>("/api/v2/products/", &body, &what) {
        Ok(created) => {
            log::info!("created product \"{name}\" (id {})", created.id);
            Ok(created.id)
        }
        Err(err) if already_exists(&err) => find()?.map(|p| p.id).ok_or(err),
        Err(err) => Err(err),
    }
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
        log::warn!(
            "a parallel run created engagement \"{}\" too (id {oldest}); using that one, \
             ours (id {}) stays empty",
            t.engagement_name,
            created.id
        );
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
    match dojo.post::<Named>(path, &body, &format!("creating \"{name}\" in {path}")) {
        Ok(created) => Ok(created.id),
        Err(err) if already_exists(&err) => find()?.ok_or(err),
        Err(err) => Err(err),
    }
}

/// True for DefectDojo's "… already exists" validation errors: another job
/// created the object between our lookup and our create.
fn already_exists(err: &Error) -> bool {
    matches!(err, Error::Http { status: 400, detail, .. } if detail.contains("already exists"))
}
