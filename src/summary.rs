//! The one-line JSON summary printed at the end of a successful run.

use serde::Serialize;

use crate::dojo::model::ImportAnswer;

/// Findings by severity.
#[derive(Debug, Default, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct BySeverity {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
    /// Info.
    pub info: u64,
    /// All.
    pub total: u64,
}

impl BySeverity {
    /// Totals per severity from the import answer's `statistics.after`.
    pub fn from_answer(answer: &ImportAnswer) -> BySeverity {
        let Some(after) = answer.statistics.as_ref().and_then(|s| s.after.as_ref()) else {
            return BySeverity::default();
        };
        let get = |k: &str| after.get(k).map(|c| c.total).unwrap_or(0);
        BySeverity {
            critical: get("critical"),
            high: get("high"),
            medium: get("medium"),
            low: get("low"),
            info: get("info"),
            total: get("total"),
        }
    }
}

/// What a reimport changed (DefectDojo's `statistics.delta` totals).
#[derive(Debug, Default, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// New findings.
    pub created: u64,
    /// Findings closed because the report no longer has them.
    pub closed: u64,
    /// Closed findings that came back.
    pub reactivated: u64,
    /// Findings seen again.
    pub untouched: u64,
}

impl Delta {
    /// The totals of a reimport's delta; `None` for a plain import.
    pub fn from_answer(answer: &ImportAnswer) -> Option<Delta> {
        let delta = answer.statistics.as_ref()?.delta.as_ref()?;
        let total = |k: &str| {
            delta
                .get(k)
                .and_then(|by| by.get("total"))
                .map(|c| c.total)
                .unwrap_or(0)
        };
        Some(Delta {
            created: total("created"),
            closed: total("closed"),
            reactivated: total("reactivated"),
            untouched: total("untouched"),
        })
    }
}

/// The summary of a run.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `import` or `import+sync`.
    pub mode: &'static str,
    /// `import` (a new test) or `reimport` (into the latest test).
    pub import_mode: &'static str,
    /// The CI system detected (`github`, `gitlab`, `jenkins`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<&'static str>,
    /// Reimport only: created, closed, reactivated, untouched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta>,
    /// The DefectDojo scan type used.
    pub scan_type: String,
    /// The test created.
    pub test_id: u64,
    /// Its URL in DefectDojo's UI.
    pub test_url: String,
    /// The engagement.
    pub engagement_id: u64,
    /// Whether this run created the engagement.
    pub engagement_created: bool,
    /// The product.
    pub product_id: u64,
    /// The product type.
    pub product_type_id: u64,
    /// Findings by severity, from DefectDojo's import statistics.
    pub findings: BySeverity,
    /// Duplicates among them (from the statistics, or read back).
    pub duplicates: u64,
    /// Findings written back (sync back only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced: Option<u64>,
    /// How the upload body got its length: `length-known`, `spool`, `memory`, `two-pass`.
    pub body: String,
    /// HTTP requests sent to DefectDojo.
    pub dojo_requests: u64,
}

impl Summary {
    /// The summary as one JSON line.
    pub fn to_line(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
