//! The merge patch of a Scan's `status.findings` after a sync back.

use serde::Serialize;

use super::SYNCED_CATEGORY;
use crate::convert::sync::ReadBackCounts;

/// The merge patch of `status.findings` for what a sync back wrote (the
/// shape of the hook SDK's, byte for byte), removing the categories of
/// `categories_read` that no longer apply.
pub fn findings_patch(counts: &ReadBackCounts, categories_read: &[String]) -> String {
    #[derive(Serialize)]
    struct Patch<'a> {
        status: Status<'a>,
    }
    #[derive(Serialize)]
    struct Status<'a> {
        findings: FindingsStatus<'a>,
    }
    #[derive(Serialize)]
    struct FindingsStatus<'a> {
        count: u64,
        severities: Severities,
        categories: Categories<'a>,
    }
    /// The synced category with its count (if any findings), then every
    /// other category read as `null`.
    struct Categories<'a> {
        count: u64,
        read: &'a [String],
    }
    impl Serialize for Categories<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(None)?;
            if self.count > 0 {
                map.serialize_entry(SYNCED_CATEGORY, &self.count)?;
            }
            for stale in self.read {
                if self.count == 0 || stale != SYNCED_CATEGORY {
                    map.serialize_entry(stale, &())?;
                }
            }
            map.end()
        }
    }
    #[derive(Serialize)]
    struct Severities {
        informational: u64,
        low: u64,
        medium: u64,
        high: u64,
    }
    let patch = Patch {
        status: Status {
            findings: FindingsStatus {
                count: counts.total,
                severities: Severities {
                    informational: counts.informational,
                    low: counts.low,
                    medium: counts.medium,
                    high: counts.high,
                },
                categories: Categories {
                    count: counts.total,
                    read: categories_read,
                },
            },
        },
    };
    // Serialising plain structs of numbers and a string map cannot fail.
    serde_json::to_string(&patch).expect("the patch serialises")
}

/// The category names in a Scan's `status.findings` (absent: none).
pub(super) fn categories(scan_json: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(scan_json)
        .ok()
        .and_then(|v| {
            v["status"]["findings"]["categories"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(info: u64, low: u64, medium: u64, high: u64) -> ReadBackCounts {
        ReadBackCounts {
            total: info + low + medium + high,
            informational: info,
            low,
            medium,
            high,
            ..ReadBackCounts::default()
        }
    }

    #[test]
    fn patch_is_the_sdk_shape_byte_for_byte() {
        let want = include_str!("../../fixtures/k8s/findings-merge-patch.json");
        assert_eq!(findings_patch(&counts(1, 0, 1, 1), &[]), want.trim_end());
        let synced = [SYNCED_CATEGORY.to_string()];
        assert_eq!(
            findings_patch(&counts(1, 0, 1, 1), &synced),
            want.trim_end()
        );
        assert_eq!(
            findings_patch(&ReadBackCounts::default(), &[]),
            r#"{"status":{"findings":{"count":0,"severities":{"informational":0,"low":0,"medium":0,"high":0},"categories":{}}}}"#
        );
    }

    #[test]
    fn categories_read_from_the_scan_are_removed() {
        let scan = include_str!("../../fixtures/k8s/scan-scheduled.json");
        let read = categories(scan);
        assert_eq!(read.len(), 2);
        assert_eq!(
            findings_patch(&counts(0, 2, 0, 0), &read),
            r#"{"status":{"findings":{"count":2,"severities":{"informational":0,"low":2,"medium":0,"high":0},"categories":{"DefectDojo Imported Finding":2,"Content Security Policy (CSP) Header Not Set":null,"X-Content-Type-Options Header Missing":null}}}}"#
        );
        let synced = [SYNCED_CATEGORY.to_string()];
        assert_eq!(
            findings_patch(&ReadBackCounts::default(), &synced),
            r#"{"status":{"findings":{"count":0,"severities":{"informational":0,"low":0,"medium":0,"high":0},"categories":{"DefectDojo Imported Finding":null}}}}"#
        );
        assert!(categories(r#"{"status":{}}"#).is_empty());
    }
}
