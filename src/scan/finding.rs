//! The secureCodeBox finding, as read from findings.json.
//!
//! This module owns the read model of one secureCodeBox finding
//! (`parser-sdk/nodejs/findings-schema.json`) and the severity scale. The
//! model borrows from the bytes of one array element ([`crate::convert::generic::json_array`])
//! so that reading a finding allocates little: strings without escapes are
//! borrowed, `attributes` and `reference` stay raw JSON text until someone
//! renders them. Unknown fields (`scan`, `hint`, …) are skipped, and an
//! explicit JSON `null` is accepted wherever a field is optional (which is
//! every field). Writing findings back is not this module's business.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

/// One secureCodeBox finding.
///
/// ```
/// let f: dojo_hook::scan::finding::Finding = serde_json::from_str(
///     r#"{"name": "Open Port", "severity": "low", "attributes": {"port": 22}, "scan": {}}"#,
/// )?;
/// assert_eq!(f.name.as_deref(), Some("Open Port"));
/// assert_eq!(f.attributes.map(|a| a.get()), Some(r#"{"port": 22}"#));
/// # Ok::<_, serde_json::Error>(())
/// ```
#[derive(Debug, Default, Deserialize)]
pub struct Finding<'a> {
    /// UUID given by the parser SDK (fresh on every parse).
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub id: Option<Cow<'a, str>>,
    /// Short description; becomes the DefectDojo title.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub name: Option<Cow<'a, str>>,
    /// Where: a URL (`tcp://host:22`), a path (`src/app.py:10-12`), a
    /// `host:port`, or anything else.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub location: Option<Cow<'a, str>>,
    /// In-depth description.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub description: Option<Cow<'a, str>>,
    /// Grouping, e.g. `Open Port`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub category: Option<Cow<'a, str>>,
    /// `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH` (schema) or `CRITICAL`; see
    /// [`Severity::parse`].
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub severity: Option<Cow<'a, str>>,
    /// How to fix it.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub mitigation: Option<Cow<'a, str>>,
    /// OSI layer, e.g. `APPLICATION`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub osi_layer: Option<Cow<'a, str>>,
    /// When the parser ran (ISO 8601).
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub parsed_at: Option<Cow<'a, str>>,
    /// When the scanner found it (ISO 8601), often absent.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub identified_at: Option<Cow<'a, str>>,
    /// Typed references (`CVE`, `CWE`, `URL`, …).
    #[serde(borrow, default)]
    pub references: Option<Vec<Reference<'a>>>,
    /// A single, free-form reference object some parsers write instead
    /// (kube-hunter: `{"id": "KHV050", "source": "https://…"}`), as raw JSON.
    #[serde(borrow, default)]
    pub reference: Option<&'a RawValue>,
    /// Scanner-specific data, as raw JSON (usually an object); parsed only
    /// when it is rendered.
    #[serde(borrow, default)]
    pub attributes: Option<&'a RawValue>,
}

/// One entry of [`Finding::references`].
#[derive(Debug, Default, Deserialize)]
pub struct Reference<'a> {
    /// Kind of reference, e.g. `CVE`, `CWE`, `URL`.
    #[serde(borrow, default, rename = "type", deserialize_with = "opt_cow")]
    pub kind: Option<Cow<'a, str>>,
    /// The identifier or URL.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub value: Option<Cow<'a, str>>,
}

/// An optional string that borrows from the input when it can.
///
/// `#[serde(borrow)]` alone does not reach through `Option` (serde only
/// special-cases a bare `Cow<str>`), so without this every string would be
/// copied.
fn opt_cow<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    struct OptCow;
    struct CowStr;

    impl<'de> Visitor<'de> for CowStr {
        type Value = Cow<'de, str>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
    }

    impl<'de> Visitor<'de> for OptCow {
        type Value = Option<Cow<'de, str>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(CowStr).map(Some)
        }
    }

    d.deserialize_option(OptCow)
}

/// secureCodeBox severity, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// `INFORMATIONAL` (also read: `INFO`).
    Informational,
    /// `LOW`.
    Low,
    /// `MEDIUM`.
    Medium,
    /// `HIGH`.
    High,
    /// `CRITICAL` (not in the schema, but written by some parsers).
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Reads a severity in any letter case: `INFORMATIONAL`/`INFO`, `LOW`,
    /// `MEDIUM`, `HIGH`, `CRITICAL` (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Result<Severity, UnknownSeverity> {
        let t = s.trim();
        let is = |name: &str| t.eq_ignore_ascii_case(name);
        if is("INFORMATIONAL") || is("INFO") {
            Ok(Severity::Informational)
        } else if is("LOW") {
            Ok(Severity::Low)
        } else if is("MEDIUM") {
            Ok(Severity::Medium)
        } else if is("HIGH") {
            Ok(Severity::High)
        } else if is("CRITICAL") {
            Ok(Severity::Critical)
        } else {
            Err(UnknownSeverity(s.to_owned()))
        }
    }

    /// The secureCodeBox spelling, e.g. `INFORMATIONAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Position in [`Severity::ALL`], for per-severity tallies.
    pub fn rank(self) -> usize {
        self as usize
    }

    /// DefectDojo's spelling, e.g. `Info`: what its findings carry and its
    /// `minimum_severity` field and `DEFECTDOJO_FAIL_ON` take. The one list
    /// of DefectDojo's severities (config, gate and converter use it).
    pub const fn dojo_name(self) -> &'static str {
        match self {
            Severity::Informational => "Info",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// A severity as DefectDojo spells it ([`Severity::dojo_name`]), in any
    /// letter case and around whitespace, `Informational` also read as
    /// `Info`; `None` for anything else. The one reading of a DefectDojo
    /// severity: the read-back, the gate and the reports agree on it.
    pub fn from_dojo_name(name: &str) -> Option<Severity> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("informational") {
            return Some(Severity::Informational);
        }
        Severity::ALL
            .into_iter()
            .find(|s| s.dojo_name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity that is none of the known ones; the message names the value
/// and the allowed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSeverity(pub String);

impl fmt::Display for UnknownSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cap the echo: the value comes from an untrusted file.
        let shown: String = self.0.chars().take(64).collect();
        let more = if shown.len() < self.0.len() {
            "…"
        } else {
            ""
        };
        write!(
            f,
            "unknown severity {shown:?}{more}; allowed (in any letter case): \
             INFORMATIONAL (or INFO), LOW, MEDIUM, HIGH, CRITICAL"
        )
    }
}

impl std::error::Error for UnknownSeverity {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_finding_borrowing_plain_strings() {
        let json = br#"{
            "id": "df9afbb5", "name": "Open \"Port\"", "location": "tcp://h:22",
            "description": "d", "category": "c", "severity": "HIGH",
            "mitigation": "m", "osi_layer": "NETWORK",
            "parsed_at": "2020-04-15T20:08:18Z", "identified_at": null,
            "references": [{"type": "CVE", "value": "CVE-2024-1"}, {"type": "URL", "value": null}],
            "reference": {"id": "KHV050"},
            "attributes": {"b": 1, "a": [true]},
            "scan": {"name": "s"}, "hint": null, "unknown": [[[{}]]]
        }"#;
        let f: Finding = serde_json::from_slice(json).unwrap();
        assert!(matches!(f.id, Some(Cow::Borrowed("df9afbb5"))));
        assert!(matches!(f.name, Some(Cow::Owned(ref s)) if s == "Open \"Port\""));
        assert_eq!(f.location.as_deref(), Some("tcp://h:22"));
        assert_eq!(f.identified_at, None);
        let refs = f.references.unwrap();
        assert_eq!(refs[0].kind.as_deref(), Some("CVE"));
        assert_eq!(refs[1].value, None);
        assert_eq!(f.reference.unwrap().get(), r#"{"id": "KHV050"}"#);
        // key order of the input is kept in the raw text
        assert_eq!(f.attributes.unwrap().get(), r#"{"b": 1, "a": [true]}"#);
    }

    #[test]
    fn accepts_null_or_missing_everywhere() {
        let all_null = br#"{"id": null, "name": null, "location": null, "description": null,
            "category": null, "severity": null, "mitigation": null, "osi_layer": null,
            "parsed_at": null, "identified_at": null, "references": null,
            "reference": null, "attributes": null}"#;
        for json in [&all_null[..], b"{}"] {
            let f: Finding = serde_json::from_slice(json).unwrap();
            assert!(f.name.is_none() && f.severity.is_none());
            assert!(f.attributes.is_none() && f.reference.is_none());
            assert!(f.references.is_none());
        }
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = serde_json::from_slice::<Finding>(br#"{"name": 5}"#).unwrap_err();
        assert!(
            err.to_string().contains("invalid type: integer `5`"),
            "{err}"
        );
        assert!(serde_json::from_slice::<Finding>(br#"{"references": "CVE-1"}"#).is_err());
    }

    #[test]
    fn severities_in_any_case() {
        for (s, want) in [
            ("INFORMATIONAL", Severity::Informational),
            ("informational", Severity::Informational),
            ("Info", Severity::Informational),
            ("LOW", Severity::Low),
            ("Medium", Severity::Medium),
            ("high", Severity::High),
            (" CRITICAL ", Severity::Critical),
            ("cRiTiCaL", Severity::Critical),
        ] {
            assert_eq!(Severity::parse(s), Ok(want), "{s}");
        }
        assert!(Severity::Critical > Severity::High);
        assert_eq!(
            Severity::from_dojo_name("INFO"),
            Some(Severity::Informational)
        );
        // One reading for the read-back, the gate and the reports.
        assert_eq!(
            Severity::from_dojo_name(" Informational "),
            Some(Severity::Informational)
        );
        assert_eq!(Severity::from_dojo_name("Severe"), None);
        assert_eq!(Severity::High.dojo_name(), "High");
        assert_eq!(Severity::ALL[Severity::Medium.rank()], Severity::Medium);
    }

    #[test]
    fn unknown_severity_names_the_value_and_the_allowed_ones() {
        let err = Severity::parse("URGENT").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown severity \"URGENT\"; allowed (in any letter case): \
             INFORMATIONAL (or INFO), LOW, MEDIUM, HIGH, CRITICAL"
        );
        let long = "x".repeat(1000);
        let msg = Severity::parse(&long).unwrap_err().to_string();
        assert!(msg.len() < 200 && msg.contains("…"), "{msg}");
        assert!(Severity::parse("").is_err());
    }
}
