//! The fake DefectDojo's data: plain structs with public fields, so tests can seed
//! objects before a run and assert on what a client created, changed or deleted.
//!
//! Only the fields a client can set or read are modelled; the JSON renderer
//! ([`super::render`]) fills the rest of each recorded shape with constant defaults.
//! Ids come from per-table counters ([`State::next_id`]); objects pushed by hand should
//! take their id from there too so later creations do not collide.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::Flavour;
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
    /// `None` for the product type a fresh server ships with (recorded 08).
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
    /// Set by import/reimport; `None` for tests created with POST /tests/ (recorded 118).
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
/// compatibility view (different from the finding references, recorded 105/106).
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

/// What a client sent to import-scan / reimport-scan (every request that got past
/// authentication and multipart parsing), for assertions.
#[derive(Clone, Debug, Default)]
pub struct ImportRecord {
    /// `import-scan` or `reimport-scan`.
    pub endpoint: String,
    /// The status the fake answered.
    pub status: u16,
    /// Every non-file form field, in the order sent (unknown ones included).
    pub fields: Vec<(String, String)>,
    pub file_name: Option<String>,
    pub file_len: usize,
    pub file_content_type: Option<String>,
    /// The file's bytes when at most 1 MiB.
    pub file: Option<Vec<u8>>,
    /// The test the request imported into (also set when a 500 left an empty test).
    pub test: Option<u64>,
}

impl ImportRecord {
    /// Last value of a form field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn file_text(&self) -> Option<String> {
        self.file
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// Per-table id counters.
#[derive(Clone, Debug, Default)]
pub struct Ids(HashMap<&'static str, u64>);

/// Everything the fake server knows. Lock it through [`super::FakeDojo::state`].
#[derive(Debug)]
pub struct State {
    pub flavour: Flavour,
    /// `enable_deduplication` of the system settings (starts as `Options.dedup`).
    pub dedup_enabled: bool,
    pub product_types: Vec<ProductType>,
    pub products: Vec<Product>,
    pub engagements: Vec<Engagement>,
    pub tests: Vec<Test>,
    /// Ordered by id (appended as created), which keeps id lookups fast.
    pub findings: Vec<Finding>,
    pub tool_types: Vec<ToolType>,
    pub tool_configurations: Vec<ToolConfiguration>,
    pub cicd_infrastructure: Vec<CicdInfrastructure>,
    pub endpoints: Vec<Endpoint>,
    pub locations: Vec<Location>,
    pub location_findings: Vec<LocationFinding>,
    pub location_products: Vec<LocationProduct>,
    pub test_types: Vec<TestType>,
    pub test_imports: Vec<TestImport>,
    pub imports: Vec<ImportRecord>,
    /// Ids of tests deleted through the API, in order.
    pub deleted_tests: Vec<u64>,
    pub ids: Ids,
}

const TEST_TYPES_JSON: &str = include_str!("../../../fixtures/dojo/test-types.json");

impl State {
    /// A fresh server: product type 1 "Research and Development" (recorded 08) and the
    /// recorded test types.
    pub fn new(flavour: Flavour, dedup_enabled: bool) -> State {
        let rows: Vec<Value> =
            serde_json::from_str(TEST_TYPES_JSON).expect("fixtures/dojo/test-types.json");
        let test_types: Vec<TestType> = rows
            .iter()
            .map(|r| TestType {
                id: r["id"].as_u64().unwrap_or(0),
                name: r["name"].as_str().unwrap_or("").to_string(),
                static_tool: r["static_tool"].as_bool().unwrap_or(false),
                dynamic_tool: r["dynamic_tool"].as_bool().unwrap_or(false),
                active: r["active"].as_bool().unwrap_or(true),
            })
            .collect();
        let mut ids = Ids::default();
        ids.0.insert(
            "test_type",
            test_types.iter().map(|t| t.id).max().unwrap_or(0),
        );
        ids.0.insert("product_type", 1);
        State {
            flavour,
            dedup_enabled,
            product_types: vec![ProductType {
                id: 1,
                name: "Research and Development".to_string(),
                critical_product: true,
                ..ProductType::default()
            }],
            products: Vec::new(),
            engagements: Vec::new(),
            tests: Vec::new(),
            findings: Vec::new(),
            tool_types: Vec::new(),
            tool_configurations: Vec::new(),
            cicd_infrastructure: Vec::new(),
            endpoints: Vec::new(),
            locations: Vec::new(),
            location_findings: Vec::new(),
            location_products: Vec::new(),
            test_types,
            test_imports: Vec::new(),
            imports: Vec::new(),
            deleted_tests: Vec::new(),
            ids,
        }
    }

    /// Next id of a table (`"product"`, `"finding"`, …).
    pub fn next_id(&mut self, table: &'static str) -> u64 {
        let n = self.ids.0.entry(table).or_insert(0);
        *n += 1;
        *n
    }

    // ---- seeding helpers (return the new id) ----

    pub fn add_product_type(&mut self, name: &str) -> u64 {
        let id = self.next_id("product_type");
        self.product_types.push(ProductType {
            id,
            name: name.to_string(),
            created: Some(now_iso()),
            ..ProductType::default()
        });
        id
    }

    pub fn add_product(&mut self, name: &str, prod_type: u64) -> u64 {
        let id = self.next_id("product");
        self.products.push(Product {
            id,
            name: name.to_string(),
            description: name.to_string(),
            prod_type,
            tags: Vec::new(),
            created: now_iso(),
        });
        id
    }

    /// An engagement as the hook creates it: CI/CD, In Progress, today to today.
    pub fn add_engagement(&mut self, name: &str, product: u64, version: Option<&str>) -> u64 {
        let id = self.next_id("engagement");
        self.engagements.push(Engagement {
            id,
            name: Some(name.to_string()),
            product,
            version: version.map(str::to_string),
            status: "In Progress".to_string(),
            engagement_type: "CI/CD".to_string(),
            ..Engagement::default()
        });
        id
    }

    /// A test in `engagement` of the given scan type (as an import creates it).
    pub fn add_test(&mut self, engagement: u64, title: Option<&str>, scan_type: &str) -> u64 {
        let id = self.next_id("test");
        let now = now_iso();
        let test_type = self.test_type_id(scan_type).unwrap_or(0);
        self.tests.push(Test {
            id,
            engagement,
            title: title.map(str::to_string),
            test_type,
            scan_type: Some(scan_type.to_string()),
            version: Some(String::new()),
            build_id: Some(String::new()),
            commit_hash: Some(String::new()),
            branch_tag: Some(String::new()),
            target_start: now.clone(),
            target_end: now.clone(),
            percent_complete: Some(100),
            environment: Some(1),
            created: now.clone(),
            updated: now,
            ..Test::default()
        });
        id
    }

    /// Adds `finding` to `test` (id, test and found_by are filled in); returns its id.
    pub fn add_finding(&mut self, test: u64, mut finding: Finding) -> u64 {
        finding.id = self.next_id("finding");
        finding.test = test;
        if finding.found_by == 0 {
            finding.found_by = self.test(test).map_or(0, |t| t.test_type);
        }
        if finding.hash_code.is_empty() {
            finding.rehash();
        }
        let id = finding.id;
        self.findings.push(finding);
        id
    }

    pub fn add_tool_type(&mut self, name: &str) -> u64 {
        let id = self.next_id("tool_type");
        self.tool_types.push(ToolType {
            id,
            name: name.to_string(),
            description: None,
        });
        id
    }

    pub fn add_tool_configuration(&mut self, name: &str, tool_type: u64, url: Option<&str>) -> u64 {
        let id = self.next_id("tool_configuration");
        self.tool_configurations.push(ToolConfiguration {
            id,
            name: name.to_string(),
            tool_type,
            url: url.map(str::to_string),
            ..ToolConfiguration::default()
        });
        id
    }

    // ---- lookups ----

    pub fn product_type(&self, id: u64) -> Option<&ProductType> {
        self.product_types.iter().find(|x| x.id == id)
    }

    pub fn product(&self, id: u64) -> Option<&Product> {
        self.products.iter().find(|x| x.id == id)
    }

    pub fn engagement(&self, id: u64) -> Option<&Engagement> {
        self.engagements.iter().find(|x| x.id == id)
    }

    pub fn test(&self, id: u64) -> Option<&Test> {
        self.tests.iter().find(|x| x.id == id)
    }

    pub fn test_mut(&mut self, id: u64) -> Option<&mut Test> {
        self.tests.iter_mut().find(|x| x.id == id)
    }

    fn finding_index(&self, id: u64) -> Option<usize> {
        match self.findings.binary_search_by_key(&id, |f| f.id) {
            Ok(i) => Some(i),
            // Tests may have pushed findings out of order: fall back to a scan.
            Err(_) => self.findings.iter().position(|f| f.id == id),
        }
    }

    pub fn finding(&self, id: u64) -> Option<&Finding> {
        self.finding_index(id).map(|i| &self.findings[i])
    }

    pub fn finding_mut(&mut self, id: u64) -> Option<&mut Finding> {
        self.finding_index(id).map(|i| &mut self.findings[i])
    }

    /// Findings of a test, by id.
    pub fn findings_of(&self, test: u64) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.test == test).collect()
    }

    pub fn test_type_id(&self, name: &str) -> Option<u64> {
        self.test_types
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.id)
    }

    pub fn test_type_name(&self, id: u64) -> Option<&str> {
        self.test_types
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.as_str())
    }

    /// (engagement, product, product type) of a test.
    pub fn lineage(&self, test: u64) -> Option<(u64, u64, u64)> {
        let t = self.test(test)?;
        let e = self.engagement(t.engagement)?;
        let p = self.product(e.product)?;
        Some((e.id, p.id, p.prod_type))
    }

    /// The product a finding belongs to.
    pub fn product_of_finding(&self, f: &Finding) -> Option<u64> {
        self.lineage(f.test).map(|(_, p, _)| p)
    }

    /// The location value behind a 3.x finding endpoint reference.
    pub fn location_value_of_ref(&self, reference: u64) -> Option<&str> {
        let r = self.location_findings.iter().find(|r| r.id == reference)?;
        self.locations
            .iter()
            .find(|l| l.id == r.location)
            .map(|l| l.location_value.as_str())
    }

    // ---- endpoints / locations ----

    /// Attaches an endpoint to a finding the way the flavour stores it: 2.x finds or
    /// creates a per-product [`Endpoint`]; 3.x finds or creates a global [`Location`], a
    /// [`LocationProduct`] reference and a new [`LocationFinding`] reference.
    pub fn attach_endpoint(&mut self, finding: u64, product: u64, ep: &Endpoint) {
        let id = match self.flavour {
            Flavour::V2 => {
                let wanted = Endpoint {
                    id: 0,
                    product,
                    ..ep.clone()
                };
                match self.endpoints.iter().find(|e| {
                    Endpoint {
                        id: 0,
                        ..(*e).clone()
                    } == wanted
                }) {
                    Some(e) => e.id,
                    None => {
                        let id = self.next_id("endpoint");
                        self.endpoints.push(Endpoint { id, ..wanted });
                        id
                    }
                }
            }
            Flavour::V3 => {
                let value = location_value(ep);
                let now = now_iso();
                let location = match self.locations.iter().find(|l| l.location_value == value) {
                    Some(l) => l.id,
                    None => {
                        let id = self.next_id("location");
                        self.locations.push(Location {
                            id,
                            location_value: value,
                            created: now.clone(),
                        });
                        id
                    }
                };
                if !self
                    .location_products
                    .iter()
                    .any(|r| r.location == location && r.product == product)
                {
                    let id = self.next_id("location_product");
                    self.location_products.push(LocationProduct {
                        id,
                        location,
                        product,
                        created: now.clone(),
                    });
                }
                let id = self.next_id("location_finding");
                self.location_findings.push(LocationFinding {
                    id,
                    location,
                    finding,
                    created: now,
                });
                id
            }
        };
        if let Some(f) = self.finding_mut(finding) {
            if !f.endpoints.contains(&id) {
                f.endpoints.push(id);
            }
        }
    }

    // ---- deletion ----

    /// Deletes a test with its findings, their location references and its import history.
    pub fn delete_test(&mut self, id: u64) {
        self.tests.retain(|t| t.id != id);
        let gone: HashSet<u64> = self
            .findings
            .iter()
            .filter(|f| f.test == id)
            .map(|f| f.id)
            .collect();
        self.findings.retain(|f| f.test != id);
        self.location_findings
            .retain(|r| !gone.contains(&r.finding));
        for f in &mut self.findings {
            if f.duplicate_finding.is_some_and(|d| gone.contains(&d)) {
                f.duplicate_finding = None;
                f.duplicate = false;
            }
        }
        self.test_imports.retain(|t| t.test != id);
        self.deleted_tests.push(id);
    }

    pub fn delete_engagement(&mut self, id: u64) {
        let tests: Vec<u64> = self
            .tests
            .iter()
            .filter(|t| t.engagement == id)
            .map(|t| t.id)
            .collect();
        for t in tests {
            self.delete_test(t);
        }
        self.engagements.retain(|e| e.id != id);
    }

    pub fn delete_product(&mut self, id: u64) {
        let engagements: Vec<u64> = self
            .engagements
            .iter()
            .filter(|e| e.product == id)
            .map(|e| e.id)
            .collect();
        for e in engagements {
            self.delete_engagement(e);
        }
        self.endpoints.retain(|e| e.product != id);
        self.location_products.retain(|r| r.product != id);
        self.products.retain(|p| p.id != id);
    }

    pub fn delete_product_type(&mut self, id: u64) {
        let products: Vec<u64> = self
            .products
            .iter()
            .filter(|p| p.prod_type == id)
            .map(|p| p.id)
            .collect();
        for p in products {
            self.delete_product(p);
        }
        self.product_types.retain(|p| p.id != id);
    }

    // ---- deduplication ----

    /// Makes pending (async) duplicate flags of a test visible now.
    pub fn settle_test(&mut self, test: u64) {
        for f in self.findings.iter_mut().filter(|f| f.test == test) {
            if let Some(original) = f.pending_duplicate_of.take() {
                f.duplicate = true;
                f.duplicate_finding = Some(original);
                f.active = false;
            }
        }
        if let Some(t) = self.test_mut(test) {
            t.dedup_gets_remaining = 0;
        }
    }

    /// Makes every pending duplicate flag visible (as if Celery had caught up).
    pub fn settle_all(&mut self) {
        let tests: Vec<u64> = self.tests.iter().map(|t| t.id).collect();
        for t in tests {
            self.settle_test(t);
        }
    }

    /// `statistics` block of the import response: per severity (lower case) and `total`,
    /// the counts of active, verified, duplicate, … findings (recorded 23).
    pub fn statistics<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Value {
        let mut counts = [[0u64; 8]; 6];
        for f in findings {
            let flags = [
                f.active,
                f.verified,
                f.duplicate,
                f.false_p,
                f.out_of_scope,
                f.is_mitigated,
                f.risk_accepted,
                true,
            ];
            for row in [severity_rank(&f.severity), 5] {
                for (i, on) in flags.iter().enumerate() {
                    counts[row][i] += u64::from(*on);
                }
            }
        }
        let bucket = |c: &[u64; 8]| {
            json!({"active": c[0], "verified": c[1], "duplicate": c[2], "false_p": c[3],
                   "out_of_scope": c[4], "is_mitigated": c[5], "risk_accepted": c[6], "total": c[7]})
        };
        json!({
            "info": bucket(&counts[0]), "low": bucket(&counts[1]), "medium": bucket(&counts[2]),
            "high": bucket(&counts[3]), "critical": bucket(&counts[4]), "total": bucket(&counts[5]),
        })
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
