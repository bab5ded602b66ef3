//! The fake DefectDojo's data types: plain structs with public fields, so tests can
//! seed objects before a run and assert on what a client created, changed or deleted.
//!
//! Only the fields a client can set or read are modelled; the JSON renderer
//! ([`super::render`]) fills the rest of each recorded shape with constant defaults.

use serde_json::Value;

use super::util::{legacy_hash, now_iso, titlecase, today};

pub const SEVERITIES: [&str; 5] = ["Info", "Low", "Medium", "High", "Critical"];

/// Severity rank: Info 0 … Critical 4; unknown severities rank as Info (as DefectDojo does).
pub fn severity_rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|s| *s == severity).unwrap_or(0)
}

#[derive(Clone, Debug, Default)]
pub struct ProductType {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub critical_product: bool,
    pub key_product: bool,
    /// `None` for the product type a fresh server ships with (`fixtures/dojo/recorded/v3/08-*`).
    pub created: Option<String>,
    pub authorized_users: Vec<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct Product {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub prod_type: u64,
    pub tags: Vec<String>,
    pub created: String,
}

#[derive(Clone, Debug)]
pub struct Engagement {
    pub id: u64,
    pub name: Option<String>,
    pub product: u64,
    pub description: Option<String>,
    pub version: Option<String>,
    pub target_start: String,
    pub target_end: String,
    pub status: String,
    pub engagement_type: String,
    pub active: bool,
    pub lead: Option<u64>,
    pub tags: Vec<String>,
    pub branch_tag: Option<String>,
    pub build_id: Option<String>,
    pub commit_hash: Option<String>,
    pub source_code_management_uri: Option<String>,
    pub deduplication_on_engagement: bool,
    pub threat_model: bool,
    pub api_test: bool,
    pub pen_test: bool,
    pub check_list: bool,
    /// 2.x only: a tool configuration id. 3.x drops the field silently.
    pub orchestration_engine: Option<u64>,
    pub build_server: Option<u64>,
    pub source_code_management_server: Option<u64>,
    /// 3.x only: cicd_infrastructure ids.
    pub cicd_orchestration_engine: Option<u64>,
    pub cicd_build_server: Option<u64>,
    pub cicd_scm_server: Option<u64>,
    pub created: String,
    pub updated: String,
}

impl Default for Engagement {
    fn default() -> Engagement {
        let now = now_iso();
        Engagement {
            id: 0,
            name: None,
            product: 0,
            description: None,
            version: None,
            target_start: today(),
            target_end: today(),
            status: "Not Started".to_string(),
            engagement_type: "Interactive".to_string(),
            active: true,
            lead: None,
            tags: Vec::new(),
            branch_tag: None,
            build_id: None,
            commit_hash: None,
            source_code_management_uri: None,
            deduplication_on_engagement: false,
            threat_model: true,
            api_test: true,
            pen_test: true,
            check_list: true,
            orchestration_engine: None,
            build_server: None,
            source_code_management_server: None,
            cicd_orchestration_engine: None,
            cicd_build_server: None,
            cicd_scm_server: None,
            created: now.clone(),
            updated: now,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Test {
    pub id: u64,
    pub engagement: u64,
    pub title: Option<String>,
    pub test_type: u64,
    /// Set by import/reimport; `None` for tests created with POST /tests/ (`fixtures/dojo/recorded/v3/118-*`).
    pub scan_type: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub build_id: Option<String>,
    pub commit_hash: Option<String>,
    pub branch_tag: Option<String>,
    pub tags: Vec<String>,
    pub target_start: String,
    pub target_end: String,
    pub percent_complete: Option<i64>,
    pub environment: Option<u64>,
    pub lead: Option<u64>,
    pub created: String,
    pub updated: String,
    /// Async deduplication: how many more `GET /findings/?test=<id>` still show the
    /// findings before their duplicate flags (mimics Celery finishing later).
    pub dedup_gets_remaining: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Finding {
    pub id: u64,
    pub test: u64,
    pub title: String,
    pub severity: String,
    pub description: String,
    pub cwe: i64,
    pub line: Option<i64>,
    pub file_path: Option<String>,
    pub component_name: Option<String>,
    pub component_version: Option<String>,
    pub unique_id_from_tool: Option<String>,
    pub vuln_id_from_tool: Option<String>,
    pub vulnerability_ids: Vec<String>,
    /// 3.x `cwes` list, as `CWE-n` strings.
    pub cwes: Vec<String>,
    pub mitigation: Option<String>,
    pub impact: Option<String>,
    pub references: Option<String>,
    pub service: Option<String>,
    pub date: String,
    pub active: bool,
    pub verified: bool,
    pub false_p: bool,
    pub duplicate: bool,
    pub out_of_scope: bool,
    pub risk_accepted: bool,
    pub under_review: bool,
    pub is_mitigated: bool,
    pub mitigated: Option<String>,
    pub duplicate_finding: Option<u64>,
    pub hash_code: String,
    pub tags: Vec<String>,
    /// 2.x: endpoint ids. 3.x: location-finding reference ids (see [`LocationFinding`]).
    pub endpoints: Vec<u64>,
    /// Test type id (rendered as the one-element `found_by` list).
    pub found_by: u64,
    pub static_finding: bool,
    pub dynamic_finding: bool,
    pub nb_occurences: Option<i64>,
    pub reporter: u64,
    pub created: String,
    pub updated: String,
    /// Other finding fields a generic report set (`cvssv3`, `epss_score`, `param`, …);
    /// rendered over the defaults.
    pub extra: serde_json::Map<String, Value>,
    /// Async deduplication not yet visible: the original this finding will point at.
    pub pending_duplicate_of: Option<u64>,
}

impl Finding {
    /// A finding as a parser would produce it: title-cased, active, not verified,
    /// with its legacy hash computed.
    pub fn new(title: &str, severity: &str, description: &str) -> Finding {
        let now = now_iso();
        let mut f = Finding {
            title: titlecase(title),
            severity: severity.to_string(),
            description: description.to_string(),
            date: today(),
            active: true,
            reporter: 1,
            nb_occurences: Some(1),
            created: now.clone(),
            updated: now,
            ..Finding::default()
        };
        f.rehash();
        f
    }

    pub fn rehash(&mut self) {
        self.hash_code = legacy_hash(
            &self.title,
            self.cwe,
            self.line,
            self.file_path.as_deref(),
            &self.description,
        );
    }
}

#[derive(Clone, Debug, Default)]
pub struct ToolType {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ToolConfiguration {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub tool_type: u64,
    pub authentication_type: Option<String>,
    pub username: Option<String>,
}

/// 3.x `/api/v2/cicd_infrastructure/` row (the engagement's `cicd_*` fields point here).
#[derive(Clone, Debug, Default)]
pub struct CicdInfrastructure {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub infrastructure_type: String,
}

/// 2.x endpoint (per product).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoint {
    pub id: u64,
    pub protocol: Option<String>,
    pub userinfo: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub path: Option<String>,
    pub query: Option<String>,
    pub fragment: Option<String>,
    pub product: u64,
}

/// 3.x location (global, unique by value), e.g. `tcp://host:22`.
#[derive(Clone, Debug, Default)]
pub struct Location {
    pub id: u64,
    pub location_value: String,
    pub created: String,
}

/// 3.x location-finding reference: what a finding's `endpoints` ids point at.
#[derive(Clone, Debug, Default)]
pub struct LocationFinding {
    pub id: u64,
    pub location: u64,
    pub finding: u64,
    pub created: String,
}

/// 3.x location-product reference: the id space of the `/api/v2/endpoints/<id>/`
/// compatibility view (different from the finding references,
/// `fixtures/dojo/recorded/v3/105-*`, `fixtures/dojo/recorded/v3/106-*`).
#[derive(Clone, Debug, Default)]
pub struct LocationProduct {
    pub id: u64,
    pub location: u64,
    pub product: u64,
    pub created: String,
}

#[derive(Clone, Debug, Default)]
pub struct TestType {
    pub id: u64,
    pub name: String,
    pub static_tool: bool,
    pub dynamic_tool: bool,
    pub active: bool,
}

/// One `test_import_finding_action`: `N` created, `C` closed, `R` reactivated, `U` untouched.
#[derive(Clone, Debug)]
pub struct ImportAction {
    pub id: u64,
    pub action: char,
    pub finding: u64,
    pub created: String,
}

/// One row of `/api/v2/test_imports/` (one per import or reimport).
#[derive(Clone, Debug)]
pub struct TestImport {
    pub id: u64,
    pub test: u64,
    /// `import` or `reimport`.
    pub kind: String,
    pub import_settings: Value,
    pub actions: Vec<ImportAction>,
    pub version: String,
    pub build_id: String,
    pub commit_hash: String,
    pub branch_tag: String,
    pub created: String,
}

/// A row an import saved that the API does not show yet.
#[derive(Clone, Debug)]
pub enum Pending {
    Finding(Box<Finding>),
    Import(Box<TestImport>),
}

impl Pending {
    pub fn test(&self) -> u64 {
        match self {
            Pending::Finding(f) => f.test,
            Pending::Import(i) => i.test,
        }
    }
}

/// What a client sent to import-scan / reimport-scan (every request that got past
/// authentication and multipart parsing), for assertions.
#[derive(Clone, Debug, Default)]
pub struct ImportRecord {
    /// The status the fake answered.
    pub status: u16,
    /// Every non-file form field, in the order sent (unknown ones included).
    pub fields: Vec<(String, String)>,
    pub file_name: Option<String>,
    pub file_len: usize,
    /// The file's bytes when at most 1 MiB.
    pub file: Option<Vec<u8>>,
    /// The test the request imported into (also set when a 500 left an empty test).
    pub test: Option<u64>,
}

impl ImportRecord {
    /// Last value of a form field.
    /// `test_title` without the run marker dojo-hook imports a new test under
    /// (`… [dojo-hook run 0123456789abcdef]`, renamed afterwards).
    pub fn real_title(&self) -> Option<&str> {
        let title = self.field("test_title")?;
        Some(match title.rsplit_once(" [dojo-hook run ") {
            Some((real, id)) if id.len() == 17 && id.ends_with(']') => real,
            _ => title,
        })
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The 3.x `location_value` of an endpoint: `scheme://[userinfo@]host[:port][/path][?query][#fragment]`.
pub fn location_value(ep: &Endpoint) -> String {
    let mut s = String::new();
    if let Some(p) = &ep.protocol {
        s.push_str(p);
        s.push_str("://");
    }
    if let Some(u) = ep.userinfo.as_deref().filter(|u| !u.is_empty()) {
        s.push_str(u);
        s.push('@');
    }
    s.push_str(ep.host.as_deref().unwrap_or(""));
    if let Some(port) = ep.port {
        s.push_str(&format!(":{port}"));
    }
    if let Some(path) = ep.path.as_deref().filter(|p| !p.is_empty()) {
        if !path.starts_with('/') {
            s.push('/');
        }
        s.push_str(path);
    }
    if let Some(q) = ep.query.as_deref().filter(|q| !q.is_empty()) {
        s.push('?');
        s.push_str(q);
    }
    if let Some(f) = ep.fragment.as_deref().filter(|f| !f.is_empty()) {
        s.push('#');
        s.push_str(f);
    }
    s
}

/// Parses an endpoint URL the way DefectDojo's `Endpoint.from_uri` does for the common
/// cases: `scheme://[user@]host[:port][/path][?query][#fragment]`; a string without
/// `://` is read as `//host…` (no scheme). The port is only set when it is in the URL.
pub fn parse_endpoint(url: &str) -> Endpoint {
    let (protocol, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, url.trim_start_matches("//")),
    };
    let (rest, fragment) = split_opt(rest, '#');
    let (rest, query) = split_opt(rest, '?');
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(rest[i..].to_string())),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => match p.parse::<u16>() {
            Ok(port) => (h.to_string(), Some(port)),
            Err(_) => (hostport.to_string(), None),
        },
        _ => (hostport.to_string(), None),
    };
    Endpoint {
        id: 0,
        protocol,
        userinfo,
        host: Some(host),
        port,
        path,
        query,
        fragment,
        product: 0,
    }
}

fn split_opt(s: &str, sep: char) -> (&str, Option<String>) {
    match s.split_once(sep) {
        Some((a, b)) => (a, Some(b.to_string())),
        None => (s, None),
    }
}
