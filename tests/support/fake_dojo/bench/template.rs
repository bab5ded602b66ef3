//! Generated findings are rendered from templates: [`render::finding`] of a prototype
//! with sentinel values, split at the sentinels, so a finding costs a few string
//! copies and has every key a real one has.

use std::fmt::Write as _;

use serde_json::json;

use super::super::model::Finding;
use super::super::render;
use super::super::{Ctx, Flavour};
use super::Class;

/// A value filled into a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    Id,
    Test,
    Original,
    Endpoint,
    Title,
    Severity,
    NumericalSeverity,
    Hash,
    UniqueId,
}

const SENTINELS: [(&str, Var); 9] = [
    ("9990000000000001", Var::Id),
    ("9990000000000002", Var::Test),
    ("9990000000000003", Var::Original),
    ("9990000000000004", Var::Endpoint),
    ("@@TITLE@@", Var::Title),
    ("@@SEVERITY@@", Var::Severity),
    ("@@NUMSEV@@", Var::NumericalSeverity),
    ("@@HASH@@", Var::Hash),
    ("@@UNIQUE@@", Var::UniqueId),
];

enum Segment {
    Text(String),
    Var(Var),
}

/// A finding's JSON split at its variable parts.
pub(in super::super) struct Template(Vec<Segment>);

/// The templates of the three kinds of generated finding.
pub(in super::super) struct Templates {
    pub(super) active: Template,
    pub(super) duplicate: Template,
    pub(super) false_positive: Template,
}

impl Template {
    fn new(json: &str) -> Template {
        let mut segments = Vec::new();
        let mut rest = json;
        loop {
            let next = SENTINELS
                .iter()
                .filter_map(|(s, var)| rest.find(s).map(|at| (at, s.len(), *var)))
                .min_by_key(|(at, _, _)| *at);
            match next {
                Some((at, len, var)) => {
                    segments.push(Segment::Text(rest[..at].to_string()));
                    segments.push(Segment::Var(var));
                    rest = &rest[at + len..];
                }
                None => {
                    segments.push(Segment::Text(rest.to_string()));
                    return Template(segments);
                }
            }
        }
    }
}

/// What goes into one rendered finding.
pub(super) struct Values {
    pub(super) id: u64,
    pub(super) test: u64,
    pub(super) original: u64,
    pub(super) endpoint: u64,
    /// The finding's number in its scan (titles repeat every 5,000).
    pub(super) number: u64,
    pub(super) severity: &'static str,
}

impl Template {
    pub(super) fn render(&self, out: &mut String, v: &Values) {
        for segment in &self.0 {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Var(var) => {
                    let _ = match var {
                        Var::Id => write!(out, "{}", v.id),
                        Var::Test => write!(out, "{}", v.test),
                        Var::Original => write!(out, "{}", v.original),
                        Var::Endpoint => write!(out, "{}", v.endpoint),
                        Var::Title => write!(
                            out,
                            "Synthetic Finding {}: Outdated Component Allows Request Smuggling",
                            v.number % 5000
                        ),
                        Var::Severity => write!(out, "{}", v.severity),
                        Var::NumericalSeverity => {
                            write!(out, "{}", render::numerical_severity(v.severity))
                        }
                        Var::Hash => write!(out, "{:016x}{:048x}", v.number % 5000, v.number),
                        Var::UniqueId => {
                            write!(out, "{:08x}-0000-4000-8000-{:012x}", v.number, v.number)
                        }
                    };
                }
            }
        }
    }
}

/// The keys of a lean finding: what sync-back reads.
const LEAN_KEYS: [&str; 18] = [
    "id",
    "title",
    "description",
    "severity",
    "created",
    "test",
    "duplicate",
    "duplicate_finding",
    "false_p",
    "risk_accepted",
    "out_of_scope",
    "active",
    "verified",
    "is_mitigated",
    "endpoints",
    "cwe",
    "vulnerability_ids",
    "tags",
];

fn templates(f: Flavour, lean: bool) -> Templates {
    let make = |class: Class| {
        let mut x = Finding::new(
            "",
            "@@SEVERITY@@",
            "The component answers with a vulnerable version banner. An attacker can smuggle \
             requests past the proxy and reach internal routes.\n\n**Location:** `see endpoints`\
             \n\n**Attributes:**\n\n- **port:** `8443`\n- **service:**\n    - **name:** `https`\
             \n    - **product:** `nginx`",
        );
        x.title = "@@TITLE@@".into();
        x.id = 9_990_000_000_000_001;
        x.test = 9_990_000_000_000_002;
        x.endpoints = vec![9_990_000_000_000_004];
        x.hash_code = "@@HASH@@".into();
        x.unique_id_from_tool = Some("@@UNIQUE@@".into());
        x.vuln_id_from_tool = Some("CVE-2024-0001".into());
        x.vulnerability_ids = vec!["CVE-2024-0001".into()];
        x.cwe = 444;
        x.cwes = vec!["CWE-444".into()];
        x.mitigation = Some("Upgrade the component to the fixed version.".into());
        x.references = Some("- <https://nvd.nist.gov/vuln/detail/CVE-2024-0001>".into());
        x.found_by = 1;
        x.dynamic_finding = true;
        x.extra
            .insert("numerical_severity".into(), json!("@@NUMSEV@@"));
        match class {
            Class::Active => {}
            Class::Duplicate => {
                x.active = false;
                x.duplicate = true;
                x.duplicate_finding = Some(9_990_000_000_000_003);
            }
            Class::FalsePositive => {
                x.active = false;
                x.false_p = true;
            }
        }
        let mut rendered = render::finding(f, &x);
        if lean {
            if let Some(m) = rendered.as_object_mut() {
                m.retain(|k, _| LEAN_KEYS.contains(&k.as_str()));
            }
        }
        let template = Template::new(&rendered.to_string());
        let vars: Vec<Var> = template
            .0
            .iter()
            .filter_map(|s| match s {
                Segment::Var(v) => Some(*v),
                Segment::Text(_) => None,
            })
            .collect();
        for (_, var) in SENTINELS {
            let dropped = lean && matches!(var, Var::NumericalSeverity | Var::Hash | Var::UniqueId);
            let expected = (var != Var::Original || class == Class::Duplicate) && !dropped;
            assert_eq!(vars.contains(&var), expected, "template variable {var:?}");
        }
        template
    };
    Templates {
        active: make(Class::Active),
        duplicate: make(Class::Duplicate),
        false_positive: make(Class::FalsePositive),
    }
}

pub(super) fn templates_of(ctx: &Ctx) -> &Templates {
    ctx.bench.templates.get_or_init(|| {
        templates(
            ctx.opts.flavour,
            ctx.opts.bench.as_ref().is_some_and(|b| b.lean),
        )
    })
}
