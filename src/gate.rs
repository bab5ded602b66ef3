//! The build gate (`DEFECTDOJO_FAIL_ON`) and the list of this run's new
//! findings it and the Markdown summary are made from.
//!
//! "New" is [`NewRule`]'s, the one definition the CI reports use too,
//! whether the findings are counted from the read-back ([`NewCounter`]) or
//! read for the gate alone ([`new_findings`]); on reimport it asks
//! DefectDojo's import history (`/api/v2/test_imports/`), read as
//! [`LastImport`], what this very import did.
//! Only the findings at or above the threshold (and the 20 most severe for
//! the summary) are kept, so memory stays bounded.

use serde::{Deserialize, Serialize};

use crate::convert::sync::{IdSet, Seen};
use crate::convert::triage::{History, NewRule, Standing};
use crate::dojo::Dojo;
use crate::dojo::model::TestImport;
use crate::error::Error;
use crate::scan::finding::Severity;

/// Findings listed in the summary and the gate's reason.
pub const SHOWN: usize = 20;

/// The rank of a DefectDojo severity: 0 for Critical … 4 for Info (also
/// for anything unknown).
pub fn rank(severity: &str) -> usize {
    let s = Severity::from_dojo_name(severity).unwrap_or(Severity::Informational);
    Severity::Critical.rank() - s.rank()
}

/// One new finding, as shown to a person: its title already cut at
/// [`crate::text::TITLE_CHARS`] characters ([`crate::text::title`]).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Shown {
    /// DefectDojo's id.
    pub id: u64,
    /// Its title, as shown.
    pub title: String,
    /// DefectDojo's severity (one of its five names).
    pub severity: String,
    /// Its page in DefectDojo.
    pub url: String,
}

/// The new findings of a run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct NewFindings {
    /// Counts by severity, most severe first (Critical … Info).
    pub by_severity: [u64; 5],
    /// All of them.
    pub total: u64,
    /// The most severe ones (at most [`SHOWN`]), most severe first.
    pub top: Vec<Shown>,
    /// Those at or above the gate's threshold (at most [`SHOWN`] listed).
    #[serde(skip)]
    pub failing: Vec<Shown>,
    /// How many are at or above the threshold.
    pub failing_count: u64,
}

#[derive(Deserialize)]
struct Finding {
    id: u64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    // As the read-back reads them (convert::sync::seen): a missing flag is
    // DefectDojo's default.
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    duplicate: Option<bool>,
    #[serde(default)]
    false_p: Option<bool>,
}

impl Finding {
    fn standing(&self) -> Standing {
        Standing {
            id: self.id,
            active: self.active != Some(false),
            duplicate: self.duplicate == Some(true),
            false_p: self.false_p == Some(true),
        }
    }
}

/// The rule with a reimport's history (`None` on import).
fn rule(history: Option<&LastImport>, reactivated: bool) -> NewRule<'_> {
    NewRule {
        history: history.map(|h| h as &dyn History),
        reactivated,
    }
}

/// Reads the test's new findings. `history` (reimport only) limits them
/// to what this import created (and reactivated, with `reactivated`);
/// `threshold` is the gate's severity rank, if any.
pub fn new_findings(
    dojo: &Dojo,
    test_id: u64,
    history: Option<&LastImport>,
    reactivated: bool,
    threshold: Option<usize>,
) -> Result<NewFindings, Error> {
    let test = test_id.to_string();
    let mut params = vec![("test", test.as_str())];
    params.extend(NewRule::FILTER);
    let rule = rule(history, reactivated);
    let mut out = NewFindings::default();
    let base = dojo.base().to_string();
    dojo.each_page(
        "/api/v2/findings/",
        &params,
        250,
        "reading this run's new findings",
        |page: Vec<Finding>| {
            for f in page {
                if !rule.is_new(f.standing()) {
                    continue;
                }
                let severity = f.severity.as_deref().unwrap_or("Info");
                let title = f.title.as_deref().unwrap_or_default();
                count(&mut out, f.id, title, severity, &base, threshold);
            }
        },
    )?;
    Ok(out)
}

/// Counts one new finding and keeps it where it is among the most severe;
/// only a finding that is kept is copied (this runs for every new finding
/// of a read-back).
fn count(
    out: &mut NewFindings,
    id: u64,
    title: &str,
    severity: &str,
    base: &str,
    threshold: Option<usize>,
) {
    let r = rank(severity);
    out.by_severity[r] += 1;
    out.total += 1;
    // Both come from the scanner or the server: the title is bounded, the
    // severity one of DefectDojo's five names.
    let shown = || Shown {
        id,
        title: crate::text::title(title),
        severity: Severity::ALL[Severity::Critical.rank() - r]
            .dojo_name()
            .to_string(),
        url: format!("{base}/finding/{id}"),
    };
    if threshold.is_some_and(|t| r <= t) {
        out.failing_count += 1;
        keep_most_severe(&mut out.failing, (r, id), shown);
    }
    keep_most_severe(&mut out.top, (r, id), shown);
}

/// The new findings counted from a read-back that happens anyway (for
/// findings.json or a CI report), so the gate and the Markdown summary
/// need no read of their own.
pub struct NewCounter<'h> {
    out: NewFindings,
    rule: NewRule<'h>,
    threshold: Option<usize>,
    base: String,
}

impl<'h> NewCounter<'h> {
    pub fn new(
        base: &str,
        history: Option<&'h LastImport>,
        reactivated: bool,
        threshold: Option<usize>,
    ) -> NewCounter<'h> {
        NewCounter {
            out: NewFindings::default(),
            rule: rule(history, reactivated),
            threshold,
            base: base.to_string(),
        }
    }

    /// Counts `f` if it is new.
    pub fn seen(&mut self, f: &Seen<'_>) {
        if self.rule.is_new(Standing::from(f)) {
            count(
                &mut self.out,
                f.id,
                f.title,
                f.severity,
                &self.base,
                self.threshold,
            );
        }
    }

    pub fn finish(self) -> NewFindings {
        self.out
    }
}

/// Keeps the [`SHOWN`] most severe (then oldest) findings, sorted.
/// `key` is the (rank, id) of the finding `make` makes, which is only
/// called when the finding is kept.
fn keep_most_severe(list: &mut Vec<Shown>, key: (usize, u64), make: impl FnOnce() -> Shown) {
    let at = list.partition_point(|s| (rank(&s.severity), s.id) <= key);
    if at < SHOWN {
        list.insert(at, make());
        list.truncate(SHOWN);
    }
}

/// What the test's latest import did to its findings, as DefectDojo's
/// import history records it: created (N), reactivated (R), closed (C).
/// Compact id sets, so a reimport of a million findings stays small.
#[derive(Default)]
pub struct LastImport {
    created: IdSet,
    reactivated: IdSet,
    closed: IdSet,
}

impl LastImport {
    /// Reads the history of test `test_id` and keeps its latest import.
    pub fn read(dojo: &Dojo, test_id: u64) -> Result<LastImport, Error> {
        let imports: Vec<TestImport> = dojo.list(
            "/api/v2/test_imports/",
            &[("test", &test_id.to_string())],
            "reading the test's import history",
            |_| true,
        )?;
        let latest = imports.into_iter().max_by_key(|i| i.id).ok_or_else(|| {
            Error::protocol(
                "reading the test's import history",
                "DefectDojo recorded no import for the test (is DD_TRACK_IMPORT_HISTORY off?)",
            )
        })?;
        let mut last = LastImport::default();
        for a in latest.test_import_finding_action_set {
            let set = match a.action.as_str() {
                "N" => &mut last.created,
                "R" => &mut last.reactivated,
                "C" => &mut last.closed,
                _ => continue,
            };
            set.insert(a.finding);
        }
        Ok(last)
    }
}

impl History for LastImport {
    fn created(&self, id: u64) -> bool {
        self.created.contains(id)
    }
    fn reactivated(&self, id: u64) -> bool {
        self.reactivated.contains(id)
    }
    fn closed(&self, id: u64) -> bool {
        self.closed.contains(id)
    }
}

/// The gate's verdict line and the findings behind it.
pub fn reason(fail_on: &str, new: &NewFindings) -> String {
    let mut text = format!(
        "build gate: {} new finding(s) at or above {fail_on} (DEFECTDOJO_FAIL_ON)",
        new.failing_count
    );
    for f in &new.failing {
        // One line per finding, whatever its title holds.
        let title = crate::text::one_line(&f.title);
        text.push_str(&format!("\n  [{}] {title} {}", f.severity, f.url));
    }
    if new.failing_count as usize > new.failing.len() {
        text.push_str(&format!(
            "\n  … and {} more",
            new.failing_count as usize - new.failing.len()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(id: u64, severity: &str) -> Shown {
        Shown {
            id,
            title: format!("f{id}"),
            severity: severity.into(),
            url: String::new(),
        }
    }

    fn keep(list: &mut Vec<Shown>, s: Shown) {
        let key = (rank(&s.severity), s.id);
        keep_most_severe(list, key, || s);
    }

    #[test]
    fn a_finding_that_is_not_kept_is_not_copied() {
        let mut list = Vec::new();
        for id in 0..SHOWN as u64 {
            keep(&mut list, shown(id, "Critical"));
        }
        keep_most_severe(&mut list, (rank("Low"), 1_000), || {
            panic!("a Low finding behind 20 Critical ones was copied")
        });
        assert_eq!(list.len(), SHOWN);
    }

    #[test]
    fn only_the_most_severe_are_kept_in_order() {
        let mut list = Vec::new();
        for id in 0..50 {
            keep(&mut list, shown(id, "Low"));
        }
        keep(&mut list, shown(99, "Critical"));
        keep(&mut list, shown(98, "High"));
        assert_eq!(list.len(), SHOWN);
        assert_eq!(list[0].id, 99);
        assert_eq!(list[1].id, 98);
        assert_eq!(list[2].id, 0);
    }

    #[test]
    fn ranks() {
        assert_eq!(rank("critical"), 0);
        assert_eq!(rank("Info"), 4);
        assert!(rank("High") < rank("Medium"));
    }
}
