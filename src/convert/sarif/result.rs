//! A finding as a SARIF `result`: its message, where it is, DefectDojo's
//! verdict (baseline state, suppression) and a link back to DefectDojo.

use std::borrow::Cow;

use serde::Serialize;

use super::rule::Message;
use super::uri::{Artifact, Root, artifact, clean_url};
use super::words::{cap, level, security_severity};
use crate::convert::triage::{Judged, RunInfo};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SarifResult<'a> {
    rule_id: &'a str,
    level: &'static str,
    message: Message<'a>,
    locations: [ResultLocation<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    partial_fingerprints: Option<Fingerprints<'a>>,
    hosted_viewer_uri: &'a str,
    baseline_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression; 1]>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultLocation<'a> {
    physical_location: Physical<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logical_locations: Option<[Logical<'a>; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical<'a> {
    artifact_location: ArtifactLocation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation<'a> {
    uri: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical<'a> {
    fully_qualified_name: &'a str,
    kind: &'static str,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "defectdojo/hash_code")]
    hash_code: &'a str,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    #[serde(rename = "security-severity")]
    security_severity: f64,
    defectdojo_id: u64,
    defectdojo_severity: &'static str,
    defectdojo_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<Cow<'a, str>>,
    tags: [&'static str; 1],
}

/// The `%SRCROOT%` base id relative artifact URIs resolve against.
pub(super) const SRCROOT: &str = "%SRCROOT%";

impl<'a> SarifResult<'a> {
    /// The result of `f`, whose rule is `rule_id`; `finding_url` is its
    /// page in DefectDojo (already a clean URI).
    pub(super) fn of(
        f: &'a Judged<'a>,
        rule_id: &'a str,
        finding_url: &'a str,
        root: Option<&Root>,
    ) -> SarifResult<'a> {
        let s = &f.seen;
        let suppression = f.triage.filter(|t| t.suppresses()).map(|t| Suppression {
            kind: "external",
            status: "accepted",
            justification: format!("DefectDojo: {}", t.label()),
        });
        SarifResult {
            rule_id,
            level: level(s.rank),
            message: Message {
                text: Cow::Owned(message(f, finding_url)),
            },
            locations: [location(f, finding_url, root)],
            partial_fingerprints: s.hash_code.map(|hash_code| Fingerprints { hash_code }),
            hosted_viewer_uri: finding_url,
            baseline_state: f.baseline.sarif(),
            suppressions: suppression.map(|s| [s]),
            properties: ResultProperties {
                security_severity: security_severity(s),
                defectdojo_id: s.id,
                defectdojo_severity: s.severity,
                defectdojo_state: state(f),
                duplicate_of: s.original,
                component: component(f),
                tags: ["security"],
            },
        }
    }
}

/// The title, then the description after a blank line; never empty
/// (GitHub rejects a result without message text).
fn message(f: &Judged<'_>, finding_url: &str) -> String {
    let s = &f.seen;
    let mut text = if s.title.trim().is_empty() {
        format!("DefectDojo finding {}", s.id)
    } else {
        cap(s.title, 1_000).into_owned()
    };
    if !s.description.trim().is_empty() {
        text.push_str("\n\n");
        text.push_str(&cap(s.description, 1_000));
    }
    // GitHub shows the message, not `hostedViewerUri`: the way to the
    // finding's triage is a line of it.
    text.push_str("\n\nDefectDojo: ");
    text.push_str(finding_url);
    text
}

/// The file when there is one, else the endpoint, else the finding's page
/// in DefectDojo: GitHub rejects a result without an artifact URI.
fn location<'a>(
    f: &'a Judged<'a>,
    finding_url: &'a str,
    root: Option<&Root>,
) -> ResultLocation<'a> {
    let s = &f.seen;
    if let Some(a) = s.file_path.and_then(|p| artifact(p, root)) {
        let (uri, uri_base_id) = match a {
            Artifact::InRoot(uri) => (uri, Some(SRCROOT)),
            Artifact::Absolute(uri) => (uri, None),
        };
        let region = s
            .line
            .filter(|&l| l >= 1)
            .map(|start_line| Region { start_line });
        return physical(Cow::Owned(uri), uri_base_id, region, None);
    }
    if let Some(endpoint) = s.endpoint.filter(|e| !e.trim().is_empty()) {
        let logical = Logical {
            fully_qualified_name: endpoint,
            kind: "resource",
        };
        return physical(clean_url(endpoint), None, None, Some([logical]));
    }
    physical(Cow::Borrowed(finding_url), None, None, None)
}

fn physical<'a>(
    uri: Cow<'a, str>,
    uri_base_id: Option<&'static str>,
    region: Option<Region>,
    logical_locations: Option<[Logical<'a>; 1]>,
) -> ResultLocation<'a> {
    ResultLocation {
        physical_location: Physical {
            artifact_location: ArtifactLocation { uri, uri_base_id },
            region,
        },
        logical_locations,
    }
}

/// DefectDojo's word for where the finding stands.
fn state(f: &Judged<'_>) -> &'static str {
    match f.triage {
        Some(t) => t.label(),
        None if f.seen.mitigated => "mitigated",
        None if f.seen.active => "active",
        None => "inactive",
    }
}

/// `name@version`, or the name alone.
fn component<'a>(f: &Judged<'a>) -> Option<Cow<'a, str>> {
    let name = cap(f.seen.component?, 1_000);
    Some(match f.seen.component_version {
        Some(v) => Cow::Owned(format!("{name}@{}", cap(v, 200))),
        None => name,
    })
}

/// `f`'s page in DefectDojo, as a URI.
pub(super) fn finding_url(info: &RunInfo, id: u64) -> String {
    let url = info.finding_url(id);
    match clean_url(&url) {
        Cow::Borrowed(_) => url,
        Cow::Owned(clean) => clean,
    }
}
