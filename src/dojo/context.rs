//! Finds or creates where an import goes: product type, product, engagement.
//!
//! Differences from the Java hook, on purpose: the product is looked up by
//! exact name across all product types (names are globally unique in
//! DefectDojo); the orchestration engine is linked the way the server's
//! generation supports (2.x `orchestration_engine`, 3.x
//! `cicd_orchestration_engine`), told apart by the engagement's keys; a
//! create that loses a race against a parallel job looks up again.

use serde_json::json;

use super::model::{Engagement, NamedObject, Product, Test, UserProfile};
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
pub struct ImportContext {
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
pub fn resolve(dojo: &Dojo, cfg: &Config, today: &str) -> Result<ImportContext, Error> {
    let user_id = user(dojo, cfg)?;
    // The product first: when it exists (every run after the first), its
    // product type needs no lookup.
    let (product_type_id, product_id) = match find_product(dojo, cfg)? {
        Some(found) => (found.prod_type, found.id),
        None => {
            let product_type_id = match find_product_type(dojo, cfg)? {
                Some(id) => id,
                None => create_product_type(dojo, cfg)?,
            };
            (product_type_id, create_product(dojo, cfg, product_type_id)?)
        }
    };
    let (engagement_id, engagement_created) = match find_engagement(dojo, cfg, product_id)? {
        Some(id) => (id, false),
        None => create_engagement(dojo, cfg, product_id, user_id, today)?,
    };
    Ok(ImportContext {
        user_id,
        product_type_id,
        product_id,
        engagement_id,
        engagement_created,
    })
}

/// One object of a planned context: there already, or one a real run would
/// create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanSlot {
    /// It exists: its id.
    Exists(u64),
    /// A real run would create it.
    WouldCreate,
}

/// The context as a dry run finds it: the same lookups as [`resolve`], and
/// nothing created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The token's user.
    pub user_id: u64,
    /// The product type.
    pub product_type: PlanSlot,
    /// The product.
    pub product: PlanSlot,
    /// The engagement.
    pub engagement: PlanSlot,
}

impl Planned {
    /// What a real run would create, in its order, one sentence each.
    pub fn creations(&self, cfg: &Config) -> Vec<String> {
        let t = &cfg.target;
        let mut lines = Vec::new();
        if let (PlanSlot::WouldCreate, Some(name)) = (self.product_type, &t.product_type_name) {
            lines.push(format!("would create product type \"{name}\""));
        }
        if self.product == PlanSlot::WouldCreate {
            let pt = match t.product_type_name.as_deref() {
                Some(pt) => format!("\"{pt}\""),
                None => "id 1 (no DEFECTDOJO_PRODUCT_TYPE_NAME)".to_string(),
            };
            lines.push(format!(
                "would create product \"{}\" in product type {pt}",
                t.product_name
            ));
        }
        if self.engagement == PlanSlot::WouldCreate {
            lines.push(format!(
                "would create engagement \"{}\" in product \"{}\"",
                t.engagement_name, t.product_name
            ));
        }
        lines
    }
}

/// The context a real run would resolve, creating nothing; an error is one
/// the real run would meet before creating anything (a product type that
/// low-privileged mode may not create, a failed lookup).
pub fn plan(dojo: &Dojo, cfg: &Config) -> Result<Planned, Error> {
    let user_id = user(dojo, cfg)?;
    let (product_type, product) = match find_product(dojo, cfg)? {
        Some(found) => (
            PlanSlot::Exists(found.prod_type),
            PlanSlot::Exists(found.id),
        ),
        None => match find_product_type(dojo, cfg)? {
            Some(id) => (PlanSlot::Exists(id), PlanSlot::WouldCreate),
            None => {
                may_create_product_type(cfg)?;
                (PlanSlot::WouldCreate, PlanSlot::WouldCreate)
            }
        },
    };
    let engagement = match product {
        PlanSlot::Exists(id) => {
            find_engagement(dojo, cfg, id)?.map_or(PlanSlot::WouldCreate, PlanSlot::Exists)
        }
        // A new product has no engagement.
        PlanSlot::WouldCreate => PlanSlot::WouldCreate,
    };
    Ok(Planned {
        user_id,
        product_type,
        product,
        engagement,
    })
}

/// The API key's user (the engagement and test lead).
fn user(dojo: &Dojo, cfg: &Config) -> Result<u64, Error> {
    if let Some(id) = cfg.user_id {
        return Ok(id);
    }
    let profile: UserProfile = dojo.get(
        "/api/v2/user_profile/",
        "reading the API key's user (user_profile)",
    )?;
    log::info!(
        "running as DefectDojo user {} (id {})",
        profile.user.username.as_deref().unwrap_or("?"),
        profile.user.id
    );
    Ok(profile.user.id)
}

/// The configured product type's id; id 1 when none is configured.
fn find_product_type(dojo: &Dojo, cfg: &Config) -> Result<Option<u64>, Error> {
    let Some(name) = &cfg.target.product_type_name else {
        log::info!(
            "using product type id 1 (no product-type-name annotation or DEFECTDOJO_PRODUCT_TYPE_NAME)"
        );
        return Ok(Some(1));
    };
    let found = product_type_by_name(dojo, name)?;
    if let Some(id) = found {
        log::info!("using product type \"{name}\" (id {id})");
    }
    Ok(found)
}

fn product_type_by_name(dojo: &Dojo, name: &str) -> Result<Option<u64>, Error> {
    let found: Vec<NamedObject> = dojo.list(
        "/api/v2/product_types/",
        &[("name", name)],
        &format!("looking up product type \"{name}\""),
        |t: &NamedObject| t.name.as_deref() == Some(name),
    )?;
    Ok(found.iter().map(|t| t.id).min())
}

/// An error when this run may not create the missing product type.
fn may_create_product_type(cfg: &Config) -> Result<(), Error> {
    match &cfg.target.product_type_name {
        Some(name) if cfg.low_privileged => Err(Error::protocol(
            format!("product type \"{name}\""),
            "does not exist, and DEFECTDOJO_LOW_PRIVILEGED_MODE never creates product types \
             (only DefectDojo staff users may): ask a DefectDojo administrator to create it and \
             to authorize this API key's user on it",
        )),
        _ => Ok(()),
    }
}

/// Creates the configured product type ([`find_product_type`] found none).
fn create_product_type(dojo: &Dojo, cfg: &Config) -> Result<u64, Error> {
    may_create_product_type(cfg)?;
    // find_product_type answers id 1 when no name is configured.
    let name = cfg.target.product_type_name.as_deref().unwrap_or_default();
    let what = format!("creating product type \"{name}\"");
    create_or_adopt(
        &format!("product type \"{name}\""),
        || dojo.post::<NamedObject>("/api/v2/product_types/", &json!({ "name": name }), &what),
        || product_type_by_name(dojo, name),
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
    prod_type: std::collections::BTreeMap<String, NamedObject>,
}

/// Creates the product (it was not found).
fn create_product(dojo: &Dojo, cfg: &Config, product_type_id: u64) -> Result<u64, Error> {
    let name = &cfg.target.product_name;
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
                .map(|p| NamedObject {
                    id: p.id,
                    name: Some(p.name),
                })
        },
        || Ok(find_product(dojo, cfg)?.map(|p| p.id)),
    )
}

/// The oldest "In Progress" engagement of the configured name (and
/// version) in the product.
fn find_engagement(dojo: &Dojo, cfg: &Config, product_id: u64) -> Result<Option<u64>, Error> {
    let name = &cfg.target.engagement_name;
    let found = engagements(dojo, cfg, product_id)?;
    let id = lowest(&found, name);
    if let Some(id) = id {
        log::info!("using engagement \"{name}\" (id {id})");
    }
    Ok(id)
}

/// The engagements of the configured name and version in the product.
fn engagements(dojo: &Dojo, cfg: &Config, product_id: u64) -> Result<Vec<Engagement>, Error> {
    let t = &cfg.target;
    let version = t.engagement_version.as_deref().unwrap_or_default();
    let product = product_id.to_string();
    let mut params = vec![
        ("name", t.engagement_name.as_str()),
        ("product", product.as_str()),
        ("status", "In Progress"),
    ];
    if !version.is_empty() {
        params.push(("version", version));
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
}

/// Creates the engagement ([`find_engagement`] found none); true when this
/// run's one is kept.
fn create_engagement(
    dojo: &Dojo,
    cfg: &Config,
    product_id: u64,
    user_id: u64,
    today: &str,
) -> Result<(u64, bool), Error> {
    let name = &cfg.target.engagement_name;
    let version = cfg.target.engagement_version.clone().unwrap_or_default();
    let body = new_engagement(cfg, product_id, user_id, &version, today);
    let what = format!("creating engagement \"{name}\"");
    let created: Engagement = dojo.post("/api/v2/engagements/", &body, &what)?;
    log::info!("created engagement \"{name}\" (id {})", created.id);
    // Engagement names are not unique: a parallel job may have created one
    // between our lookup and our create. All such jobs settle on the oldest.
    let again = engagements(dojo, cfg, product_id)?;
    let oldest = again.iter().map(|e| e.id).min().unwrap_or(created.id);
    if oldest < created.id {
        log::info!(
            "a parallel run created engagement \"{name}\" too (id {oldest}): using that one"
        );
        remove_empty_engagement(dojo, created.id, name);
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
        let found: Vec<NamedObject> = dojo.list(
            path,
            &[("name", &name)],
            &format!("looking up \"{name}\" in {path}"),
            |n: &NamedObject| n.name.as_deref() == Some(name.as_str()),
        )?;
        Ok(found.iter().map(|n| n.id).min())
    };
    if let Some(id) = find()? {
        return Ok(id);
    }
    let what = format!("creating \"{name}\" in {path}");
    create_or_adopt(
        &format!("\"{name}\" in {path}"),
        || dojo.post::<NamedObject>(path, &body, &what),
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
    create: impl FnOnce() -> Result<NamedObject, Error>,
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
    let url = format!("{}/engagement/{id}", crate::http::redact::url(dojo.base()));
    // DefectDojo deletes an engagement with its tests: only an empty one
    // goes (a run that looked it up in the instant before the oldest was
    // visible may have imported into it).
    let tests: Result<super::model::Page<serde::de::IgnoredAny>, Error> = dojo.get(
        &format!("/api/v2/tests/?engagement={id}&limit=1"),
        "checking that the engagement this run created twice is empty",
    );
    match tests {
        Ok(page) if page.count == Some(0) => {}
        Ok(_) => {
            log::warn!(
                "engagement \"{name}\" (id {id}, {url}), which this run created at the same \
                 time as a parallel run, already holds a test of another run: it stays"
            );
            return;
        }
        Err(err) => {
            log::warn!(
                "engagement \"{name}\" (id {id}, {url}), which this run created at the same \
                 time as a parallel run, stays behind: {err}"
            );
            return;
        }
    }
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
            "engagement \"{name}\" (id {id}, {url}), which this run created at the \
             same time as a parallel run, stays behind empty: {err}; delete it in DefectDojo"
        ),
    }
}

/// The tests of `engagement` titled `title` with `scan_type`, newest last:
/// the reimport target is the latest (DefectDojo picks it so by names too).
pub fn tests_titled(
    dojo: &Dojo,
    engagement: u64,
    title: &str,
    scan_type: &str,
) -> Result<Vec<u64>, Error> {
    let tests: Vec<Test> = dojo.list(
        "/api/v2/tests/",
        &[("engagement", &engagement.to_string()), ("title", title)],
        "looking up the test to reimport into",
        |t: &Test| t.title.as_deref() == Some(title) && t.scan_type.as_deref() == Some(scan_type),
    )?;
    let mut ids: Vec<u64> = tests.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    Ok(ids)
}
