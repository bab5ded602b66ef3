//! DefectDojo's verdict on one read-back finding, in the terms the CI
//! report formats (SARIF, JUnit) need: how it was triaged, whether it is
//! new to this import, and whether it fails the build gate.
//!
//! Pure: the import history ([`History`]) and the gate's rules are read
//! elsewhere and handed in, so the same finding is always judged the same.

use crate::convert::sync::Seen;

/// How DefectDojo triaged a finding, the strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// `false_p`.
    FalsePositive,
    /// `risk_accepted`.
    RiskAccepted,
    /// `out_of_scope`.
    OutOfScope,
    /// `duplicate`: another finding already reports it.
    Duplicate,
}

impl Triage {
    /// How a person reads it (a JUnit skip reason, a SARIF justification).
    pub fn label(self) -> &'static str {
        match self {
            Triage::FalsePositive => "false positive",
            Triage::RiskAccepted => "risk accepted",
            Triage::OutOfScope => "out of scope",
            Triage::Duplicate => "duplicate",
        }
    }

    /// Whether the finding is suppressed: a person decided it needs no fix.
    /// A duplicate is not (its original still reports the problem).
    pub fn suppresses(self) -> bool {
        !matches!(self, Triage::Duplicate)
    }
}

/// SARIF's `baselineState`: the finding against the test before this import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// Created (or, on reimport, reactivated) by this import.
    New,
    /// Already there: a duplicate of an existing finding, or untouched by
    /// this reimport.
    Unchanged,
    /// Closed by this reimport: no longer in the report.
    Absent,
}

impl Baseline {
    /// SARIF's spelling.
    pub fn sarif(self) -> &'static str {
        match self {
            Baseline::New => "new",
            Baseline::Unchanged => "unchanged",
            Baseline::Absent => "absent",
        }
    }
}

/// A finding with DefectDojo's verdict.
#[derive(Debug, Clone)]
pub struct Judged<'a> {
    /// The finding as read back.
    pub seen: Seen<'a>,
    /// Its triage, if any.
    pub triage: Option<Triage>,
    /// Against the test before this import.
    pub baseline: Baseline,
    /// Whether it fails the build gate (`DEFECTDOJO_FAIL_ON`; without it,
    /// any new active finding).
    pub fails_gate: bool,
}

/// What the test's latest import did to its findings, from DefectDojo's
/// import history (`/api/v2/test_imports/`); only read on reimport, where
/// the test holds findings of earlier imports.
pub trait History {
    /// Created by this import (action `N`).
    fn created(&self, id: u64) -> bool;
    /// Reactivated by this import (action `R`).
    fn reactivated(&self, id: u64) -> bool;
    /// Closed by this import (action `C`).
    fn closed(&self, id: u64) -> bool;
}

/// What decides whether a finding is new: the flags DefectDojo holds for it.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    /// DefectDojo's id.
    pub id: u64,
    /// `active`.
    pub active: bool,
    /// `duplicate`.
    pub duplicate: bool,
    /// `false_p`.
    pub false_p: bool,
}

impl From<&Seen<'_>> for Standing {
    fn from(f: &Seen<'_>) -> Standing {
        Standing {
            id: f.id,
            active: f.active,
            duplicate: f.duplicate,
            false_p: f.false_p,
        }
    }
}

/// The one definition of a new finding, which the build gate, its count in
/// the summaries and the CI reports share: DefectDojo holds it active,
/// neither a duplicate nor a false positive, after deduplication finished,
/// and this very import created it (or, with `reactivated`, reactivated it).
#[derive(Clone, Copy)]
pub struct NewRule<'h> {
    /// The reimport's history; `None` for an import into a new test, where
    /// every finding was created by this import.
    pub history: Option<&'h dyn History>,
    /// `DEFECTDOJO_FAIL_ON_REACTIVATED`: a reactivated finding is new too.
    pub reactivated: bool,
}

impl NewRule<'_> {
    /// The findings filter that asks DefectDojo for the flag part of the
    /// rule, so a count that reads the test's findings itself reads fewer;
    /// [`Self::is_new`] still decides each one.
    pub const FILTER: [(&'static str, &'static str); 3] = [
        ("active", "true"),
        ("duplicate", "false"),
        ("false_p", "false"),
    ];

    /// Whether the finding is new to this run.
    pub fn is_new(&self, f: Standing) -> bool {
        let made_here = match self.history {
            None => true,
            Some(h) => h.created(f.id) || (self.reactivated && h.reactivated(f.id)),
        };
        f.active && !f.duplicate && !f.false_p && made_here
    }
}

/// The rules a finding is judged by.
pub struct Rules<'h> {
    /// The reimport's history; `None` for an import into a new test, where
    /// every finding was created by this import.
    pub history: Option<&'h dyn History>,
    /// The gate's threshold as a rank (0 Critical … 4 Info), if any.
    pub threshold: Option<usize>,
    /// `DEFECTDOJO_FAIL_ON_REACTIVATED`: reactivated findings fail too.
    pub fail_on_reactivated: bool,
}

impl Rules<'_> {
    /// Judges one finding.
    pub fn judge<'a>(&self, seen: Seen<'a>) -> Judged<'a> {
        let triage = if seen.false_p {
            Some(Triage::FalsePositive)
        } else if seen.risk_accepted {
            Some(Triage::RiskAccepted)
        } else if seen.out_of_scope {
            Some(Triage::OutOfScope)
        } else if seen.duplicate {
            Some(Triage::Duplicate)
        } else {
            None
        };
        let (created, reactivated, closed) = match self.history {
            None => (true, false, false),
            Some(h) => (
                h.created(seen.id),
                h.reactivated(seen.id),
                h.closed(seen.id),
            ),
        };
        let baseline = if closed {
            Baseline::Absent
        } else if seen.duplicate {
            Baseline::Unchanged
        } else if created || reactivated {
            Baseline::New
        } else {
            Baseline::Unchanged
        };
        let rule = NewRule {
            history: self.history,
            reactivated: self.fail_on_reactivated,
        };
        let new = rule.is_new(Standing::from(&seen));
        let fails_gate = new && self.threshold.is_none_or(|t| seen.rank <= t);
        Judged {
            seen,
            triage,
            baseline,
            fails_gate,
        }
    }
}

/// What a run's report formats share about the run.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// DefectDojo's base URL (no trailing `/`): finding links are
    /// `{dojo_url}/finding/{id}`.
    pub dojo_url: String,
    /// The DefectDojo scan type imported.
    pub scan_type: String,
    /// The test's id and title.
    pub test_id: u64,
    pub test_title: String,
    /// Whether this import was a reimport into an existing test.
    pub reimport: bool,
    /// The repository root as an absolute path (`GITHUB_WORKSPACE`,
    /// `CI_PROJECT_DIR`, `WORKSPACE`, else the working directory): absolute
    /// file paths under it become relative to `%SRCROOT%`.
    pub source_root: Option<String>,
    /// dojo-hook's version.
    pub tool_version: String,
}

impl RunInfo {
    /// A finding's page in DefectDojo.
    pub fn finding_url(&self, id: u64) -> String {
        format!("{}/finding/{id}", self.dojo_url)
    }
    /// The test's page in DefectDojo.
    pub fn test_url(&self) -> String {
        format!("{}/test/{}", self.dojo_url, self.test_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn seen(id: u64, rank: usize) -> Seen<'static> {
        Seen::example(id, "t", rank)
    }

    /// Finding id → the last import's action (N, R, C).
    struct Actions(HashMap<u64, char>);

    impl History for Actions {
        fn created(&self, id: u64) -> bool {
            self.0.get(&id) == Some(&'N')
        }
        fn reactivated(&self, id: u64) -> bool {
            self.0.get(&id) == Some(&'R')
        }
        fn closed(&self, id: u64) -> bool {
            self.0.get(&id) == Some(&'C')
        }
    }

    fn import(threshold: Option<usize>) -> Rules<'static> {
        Rules {
            history: None,
            threshold,
            fail_on_reactivated: false,
        }
    }

    #[test]
    fn an_import_makes_everything_new_but_duplicates_and_triaged_findings() {
        let rules = import(None);
        let j = rules.judge(seen(1, 4));
        assert_eq!(
            (j.triage, j.baseline, j.fails_gate),
            (None, Baseline::New, true)
        );

        let mut dup = seen(2, 0);
        (dup.duplicate, dup.active) = (true, false);
        let j = rules.judge(dup);
        assert_eq!(j.triage, Some(Triage::Duplicate));
        assert_eq!((j.baseline, j.fails_gate), (Baseline::Unchanged, false));
        assert!(!Triage::Duplicate.suppresses());

        // False positive beats duplicate; inactive findings never fail.
        let mut fp = seen(3, 0);
        (fp.false_p, fp.duplicate) = (true, true);
        assert_eq!(rules.judge(fp).triage, Some(Triage::FalsePositive));
        let mut ra = seen(4, 0);
        (ra.risk_accepted, ra.active) = (true, false);
        let j = rules.judge(ra);
        assert_eq!(
            (j.triage, j.fails_gate),
            (Some(Triage::RiskAccepted), false)
        );
        let mut oos = seen(5, 0);
        oos.out_of_scope = true;
        assert_eq!(rules.judge(oos).triage, Some(Triage::OutOfScope));
    }

    #[test]
    fn a_new_finding_is_active_untriaged_and_made_by_this_import() {
        let standing = |id, active, duplicate, false_p| Standing {
            id,
            active,
            duplicate,
            false_p,
        };
        let import = NewRule {
            history: None,
            reactivated: false,
        };
        assert!(import.is_new(standing(1, true, false, false)));
        assert!(!import.is_new(standing(1, false, false, false)), "closed");
        assert!(!import.is_new(standing(1, true, true, false)), "duplicate");
        assert!(
            !import.is_new(standing(1, true, false, true)),
            "false positive"
        );

        let actions = Actions(HashMap::from([(1, 'N'), (2, 'R'), (3, 'C')]));
        for reactivated in [false, true] {
            let reimport = NewRule {
                history: Some(&actions),
                reactivated,
            };
            assert!(reimport.is_new(standing(1, true, false, false)));
            assert_eq!(
                reimport.is_new(standing(2, true, false, false)),
                reactivated
            );
            assert!(!reimport.is_new(standing(3, true, false, false)), "closed");
            assert!(
                !reimport.is_new(standing(4, true, false, false)),
                "untouched"
            );
            assert!(!reimport.is_new(standing(1, true, false, true)));
        }
    }

    #[test]
    fn the_threshold_picks_the_failures() {
        let rules = import(Some(1));
        assert!(rules.judge(seen(1, 0)).fails_gate);
        assert!(rules.judge(seen(2, 1)).fails_gate);
        assert!(!rules.judge(seen(3, 2)).fails_gate);
    }

    #[test]
    fn a_reimport_reads_its_history() {
        let actions = Actions(HashMap::from([(1, 'N'), (2, 'R'), (3, 'C')]));
        let mut rules = Rules {
            history: Some(&actions),
            threshold: None,
            fail_on_reactivated: false,
        };
        let created = rules.judge(seen(1, 2));
        assert_eq!(
            (created.baseline, created.fails_gate),
            (Baseline::New, true)
        );
        let reactivated = rules.judge(seen(2, 2));
        assert_eq!(
            (reactivated.baseline, reactivated.fails_gate),
            (Baseline::New, false)
        );
        let mut closed = seen(3, 2);
        (closed.active, closed.mitigated) = (false, true);
        let closed = rules.judge(closed);
        assert_eq!(
            (closed.baseline, closed.fails_gate),
            (Baseline::Absent, false)
        );
        let untouched = rules.judge(seen(4, 2));
        assert_eq!(
            (untouched.baseline, untouched.fails_gate),
            (Baseline::Unchanged, false)
        );

        rules.fail_on_reactivated = true;
        assert!(rules.judge(seen(2, 2)).fails_gate);
    }
}
