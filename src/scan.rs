//! The scan description: a whole Scan resource (as `kubectl get scan -o json`
//! prints it) or a flat object of annotations.
//!
//! Only the fields the hook uses are read: name, creation time, annotations,
//! the owning ScheduledScan, scan type and parameters. Pure: takes the JSON
//! text, returns [`Scan`].

use std::collections::BTreeMap;

use serde_json::Value;

/// The annotation prefix of the DefectDojo hook.
pub const ANNOTATION_PREFIX: &str = "defectdojo.securecodebox.io/";

/// What the hook knows about the scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.creationTimestamp` (RFC 3339).
    pub created: Option<String>,
    /// `spec.scanType`.
    pub scan_type: Option<String>,
    /// `spec.parameters`.
    pub parameters: Vec<String>,
    /// The name of the last owner reference of kind ScheduledScan.
    pub scheduled_scan: Option<String>,
    /// True when the scan has owner references at all (the Java hook then
    /// takes the product name from the ScheduledScan, or "" without one).
    pub has_owners: bool,
    /// All annotations, keys as given.
    pub annotations: BTreeMap<String, String>,
}

impl Scan {
    /// Parses a Scan resource or a flat annotation object.
    ///
    /// In a flat object, a key without `/` is taken as a short DefectDojo
    /// annotation name: `product-name` means
    /// `defectdojo.securecodebox.io/product-name`.
    pub fn from_json(text: &str) -> Result<Scan, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("is not valid JSON ({e})"))?;
        let Value::Object(map) = &value else {
            return Err("must be a JSON object (a Scan resource or a map of annotations)".into());
        };
        if map.contains_key("metadata") || map.contains_key("spec") || map.contains_key("kind") {
            Ok(Scan::from_resource(&value))
        } else {
            let mut scan = Scan::default();
            for (key, val) in map {
                let Some(text) = scalar(val) else {
                    return Err(format!("annotation '{key}' must be a string"));
                };
                let key = if key.contains('/') {
                    key.clone()
                } else {
                    format!("{ANNOTATION_PREFIX}{key}")
                };
                scan.annotations.insert(key, text);
            }
            Ok(scan)
        }
    }

    fn from_resource(value: &Value) -> Scan {
        let meta = &value["metadata"];
        let spec = &value["spec"];
        let owners = meta["ownerReferences"].as_array();
        Scan {
            name: meta["name"].as_str().map(str::to_string),
            created: meta["creationTimestamp"].as_str().map(str::to_string),
            scan_type: spec["scanType"].as_str().map(str::to_string),
            parameters: spec["parameters"]
                .as_array()
                .map(|a| a.iter().filter_map(scalar).collect())
                .unwrap_or_default(),
            scheduled_scan: owners.and_then(|o| {
                o.iter()
                    .rev()
                    .find(|r| r["kind"] == "ScheduledScan")
                    .and_then(|r| r["name"].as_str().map(str::to_string))
            }),
            has_owners: owners.is_some(),
            annotations: meta["annotations"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| scalar(v).map(|s| (k.clone(), s)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The DefectDojo annotation `name` (without prefix), trimmed, if set
    /// and not empty.
    pub fn annotation(&self, name: &str) -> Option<String> {
        self.annotations
            .get(&format!("{ANNOTATION_PREFIX}{name}"))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_scan_resource() {
        let text = include_str!("../fixtures/k8s/scan-scheduled.json");
        let scan = Scan::from_json(text).unwrap();
        assert!(scan.name.is_some());
        assert!(scan.scan_type.is_some());
        assert!(scan.scheduled_scan.is_some());
        assert!(scan.has_owners);
        assert!(!scan.annotations.is_empty());
    }

    #[test]
    fn reads_flat_annotations_with_short_keys() {
        let scan = Scan::from_json(
            r#"{"product-name":"web","defectdojo.securecodebox.io/test-title":"t"}"#,
        )
        .unwrap();
        assert_eq!(scan.annotation("product-name").as_deref(), Some("web"));
        assert_eq!(scan.annotation("test-title").as_deref(), Some("t"));
        assert_eq!(scan.name, None);
    }

    #[test]
    fn rejects_non_objects() {
        assert!(Scan::from_json("[1]").is_err());
        assert!(Scan::from_json("{").is_err());
        assert!(Scan::from_json(r#"{"a":{"b":1}}"#).is_err());
    }
}
