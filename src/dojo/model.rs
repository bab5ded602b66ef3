//! The parts of DefectDojo's JSON answers that dojo-hook reads.
//!
//! Only used fields are declared; unknown fields are ignored and explicit
//! nulls are tolerated, so both 2.x and 3.x answers parse.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// A page of a list endpoint.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    /// Total number of objects.
    #[serde(default)]
    pub count: Option<u64>,
    /// The absolute URL of the next page.
    #[serde(default)]
    pub next: Option<String>,
    /// The objects of this page.
    pub results: Vec<T>,
}

/// `GET /api/v2/user_profile/`.
#[derive(Debug, Deserialize)]
pub struct UserProfile {
    /// The token's user.
    pub user: User,
}

/// A user.
#[derive(Debug, Deserialize)]
pub struct User {
    /// Its id.
    pub id: u64,
    /// Its name, for log lines.
    #[serde(default)]
    pub username: Option<String>,
}

/// A named object with an id (product types, tool types, configurations,
/// CI/CD infrastructure).
#[derive(Debug, Deserialize)]
pub struct NamedObject {
    /// Its id.
    pub id: u64,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A product.
#[derive(Debug, Deserialize)]
pub struct Product {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its product type.
    pub prod_type: u64,
}

/// An engagement.
#[derive(Debug, Deserialize)]
pub struct Engagement {
    /// Its id.
    pub id: u64,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its version.
    #[serde(default)]
    pub version: Option<String>,
    /// Its status.
    #[serde(default)]
    pub status: Option<String>,
    /// 2.x: the tool configuration linked as orchestration engine (the key is
    /// absent on 3.x, which dropped the field).
    #[serde(default, deserialize_with = "present")]
    pub orchestration_engine: Option<serde_json::Value>,
    /// 3.x: the CI/CD infrastructure linked as orchestration engine.
    #[serde(default, deserialize_with = "present")]
    pub cicd_orchestration_engine: Option<serde_json::Value>,
}

/// A test.
#[derive(Debug, Deserialize)]
pub struct Test {
    /// Its id.
    pub id: u64,
    /// Its title.
    #[serde(default)]
    pub title: Option<String>,
    /// Its scan type.
    #[serde(default)]
    pub scan_type: Option<String>,
}

/// A row of a test's import history (`/api/v2/test_imports/`), written by
/// DefectDojo after an import or reimport has handled every finding.
#[derive(Debug, Deserialize)]
pub struct TestImport {
    /// Its id (later imports have larger ids).
    pub id: u64,
    /// What the import did to each finding.
    #[serde(default)]
    pub test_import_finding_action_set: Vec<ImportAction>,
}

/// One finding's action in an import: `N` created, `C` closed, `R`
/// reactivated, `U` untouched.
#[derive(Debug, Deserialize)]
pub struct ImportAction {
    /// The action code.
    pub action: String,
    /// The finding's id.
    pub finding: u64,
}

/// The answer of `import-scan` / `reimport-scan`.
#[derive(Debug, Deserialize)]
pub struct ImportAnswer {
    /// The test's id (`test` on both generations; `test_id` on newer ones).
    #[serde(default)]
    pub test: Option<u64>,
    /// The test's id.
    #[serde(default)]
    pub test_id: Option<u64>,
    /// The engagement's id.
    #[serde(default)]
    pub engagement_id: Option<u64>,
    /// The product's id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// The product type's id.
    #[serde(default)]
    pub product_type_id: Option<u64>,
    /// Finding statistics.
    #[serde(default)]
    pub statistics: Option<Statistics>,
    /// 3.x: true when deduplication finished before the answer (absent on 2.x).
    #[serde(default)]
    pub deduplication_complete: Option<bool>,
}

impl ImportAnswer {
    /// The test id, whichever key carries it.
    pub fn test_id(&self) -> Option<u64> {
        self.test_id.or(self.test)
    }
}

/// Import statistics.
#[derive(Debug, Deserialize)]
pub struct Statistics {
    /// Counts after the import, by severity (`info` … `critical`, `total`).
    #[serde(default)]
    pub after: Option<BTreeMap<String, StatisticsCounts>>,
    /// Reimport only: created/closed/reactivated/untouched, by severity.
    #[serde(default)]
    pub delta: Option<BTreeMap<String, BTreeMap<String, StatisticsCounts>>>,
}

/// Counts of one severity.
#[derive(Debug, Default, Deserialize, Clone, Copy)]
pub struct StatisticsCounts {
    /// Duplicates.
    #[serde(default)]
    pub duplicate: u64,
    /// All findings.
    #[serde(default)]
    pub total: u64,
}

/// Deserializes a field that may be present with `null`: `Some(Null)` then,
/// `None` only when the key is absent.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engagement_generation_shows_in_its_keys() {
        let v3: Engagement =
            serde_json::from_str(r#"{"id":1,"cicd_orchestration_engine":null}"#).unwrap();
        assert!(v3.cicd_orchestration_engine.is_some() && v3.orchestration_engine.is_none());
        let v2: Engagement =
            serde_json::from_str(r#"{"id":1,"orchestration_engine":null}"#).unwrap();
        assert!(v2.orchestration_engine.is_some() && v2.cicd_orchestration_engine.is_none());
    }

    #[test]
    fn recorded_import_answer_parses() {
        let a: ImportAnswer = serde_json::from_str(include_str!(
            "../../fixtures/dojo-recorded/23-import-scan-nmap.json"
        ))
        .unwrap();
        assert_eq!(a.test_id(), Some(1));
        let after = a.statistics.unwrap().after.unwrap();
        assert_eq!(after["total"].total, 67);
    }
}
