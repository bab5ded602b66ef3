//! Small std-only helpers the fake DefectDojo needs to look like the real one:
//! SHA-256 (finding hash codes are compared by clients and by the dedup logic),
//! UTC timestamps and dates, Python's `repr()` of strings (DRF puts it into every
//! `message`), DRF's boolean parsing, and the `titlecase` rule DefectDojo applies to
//! finding titles.

use std::time::{SystemTime, UNIX_EPOCH};

/// SHA-256 of `data` as lower-case hex (DefectDojo's `hash_code` format).
pub fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

/// DefectDojo's legacy finding hash (verified against recorded 62):
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
