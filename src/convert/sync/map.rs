//! One DefectDojo finding → one secureCodeBox finding (`docs/java-hook.md`, "Findings synced back").
//!
//! The output keeps the Java hook's shape (top-level key order, `null`
//! `osi_layer`/`identified_at`, the `Instant.toString` timestamp) and fixes
//! what made it awkward: the id is a name-based UUID of the finding's
//! DefectDojo URL, so it is the same on every run, and a few more
//! DefectDojo verdicts travel along in `attributes`.

use serde::Serialize;

use crate::error::Error;
use crate::scan::finding::Severity;
use crate::util::uuid::{URL_NAMESPACE, uuid_v5};

use super::finding_pages::DojoFinding;

/// The category of every synced-back finding.
pub(crate) const CATEGORY: &str = "DefectDojo Imported Finding";

/// The secureCodeBox severity a DefectDojo severity is written back as:
/// `Critical` folds into `HIGH`, as the Java hook does (the findings schema
/// stops at `HIGH`).
pub(crate) fn written_back(dojo: &str) -> Option<Severity> {
    Severity::from_dojo_name(dojo).map(|s| s.min(Severity::High))
}

/// A secureCodeBox finding, serialised in the Java hook's key order.
#[derive(Debug, Serialize)]
pub(crate) struct ScbFinding<'a> {
    id: String,
    name: &'a str,
    location: &'a str,
    description: Option<&'a str>,
    category: &'static str,
    severity: &'static str,
    attributes: Attributes<'a>,
    osi_layer: Option<&'static str>,
    parsed_at: String,
    identified_at: Option<&'static str>,
    #[serde(skip)]
    pub level: Severity,
}

#[derive(Debug, Serialize)]
struct Attributes<'a> {
    #[serde(rename = "defectdojo.org/finding-id")]
    finding_id: u64,
    #[serde(rename = "defectdojo.org/finding-url")]
    finding_url: String,
    #[serde(rename = "defectdojo.org/test-id")]
    test_id: Option<u64>,
    #[serde(rename = "defectdojo.org/test-url")]
    test_url: Option<String>,
    duplicate: bool,
    #[serde(rename = "falsePositive")]
    false_positive: bool,
    #[serde(rename = "riskAccepted")]
    risk_accepted: bool,
    #[serde(rename = "outOfScope")]
    out_of_scope: bool,
    #[serde(rename = "defectdojo.org/active")]
    active: bool,
    #[serde(rename = "defectdojo.org/verified")]
    verified: bool,
    #[serde(rename = "defectdojo.org/is-mitigated")]
    is_mitigated: bool,
    #[serde(rename = "defectdojo.org/cwe")]
    cwe: Option<u64>,
    #[serde(rename = "defectdojo.org/vulnerability-ids")]
    vulnerability_ids: Vec<&'a str>,
    #[serde(rename = "defectdojo.org/tags")]
    tags: Vec<&'a str>,
    #[serde(rename = "defectdojo.org/original-finding-id")]
    original_finding_id: Option<u64>,
    /// Last: it is the one bulky attribute.
    #[serde(rename = "defectdojo.org/original-finding")]
    original_finding: Option<Box<ScbFinding<'a>>>,
}

/// The stable secureCodeBox id of DefectDojo finding `id`.
pub(crate) fn finding_uuid(base_url: &str, id: u64) -> String {
    uuid_v5(URL_NAMESPACE, format!("{base_url}/finding/{id}").as_bytes())
}

/// Maps `f`. `original` is the converted original of a duplicate (converted
/// with `original: None` itself: one level only, as in the Java hook).
///
/// Fails only on a missing or unreadable `created`: DefectDojo always sets
/// it, and `parsed_at` is a required key of a secureCodeBox finding.
pub(crate) fn convert<'a>(
    f: &'a DojoFinding<'a>,
    location: &'a str,
    original: Option<ScbFinding<'a>>,
    base_url: &str,
) -> Result<ScbFinding<'a>, Error> {
    let what = || format!("converting DefectDojo finding {}", f.id);
    let created = f.created.as_ref().map(|c| c.as_str());
    let parsed_at = match created.map(|c| (c, crate::util::time::format_created(c))) {
        Some((_, Some(instant))) => instant,
        Some((raw, None)) => {
            return Err(Error::protocol(
                what(),
                format!("`created` is {raw:?}, not an ISO-8601 date-time"),
            ));
        }
        None => return Err(Error::protocol(what(), "the finding has no `created` time")),
    };
    let severity_text = f.severity.as_ref().map(|s| s.as_str());
    let level = severity_text.and_then(written_back).unwrap_or_else(|| {
        log::warn!(
            "DefectDojo finding {} has severity {:?}, which is none of \
             Critical/High/Medium/Low/Info; writing INFORMATIONAL",
            f.id,
            severity_text.unwrap_or("null")
        );
        Severity::Informational
    });
    let texts = |list: &'a Option<Vec<super::finding_pages::JsonText<'a>>>| -> Vec<&'a str> {
        list.iter().flatten().map(|t| t.as_str()).collect()
    };
    Ok(ScbFinding {
        id: finding_uuid(base_url, f.id),
        name: f.title.as_ref().map_or("", |t| t.as_str()),
        location,
        description: f.description.as_ref().map(|d| d.as_str()),
        category: CATEGORY,
        severity: level.as_str(),
        attributes: Attributes {
            finding_id: f.id,
            finding_url: format!("{base_url}/finding/{}", f.id),
            test_id: f.test,
            test_url: f.test.map(|t| format!("{base_url}/test/{t}")),
            duplicate: f.duplicate.unwrap_or(false),
            false_positive: f.false_p.unwrap_or(false),
            risk_accepted: f.risk_accepted.unwrap_or(false),
            out_of_scope: f.out_of_scope.unwrap_or(false),
            active: f.active.unwrap_or(false),
            verified: f.verified.unwrap_or(false),
            is_mitigated: f.is_mitigated.unwrap_or(false),
            // DefectDojo writes 0 for "no CWE".
            cwe: f.cwe.filter(|&c| c != 0),
            vulnerability_ids: f
                .vulnerability_ids
                .iter()
                .flatten()
                .filter_map(|v| v.vulnerability_id.as_ref().map(|t| t.as_str()))
                .collect(),
            tags: texts(&f.tags),
            original_finding_id: f.original_id(),
            original_finding: original.map(Box::new),
        },
        osi_layer: None,
        parsed_at,
        identified_at: None,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_like_the_java_hook() {
        let cases = [
            ("Critical", Some(Severity::High)),
            ("High", Some(Severity::High)),
            ("Medium", Some(Severity::Medium)),
            ("Low", Some(Severity::Low)),
            ("Info", Some(Severity::Informational)),
            ("Informational", Some(Severity::Informational)),
            ("info", Some(Severity::Informational)),
            ("Unknown", None),
            ("", None),
        ];
        for (dojo, want) in cases {
            assert_eq!(written_back(dojo), want, "{dojo}");
        }
    }

    fn finding(json: &str) -> DojoFinding<'_> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_finding_maps_to_the_java_shape_with_stable_id() {
        let f = finding(
            r#"{"id": 269, "title": "Hardcoded Credentials in Config Loader",
                "description": "d", "severity": "Critical", "test": 6,
                "created": "2026-11-27T21:01:46.365977Z", "duplicate": false,
                "duplicate_finding": null, "false_p": true, "risk_accepted": false,
                "out_of_scope": false, "active": true, "verified": true,
                "is_mitigated": false, "cwe": 798, "endpoints": [],
                "vulnerability_ids": [{"vulnerability_id": "CVE-2024-0001"}],
                "tags": ["ci", "secrets"]}"#,
        );
        let scb = convert(&f, "unknown", None, "https://dojo.example").unwrap();
        let json = serde_json::to_string(&scb).unwrap();
        let keys = [
            "\"id\"",
            "\"name\"",
            "\"location\"",
            "\"description\"",
            "\"category\"",
            "\"severity\"",
            "\"attributes\"",
            "\"osi_layer\"",
            "\"parsed_at\"",
            "\"identified_at\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| json.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["id"], finding_uuid("https://dojo.example", 269));
        assert_eq!(v["severity"], "HIGH");
        assert_eq!(v["parsed_at"], "2026-11-27T21:01:46.365977Z");
        assert_eq!(v["osi_layer"], serde_json::Value::Null);
        let a = &v["attributes"];
        assert_eq!(
            a["defectdojo.org/finding-url"],
            "https://dojo.example/finding/269"
        );
        assert_eq!(a["defectdojo.org/test-url"], "https://dojo.example/test/6");
        assert_eq!(a["falsePositive"], true);
        assert_eq!(a["defectdojo.org/cwe"], 798);
        assert_eq!(a["defectdojo.org/vulnerability-ids"][0], "CVE-2024-0001");
        assert_eq!(a["defectdojo.org/tags"][1], "secrets");
        assert_eq!(
            a["defectdojo.org/original-finding"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn created_is_required_and_must_be_a_date() {
        let missing = finding(r#"{"id": 1, "severity": "Low"}"#);
        assert!(convert(&missing, "unknown", None, "b").is_err());
        let bad = finding(r#"{"id": 1, "severity": "Low", "created": "yesterday"}"#);
        let err = convert(&bad, "unknown", None, "b").unwrap_err();
        assert!(err.to_string().contains("yesterday"), "{err}");
    }

    #[test]
    fn nulls_and_unknown_severity_degrade() {
        let f = finding(
            r#"{"id": 2, "title": null, "severity": "Bogus", "created": "2026-01-01T00:00:00Z",
                "cwe": 0, "test": null, "tags": null}"#,
        );
        let scb = convert(&f, "unknown", None, "b").unwrap();
        assert_eq!(scb.level, Severity::Informational);
        let v = serde_json::to_value(&scb).unwrap();
        assert_eq!(v["name"], "");
        assert_eq!(v["description"], serde_json::Value::Null);
        assert_eq!(
            v["attributes"]["defectdojo.org/cwe"],
            serde_json::Value::Null
        );
        assert_eq!(
            v["attributes"]["defectdojo.org/test-url"],
            serde_json::Value::Null
        );
    }
}
