//! Small helpers the fake DefectDojo needs to look like the real one: SHA-256 (finding
//! hash codes are compared by clients and by the dedup logic; `ring`, which rustls
//! already builds),
//! UTC timestamps and dates, Python's `repr()` of strings (DRF puts it into every
//! `message`), DRF's boolean parsing, and the `titlecase` rule DefectDojo applies to
//! finding titles.

use std::time::{SystemTime, UNIX_EPOCH};

/// SHA-256 of `data` as lower-case hex (DefectDojo's `hash_code` format).
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// DefectDojo's legacy finding hash (verified against `fixtures/dojo/recorded/v3/62-*`):
/// `sha256(lower(title + str(cwe) + str(line) + str(file_path) + description))`,
/// where a missing line / file path is Python's `None`.
pub fn legacy_hash(
    title: &str,
    cwe: i64,
    line: Option<i64>,
    file_path: Option<&str>,
    description: &str,
) -> String {
    let line = line.map_or("None".to_string(), |l| l.to_string());
    let text = format!(
        "{title}{cwe}{line}{}{description}",
        file_path.unwrap_or("None")
    );
    sha256_hex(text.to_lowercase().as_bytes())
}

fn now_parts() -> (i64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_micros())
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Now as DefectDojo prints timestamps: `2026-11-27T21:01:35.062309Z`.
pub fn now_iso() -> String {
    let (secs, micros) = now_parts();
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Today (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    date_plus_days(0)
}

/// Today plus `days` (UTC) as `YYYY-MM-DD`.
pub fn date_plus_days(days: i64) -> String {
    let (secs, _) = now_parts();
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400) + days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whether `s` is a valid `YYYY-MM-DD` date (what DRF's `DateField` accepts by default).
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    if !b
        .iter()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]
}

/// Accepts what DRF's `DateTimeField` accepts in practice: a date, or a date followed by
/// `T` or a space and a time (`2026-11-20T10:00:00Z`, `2026-11-20 10:00:00+00:00`).
/// Returns the ISO form DefectDojo prints.
pub fn parse_datetime(s: &str) -> Option<String> {
    let s = s.trim();
    let date = s.get(0..10)?;
    if !is_date(date) {
        return None;
    }
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let time = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let hms = time.get(0..8)?;
    let ok = hms.len() == 8
        && hms.as_bytes()[2] == b':'
        && hms.as_bytes()[5] == b':'
        && hms
            .bytes()
            .enumerate()
            .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit());
    ok.then(|| format!("{date}T{hms}Z"))
}

/// Python's `repr()` of a string, as it appears inside DRF's `message` strings.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a list of strings: `['a', 'b']`.
pub fn py_repr_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| py_repr(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// DRF's `BooleanField` parsing: `None` for a value it would reject ("Must be a valid boolean.").
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "True" | "TRUE" | "1" | "yes" | "Yes" | "YES" | "y" | "Y" | "on" | "On" | "ON"
        | "t" | "T" => Some(true),
        "false" | "False" | "FALSE" | "0" | "no" | "No" | "NO" | "n" | "N" | "off" | "Off"
        | "OFF" | "f" | "F" => Some(false),
        _ => None,
    }
}

const SMALL_WORDS: [&str; 19] = [
    "a", "an", "and", "as", "at", "but", "by", "en", "for", "if", "in", "of", "on", "or", "the",
    "to", "v", "via", "vs",
];

fn is_small(word: &str) -> bool {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    SMALL_WORDS.contains(&w.as_str())
}

/// The `titlecase` package's rule (DefectDojo's `Finding.save()` applies it to titles), for
/// the cases that matter here: small words stay lower case except first and last; words with
/// an inner capital (`TLS`, `iPhone`) or an inner dot (`config.py`) are kept; an all-caps
/// title is lowered first; words with `/` or `-` are cased part by part. Checked against the
/// recorded titles: 'Hardcoded credentials in config loader' → 'Hardcoded Credentials in
/// Config Loader', 'MSF:ILITIES/UBUNTU-CVE-2019-6111/' → 'Msf:ilities/Ubuntu-Cve-2019-6111/'.
pub fn titlecase(text: &str) -> String {
    titlecase_inner(text, true)
}

fn titlecase_inner(text: &str, small_first_last: bool) -> String {
    let lines: Vec<String> = text
        .split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .map(|line| {
            let all_caps =
                line.chars().any(|c| c.is_alphabetic()) && !line.chars().any(|c| c.is_lowercase());
            let words: Vec<String> = line
                .split([' ', '\t'])
                .map(|w| title_word(w, all_caps))
                .collect();
            let mut words = words;
            if small_first_last && !words.is_empty() {
                let last = words.len() - 1;
                for i in [0, last] {
                    if is_small(&words[i]) {
                        words[i] = capitalize_first(&words[i]);
                    }
                }
            }
            words.join(" ")
        })
        .collect();
    lines.join(" ")
}

fn title_word(word: &str, all_caps: bool) -> String {
    let chars: Vec<char> = word.chars().collect();
    // A letter, a dot, a letter: file names, domains, abbreviations ("e.g.") stay as they are.
    let inline_period = chars
        .windows(3)
        .any(|w| w[0].is_alphanumeric() && w[1] == '.' && w[2].is_alphanumeric());
    // A capital after another letter ("TLS", "iPhone") marks a deliberate spelling.
    let uc_elsewhere = chars
        .windows(2)
        .any(|w| w[0].is_alphabetic() && w[1].is_uppercase());
    if inline_period || (!all_caps && uc_elsewhere) {
        return word.to_string();
    }
    if is_small(word) {
        return word.to_lowercase();
    }
    if word.contains('/') && !word.contains("//") {
        return word
            .split('/')
            .map(|p| titlecase_inner(p, false))
            .collect::<Vec<_>>()
            .join("/");
    }
    if word.contains('-') {
        return word
            .split('-')
            .map(|p| titlecase_inner(p, true))
            .collect::<Vec<_>>()
            .join("-");
    }
    let word = if all_caps {
        word.to_lowercase()
    } else {
        word.to_string()
    };
    capitalize_first(&word)
}

/// Upper-cases the first alphanumeric character (leading punctuation is kept).
fn capitalize_first(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut done = false;
    for c in word.chars() {
        if !done && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
            done = true;
        } else {
            out.push(c);
        }
    }
    out
}
