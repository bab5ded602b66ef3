//! The one-line JSON summary printed at the end of a successful run.

use serde::Serialize;

use crate::dojo::model::{ImportAnswer, StatisticsCounts};

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
        match answer.statistics.as_ref().and_then(|s| s.after.as_ref()) {
            Some(after) => BySeverity::from_counts(after, |c| c.total),
            None => BySeverity::default(),
        }
    }

    /// Duplicates per severity from `statistics.after`.
    pub fn duplicates_from_answer(answer: &ImportAnswer) -> BySeverity {
        match answer.statistics.as_ref().and_then(|s| s.after.as_ref()) {
            Some(after) => BySeverity::from_counts(after, |c| c.duplicate),
            None => BySeverity::default(),
        }
    }

    /// One number per severity out of a statistics block.
    pub fn from_counts(
        by: &std::collections::BTreeMap<String, StatisticsCounts>,
        pick: impl Fn(&StatisticsCounts) -> u64,
    ) -> BySeverity {
        let get = |k: &str| by.get(k).map(&pick).unwrap_or(0);
        BySeverity {
            critical: get("critical"),
            high: get("high"),
            medium: get("medium"),
            low: get("low"),
            info: get("info"),
            total: get("total"),
        }
    }

    /// From counts ordered Critical … Info.
    pub fn from_ranked(counts: [u64; 5]) -> BySeverity {
        BySeverity {
            critical: counts[0],
            high: counts[1],
            medium: counts[2],
            low: counts[3],
            info: counts[4],
            total: counts.iter().sum(),
        }
    }

    /// The counts ordered Critical … Info, then the total.
    pub fn row(&self) -> [u64; 6] {
        [
            self.critical,
            self.high,
            self.medium,
            self.low,
            self.info,
            self.total,
        ]
    }
}

/// What a reimport changed (DefectDojo's `statistics.delta`), by severity.
#[derive(Debug, Default, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// New findings.
    pub created: BySeverity,
    /// Findings closed because the report no longer has them.
    pub closed: BySeverity,
    /// Closed findings that came back.
    pub reactivated: BySeverity,
    /// Findings seen again.
    pub untouched: BySeverity,
}

impl Delta {
    /// A reimport's delta; `None` for a plain import.
    pub fn from_answer(answer: &ImportAnswer) -> Option<Delta> {
        let delta = answer.statistics.as_ref()?.delta.as_ref()?;
        let part = |k: &str| {
            delta
                .get(k)
                .map(|by| BySeverity::from_counts(by, |c| c.total))
                .unwrap_or_default()
        };
        Some(Delta {
            created: part("created"),
            closed: part("closed"),
            reactivated: part("reactivated"),
            untouched: part("untouched"),
        })
    }
}

/// What the SARIF report holds.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct SarifLine {
    /// Results in the run.
    pub results: u64,
    /// Findings left out past `DEFECTDOJO_SARIF_MAX_RESULTS`.
    pub omitted: u64,
    /// Results suppressed by DefectDojo's triage.
    pub suppressed: u64,
    /// Distinct rules.
    pub rules: u64,
}

/// What the JUnit report holds.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct JunitLine {
    /// Test cases (one per finding).
    pub tests: u64,
    /// Cases failing the gate.
    pub failures: u64,
    /// Cases skipped for their triage.
    pub skipped: u64,
}

/// The build gate's verdict.
#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
pub struct GateLine {
    /// The threshold (`DEFECTDOJO_FAIL_ON`).
    pub fail_on: String,
    /// Whether reactivated findings count too.
    pub reactivated: bool,
    /// New findings at or above the threshold.
    pub findings: u64,
    /// True when the run exits 3.
    pub failed: bool,
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
    /// The owning ScheduledScan and the settings it gave their default
    /// (why a run reimports, and into which test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_scan: Option<crate::config::Schedule>,
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
    /// Duplicates by severity (DefectDojo's statistics).
    pub duplicates_by_severity: BySeverity,
    /// This run's new findings (active, not duplicate, not false positive),
    /// read back once deduplication finished; when a gate or a Markdown
    /// summary asked for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<BySeverity>,
    /// The build gate, when `DEFECTDOJO_FAIL_ON` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateLine>,
    /// Findings written back (sync back only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced: Option<u64>,
    /// How the upload body got its length: `streamed`, `spooled`, `in memory`, `two passes`.
    pub body: String,
    /// `generic` when DefectDojo's native parser crashed and findings.json
    /// was imported as Generic Findings Import instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<&'static str>,
    /// Tests a failed import left behind, removed before the fallback import.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed_tests: Vec<crate::dojo::cleanup::Removed>,
    /// The SARIF report written, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sarif: Option<SarifLine>,
    /// The JUnit report written, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub junit: Option<JunitLine>,
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
