//! The fake DefectDojo's state: every table of [`super::model`] types, id counters,
//! seeding helpers, lookups, cascading deletes, endpoint/location bookkeeping and the
//! deduplication and statistics helpers the importer uses.
//!
//! Ids come from per-table counters ([`State::next_id`]); objects pushed by hand should
//! take their id from there too so later creations do not collide.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::{Value, json};

use super::Flavour;
pub use super::model::*;
use super::util::now_iso;

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
    /// `DD_TRACK_IMPORT_HISTORY`.
    pub import_history: bool,
    /// Rows an import saved that the API does not show yet, with when they appear
    /// (`None`: never) ([`super::SlowImport`]).
    pub pending: Vec<(Option<Instant>, Pending)>,
    pub ids: Ids,
    /// `Options.hostile`: applied to every finding stored.
    pub hostile: Option<fn(&mut Finding)>,
    /// Lookup indexes for endpoint/location reuse, so a report with many distinct URLs
    /// does not cost a scan per finding. Rebuilt whenever a table's length changed
    /// behind their back (tests may push rows directly).
    index: Indexes,
}

#[derive(Debug, Default)]
struct Indexes {
    endpoints: HashMap<String, u64>,
    endpoints_len: usize,
    locations: HashMap<String, u64>,
    locations_len: usize,
    location_products: HashSet<(u64, u64)>,
    location_products_len: usize,
}

/// The identity of a 2.x endpoint within its product.
fn endpoint_key(e: &Endpoint) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        e.product, e.protocol, e.userinfo, e.host, e.port, e.path, e.query, e.fragment
    )
}

/// Finds a row by id in a table kept in id order (falls back to a scan if it is not).
pub fn by_id<T>(rows: &[T], id: u64, key: impl Fn(&T) -> u64) -> Option<&T> {
    match rows.binary_search_by_key(&id, &key) {
        Ok(i) => Some(&rows[i]),
        Err(_) => rows.iter().find(|r| key(r) == id),
    }
}

const TEST_TYPES_JSON: &str = include_str!("../../../fixtures/dojo/test-types.json");

impl State {
    /// A fresh server: product type 1 "Research and Development" (`fixtures/dojo/recorded/v3/08-*`)
    /// and the recorded test types (`fixtures/dojo/test-types.json`).
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
            import_history: true,
            pending: Vec::new(),
            deleted_tests: Vec::new(),
            ids,
            hostile: None,
            index: Indexes::default(),
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
        if let Some(hostile) = self.hostile {
            hostile(&mut finding);
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

    // ---- endpoints / locations ----

    /// Attaches an endpoint to a finding the way the flavour stores it: 2.x finds or
    /// creates a per-product [`Endpoint`]; 3.x finds or creates a global [`Location`], a
    /// [`LocationProduct`] reference and a new [`LocationFinding`] reference.
    pub fn attach_endpoint(&mut self, finding: u64, product: u64, ep: &Endpoint) {
        self.refresh_indexes();
        let id = match self.flavour {
            Flavour::V2 => {
                let wanted = Endpoint {
                    id: 0,
                    product,
                    ..ep.clone()
                };
                let key = endpoint_key(&wanted);
                match self.index.endpoints.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = self.next_id("endpoint");
                        self.endpoints.push(Endpoint { id, ..wanted });
                        self.index.endpoints.insert(key, id);
                        self.index.endpoints_len = self.endpoints.len();
                        id
                    }
                }
            }
            Flavour::V3 => {
                let value = location_value(ep);
                let now = now_iso();
                let location = match self.index.locations.get(&value) {
                    Some(id) => *id,
                    None => {
                        let id = self.next_id("location");
                        self.index.locations.insert(value.clone(), id);
                        self.locations.push(Location {
                            id,
                            location_value: value,
                            created: now.clone(),
                        });
                        self.index.locations_len = self.locations.len();
                        id
                    }
                };
                if self.index.location_products.insert((location, product)) {
                    let id = self.next_id("location_product");
                    self.location_products.push(LocationProduct {
                        id,
                        location,
                        product,
                        created: now.clone(),
                    });
                    self.index.location_products_len = self.location_products.len();
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

    /// 2.x: the findings using each of `endpoints` (one pass over all findings).
    pub fn findings_by_endpoint(&self, endpoints: &HashSet<u64>) -> HashMap<u64, Vec<u64>> {
        let mut out: HashMap<u64, Vec<u64>> = HashMap::new();
        for f in &self.findings {
            for e in f.endpoints.iter().filter(|e| endpoints.contains(e)) {
                out.entry(*e).or_default().push(f.id);
            }
        }
        out
    }

    fn refresh_indexes(&mut self) {
        let ix = &mut self.index;
        if ix.endpoints_len != self.endpoints.len() {
            ix.endpoints = self
                .endpoints
                .iter()
                .map(|e| (endpoint_key(&Endpoint { id: 0, ..e.clone() }), e.id))
                .collect();
            ix.endpoints_len = self.endpoints.len();
        }
        if ix.locations_len != self.locations.len() {
            ix.locations = self
                .locations
                .iter()
                .map(|l| (l.location_value.clone(), l.id))
                .collect();
            ix.locations_len = self.locations.len();
        }
        if ix.location_products_len != self.location_products.len() {
            ix.location_products = self
                .location_products
                .iter()
                .map(|r| (r.location, r.product))
                .collect();
            ix.location_products_len = self.location_products.len();
        }
    }

    // ---- imports that go on after their answer ----

    /// Shows the pending rows whose time has come (each request calls this first);
    /// rows of a deleted test are dropped.
    pub fn apply_due(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let now = Instant::now();
        let tests: HashSet<u64> = self.tests.iter().map(|t| t.id).collect();
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .filter(|(_, row)| tests.contains(&row.test()))
            .partition(|(at, _)| at.is_some_and(|at| at <= now));
        self.pending = rest;
        for (_, row) in due {
            match row {
                Pending::Finding(f) => {
                    let at = self.findings.partition_point(|x| x.id < f.id);
                    self.findings.insert(at, *f);
                }
                Pending::Import(i) => {
                    let at = self.test_imports.partition_point(|x| x.id < i.id);
                    self.test_imports.insert(at, *i);
                }
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

    /// `statistics` block of the import response: per severity (lower case) and `total`,
    /// the counts of active, verified, duplicate, … findings (`fixtures/dojo/recorded/v3/23-*`).
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
