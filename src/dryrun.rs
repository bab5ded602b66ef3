//! `DEFECTDOJO_DRY_RUN=true`: everything a real run would check, with GET
//! requests only.
//!
//! The report is checked locally (present, an extension DefectDojo accepts,
//! under `DEFECTDOJO_MAX_UPLOAD_MB`, valid Generic Findings JSON with only
//! allowed keys), the scan type against the server's own list (the
//! `scan_type` enum of its OpenAPI schema), and the context is resolved as a
//! real run would resolve it, saying what would be created instead of
//! creating it. The outcome is a plan and the problems a real run would hit.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::dojo::Dojo;
use crate::dojo::context;
use crate::error::Error;
use crate::scan::types::{GENERIC, Plan};

/// File extensions DefectDojo accepts for imports (`DD_FILE_IMPORT_TYPES`).
pub const IMPORT_EXTENSIONS: &[&str] = &[
    "xml", "csv", "nessus", "json", "jsonl", "html", "js", "zip", "xlsx", "txt", "sarif", "fpr",
    "md", "log", "fvdl",
];

/// What a dry run found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Always true: tells the summary apart from a real run's.
    pub dry_run: bool,
    /// True when a real run would get past every check.
    pub would_succeed: bool,
    /// The DefectDojo scan type.
    pub scan_type: String,
    /// The file name the report would be uploaded as.
    pub file_name: String,
    /// Its size in bytes, when it could be produced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// What a real run would do, in order.
    pub plan: Vec<String>,
    /// Why a real run would fail.
    pub problems: Vec<String>,
}

/// Checks the report's name (the local part of the checks): DefectDojo
/// refuses a file without one of its extensions (a 400, as recorded 29).
pub fn check_file_name(name: &str) -> Result<(), String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext {
        Some(e) if IMPORT_EXTENSIONS.contains(&e.as_str()) => Ok(()),
        _ => Err(format!(
            "the report's file name \"{name}\" does not end in an extension DefectDojo accepts ({})",
            IMPORT_EXTENSIONS.join(", ")
        )),
    }
}

/// Checks the scan type against the server's OpenAPI schema: the problem
/// a real import would hit, if any (with a "did you mean").
pub fn check_scan_type(dojo: &Dojo, scan_type: &str) -> Result<Option<String>, Error> {
    let body = dojo.call(
        crate::dojo::Method::Get,
        "/api/v2/oa3/schema/?format=json",
        None,
        "reading DefectDojo's OpenAPI schema (its list of scan types)",
    )?;
    let schema: Schema = crate::dojo::parse(&body, "DefectDojo's OpenAPI schema")?;
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

/// The closest name by edit distance (case-insensitive), if close enough.
pub fn nearest<'a>(given: &str, names: &'a [String]) -> Option<&'a str> {
    let given_l = given.to_lowercase();
    names
        .iter()
        .map(|n| (distance(&given_l, &n.to_lowercase()), n))
        .filter(|(d, n)| *d <= 3.max(n.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Resolves the context as a real run would, creating nothing.
pub fn plan_context(
    dojo: &Dojo,
    cfg: &Config,
    report: &mut Report,
) -> Result<Option<context::Context>, Error> {
    let mut plan = Vec::new();
    let result = context::resolve_planned(dojo, cfg, &crate::time::today_utc(), Some(&mut plan));
    report.plan.extend(plan);
    match result {
        Ok(ctx) => Ok(Some(ctx)),
        Err(err @ (Error::Transport { .. } | Error::Config(_))) => Err(err),
        Err(err) => {
            report.problems.push(err.to_string());
            Ok(None)
        }
    }
}

/// True when the report is uploaded as DefectDojo's own generic JSON.
pub fn is_raw_generic(plan: &Plan) -> bool {
    matches!(plan, Plan::Raw { dojo_type } if dojo_type == GENERIC)
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
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct Properties {
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
    fn near_misses_are_suggested() {
        let names: Vec<String> = ["Trivy Scan", "Trivy Operator Scan", "Nmap Scan", "SARIF"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(nearest("trivy scan", &names), Some("Trivy Scan"));
        assert_eq!(nearest("Trivy Scna", &names), Some("Trivy Scan"));
        assert_eq!(nearest("Sarif", &names), Some("SARIF"));
        assert_eq!(nearest("Completely Different", &names), None);
    }

    #[test]
    fn extensions() {
        assert!(check_file_name("report.SARIF").is_ok());
        assert!(check_file_name("nuclei.jsonl").is_ok());
        assert!(check_file_name("scan.exe").is_err());
        assert!(check_file_name("report").is_err());
    }

    #[test]
    fn the_recorded_schema_lists_271_scan_types() {
        let text = include_str!("../fixtures/dojo/openapi-schema-v3-trimmed.json");
        let schema: Schema = serde_json::from_str(text).unwrap();
        let types = schema.scan_types().unwrap();
        assert!(types.len() > 200, "{}", types.len());
        assert!(types.iter().any(|t| t == "Trivy Scan"));
    }
}
