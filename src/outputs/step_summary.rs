//! The Markdown summary a person reads, appended to `$GITHUB_STEP_SUMMARY`
//! when set, else written to `DEFECTDOJO_SUMMARY_FILE`: rendered (purely)
//! from the run's [`Summary`] and its new findings. A failure to write it
//! is a warning: the import stands.

use std::io::Write;
use std::path::Path;

use super::new_findings::NewFindings;
use super::summary::{BySeverity, Summary};
use super::{Output, Run};
use crate::error::Error;
use crate::inputs::Inputs;

pub(super) struct StepSummary;

impl Output for StepSummary {
    fn wanted(&self, inputs: &Inputs) -> bool {
        inputs.cfg.summary_file.is_some()
    }

    fn write(&self, run: &mut Run<'_>) -> Result<(), Error> {
        let Some((path, append)) = run.inputs.cfg.summary_file.clone() else {
            return Ok(());
        };
        run.new_findings()?;
        let new = run.new.as_ref().expect("read above");
        let markdown = render(&run.summary, &run.inputs.cfg.dojo_url, new);
        write_file(&path, append, &markdown);
        Ok(())
    }
}

/// Opened in place (never renamed over), so a link's target or a device
/// gets it; a named pipe is waited for as an output is.
fn write_file(path: &str, append: bool, markdown: &str) {
    let mut options = std::fs::OpenOptions::new();
    options
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append);
    let written = crate::storage::open_waiting(Path::new(path), &options, "reading")
        .and_then(|mut f| f.write_all(markdown.as_bytes()));
    match written {
        Ok(()) => log::info!("wrote the Markdown summary to {path}"),
        Err(e) => log::warn!("could not write the Markdown summary to {path}: {e}"),
    }
}

/// Renders the summary.
pub fn render(s: &Summary, base: &str, new: &NewFindings) -> String {
    let mut md = String::new();
    let verb = if s.import_mode == "reimport" {
        "reimported"
    } else {
        "imported"
    };
    md.push_str(&format!("## DefectDojo: {} {verb}\n\n", s.scan_type));
    md.push_str(&format!(
        "[Product]({base}/product/{}) · [Engagement]({base}/engagement/{}) · [Test {}]({})\n\n",
        s.product_id, s.engagement_id, s.test_id, s.test_url
    ));
    md.push_str("| | Critical | High | Medium | Low | Info | Total |\n|---|---:|---:|---:|---:|---:|---:|\n");
    let mut row = |name: &str, c: &BySeverity| {
        let cells: Vec<String> = c.row().iter().map(u64::to_string).collect();
        md.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    };
    row("New", &BySeverity::from_ranked(new.by_severity));
    if let Some(d) = &s.delta {
        row("Created", &d.created);
        row("Closed", &d.closed);
        row("Reactivated", &d.reactivated);
        row("Untouched", &d.untouched);
    }
    row("Duplicates", &s.duplicates_by_severity);
    row("In the test", &s.findings);
    md.push('\n');
    if let Some(gate) = &s.gate {
        let verdict = if gate.failed { "**failed**" } else { "passed" };
        md.push_str(&format!(
            "Build gate (`DEFECTDOJO_FAIL_ON={}`{}): {verdict}, {} new finding(s) at or above {}.\n\n",
            gate.fail_on,
            if gate.reactivated { ", reactivated count" } else { "" },
            gate.findings,
            gate.fail_on
        ));
    }
    if new.top.is_empty() {
        md.push_str("No new findings.\n");
    } else {
        md.push_str(&format!(
            "### The {} most severe new findings\n\n| Severity | Finding |\n|---|---|\n",
            new.top.len()
        ));
        for f in &new.top {
            md.push_str(&format!(
                "| {} | [{}]({}) |\n",
                f.severity,
                cell(&f.title),
                f.url
            ));
        }
    }
    md
}

/// A title made safe for a table cell and a link text: line breaks become
/// spaces, every other control or bidirectional character a visible escape
/// ([`crate::util::text::one_line`]), and Markdown's own characters are escaped.
fn cell(text: &str) -> String {
    crate::util::text::one_line(&text.replace(['\n', '\r'], " "))
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::new_findings::Shown;

    #[test]
    fn titles_cannot_break_the_table() {
        assert_eq!(cell("a | b [x]\nc"), "a \\| b \\[x\\] c");
        assert_eq!(cell("a\u{202E}b\tc"), "a\\\\u202Eb\\\\tc");
    }

    #[test]
    fn the_worst_titles_keep_the_summary_far_below_githubs_limit() {
        // Each title the longest shown, every character one that is escaped
        // (6 characters, doubled backslash: 7 bytes) and a severity the
        // server made up, for as many findings as are listed.
        let mut counter =
            crate::outputs::new_findings::NewCounter::new("https://dojo", None, false, None);
        let title = format!("x{}", "\u{202E}".repeat(1 << 20));
        for id in 0..100 {
            let mut seen = crate::convert::sync::Seen::example(id, &title, 4);
            seen.severity = "Catastrophic-and-a-megabyte-more";
            counter.seen(&seen);
        }
        let new = counter.finish();
        let md = render(&sample(), "https://dojo", &new);
        assert_eq!(new.top.len(), crate::outputs::new_findings::SHOWN);
        assert!(md.len() < 64 * 1024, "{} bytes", md.len());
        assert!(!md.contains('\u{202E}') && !md.contains("Catastrophic"));
    }

    #[test]
    fn lists_the_new_findings_with_links() {
        let summary = sample();
        let new = NewFindings {
            by_severity: [0, 1, 0, 0, 0],
            total: 1,
            top: vec![Shown {
                id: 7,
                title: "SQL Injection".into(),
                severity: "High".into(),
                url: "https://dojo/finding/7".into(),
            }],
            ..NewFindings::default()
        };
        let md = render(&summary, "https://dojo", &new);
        assert!(
            md.starts_with("## DefectDojo: Nmap Scan imported\n"),
            "{md}"
        );
        assert!(md.contains("[Test 3](https://dojo/test/3)"), "{md}");
        assert!(md.contains("| New | 0 | 1 | 0 | 0 | 0 | 1 |"), "{md}");
        assert!(
            md.contains("| High | [SQL Injection](https://dojo/finding/7) |"),
            "{md}"
        );
    }

    fn sample() -> Summary {
        Summary {
            mode: "import",
            import_mode: "import",
            ci: None,
            scheduled_scan: None,
            delta: None,
            scan_type: "Nmap Scan".into(),
            test_id: 3,
            test_url: "https://dojo/test/3".into(),
            engagement_id: 2,
            engagement_created: false,
            product_id: 1,
            product_type_id: 1,
            findings: BySeverity::default(),
            duplicates: 0,
            duplicates_by_severity: BySeverity::default(),
            new: None,
            gate: None,
            synced: None,
            body: "streamed".into(),
            fallback: None,
            removed_tests: Vec::new(),
            sarif: None,
            junit: None,
            dojo_requests: 0,
        }
    }
}
