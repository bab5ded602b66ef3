//! The annotations dojo-hook reads (`defectdojo.securecodebox.io/…`): one
//! list, [`ANNOTATIONS`]. Every lookup goes through [`annotation`], which
//! checks in debug builds that the name is on the list, and the tests check
//! the README's annotation table, its secureCodeBox section and `--help`
//! against it, so the documentation cannot drift from what the code reads.

use crate::scan::Scan;
use crate::scan::resource::ANNOTATION_PREFIX;

/// Every annotation dojo-hook reads, without the prefix. Each also has a
/// variable, `DEFECTDOJO_` and the name in upper case with `_`
/// ([`super::variable_for`]), except the two spellings of the minimum
/// severity, which share `DEFECTDOJO_MINIMUM_SEVERITY`.
pub const ANNOTATIONS: &[&str] = &[
    // Where the results go (`names`).
    "product-type-name",
    "product-name",
    "product-description",
    "product-tags",
    "engagement-name",
    "engagement-version",
    "engagement-deduplicate-on-engagement",
    "engagement-tags",
    "engagement-end-date",
    "source-code-management-uri",
    "test-title",
    // What is imported and how (`import`).
    "import-mode",
    "test-tags",
    "scan-date",
    "minimum_severity",
    "minimum-severity",
    // DefectDojo's optional form fields, `x_y` as `x-y` (`form::FIELDS`).
    "active",
    "verified",
    "push-to-jira",
    "service",
    "environment",
    "group-by",
    "create-finding-groups-for-all-findings",
    "apply-tags-to-findings",
    "apply-tags-to-endpoints",
    "build-id",
    "commit-hash",
    "branch-tag",
    "api-scan-configuration",
    "endpoint-to-add",
    "deduplication-execution-mode",
    "close-old-findings",
    "close-old-findings-product-scope",
    "do-not-reactivate",
    // The CI reports (`outputs`).
    "sarif-output",
    "junit-output",
    "sarif-max-results",
];

/// The scan's annotation `name` (without prefix), trimmed, if set and not
/// blank. `name` must be on [`ANNOTATIONS`].
pub fn annotation(scan: &Scan, name: &str) -> Option<String> {
    debug_assert!(
        ANNOTATIONS.contains(&name),
        "annotation {name} is read but not in config::annotations::ANNOTATIONS"
    );
    scan.annotation(name)
}

/// Warns about `defectdojo.securecodebox.io/…` annotations (and flat scan
/// file keys) dojo-hook does not read: most likely a typo, which would
/// otherwise leave the default in place without a word.
pub fn warn_unknown(scan: &Scan) {
    let known: Vec<String> = ANNOTATIONS.iter().map(|a| a.to_string()).collect();
    let unknown = scan.annotations.keys().filter(|key| {
        key.strip_prefix(ANNOTATION_PREFIX)
            .is_some_and(|name| !ANNOTATIONS.contains(&name))
    });
    let mut more = 0;
    for (i, key) in unknown.enumerate() {
        if i >= UNKNOWN_WARNINGS {
            more += 1;
            continue;
        }
        let name = &key[ANNOTATION_PREFIX.len()..];
        let hint = match crate::util::suggest::nearest(name, &known) {
            Some(near) => format!(": did you mean {ANNOTATION_PREFIX}{near}?"),
            None => " (see dojo-hook --help for the annotations)".to_string(),
        };
        // The key is the user's (or a scan's author's): bounded, one line.
        let key = crate::util::text::cut(key, 200);
        log::warn!("unknown annotation {key} is ignored{hint}");
    }
    if more > 0 {
        log::warn!("… and {more} more unknown {ANNOTATION_PREFIX} annotations, ignored");
    }
}

/// Unknown annotations warned about one by one; the rest are counted, so a
/// Scan with thousands of them does not flood the log.
const UNKNOWN_WARNINGS: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn listed() -> BTreeSet<&'static str> {
        ANNOTATIONS.iter().copied().collect()
    }

    #[test]
    fn every_form_field_is_listed_once() {
        assert_eq!(listed().len(), ANNOTATIONS.len(), "a name is listed twice");
        for name in super::super::form::annotation_names() {
            assert!(listed().contains(name.as_str()), "{name} is not listed");
        }
    }

    /// The names in `text`: its words of lower-case letters, digits, `-`
    /// and `_`, but "or" and "and".
    fn names_in(text: &str) -> BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c)))
            .filter(|w| !w.is_empty() && !["or", "and"].contains(w))
            .map(str::to_string)
            .collect()
    }

    fn assert_same(what: &str, found: &BTreeSet<String>) {
        let want: BTreeSet<String> = ANNOTATIONS.iter().map(|a| a.to_string()).collect();
        let missing: Vec<_> = want.difference(found).collect();
        let unknown: Vec<_> = found.difference(&want).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "{what}: missing {missing:?}, not read by the code {unknown:?}"
        );
    }

    /// The lines of `text` from the one starting with `start` up to the
    /// next one starting with `end`.
    fn section<'t>(text: &'t str, start: &str, end: &str) -> Vec<&'t str> {
        text.lines()
            .skip_while(|l| !l.starts_with(start))
            .skip(1)
            .take_while(|l| !l.starts_with(end))
            .collect()
    }

    const README: &str = include_str!("../../README.md");

    #[test]
    fn the_readme_table_lists_every_annotation() {
        // What is between backticks in the first column of the table.
        let rows = section(README, "### Annotations", "#");
        let first: String = rows
            .iter()
            .filter(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('|').nth(1))
            .flat_map(|cell| cell.split('`').skip(1).step_by(2))
            .collect::<Vec<_>>()
            .join(" ");
        assert_same("README annotation table", &names_in(&first));
    }

    #[test]
    fn the_readme_securecodebox_section_lists_every_annotation() {
        // Every `…/name` (or the whole key) in the section's tables.
        let rows = section(README, "## Use with secureCodeBox", "## ");
        let named: String = rows
            .iter()
            .filter(|l| l.starts_with('|'))
            .map(|l| l.replace(&format!("`{ANNOTATION_PREFIX}"), "`…/"))
            .flat_map(|l| {
                l.split("`…/")
                    .skip(1)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter_map(|rest| rest.split('`').next().map(str::to_string))
            .collect::<Vec<_>>()
            .join(" ");
        assert_same("README secureCodeBox section", &names_in(&named));
    }

    #[test]
    fn help_lists_every_annotation() {
        // The left column of the ANNOTATIONS section of --help: what a
        // line holds before its first two blanks.
        let rows = section(crate::help::HELP, "ANNOTATIONS", "EXIT CODES");
        let left: String = rows
            .iter()
            .filter_map(|l| l.strip_prefix("    "))
            .filter(|l| !l.starts_with('('))
            .filter_map(|l| l.split("  ").next())
            .collect::<Vec<_>>()
            .join(" ");
        assert_same("--help", &names_in(&left));
    }
}
