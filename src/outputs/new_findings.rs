//! This run's new findings, counted for the build gate and the Markdown
//! summary: from the read-back when there is one ([`NewCounter::seen`]),
//! else from the test's open findings ([`crate::dojo::test_findings`]).
//! Either way "new" is [`NewRule`]'s, the one definition the CI reports use
//! too; on reimport it asks the import history ([`LastImport`]) what this
//! very import did. Only the findings at or above the threshold (and the 20
//! most severe for the summary) are kept, so memory stays bounded.

use serde::Serialize;

use crate::convert::sync::Seen;
use crate::convert::triage::{History, NewRule, Standing};
use crate::dojo::import_history::LastImport;
use crate::dojo::test_findings::OpenFinding;
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
/// [`crate::util::text::TITLE_CHARS`] characters ([`crate::util::text::title`]).
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

/// The rule with a reimport's history (`None` on import).
fn rule(history: Option<&LastImport>, reactivated: bool) -> NewRule<'_> {
    NewRule {
        history: history.map(|h| h as &dyn History),
        reactivated,
    }
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
        title: crate::util::text::title(title),
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

/// The new findings, counted one finding at a time: from a read-back that
/// happens anyway (for findings.json or a CI report), so the gate and the
/// Markdown summary need no read of their own, or from the open findings.
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

    /// Counts a read-back's finding if it is new.
    pub fn seen(&mut self, f: &Seen<'_>) {
        self.count(Standing::from(f), f.title, f.severity);
    }

    /// Counts an open finding read for the gate alone if it is new.
    pub fn open(&mut self, f: &OpenFinding) {
        self.count(f.standing(), f.title(), f.severity());
    }

    fn count(&mut self, f: Standing, title: &str, severity: &str) {
        if self.rule.is_new(f) {
            let (base, threshold) = (&self.base, self.threshold);
            count(&mut self.out, f.id, title, severity, base, threshold);
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
