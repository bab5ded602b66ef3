//! What a test's latest import did, as DefectDojo's import history
//! (`/api/v2/test_imports/`) records it: the findings it created (N),
//! reactivated (R) and closed (C). The reimport's new findings, the CI
//! reports' triage and the gate are judged against it.

use crate::convert::sync::IdSet;
use crate::convert::triage::History;
use crate::dojo::Dojo;
use crate::dojo::model::TestImport;
use crate::error::Error;

/// The latest import of a test, as compact id sets, so a reimport of a
/// million findings stays small.
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
