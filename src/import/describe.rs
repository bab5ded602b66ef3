//! The test description the Java hook writes (`docs/java-hook.md`, "Test description"):
//!
//! ```text
//! # Nmap Scan
//! Started: 30.06.2010 01:20:00
//! Ended: 07.01.2019 16:50:03
//! ScanType: nmap
//! Parameters: [http://example.target]
//! ```
//!
//! Times are shown in the offset they were given in (the scan's creation
//! timestamp) or in UTC (the end), through [`crate::util::time`].

use crate::scan::Scan;

/// Builds the description. `now` is an RFC 3339 UTC timestamp.
pub fn test_description(scan: &Scan, dojo_type: &str, now: &str) -> String {
    let started = scan
        .created
        .as_deref()
        .and_then(german_datetime)
        .unwrap_or_else(|| "n/a".to_string());
    let ended = german_datetime(now).unwrap_or_else(|| "n/a".to_string());
    format!(
        "# {dojo_type}\nStarted: {started}\nEnded: {ended}\nScanType: {}\nParameters: [{}]",
        scan.scan_type.as_deref().unwrap_or(""),
        scan.parameters.join(",")
    )
}

/// `2010-06-30T01:20:00+02:00` → `30.06.2010 01:20:00` (its own offset).
fn german_datetime(ts: &str) -> Option<String> {
    crate::util::time::scan_datetime_parts(ts).map(|p| p.format_dd_mm_yyyy_hh_mm_ss())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_java_hooks_example() {
        let scan = Scan {
            created: Some("2010-06-30T01:20:00+02:00".into()),
            scan_type: Some("nmap".into()),
            parameters: vec!["http://example.target".into()],
            ..Scan::default()
        };
        assert_eq!(
            test_description(&scan, "Nmap Scan", "2019-01-07T16:50:03Z"),
            "# Nmap Scan\nStarted: 30.06.2010 01:20:00\nEnded: 07.01.2019 16:50:03\nScanType: nmap\nParameters: [http://example.target]"
        );
    }

    #[test]
    fn missing_parts() {
        let text = test_description(
            &Scan::default(),
            "Generic Findings Import",
            "2019-01-07T16:50:03.123Z",
        );
        assert_eq!(
            text,
            "# Generic Findings Import\nStarted: n/a\nEnded: 07.01.2019 16:50:03\nScanType: \nParameters: []"
        );
        let scan = Scan {
            parameters: vec!["a".into(), "b c".into()],
            ..Scan::default()
        };
        assert!(test_description(&scan, "x", "").ends_with("Parameters: [a,b c]"));
    }
}
