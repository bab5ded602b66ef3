//! One finding as it waits in a scratch bucket: two lines,
//! `HEADER RULE\n RESULT\n`, both compact JSON (serde_json escapes every
//! newline inside a string, so a line is never split).
//!
//! The header is one flag byte (`s` suppressed, `-` not) and 16 hex digits
//! of the rule id's hash, so the passes in `finish` can count suppressions
//! and deduplicate rules without parsing the JSON again.

use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Write};

use super::result::SarifResult;
use super::rule::{Rule, rule_id};
use super::uri::Root;
use crate::convert::triage::Judged;

/// Flag byte + 16 hex digits.
const HEADER_LEN: usize = 17;

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) suppressed: bool,
    /// The rule id's hash: equal ids, equal keys.
    pub(super) key: u64,
}

/// Appends `f`'s two lines to `buf`; `finding_url` is its DefectDojo page.
pub(super) fn encode(
    buf: &mut Vec<u8>,
    f: &Judged<'_>,
    finding_url: &str,
    root: Option<&Root>,
) -> io::Result<()> {
    let id = rule_id(&f.seen);
    let suppressed = f.triage.is_some_and(|t| t.suppresses());
    buf.push(if suppressed { b's' } else { b'-' });
    write!(buf, "{:016x}", key(&id))?;
    let json = buf.len();
    serde_json::to_writer(&mut *buf, &Rule::of(&f.seen, &id))?;
    buf.push(b'\n');
    serde_json::to_writer(&mut *buf, &SarifResult::of(f, &id, finding_url, root))?;
    buf.push(b'\n');
    show_hidden(buf, json);
    Ok(())
}

/// serde_json writes bidirectional controls, separators and zero-width
/// characters ([`crate::util::text::is_hidden`]) as they are, and a JSON escape
/// of one would still be the character once parsed: they become the
/// visible text `\u202E` (an escaped backslash) in `buf[from..]`, which is
/// compact JSON, so they can only stand inside its strings.
fn show_hidden(buf: &mut Vec<u8>, from: usize) {
    // Every such character's UTF-8 starts with one of these bytes: most
    // entries are passed over by three memchr-backed byte scans.
    let json = &buf[from..];
    if ![0xD8, 0xE2, 0xEF].iter().any(|b| json.contains(b)) {
        return;
    }
    let Ok(json) = std::str::from_utf8(&buf[from..]) else {
        return;
    };
    if !json.chars().any(crate::util::text::is_hidden) {
        return;
    }
    let mut shown = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if crate::util::text::is_hidden(c) {
            shown.push_str(&format!("\\\\u{:04X}", c as u32));
        } else {
            shown.push(c);
        }
    }
    buf.truncate(from);
    buf.extend_from_slice(shown.as_bytes());
}

/// The dedup key of a rule id. The hasher only has to agree with itself
/// within one run, so std's fixed-key SipHash will do.
fn key(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(id.as_bytes());
    h.finish()
}

/// The header and the rule's JSON of a rule line (without its newline).
pub(super) fn split(line: &[u8]) -> io::Result<(Header, &[u8])> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "sarif: corrupt scratch entry");
    if line.len() <= HEADER_LEN {
        return Err(bad());
    }
    let hex = std::str::from_utf8(&line[1..HEADER_LEN]).map_err(|_| bad())?;
    let key = u64::from_str_radix(hex, 16).map_err(|_| bad())?;
    let header = Header {
        suppressed: line[0] == b's',
        key,
    };
    Ok((header, &line[HEADER_LEN..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::sarif::tests::judged;
    use crate::convert::triage::Triage;

    #[test]
    fn two_lines_with_a_header_that_round_trips() {
        let title = "multi\nline\r\ntitle\u{0}";
        let mut f = judged(7, title);
        f.triage = Some(Triage::RiskAccepted);
        let mut buf = Vec::new();
        encode(&mut buf, &f, "https://dojo/finding/7", None).unwrap();
        let lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 3, "two lines and an empty tail");
        assert!(lines[2].is_empty());
        let (header, rule) = split(lines[0]).unwrap();
        assert_eq!(
            header,
            Header {
                suppressed: true,
                key: key(title)
            }
        );
        let rule: serde_json::Value = serde_json::from_slice(rule).unwrap();
        assert_eq!(rule["id"], title);
        let result: serde_json::Value = serde_json::from_slice(lines[1]).unwrap();
        assert_eq!(result["ruleId"], title);
    }

    #[test]
    fn bidirectional_controls_are_shown_not_hidden() {
        let f = judged(7, "admin\u{202E}txt.exe\u{2028}\u{061C}\u{FEFF}");
        let mut buf = Vec::new();
        encode(&mut buf, &f, "https://dojo/finding/7", None).unwrap();
        let text = std::str::from_utf8(&buf).unwrap();
        assert!(!text.chars().any(crate::util::text::is_hidden), "{text}");
        let result: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        let message = result["message"]["text"].as_str().unwrap();
        assert!(
            message.contains("admin\\u202Etxt.exe\\u2028\\u061C\\uFEFF"),
            "{message}"
        );
    }

    #[test]
    fn corrupt_headers_are_errors() {
        assert!(split(b"").is_err());
        assert!(split(b"-0123456789abcdef").is_err());
        assert!(split(b"-0123456789abcdeg{}").is_err());
    }
}
