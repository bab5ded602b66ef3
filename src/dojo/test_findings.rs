//! Reads of a test's findings by filter: its open ones (active, not a
//! duplicate, not a false positive: [`NewRule::FILTER`]), page by page, for
//! the gate and the Markdown summary when no read-back happens to count them
//! on the way (which of them are new is still the rule's to say,
//! [`NewRule::is_new`]); and how many are duplicates, which deduplication's
//! wait polls.

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::convert::triage::{NewRule, Standing};
use crate::dojo::Dojo;
use crate::dojo::model::Page;
use crate::error::Error;

/// One open finding, as much of it as the gate shows.
#[derive(Deserialize)]
pub struct OpenFinding {
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

impl OpenFinding {
    /// What the new-finding rule judges.
    pub fn standing(&self) -> Standing {
        Standing {
            id: self.id,
            active: self.active != Some(false),
            duplicate: self.duplicate == Some(true),
            false_p: self.false_p == Some(true),
        }
    }

    /// Its title (empty when DefectDojo gave none).
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or_default()
    }

    /// DefectDojo's severity name (`Info` when it gave none).
    pub fn severity(&self) -> &str {
        self.severity.as_deref().unwrap_or("Info")
    }
}

/// Hands each open finding of test `test_id` to `f`, one page at a time.
pub fn each(dojo: &Dojo, test_id: u64, mut f: impl FnMut(&OpenFinding)) -> Result<(), Error> {
    let test = test_id.to_string();
    let mut params = vec![("test", test.as_str())];
    params.extend(NewRule::FILTER);
    dojo.each_page(
        "/api/v2/findings/",
        &params,
        250,
        "reading this run's new findings",
        |page: Vec<OpenFinding>| page.iter().for_each(&mut f),
    )
}

/// How many findings of test `test_id` DefectDojo marks as duplicates now
/// (`None` when its answer leaves the count out).
pub fn duplicate_count(dojo: &Dojo, test_id: u64) -> Result<Option<u64>, Error> {
    let path = format!("/api/v2/findings/?test={test_id}&duplicate=true&limit=1");
    let page: Page<IgnoredAny> = dojo.get(&path, "polling the test's duplicate count")?;
    Ok(page.count)
}
