//! A finding's rule: its id and its `reportingDescriptor` (what GitHub
//! shows as the alert's title, help and tags).

use std::borrow::Cow;

use serde::Serialize;

use super::words::{cap, cap_cow, hex, level, security_severity};
use crate::convert::sync::Seen;
use crate::http::url::percent_encode_into;
use crate::util::uuid::Sha1;

/// GitHub's limit on a rule id's length.
const MAX_ID_CHARS: usize = 255;
/// GitHub's limit on a rule's tags.
const MAX_TAGS: usize = 20;

/// The rule id: the vulnerability id (`CVE-2021-44228`), else the title.
/// One that is too long keeps its first 200 characters and a hash of the
/// whole, so two long titles that share a start stay two rules, the same on
/// every run (SHA-1, not a per-process hasher).
pub(super) fn rule_id<'a>(seen: &Seen<'a>) -> Cow<'a, str> {
    let id = seen
        .vulnerability_id
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| seen.title.trim());
    if id.is_empty() {
        return Cow::Borrowed("untitled");
    }
    if id.chars().count() <= MAX_ID_CHARS {
        return Cow::Borrowed(id);
    }
    let mut sha = Sha1::new();
    sha.update(id.as_bytes());
    let digest = sha.finish();
    let head = id.char_indices().nth(200).map_or(id, |(i, _)| &id[..i]);
    Cow::Owned(format!("{head}-{}", hex(&digest[..8])))
}

/// SARIF's `reportingDescriptor`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Rule<'a> {
    id: &'a str,
    short_description: Message<'a>,
    full_description: Message<'a>,
    help: Message<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

/// SARIF's `message` / `multiformatMessageString`.
#[derive(Serialize)]
pub(super) struct Message<'a> {
    pub(super) text: Cow<'a, str>,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Tags,
    #[serde(rename = "security-severity")]
    security_severity: f64,
}

/// `["security"]`, plus GitHub's CWE tag when the CWE is known.
struct Tags {
    cwe: Option<u64>,
}

impl Serialize for Tags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let tags = [Some(Cow::Borrowed("security")), self.cwe.map(cwe_tag)];
        let mut seq = s.serialize_seq(None)?;
        for tag in tags.iter().flatten().take(MAX_TAGS) {
            seq.serialize_element(tag)?;
        }
        seq.end()
    }
}

fn cwe_tag(n: u64) -> Cow<'static, str> {
    Cow::Owned(format!("external/cwe/cwe-{n}"))
}

impl<'a> Rule<'a> {
    /// The rule of `seen`, whose id is `id` ([`rule_id`]).
    pub(super) fn of(seen: &Seen<'a>, id: &'a str) -> Rule<'a> {
        let title = if seen.title.is_empty() {
            id
        } else {
            seen.title
        };
        let full = match seen.vulnerability_id {
            Some(v) if !seen.title.is_empty() && v != seen.title => {
                Cow::Owned(format!("{v}: {}", seen.title))
            }
            _ => Cow::Borrowed(title),
        };
        let help = [seen.mitigation, seen.description, title]
            .into_iter()
            .find(|t| !t.is_empty())
            .unwrap_or(id);
        Rule {
            id,
            short_description: Message {
                text: cap(title, 1_000),
            },
            full_description: Message {
                text: cap_cow(full, 1_000),
            },
            help: Message {
                text: cap(help, 2_000),
            },
            help_uri: help_uri(seen),
            default_configuration: Configuration {
                level: level(seen.rank),
            },
            properties: RuleProperties {
                tags: Tags { cwe: seen.cwe },
                security_severity: security_severity(seen),
            },
        }
    }
}

/// Where a person reads about the vulnerability: its advisory for CVE and
/// GHSA ids, else its CWE's page.
fn help_uri(seen: &Seen<'_>) -> Option<String> {
    let vid = seen.vulnerability_id.map(str::trim).unwrap_or("");
    let upper = vid.get(..5).map(str::to_ascii_uppercase);
    let base = match upper.as_deref() {
        Some(p) if p.starts_with("CVE-") => Some("https://nvd.nist.gov/vuln/detail/"),
        Some("GHSA-") => Some("https://github.com/advisories/"),
        _ => None,
    };
    if let Some(base) = base {
        let mut uri = String::from(base);
        percent_encode_into(&mut uri, vid);
        return Some(uri);
    }
    seen.cwe
        .map(|n| format!("https://cwe.mitre.org/data/definitions/{n}.html"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::sarif::tests::seen;

    #[test]
    fn rule_id_prefers_the_vulnerability_id() {
        let mut s = seen(1, "Log4Shell");
        assert_eq!(rule_id(&s), "Log4Shell");
        s.vulnerability_id = Some("CVE-2021-44228");
        assert_eq!(rule_id(&s), "CVE-2021-44228");
        s.vulnerability_id = None;
        s.title = "  ";
        assert_eq!(rule_id(&s), "untitled");
    }

    #[test]
    fn long_rule_ids_are_cut_and_hashed_stably() {
        let long_a = format!("{}a", "é".repeat(300));
        let long_b = format!("{}b", "é".repeat(300));
        let a = rule_id(&seen(1, &long_a)).into_owned();
        let b = rule_id(&seen(1, &long_b)).into_owned();
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), 200 + 1 + 16);
        assert!(a.starts_with(&"é".repeat(200)));
        assert_eq!(a, rule_id(&seen(2, &long_a)));
        let exact = "x".repeat(255);
        assert_eq!(rule_id(&seen(1, &exact)), exact);
    }

    #[test]
    fn help_uris() {
        let mut s = seen(1, "t");
        assert_eq!(help_uri(&s), None);
        s.cwe = Some(79);
        assert_eq!(
            help_uri(&s).unwrap(),
            "https://cwe.mitre.org/data/definitions/79.html"
        );
        s.vulnerability_id = Some("CVE-2021-44228");
        assert_eq!(
            help_uri(&s).unwrap(),
            "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"
        );
        s.vulnerability_id = Some("GHSA-jfh8-c2jp-5v3q");
        assert_eq!(
            help_uri(&s).unwrap(),
            "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"
        );
        s.vulnerability_id = Some("RUSTSEC-2021-0001");
        assert_eq!(
            help_uri(&s).unwrap(),
            "https://cwe.mitre.org/data/definitions/79.html"
        );
    }

    #[test]
    fn descriptor_fields() {
        let mut s = seen(1, "SQL injection");
        s.cwe = Some(89);
        s.rank = 1;
        s.description = "desc";
        let v = serde_json::to_value(Rule::of(&s, "SQL injection")).unwrap();
        assert_eq!(v["shortDescription"]["text"], "SQL injection");
        assert_eq!(v["fullDescription"]["text"], "SQL injection");
        assert_eq!(v["help"]["text"], "desc");
        assert_eq!(v["defaultConfiguration"]["level"], "error");
        assert_eq!(
            v["properties"]["tags"],
            serde_json::json!(["security", "external/cwe/cwe-89"])
        );
        assert_eq!(v["properties"]["security-severity"], 8.0);
        s.mitigation = "fix it";
        s.vulnerability_id = Some("CVE-1");
        let v = serde_json::to_value(Rule::of(&s, "CVE-1")).unwrap();
        assert_eq!(v["fullDescription"]["text"], "CVE-1: SQL injection");
        assert_eq!(v["help"]["text"], "fix it");
    }
}
