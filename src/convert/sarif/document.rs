//! The SARIF document around the rules and results: written by hand in
//! three pieces, so the two arrays can be streamed in between.

use std::io::{self, Write};

use serde::Serialize;

use super::result::SRCROOT;
use crate::convert::triage::RunInfo;

/// Where people read about the tool: the crate's repository or homepage,
/// when Cargo.toml names one (an invented URL would mislead).
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|u| !u.is_empty())
}

/// Up to the opening of `tool.driver.rules`.
pub(super) fn head(out: &mut dyn Write, info: &RunInfo) -> io::Result<()> {
    out.write_all(
        br#"{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"tool":{"driver":{"name":"dojo-hook""#,
    )?;
    if !info.tool_version.is_empty() {
        field(out, "version", &info.tool_version)?;
        field(out, "semanticVersion", &info.tool_version)?;
    }
    if let Some(uri) = information_uri() {
        field(out, "informationUri", uri)?;
    }
    out.write_all(br#","rules":["#)
}

/// From the end of the rules to the opening of `results`.
pub(super) fn middle(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(br#"]}},"results":["#)
}

#[derive(Serialize)]
struct AutomationDetails<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct BaseUri<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    scan_type: &'a str,
    defectdojo_test: u64,
    defectdojo_test_url: &'a str,
    reimport: bool,
    omitted_results: u64,
}

/// From the end of the results to the end of the document; `root_uri` is
/// `%SRCROOT%`'s URI, if there is a root.
pub(super) fn tail(
    out: &mut dyn Write,
    info: &RunInfo,
    root_uri: Option<&str>,
    omitted: u64,
) -> io::Result<()> {
    out.write_all(b"]")?;
    // GitHub files analyses by this id's category: one per scan type, so two
    // scan types uploaded to one repository do not replace each other.
    let category = format!("dojo-hook/{}/", info.scan_type);
    field(
        out,
        "automationDetails",
        &AutomationDetails { id: &category },
    )?;
    if let Some(uri) = root_uri {
        out.write_all(br#","originalUriBaseIds":{"#)?;
        json(out, SRCROOT)?;
        out.write_all(b":")?;
        json(out, &BaseUri { uri })?;
        out.write_all(b"}")?;
    }
    let properties = RunProperties {
        scan_type: &info.scan_type,
        defectdojo_test: info.test_id,
        defectdojo_test_url: &info.test_url(),
        reimport: info.reimport,
        omitted_results: omitted,
    };
    field(out, "properties", &properties)?;
    out.write_all(b"}]}\n")
}

/// `,"key":value`.
fn field(out: &mut dyn Write, key: &str, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
    out.write_all(b",")?;
    json(out, key)?;
    out.write_all(b":")?;
    json(out, value)
}

fn json(out: &mut dyn Write, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
    Ok(serde_json::to_writer(out, value)?)
}
