//! What a failed import leaves behind in DefectDojo, and its removal.
//!
//! DefectDojo creates the test before its parser runs and saves findings one
//! by one, so an import that fails halfway (a parser crash, a finding that
//! cannot be saved, a lost answer) can leave a test holding part of the
//! report: a real `trivy k8s` report left 619 of 672 findings behind a 500.
//! A test is this run's own when it was not in the snapshot of the
//! engagement taken before the import ([`Before`]), has the import's title and
//! scan type, and was created after the run started. Those are removed,
//! whatever they hold, before anything else is imported: a half-imported test
//! next to a fallback import doubles the findings and makes DefectDojo call
//! the complete import's findings duplicates of the broken one.
//!
//! A reimport that fails halfway cannot be undone this way (its test holds
//! earlier runs' history), so [`reimport_damage`] only says what it may have
//! changed.

use serde::Serialize;
use serde::de::IgnoredAny;

use super::model::{Page, Test, TestImport};
use super::{Dojo, Method};
use crate::error::Error;

/// A server clock this far behind ours still counts its tests as created
/// during the run. The snapshot is what keeps older tests safe; the creation
/// time only guards against a test the snapshot missed.
const CLOCK_SKEW_SECONDS: i64 = 600;

/// The engagement's tests before the import.
#[derive(Debug, Clone, Default)]
pub struct Before {
    /// Ids of the engagement's tests with the import's title.
    pub tests: Vec<u64>,
    /// When the run started, in Unix seconds of our clock.
    pub started: i64,
}

/// A test removed after a failed import.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Removed {
    /// Its id.
    pub id: u64,
    /// How many findings it held.
    pub findings: u64,
}

/// What a reimport's test held before the reimport.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReimportBefore {
    /// Rows of its import history; `None` if they could not be counted.
    pub imports: Option<u64>,
    /// Its findings; `None` if they could not be counted.
    pub findings: Option<u64>,
}

/// True when `test` is this run's own (see the module docs).
pub fn is_own(test: &Test, title: &str, scan_type: &str, before: &Before) -> bool {
    let created = test
        .created
        .as_deref()
        .and_then(crate::time::scan_datetime_parts)
        .map(|p| p.unix_seconds());
    !before.tests.contains(&test.id)
        && test.title.as_deref() == Some(title)
        && test.scan_type.as_deref() == Some(scan_type)
        // A test without a creation time is judged by the snapshot alone.
        && created.is_none_or(|c| c >= before.started - CLOCK_SKEW_SECONDS)
}

/// The tests of `engagement` that this run's import created.
pub fn own_tests(
    dojo: &Dojo,
    engagement: u64,
    title: &str,
    scan_type: &str,
    before: &Before,
) -> Result<Vec<u64>, Error> {
    let tests: Vec<Test> = dojo.list(
        "/api/v2/tests/",
        &[("engagement", &engagement.to_string()), ("title", title)],
        "looking for a test the failed import left behind",
        |t: &Test| is_own(t, title, scan_type, before),
    )?;
    Ok(tests.iter().map(|t| t.id).collect())
}

/// Removes the tests this run's failed import created and returns them.
/// `Err` is a sentence for the import's error: which test could not be
/// removed, what it holds, and what to do; nothing may be imported then.
pub fn remove_own_tests(
    dojo: &Dojo,
    engagement: u64,
    title: &str,
    scan_type: &str,
    before: &Before,
) -> Result<Vec<Removed>, String> {
    let ids = own_tests(dojo, engagement, title, scan_type, before).map_err(|e| {
        format!(
            "whether it left a test behind could not be checked ({e}): check engagement \
             {engagement} for a test \"{title}\" and delete it if it is incomplete"
        )
    })?;
    let mut removed = Vec::new();
    for id in ids {
        let findings = test_findings(dojo, id);
        match delete_test(dojo, id) {
            Ok(()) => {
                let findings = findings.unwrap_or(0);
                log::warn!(
                    "the failed import left test {id} behind with {findings} finding(s): removed it"
                );
                removed.push(Removed { id, findings });
            }
            Err(e) => return Err(stuck(dojo.base(), id, findings, &e, &removed)),
        }
    }
    Ok(removed)
}

/// The sentence for a test that stays behind.
fn stuck(base: &str, id: u64, findings: Option<u64>, why: &Error, removed: &[Removed]) -> String {
    let holds = match findings {
        Some(n) => format!("holding {n} finding(s)"),
        None => "holding an unknown number of findings".to_string(),
    };
    let mut text = format!(
        "it left test {id} behind ({base}/test/{id}, {holds}), which could not be removed \
         ({why}): delete that test in DefectDojo, or give the API key's user the right to \
         delete tests, then run again; nothing else was imported, so that no half-imported \
         test sits next to a complete one"
    );
    if !removed.is_empty() {
        let ids: Vec<String> = removed.iter().map(|r| r.id.to_string()).collect();
        text.push_str(&format!(" (removed before it: test {})", ids.join(", ")));
    }
    text
}

/// Deletes a test; one already gone counts as deleted (a retried DELETE
/// whose first answer was lost finds it gone).
fn delete_test(dojo: &Dojo, id: u64) -> Result<(), Error> {
    match dojo.call(
        Method::Delete,
        &format!("/api/v2/tests/{id}/"),
        None,
        "deleting the test the failed import left behind",
    ) {
        Ok(_) | Err(Error::Http { status: 404, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// How many findings a test holds; `None` if DefectDojo does not say.
fn test_findings(dojo: &Dojo, id: u64) -> Option<u64> {
    let page: Result<Page<IgnoredAny>, Error> = dojo.get(
        &format!("/api/v2/findings/?test={id}&limit=1"),
        "counting the findings of a test",
    );
    match page {
        Ok(page) => page.count,
        Err(e) => {
            log::debug!("cannot count the findings of test {id}: {e}");
            None
        }
    }
}

/// The number of imports and reimports DefectDojo recorded for `test`;
/// `None` if it cannot tell.
pub fn import_count(dojo: &Dojo, test: u64) -> Option<u64> {
    let page: Result<Page<IgnoredAny>, Error> = dojo.get(
        &format!("/api/v2/test_imports/?test={test}&limit=1"),
        "counting the test's imports",
    );
    match page {
        Ok(page) => page.count,
        Err(e) => {
            log::debug!("cannot count the imports of test {test}: {e}");
            None
        }
    }
}

/// What a reimport's test holds before the reimport is sent.
pub fn before_reimport(dojo: &Dojo, test: u64) -> ReimportBefore {
    ReimportBefore {
        imports: import_count(dojo, test),
        findings: test_findings(dojo, test),
    }
}

/// A sentence on what a failed reimport into `test` may have changed, read
/// from the test's import history and findings.
pub fn reimport_damage(dojo: &Dojo, test: u64, before: &ReimportBefore) -> String {
    let url = format!("{}/test/{test}", dojo.base());
    let findings = match (before.findings, test_findings(dojo, test)) {
        (Some(b), Some(n)) => format!("it holds {n} finding(s), {b} before the reimport"),
        (None, Some(n)) => format!("it holds {n} finding(s)"),
        _ => "its findings could not be counted".to_string(),
    };
    let history = match history_since(dojo, test, before.imports) {
        Ok(Some(actions)) => format!("DefectDojo recorded the reimport: {actions}"),
        Ok(None) => "DefectDojo recorded no import for it, so findings it created or \
                     reactivated before failing are in the test without an entry in its \
                     history, and findings missing from the report were not closed"
            .to_string(),
        Err(e) => format!("its import history could not be read ({e})"),
    };
    format!(
        "the reimport into test {test} ({url}) failed halfway and cannot be undone by \
         dojo-hook (the test holds earlier runs' history): {history}; {findings}; nothing else \
         was imported: check the test, fix the cause and run again (a complete reimport \
         settles the test)"
    )
}

/// The actions of the imports recorded after the first `before` ones,
/// summed (`created 3, closed 1, …`); `None` if there are none.
fn history_since(dojo: &Dojo, test: u64, before: Option<u64>) -> Result<Option<String>, Error> {
    let Some(before) = before else {
        return Ok(None);
    };
    let mut imports: Vec<TestImport> = dojo.list(
        "/api/v2/test_imports/",
        &[("test", &test.to_string())],
        "reading the test's import history",
        |_| true,
    )?;
    imports.sort_by_key(|i| i.id);
    let new = imports.get(before as usize..).unwrap_or_default();
    if new.is_empty() {
        return Ok(None);
    }
    let mut counts = [0u64; 4];
    for action in new.iter().flat_map(|i| &i.test_import_finding_action_set) {
        if let Some(at) = ["N", "C", "R", "U"]
            .iter()
            .position(|c| *c == action.action)
        {
            counts[at] += 1;
        }
    }
    Ok(Some(format!(
        "created {}, closed {}, reactivated {}, untouched {}",
        counts[0], counts[1], counts[2], counts[3]
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(id: u64, title: &str, scan_type: &str, created: Option<&str>) -> Test {
        Test {
            id,
            title: Some(title.into()),
            scan_type: Some(scan_type.into()),
            created: created.map(str::to_string),
        }
    }

    fn before(tests: &[u64]) -> Before {
        Before {
            tests: tests.to_vec(),
            // 2026-11-27T21:54:00Z
            started: 1_795_816_440,
        }
    }

    #[test]
    fn a_new_test_with_the_title_and_type_is_own_whatever_it_holds() {
        let t = test(
            9,
            "scan-1",
            "Trivy Scan",
            Some("2026-11-27T21:54:42.687535Z"),
        );
        assert!(is_own(&t, "scan-1", "Trivy Scan", &before(&[3])));
    }

    #[test]
    fn a_test_of_the_snapshot_is_never_own() {
        let t = test(3, "scan-1", "Trivy Scan", Some("2026-11-27T21:54:42Z"));
        assert!(!is_own(&t, "scan-1", "Trivy Scan", &before(&[3])));
    }

    #[test]
    fn another_title_or_scan_type_is_not_own() {
        let t = test(9, "scan-1", "Trivy Scan", Some("2026-11-27T21:54:42Z"));
        assert!(!is_own(&t, "scan-2", "Trivy Scan", &before(&[])));
        assert!(!is_own(
            &t,
            "scan-1",
            "Generic Findings Import",
            &before(&[])
        ));
    }

    #[test]
    fn a_test_created_before_the_run_is_not_own() {
        // An hour before the run started: outside any clock skew.
        let t = test(9, "scan-1", "Trivy Scan", Some("2026-11-27T20:54:00Z"));
        assert!(!is_own(&t, "scan-1", "Trivy Scan", &before(&[])));
        // A server clock five minutes behind ours.
        let t = test(9, "scan-1", "Trivy Scan", Some("2026-11-27T21:49:00+00:00"));
        assert!(is_own(&t, "scan-1", "Trivy Scan", &before(&[])));
    }

    #[test]
    fn without_a_creation_time_the_snapshot_decides() {
        let t = test(9, "scan-1", "Trivy Scan", None);
        assert!(is_own(&t, "scan-1", "Trivy Scan", &before(&[])));
        assert!(!is_own(&t, "scan-1", "Trivy Scan", &before(&[9])));
    }

    #[test]
    fn the_stuck_sentence_names_the_test_its_findings_and_the_fix() {
        let why = Error::Http {
            what: "deleting".into(),
            status: 403,
            detail: "You do not have permission to perform this action.".into(),
        };
        let removed = [Removed { id: 7, findings: 0 }];
        let s = stuck("https://dojo", 12, Some(619), &why, &removed);
        assert!(s.contains("test 12"), "{s}");
        assert!(s.contains("https://dojo/test/12"), "{s}");
        assert!(s.contains("619 finding(s)"), "{s}");
        assert!(s.contains("delete that test"), "{s}");
        assert!(s.contains("removed before it: test 7"), "{s}");
    }
}
