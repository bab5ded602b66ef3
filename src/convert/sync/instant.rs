//! DefectDojo timestamps → `parsed_at` in Java's `Instant.toString` style.
//!
//! The Java hook wrote `created` through `Instant.toString()`: UTC with a
//! `Z`, and the fraction only when it is not zero, in groups of three digits
//! (`…:18Z`, `…:24.760Z`, `…:39.102682Z`). Consumers compare these strings,
//! so the port writes exactly that. This is a small private parser on
//! purpose: it accepts what Django REST framework writes (RFC 3339 with `Z`
//! or an offset) and nothing clever.

/// Converts an ISO-8601 date-time to the UTC `Instant.toString` form, or
/// `None` when it is not one.
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM|±HHMM]`, `T` or a
/// space between date and time; no zone means UTC (Django writes `Z` when
/// `USE_TZ` is on, and nothing else makes sense for a server timestamp).
/// Digits past nanoseconds are cut off, as `Instant` does.
pub(crate) fn to_utc_instant(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }

    let mut rest = &b[19..];
    let mut nanos = 0i64;
    if let Some((b'.', tail)) = rest.split_first() {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, c) in tail[..n].iter().enumerate() {
            if i < 9 {
                nanos = nanos * 10 + i64::from(c - b'0');
            }
        }
        for _ in n..9 {
            nanos *= 10;
        }
        rest = &tail[n..];
    }

    let offset_seconds = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let (h, m) = match zone {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let s = h * 3600 + m * 60;
            if *sign == b'-' { -s } else { s }
        }
        _ => return None,
    };

    // Local time minus the offset is UTC.
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = local - offset_seconds;
    let (days, secs) = (utc.div_euclid(86_400), utc.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }

    // Written digit by digit: this runs for every finding and its original,
    // and `format!` cost half of it.
    let mut out = String::with_capacity(30);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, mo, 2);
    out.push('-');
    push_digits(&mut out, d, 2);
    out.push('T');
    push_digits(&mut out, secs / 3600, 2);
    out.push(':');
    push_digits(&mut out, secs % 3600 / 60, 2);
    out.push(':');
    push_digits(&mut out, secs % 60, 2);
    if nanos != 0 {
        out.push('.');
        if nanos % 1_000_000 == 0 {
            push_digits(&mut out, nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            push_digits(&mut out, nanos / 1_000, 6);
        } else {
            push_digits(&mut out, nanos, 9);
        }
    }
    out.push('Z');
    Some(out)
}

/// Appends the last `width` decimal digits of `n` (0 ≤ n), zero-padded.
fn push_digits(out: &mut String, n: i64, width: u32) {
    for k in (0..width).rev() {
        let digit = n / 10i64.pow(k) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's `days_from_civil` / `civil_from_days`
// (https://howardhinnant.github.io/date_algorithms.html): proleptic
// Gregorian calendar, day 0 = 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_passes_through_in_java_style() {
        let cases = [
            ("2026-11-27T21:01:39.102682Z", "2026-11-27T21:01:39.102682Z"),
            ("2020-04-15T20:08:18Z", "2020-04-15T20:08:18Z"),
            ("2020-04-15T20:08:18.000Z", "2020-04-15T20:08:18Z"),
            ("2022-04-05T12:29:24.760000Z", "2022-04-05T12:29:24.760Z"),
            ("2022-04-05T12:29:24.7Z", "2022-04-05T12:29:24.700Z"),
            (
                "2022-04-05T12:29:24.7600001Z",
                "2022-04-05T12:29:24.760000100Z",
            ),
            (
                "2022-04-05T12:29:24.123456789987Z",
                "2022-04-05T12:29:24.123456789Z",
            ),
            ("2022-04-05 12:29:24", "2022-04-05T12:29:24Z"),
        ];
        for (input, want) in cases {
            assert_eq!(to_utc_instant(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn offsets_are_converted_to_z() {
        let cases = [
            (
                "2026-11-27T22:01:39.102682+01:00",
                "2026-11-27T21:01:39.102682Z",
            ),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"),
            ("2024-02-28T23:00:00-0200", "2024-02-29T01:00:00Z"),
            ("2023-12-31T23:59:59-05", "2024-01-01T04:59:59Z"),
            ("2026-11-27T21:01:39+00:00", "2026-11-27T21:01:39Z"),
        ];
        for (input, want) in cases {
            assert_eq!(to_utc_instant(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn garbage_is_rejected() {
        for input in [
            "",
            "2026-11-27",
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T21:01:39.Z",
            "2026-11-27T21:01:39 UTC",
            "2026-11-27T21:01:39+1:00",
            "2026-11-27T21:01:3xZ",
        ] {
            assert_eq!(to_utc_instant(input), None, "{input}");
        }
    }

    #[test]
    fn calendar_round_trips() {
        for days in [-719_468, -1, 0, 59, 10_957, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
