//! The small translations rules and results share: SARIF's level, GitHub's
//! `security-severity`, and text cut to a size GitHub displays.

use std::borrow::Cow;

use crate::convert::sync::Seen;

/// SARIF `level` of a severity rank (0 Critical … 4 Info).
pub(super) fn level(rank: usize) -> &'static str {
    match rank {
        0 | 1 => "error",
        2 => "warning",
        _ => "note",
    }
}

/// GitHub's `security-severity` (it maps > 9.0 to critical, 7.0–8.9 high,
/// 4.0–6.9 medium, 0.1–3.9 low): the CVSS score when there is a usable one,
/// else a score inside the severity's band. One decimal, so the JSON number
/// reads `8.0`, not `8.000000001`.
pub(super) fn security_severity(seen: &Seen<'_>) -> f64 {
    const BY_RANK: [f64; 5] = [9.5, 8.0, 5.5, 2.0, 0.0];
    let score = match seen.cvss_score {
        Some(s) if s > 0.0 && s <= 10.0 => s,
        _ => BY_RANK[seen.rank.min(4)],
    };
    (score * 10.0).round() / 10.0
}

/// `s` cut to at most `max` characters (at a character boundary), the last
/// one an ellipsis when anything was cut.
pub(super) fn cap(s: &str, max: usize) -> Cow<'_, str> {
    if max == 0 || s.char_indices().nth(max).is_none() {
        return Cow::Borrowed(s);
    }
    // nth(max) exists, so nth(max - 1) does too.
    let cut = s.char_indices().nth(max - 1).map_or(0, |(i, _)| i);
    Cow::Owned(format!("{}…", &s[..cut]))
}

/// [`cap`] for text that may already be owned.
pub(super) fn cap_cow(s: Cow<'_, str>, max: usize) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => cap(b, max),
        Cow::Owned(o) => Cow::Owned(cap(&o, max).into_owned()),
    }
}

/// Lowercase hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::sarif::tests::seen;

    #[test]
    fn levels_by_rank() {
        let levels: Vec<_> = (0..6).map(level).collect();
        assert_eq!(
            levels,
            ["error", "error", "warning", "note", "note", "note"]
        );
    }

    #[test]
    fn security_severity_prefers_a_usable_cvss_score() {
        let mut s = seen(1, "t");
        for (rank, want) in [(0, 9.5), (1, 8.0), (2, 5.5), (3, 2.0), (4, 0.0)] {
            s.rank = rank;
            assert_eq!(security_severity(&s), want, "rank {rank}");
        }
        s.rank = 1;
        for (cvss, want) in [
            (7.3, 7.3),
            (10.0, 10.0),
            (8.000_000_001, 8.0),
            (9.849_9, 9.8),
            (0.0, 8.0),
            (-1.0, 8.0),
            (10.5, 8.0),
            (f64::NAN, 8.0),
        ] {
            s.cvss_score = Some(cvss);
            assert_eq!(security_severity(&s), want, "cvss {cvss}");
        }
    }

    #[test]
    fn cap_cuts_at_a_char_boundary() {
        assert_eq!(cap("abc", 3), "abc");
        assert_eq!(cap("abcd", 3), "ab…");
        assert_eq!(cap("ééé", 3), "ééé");
        assert_eq!(cap("éééé", 3), "éé…");
        assert_eq!(cap("", 3), "");
        assert_eq!(cap(&"x".repeat(10_000), 1_000).chars().count(), 1_000);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
