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
            Scan::from_resource(&value)
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

    /// A Scan resource. A field the hook reads but of the wrong type is an
    /// error naming it: dropped silently, it came back later as "no product
    /// name … set SCAN_FILE" although SCAN_FILE was set.
    fn from_resource(value: &Value) -> Result<Scan, String> {
        let meta = object(value, "metadata")?;
        let spec = object(value, "spec")?;
        let owners = typed(
            &meta["ownerReferences"],
            "metadata.ownerReferences",
            "a list",
        )?
        .map(|v| v.as_array().cloned().unwrap_or_default());
        let parameters = typed(&spec["parameters"], "spec.parameters", "a list")?
            .map(|v| v.as_array().cloned().unwrap_or_default())
            .unwrap_or_default();
        let mut params = Vec::with_capacity(parameters.len());
        for (i, p) in parameters.iter().enumerate() {
            params.push(scalar(p).ok_or_else(|| {
                format!("spec.parameters[{i}] must be a string, got {}", kind(p))
            })?);
        }
        let mut annotations = BTreeMap::new();
        if let Some(map) = typed(&meta["annotations"], "metadata.annotations", "an object")? {
            for (k, v) in map.as_object().into_iter().flatten() {
                let text = scalar(v).ok_or_else(|| {
                    format!(
                        "metadata.annotations '{k}' must be a string, got {}",
                        kind(v)
                    )
                })?;
                annotations.insert(k.clone(), text);
            }
        }
        Ok(Scan {
            name: string(&meta["name"], "metadata.name")?,
            created: string(&meta["creationTimestamp"], "metadata.creationTimestamp")?,
            scan_type: string(&spec["scanType"], "spec.scanType")?,
            parameters: params,
            scheduled_scan: owners.as_ref().and_then(|o| {
                o.iter()
                    .rev()
                    .find(|r| r["kind"] == "ScheduledScan")
                    .and_then(|r| r["name"].as_str().map(str::to_string))
            }),
            has_owners: owners.is_some(),
            annotations,
        })
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

/// `value[name]`, which must be an object when present (`null` = absent).
fn object<'v>(value: &'v Value, name: &str) -> Result<&'v Value, String> {
    typed(&value[name], name, "an object").map(|v| v.unwrap_or(&Value::Null))
}

/// A present (non-null) field of the expected JSON type, or an error naming it.
fn typed<'v>(value: &'v Value, path: &str, expected: &str) -> Result<Option<&'v Value>, String> {
    let ok = match value {
        Value::Null => return Ok(None),
        Value::Object(_) => expected == "an object",
        Value::Array(_) => expected == "a list",
        Value::String(_) => expected == "a string",
        _ => false,
    };
    if ok {
        Ok(Some(value))
    } else {
        Err(format!("{path} must be {expected}, got {}", kind(value)))
    }
}

fn string(value: &Value, path: &str) -> Result<Option<String>, String> {
    Ok(typed(value, path, "a string")?.and_then(|v| v.as_str().map(str::to_string)))
}

/// A JSON value's type and, for a scalar, its value, for an error message.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(_) => "a string".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
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
        let text = include_str!("../../fixtures/k8s/scan-scheduled.json");
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
    fn wrong_typed_fields_are_named() {
        for (json, want) in [
            (
                r#"{"metadata":{"name":5}}"#,
                "metadata.name must be a string, got a number (5)",
            ),
            (
                r#"{"metadata":"x"}"#,
                "metadata must be an object, got a string",
            ),
            (
                r#"{"spec":{"scanType":["nmap"]}}"#,
                "spec.scanType must be a string, got a list",
            ),
            (
                r#"{"metadata":{"annotations":{"a":{"b":1}}}}"#,
                "metadata.annotations 'a' must be a string, got an object",
            ),
            (
                r#"{"spec":{"parameters":"-sV"}}"#,
                "spec.parameters must be a list",
            ),
        ] {
            let err = Scan::from_json(json).unwrap_err();
            assert!(err.starts_with(want), "{json}: {err}");
        }
        let ok = Scan::from_json(r#"{"metadata":{"name":"s","annotations":null},"spec":null}"#);
        assert_eq!(ok.unwrap().name.as_deref(), Some("s"));
    }

    #[test]
    fn rejects_non_objects() {
        assert!(Scan::from_json("[1]").is_err());
        assert!(Scan::from_json("{").is_err());
        assert!(Scan::from_json(r#"{"a":{"b":1}}"#).is_err());
    }
}
