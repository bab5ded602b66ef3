//! What a failed import leaves behind in DefectDojo, and its removal.
//!
//! DefectDojo creates the test before its parser runs and saves findings one
//! by one, so an import that fails halfway (a parser crash, a finding that
//! cannot be saved, a lost answer) can leave a test holding part of the
//! report: a real `trivy k8s` report left 619 of 672 findings behind a 500.
//! A test is this run's own when it carries this run's temporary title
//! ([`super::own`]): no other run's test can, whatever the engagement holds
//! and whatever runs at the same time. Those are removed, whatever they
//! hold, before anything else is imported: a half-imported test next to a
//! fallback import doubles the findings and makes DefectDojo call the
//! complete import's findings duplicates of the broken one.
//!
//! A reimport that fails halfway cannot be undone this way (its test holds
//! earlier runs' history), so [`reimport_damage`] only says what it may have
//! changed.

use serde::Serialize;
use serde::de::IgnoredAny;

use super::model::{Page, TestImport};
use super::{Dojo, Method, own};
use crate::error::Error;

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
}

/// Removes the tests this run's failed import created (those titled
/// `temporary` in `engagement`) and returns them. `Err` is a sentence for
/// the import's error: which test could not be removed, what it holds, and
/// what to do; nothing may be imported then.
pub fn remove_own_tests(
    dojo: &Dojo,
    engagement: u64,
    temporary: &str,
) -> Result<Vec<Removed>, String> {
    let ids = own::own_tests(dojo, engagement, temporary).map_err(|e| {
        format!(
            "whether it left a test behind could not be checked ({e}): check engagement \
             {engagement} for a test \"{temporary}\" and delete it"
        )
    })?;
    remove_tests(dojo, &ids, "the failed import left")
}

/// Removes tests of this run (`left` says what left them: "the failed
/// import left"); see [`remove_own_tests`].
pub fn remove_tests(dojo: &Dojo, ids: &[u64], left: &str) -> Result<Vec<Removed>, String> {
    let mut removed = Vec::new();
    for &id in ids {
        let findings = test_findings(dojo, id);
        match delete_test(dojo, id) {
            Ok(()) => {
                let findings = findings.unwrap_or(0);
                log::warn!("{left} test {id} behind with {findings} finding(s): removed it");
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
pub fn delete_test(dojo: &Dojo, id: u64) -> Result<(), Error> {
    match dojo.call(
        Method::Delete,
        &format!("/api/v2/tests/{id}/"),
        None,
        &format!("deleting test {id} of this run"),
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
    }
}

/// A sentence on what a failed reimport into `test` may have changed, read
/// from the test's import history and findings.
pub fn reimport_damage(dojo: &Dojo, test: u64, before: &ReimportBefore) -> String {
    let url = format!("{}/test/{test}", dojo.base());
    let findings = match test_findings(dojo, test) {
        Some(n) => format!("it holds {n} finding(s)"),
        None => "its findings could not be counted".to_string(),
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
