//! The scan types this DefectDojo knows: the `scan_type` enum of its
//! OpenAPI schema, checked before anything is created (a real run, for a
//! scan type dojo-hook does not map itself) and by the dry run.

use serde::Deserialize;

use super::Dojo;
use crate::error::Error;
use crate::util::suggest::nearest;

/// Checks the scan type against the server's OpenAPI schema: the problem
/// a real import would hit, if any (with a "did you mean").
pub fn check_scan_type(dojo: &Dojo, scan_type: &str) -> Result<Option<String>, Error> {
    let body = dojo.call(
        super::Method::Get,
        "/api/v2/oa3/schema/?format=json",
        None,
        "reading DefectDojo's OpenAPI schema (its list of scan types)",
    )?;
    let schema: Schema = super::parse(&body, "DefectDojo's OpenAPI schema")?;
    let Some(types) = schema.scan_types() else {
        log::warn!("DefectDojo's OpenAPI schema lists no scan types; the scan type is not checked");
        return Ok(None);
    };
    if types.iter().any(|t| t == scan_type) {
        return Ok(None);
    }
    let mut message = format!("\"{scan_type}\" is not a scan type of this DefectDojo");
    if let Some(near) = nearest(scan_type, &types) {
        message.push_str(&format!(": did you mean \"{near}\"?"));
    }
    Ok(Some(message))
}

#[derive(Deserialize)]
struct Schema {
    #[serde(default)]
    components: Option<Components>,
}

#[derive(Deserialize)]
struct Components {
    #[serde(default)]
    schemas: Option<Schemas>,
}

#[derive(Deserialize)]
struct Schemas {
    #[serde(rename = "ImportScanRequest", default)]
    import: Option<Request>,
    /// Older schemas put the enum behind a reference.
    #[serde(rename = "ScanTypeEnum", default)]
    scan_type_enum: Option<EnumDef>,
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    properties: Option<ScanTypeProperties>,
}

#[derive(Deserialize)]
struct ScanTypeProperties {
    #[serde(default)]
    scan_type: Option<EnumDef>,
}

#[derive(Deserialize)]
struct EnumDef {
    #[serde(rename = "enum", default)]
    values: Option<Vec<String>>,
}

impl Schema {
    fn scan_types(self) -> Option<Vec<String>> {
        let schemas = self.components?.schemas?;
        let inline = schemas
            .import
            .and_then(|r| r.properties)
            .and_then(|p| p.scan_type)
            .and_then(|e| e.values);
        inline.or_else(|| schemas.scan_type_enum.and_then(|e| e.values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_schema_lists_271_scan_types() {
        let text = include_str!("../../fixtures/dojo/openapi-schema-v3-trimmed.json");
        let schema: Schema = serde_json::from_str(text).unwrap();
        let types = schema.scan_types().unwrap();
        assert!(types.len() > 200, "{}", types.len());
        assert!(types.iter().any(|t| t == "Trivy Scan"));
    }
}
