//! Dates and timestamps without a date crate.
//!
//! Owns the calendar arithmetic (days ↔ civil date, proleptic Gregorian,
//! UTC only) and the few timestamp shapes dojo-hook reads and writes:
//!
//! * RFC 3339 / ISO 8601 timestamps from secureCodeBox findings and
//!   Kubernetes (`2024-01-01T12:00:00Z`, `2020-04-15T20:08:18.153+02:00`);
//! * DefectDojo's `created` (`2026-11-27T21:01:39.102682Z`), re-emitted in the
//!   style of Java's `Instant.toString` for the sync-back;
//! * the Java hook's display formats (`dd.MM.yyyy HH:mm:ss`,
//!   `yyyy-MM-dd HH:mm:ssZ`).
//!
//! Accepted input (decided here, documented once): `YYYY-MM-DD`, then `T`,
//! `t` or a space, then `HH:MM` with **optional** `:SS` (Java's
//! `OffsetDateTime` accepts `2010-06-30T01:20+02:00`, and the hook's tests use
//! it) and an optional fraction after `.` or `,` (any number of digits; digits
//! past nanoseconds are ignored), then a zone: `Z`, `z`, `±HH:MM`, `±HHMM` or
//! `±HH`. A timestamp without a zone is rejected, since its instant is unknown.
//! A leap second (`:60`) is read as `:59`. Years are limited to 0000–9999.
//!
//! Nothing here reads the local time zone: "today" and "now" are UTC, which is
//! what the Java hook produces in its container (JVM zone = UTC).

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1–12).
///
/// Howard Hinnant's `days_from_civil`; exact for every `i64` year that does
/// not overflow.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
///
/// Inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` (1–12) of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A timestamp split into its wall-clock fields plus the UTC offset they are
/// expressed in.
///
/// [`scan_datetime_parts`] keeps the offset of the input; [`Self::to_utc`]
/// moves the fields to offset zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTimeParts {
    /// Year, 0–9999.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
    /// Fraction of the second, in nanoseconds.
    pub nanos: u32,
    /// Offset from UTC in minutes (`+02:00` → 120).
    pub offset_minutes: i32,
}

impl DateTimeParts {
    /// Seconds since the Unix epoch of this instant (ignoring `nanos`).
    pub fn unix_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECONDS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    /// The same instant with offset zero, or `None` if that falls outside
    /// the years 0000–9999.
    pub fn to_utc(self) -> Option<DateTimeParts> {
        let mut utc = from_unix_seconds(self.unix_seconds())?;
        utc.nanos = self.nanos;
        Some(utc)
    }

    /// `yyyy-MM-dd` of the wall-clock date.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `dd.MM.yyyy HH:mm:ss` in this value's own offset (the Java hook's
    /// `Started:` line of the test description).
    pub fn format_dd_mm_yyyy_hh_mm_ss(&self) -> String {
        format!(
            "{:02}.{:02}.{:04} {:02}:{:02}:{:02}",
            self.day, self.month, self.year, self.hour, self.minute, self.second
        )
    }

    /// UTC `Instant.toString` style: `2026-11-27T21:01:39.102682Z`, the
    /// fraction in groups of three digits and left out when zero. Returns
    /// `None` if the UTC year falls outside 0000–9999.
    pub fn format_instant(&self) -> Option<String> {
        let u = self.to_utc()?;
        // Written digit by digit: this runs for every finding read back and
        // its original, and `format!` cost half of it.
        let mut s = String::with_capacity(30);
        push_digits(&mut s, u.year as u32, 4);
        s.push('-');
        push_digits(&mut s, u.month, 2);
        s.push('-');
        push_digits(&mut s, u.day, 2);
        s.push('T');
        push_digits(&mut s, u.hour, 2);
        s.push(':');
        push_digits(&mut s, u.minute, 2);
        s.push(':');
        push_digits(&mut s, u.second, 2);
        let n = u.nanos;
        if n != 0 {
            // Groups of three digits, as Java prints them.
            s.push('.');
            if n % 1_000_000 == 0 {
                push_digits(&mut s, n / 1_000_000, 3);
            } else if n % 1_000 == 0 {
                push_digits(&mut s, n / 1_000, 6);
            } else {
                push_digits(&mut s, n, 9);
            }
        }
        s.push('Z');
        Some(s)
    }
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for k in (0..width).rev() {
        let digit = n / 10u32.pow(k) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// The UTC fields of a Unix timestamp, or `None` outside the years 0000–9999.
fn from_unix_seconds(secs: i64) -> Option<DateTimeParts> {
    let days = secs.div_euclid(SECONDS_PER_DAY);
    let sod = secs.rem_euclid(SECONDS_PER_DAY) as u32;
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(DateTimeParts {
        year,
        month,
        day,
        hour: sod / 3600,
        minute: sod / 60 % 60,
        second: sod % 60,
        nanos: 0,
        offset_minutes: 0,
    })
}

/// Now, as UTC fields (millisecond precision).
pub fn now_utc_parts() -> DateTimeParts {
    // A clock before 1970 is a broken clock; the epoch is as good as any.
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(0);
    let mut parts = from_unix_seconds(secs).unwrap_or(DateTimeParts {
        year: 1970,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset_minutes: 0,
    });
    parts.nanos = since.subsec_millis() * 1_000_000;
    parts
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today_utc() -> String {
    now_utc_parts().date()
}

/// Now in UTC as RFC 3339 with milliseconds, `2026-11-27T20:46:12.145Z` (the
/// shape secureCodeBox writes into `parsed_at`).
pub fn now_utc_rfc3339() -> String {
    let p = now_utc_parts();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        p.year,
        p.month,
        p.day,
        p.hour,
        p.minute,
        p.second,
        p.nanos / 1_000_000
    )
}

/// Parses a timestamp (see the module docs for the accepted shapes) into
/// its fields, keeping its own offset. `None` if it is not one.
pub fn scan_datetime_parts(s: &str) -> Option<DateTimeParts> {
    parse(s, false)
}

/// Parses a timestamp as [`scan_datetime_parts`] does, except that a
/// missing zone means UTC (`zone_optional`): a server's own timestamps
/// (Django without `USE_TZ` writes none) have no other sensible reading.
fn parse(s: &str, zone_optional: bool) -> Option<DateTimeParts> {
    let mut p = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = i64::from(p.digits(4)?);
    p.expect(b'-')?;
    let month = p.digits(2)?;
    p.expect(b'-')?;
    let day = p.digits(2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    match p.next()? {
        b'T' | b't' | b' ' => {}
        _ => return None,
    }
    let hour = p.digits(2)?;
    p.expect(b':')?;
    let minute = p.digits(2)?;
    let mut second = 0;
    let mut nanos = 0;
    if p.peek() == Some(b':') {
        p.i += 1;
        second = p.digits(2)?;
        if matches!(p.peek(), Some(b'.' | b',')) {
            p.i += 1;
            nanos = p.fraction()?;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let second = second.min(59);
    let offset_minutes = match p.next() {
        None if zone_optional => 0,
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let h = p.digits(2)?;
            let m = match p.peek() {
                Some(b':') => {
                    p.i += 1;
                    p.digits(2)?
                }
                Some(_) => p.digits(2)?,
                None => 0,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let off = (h * 60 + m) as i32;
            if sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    if p.i != p.b.len() {
        return None;
    }
    Some(DateTimeParts {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset_minutes,
    })
}

/// The UTC date (`YYYY-MM-DD`) of a timestamp, or `None` if it cannot be
/// parsed (see the module docs).
pub fn parse_rfc3339_to_utc_date(s: &str) -> Option<String> {
    scan_datetime_parts(s)?.to_utc().map(|u| u.date())
}

/// Converts a DefectDojo timestamp (`2026-11-27T21:01:39.102682Z`, with an
/// offset, or without a zone for UTC) to UTC in `Instant.toString` style, as
/// the Java hook wrote `parsed_at`; `None` if unparseable.
pub fn format_created(s: &str) -> Option<String> {
    parse(s, true)?.format_instant()
}

/// A tiny byte cursor for the timestamp grammar.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.next()?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }

    /// One or more fraction digits, as nanoseconds (extra digits dropped).
    fn fraction(&mut self) -> Option<u32> {
        let start = self.i;
        let mut nanos = 0u32;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            let pos = self.i - start;
            if pos < 9 {
                nanos += u32::from(c - b'0') * 10u32.pow(8 - pos as u32);
            }
            self.i += 1;
        }
        (self.i > start).then_some(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_over_four_centuries() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2024));
        assert!(is_leap_year(2000));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2023));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(
            parse_rfc3339_to_utc_date("2024-02-29T10:00:00Z").as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_rfc3339_to_utc_date("2023-02-29T10:00:00Z"), None);
        assert_eq!(parse_rfc3339_to_utc_date("1900-02-29T10:00:00Z"), None);
        assert_eq!(
            parse_rfc3339_to_utc_date("2000-02-29T23:30:00-01:00").as_deref(),
            Some("2000-03-01")
        );
    }

    #[test]
    fn utc_dates_of_the_java_hooks_test_cases() {
        let d = |s| parse_rfc3339_to_utc_date(s);
        assert_eq!(d("2020-04-15T12:27:28.153Z").as_deref(), Some("2020-04-15"));
        assert_eq!(d("2030-12-01T14:22:28Z").as_deref(), Some("2030-12-01"));
        assert_eq!(d("2020-04-15T20:08:18.000Z").as_deref(), Some("2020-04-15"));
    }

    #[test]
    fn offsets_crossing_midnight() {
        let d = |s| parse_rfc3339_to_utc_date(s);
        assert_eq!(
            d("2024-01-01T00:30:00+01:00").as_deref(),
            Some("2023-12-31")
        );
        assert_eq!(
            d("2023-12-31T23:30:00-01:00").as_deref(),
            Some("2024-01-01")
        );
        assert_eq!(d("2024-03-01T01:00:00+0200").as_deref(), Some("2024-02-29"));
        assert_eq!(d("2024-01-01T05:00:00+05").as_deref(), Some("2024-01-01"));
        assert_eq!(d("2024-01-01T04:59:59+05").as_deref(), Some("2023-12-31"));
    }

    #[test]
    fn accepted_and_rejected_shapes() {
        let d = |s| parse_rfc3339_to_utc_date(s);
        // documented leniencies
        assert_eq!(d("2010-06-30T01:20+02:00").as_deref(), Some("2010-06-29"));
        assert_eq!(d("2024-01-01 12:00:00z").as_deref(), Some("2024-01-01"));
        assert_eq!(d("2024-01-01t12:00:00,5Z").as_deref(), Some("2024-01-01"));
        assert_eq!(d("2016-12-31T23:59:60Z").as_deref(), Some("2016-12-31"));
        // rejected
        for bad in [
            "",
            "2024-01-01",
            "2024-01-01T12:00:00",
            "2024-1-01T12:00:00Z",
            "2024-13-01T12:00:00Z",
            "2024-04-31T12:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T12:60:00Z",
            "2024-01-01T12:00:00.Z",
            "2024-01-01T12:00:00+2400",
            "2024-01-01T12:00:00+01:0",
            "2024-01-01T12:00:00Z ",
            "2024-01-01T12:00:00ZZ",
            "yesterday",
            "2024-01-01T12:00:00+01:00:00",
        ] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn created_is_formatted_like_java_instant() {
        let f = |s| format_created(s);
        assert_eq!(
            f("2026-11-27T21:01:39.102682Z").as_deref(),
            Some("2026-11-27T21:01:39.102682Z")
        );
        assert_eq!(
            f("2022-04-05T12:29:24.760758Z").as_deref(),
            Some("2022-04-05T12:29:24.760758Z")
        );
        assert_eq!(
            f("2020-04-15T20:08:18.000Z").as_deref(),
            Some("2020-04-15T20:08:18Z")
        );
        assert_eq!(
            f("2020-04-15T20:08:18.100Z").as_deref(),
            Some("2020-04-15T20:08:18.100Z")
        );
        assert_eq!(
            f("2020-04-15T20:08:18.1Z").as_deref(),
            Some("2020-04-15T20:08:18.100Z")
        );
        assert_eq!(
            f("2020-04-15T20:08:18.100200Z").as_deref(),
            Some("2020-04-15T20:08:18.100200Z")
        );
        assert_eq!(
            f("2020-04-15T20:08:18.000000001Z").as_deref(),
            Some("2020-04-15T20:08:18.000000001Z")
        );
        assert_eq!(
            f("2020-04-15T20:08:18.0000000019Z").as_deref(),
            Some("2020-04-15T20:08:18.000000001Z")
        );
        assert_eq!(
            f("2026-11-28T00:01:39.5+01:00").as_deref(),
            Some("2026-11-27T23:01:39.500Z")
        );
        assert_eq!(f("0000-01-01T00:30:00+01:00"), None);
        assert_eq!(f("not a date"), None);
    }

    #[test]
    fn created_without_a_zone_is_utc() {
        assert_eq!(
            format_created("2022-04-05 12:29:24").as_deref(),
            Some("2022-04-05T12:29:24Z")
        );
        assert_eq!(
            format_created("2022-04-05T12:29:24.7600001Z").as_deref(),
            Some("2022-04-05T12:29:24.760000100Z")
        );
    }

    #[test]
    fn created_offsets_become_z() {
        let cases = [
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"),
            ("2024-02-28T23:00:00-0200", "2024-02-29T01:00:00Z"),
            ("2023-12-31T23:59:59-05", "2024-01-01T04:59:59Z"),
            ("2026-11-27T21:01:39+00:00", "2026-11-27T21:01:39Z"),
        ];
        for (input, want) in cases {
            assert_eq!(format_created(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn created_garbage_is_rejected() {
        for bad in [
            "",
            "2026-11-27",
            "2023-02-29T00:00:00Z",
            "2026-11-27T21:01:39.Z",
            "2026-11-27T21:01:39 UTC",
            "2026-11-27T21:01:39+1:00",
            "2026-11-27T21:01:3xZ",
        ] {
            assert_eq!(format_created(bad), None, "{bad}");
        }
        // Findings and Kubernetes timestamps still need their zone.
        assert_eq!(scan_datetime_parts("2022-04-05 12:29:24"), None);
    }

    #[test]
    fn kubernetes_timestamps_in_their_own_offset() {
        let p = scan_datetime_parts("2024-01-01T12:00:00Z").unwrap();
        assert_eq!(p.format_dd_mm_yyyy_hh_mm_ss(), "01.01.2024 12:00:00");
        let p = scan_datetime_parts("2010-06-30T01:20+02:00").unwrap();
        assert_eq!(p.format_dd_mm_yyyy_hh_mm_ss(), "30.06.2010 01:20:00");
        let p = scan_datetime_parts("2010-06-30T01:20:05-05:30").unwrap();
        assert_eq!(p.offset_minutes, -330);
        let utc = p.to_utc().unwrap();
        assert_eq!(utc.format_dd_mm_yyyy_hh_mm_ss(), "30.06.2010 06:50:05");
    }

    #[test]
    fn now_is_plausible() {
        let today = today_utc();
        assert_eq!(today.len(), 10);
        assert!(today.as_str() >= "2024-01-01", "{today}");
        let now = now_utc_rfc3339();
        assert!(now.starts_with(&today[..4]), "{now}");
        assert_eq!(now.len(), 24);
        assert!(parse_rfc3339_to_utc_date(&now).is_some());
    }
}
