//! The parts of DefectDojo's answers that sync-back reads.
//!
//! Only the fields the mapping uses are declared; serde skips the rest (a
//! 3.x finding has about ninety keys). Strings borrow from the response
//! body when they contain no escapes ([`JsonText`]), so a page of findings
//! costs little more than the body itself. Every field tolerates an explicit
//! JSON `null` (the Java hook crashed on those), and numbers or booleans the
//! mapping can live without default to "absent".

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A JSON string that borrows from the body when it can.
///
/// serde only borrows a `Cow<str>` field that is not wrapped in `Option` or
/// `Vec`; this newtype borrows wherever it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonText<'a>(pub Cow<'a, str>);

impl JsonText<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonText<'a>, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = JsonText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<JsonText<'de>, E> {
                Ok(JsonText(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonText<'de>, E> {
                Ok(JsonText(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<JsonText<'de>, E> {
                Ok(JsonText(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// One page of `GET /api/v2/findings/?…&prefetch=endpoints,duplicate_finding`.
#[derive(Debug, Deserialize)]
pub(crate) struct FindingsPage<'a> {
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(borrow, default)]
    pub next: Option<JsonText<'a>>,
    #[serde(borrow)]
    pub results: Vec<DojoFinding<'a>>,
    #[serde(borrow, default)]
    pub prefetch: Option<FindingsPrefetch<'a>>,
}

/// The `prefetch` object of a findings page. Keys are ids (JSON object keys
/// are strings; serde_json reads them as numbers).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FindingsPrefetch<'a> {
    /// 2.x: endpoint objects; 3.x: location-finding references.
    #[serde(default)]
    pub endpoints: Option<HashMap<u64, PrefetchedEndpoint>>,
    /// The original findings of this page's duplicates.
    #[serde(borrow, default)]
    pub duplicate_finding: Option<HashMap<u64, DojoFinding<'a>>>,
}

/// A DefectDojo finding, the fields sync-back uses.
#[derive(Debug, Deserialize)]
pub(crate) struct DojoFinding<'a> {
    pub id: u64,
    #[serde(borrow, default)]
    pub title: Option<JsonText<'a>>,
    #[serde(borrow, default)]
    pub description: Option<JsonText<'a>>,
    #[serde(borrow, default)]
    pub severity: Option<JsonText<'a>>,
    #[serde(borrow, default)]
    pub created: Option<JsonText<'a>>,
    #[serde(default)]
    pub test: Option<u64>,
    #[serde(default)]
    pub duplicate: Option<bool>,
    #[serde(default)]
    pub duplicate_finding: Option<u64>,
    #[serde(default)]
    pub false_p: Option<bool>,
    #[serde(default)]
    pub risk_accepted: Option<bool>,
    #[serde(default)]
    pub out_of_scope: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub verified: Option<bool>,
    #[serde(default)]
    pub is_mitigated: Option<bool>,
    /// 2.x: endpoint ids; 3.x: location-finding reference ids.
    #[serde(default)]
    pub endpoints: Option<Vec<u64>>,
    #[serde(default)]
    pub cwe: Option<u64>,
    #[serde(borrow, default)]
    pub vulnerability_ids: Option<Vec<VulnerabilityId<'a>>>,
    #[serde(borrow, default)]
    pub tags: Option<Vec<JsonText<'a>>>,
    // Read for the CI report formats (SARIF, JUnit); see `seen.rs`.
    #[serde(borrow, default)]
    pub mitigation: Option<JsonText<'a>>,
    #[serde(borrow, default)]
    pub references: Option<JsonText<'a>>,
    #[serde(borrow, default)]
    pub file_path: Option<JsonText<'a>>,
    #[serde(default, deserialize_with = "lenient_line")]
    pub line: Option<u64>,
    #[serde(borrow, default)]
    pub hash_code: Option<JsonText<'a>>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub cvssv3_score: Option<f64>,
    #[serde(borrow, default)]
    pub component_name: Option<JsonText<'a>>,
    #[serde(borrow, default)]
    pub component_version: Option<JsonText<'a>>,
}

impl DojoFinding<'_> {
    /// The id of the finding this one duplicates, when DefectDojo says so.
    pub fn original_id(&self) -> Option<u64> {
        if self.duplicate == Some(true) {
            self.duplicate_finding
        } else {
            None
        }
    }

    /// The first endpoint (2.x) or location reference (3.x) id: the Java
    /// hook used only the first one, and so do we.
    pub fn first_endpoint(&self) -> Option<u64> {
        self.endpoints.as_ref().and_then(|e| e.first().copied())
    }
}

/// One entry of a finding's `vulnerability_ids`.
#[derive(Debug, Deserialize)]
pub(crate) struct VulnerabilityId<'a> {
    #[serde(borrow, default)]
    pub vulnerability_id: Option<JsonText<'a>>,
}

/// A prefetched `endpoints` object, which has two shapes.
///
/// 2.x sends the endpoint itself (`protocol`, `host`, `port`, `path`,
/// `query`, …). 3.x sends a location-finding reference (`location`,
/// `finding`, `status`, …) whose URL lives on the location.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PrefetchedEndpoint {
    /// Present (possibly null) on 2.x endpoint objects.
    #[serde(default, deserialize_with = "present")]
    pub protocol: Option<Option<String>>,
    /// Present (possibly null) on 2.x endpoint objects.
    #[serde(default, deserialize_with = "present")]
    pub host: Option<Option<String>>,
    #[serde(default)]
    pub port: Option<u32>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub query: Option<String>,
    /// 3.x: the location this reference points at.
    #[serde(default)]
    pub location: Option<u64>,
}

/// Which DefectDojo data model a prefetched endpoint object comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// 2.x endpoint object (`host`/`protocol`).
    Endpoint,
    /// 3.x location-finding reference (`location`).
    LocationRef,
}

impl PrefetchedEndpoint {
    /// Tells the two shapes apart by their keys, not by their values: a 2.x
    /// endpoint may have a null host, but it always has the key.
    pub fn shape(&self) -> Option<Shape> {
        if self.location.is_some() {
            Some(Shape::LocationRef)
        } else if self.host.is_some() || self.protocol.is_some() {
            Some(Shape::Endpoint)
        } else {
            None
        }
    }
}

/// Marks a key as present even when its value is `null`: with
/// `#[serde(default)]`, an absent key stays `None`, a present one becomes
/// `Some(value)`.
/// A line number the mapping can live without: an integer in
/// 1..=2^31-1 (DefectDojo's `line` is a 32-bit integer column), else absent
/// (null, 0, a negative or larger number, a fraction, a string), never a
/// failed page and never rounded: an integer is read as one, not through a
/// float, so 2^53+1 is not taken for 2^53.
fn lenient_line<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let line = match deserializer.deserialize_any(Lenient)? {
        Some(Number::Unsigned(v)) => Some(v),
        Some(Number::Signed(v)) => u64::try_from(v).ok(),
        // `42.0`: whole and small enough to be exact in a float.
        Some(Number::Float(v)) if v.fract() == 0.0 && (1.0..=MAX_LINE as f64).contains(&v) => {
            Some(v as u64)
        }
        _ => None,
    };
    Ok(line.filter(|v| (1..=MAX_LINE).contains(v)))
}

/// The largest line number kept: DefectDojo's column (and SARIF's
/// `startLine` as GitHub reads it) is a signed 32-bit integer.
const MAX_LINE: u64 = i32::MAX as u64;

/// A number the mapping can live without: absent unless a finite number.
fn lenient_f64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(match deserializer.deserialize_any(Lenient)? {
        Some(Number::Unsigned(v)) => Some(v as f64),
        Some(Number::Signed(v)) => Some(v as f64),
        Some(Number::Float(v)) => v.is_finite().then_some(v),
        None => None,
    })
}

/// A JSON number as serde_json read it: integers stay integers.
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

/// Any JSON value: a number, else `None` (never an error).
struct Lenient;

impl<'de> Visitor<'de> for Lenient {
    type Value = Option<Number>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or null")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Number::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Number::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Number::Float(v)))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// One page of `GET /api/v2/location_findings/?…&prefetch=location` (3.x).
#[derive(Debug, Deserialize)]
pub(crate) struct LocationFindingsPage {
    #[serde(default)]
    pub next: Option<String>,
    pub results: Vec<LocationRef>,
    #[serde(default)]
    pub prefetch: Option<LocationPrefetch>,
}

/// A location-finding reference: finding `finding` is at `location`.
#[derive(Debug, Deserialize)]
pub(crate) struct LocationRef {
    pub id: u64,
    #[serde(default)]
    pub finding: Option<u64>,
    #[serde(default)]
    pub location: Option<u64>,
}

/// The `prefetch` object of a location-findings page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LocationPrefetch {
    #[serde(default)]
    pub location: Option<HashMap<u64, DojoLocation>>,
}

/// A 3.x location; `location_value` is its URL, e.g. `tcp://host:22`.
#[derive(Debug, Deserialize)]
pub(crate) struct DojoLocation {
    #[serde(default)]
    pub location_value: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_borrows_unless_escaped() {
        let body = br#"["plain", "with \n escape"]"#;
        let v: Vec<JsonText<'_>> = serde_json::from_slice(body).unwrap();
        assert!(matches!(v[0].0, Cow::Borrowed("plain")));
        assert!(matches!(&v[1].0, Cow::Owned(s) if s == "with \n escape"));
    }

    #[test]
    fn explicit_nulls_are_tolerated() {
        let body = br#"{"id": 7, "title": null, "description": null, "severity": null,
            "created": null, "test": null, "duplicate": null, "duplicate_finding": null,
            "false_p": null, "risk_accepted": null, "out_of_scope": null, "active": null,
            "verified": null, "is_mitigated": null, "endpoints": null, "cwe": null,
            "vulnerability_ids": null, "tags": null, "unknown": {"x": 1}}"#;
        let f: DojoFinding<'_> = serde_json::from_slice(body).unwrap();
        assert_eq!(f.id, 7);
        assert!(f.title.is_none() && f.endpoints.is_none() && f.original_id().is_none());
    }

    #[test]
    fn endpoint_shape_is_told_by_keys() {
        let v2: PrefetchedEndpoint =
            serde_json::from_str(r#"{"id": 1, "protocol": null, "host": null, "port": null}"#)
                .unwrap();
        assert_eq!(v2.shape(), Some(Shape::Endpoint));
        let v3: PrefetchedEndpoint =
            serde_json::from_str(r#"{"id": 68, "location": 1, "finding": 68}"#).unwrap();
        assert_eq!(v3.shape(), Some(Shape::LocationRef));
        let neither: PrefetchedEndpoint = serde_json::from_str(r#"{"id": 3}"#).unwrap();
        assert_eq!(neither.shape(), None);
    }

    #[test]
    fn lines_are_integers_in_range_or_absent_never_rounded() {
        let line =
            |json: &str| lenient_line(&mut serde_json::Deserializer::from_str(json)).unwrap();
        assert_eq!(line("42"), Some(42));
        assert_eq!(line("42.0"), Some(42));
        assert_eq!(line("2147483647"), Some(2_147_483_647));
        for dropped in [
            "0",
            "-1",
            "2147483648",
            "9007199254740993",
            "9223372036854775807",
            "18446744073709551616",
            "1.5",
            "1e300",
            "\"12\"",
            "null",
            "true",
        ] {
            assert_eq!(line(dropped), None, "{dropped}");
        }
    }
}
