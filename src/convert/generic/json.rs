//! The JSON writer of the generic converter: strings escaped eight bytes a
//! step, text borrowed from the input copied as it is, and fields.

use std::borrow::Cow;
use std::fmt;

use crate::convert::markdown::Sink;

/// A `fmt::Write` that appends JSON string contents (escaped, no quotes).
pub(super) struct JsonStr<'a>(pub(super) &'a mut Vec<u8>);

impl fmt::Write for JsonStr<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_escaped(self.0, s);
        Ok(())
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        match c {
            '\n' => self.0.extend_from_slice(b"\\n"),
            ' '..='~' if c != '"' && c != '\\' => self.0.push(c as u8),
            _ => push_escaped(self.0, c.encode_utf8(&mut [0; 4])),
        }
        Ok(())
    }
}

impl Sink for JsonStr<'_> {
    fn write_plain(&mut self, s: &str) -> fmt::Result {
        debug_assert!(
            next_to_escape(s.as_bytes(), 0).is_none(),
            "not plain: {s:?}"
        );
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Whether a string from serde_json was borrowed from its input, which
/// makes it plain text in the sense of [`Sink`] (no escaping needed).
pub(super) fn is_plain(s: Option<&Cow<'_, str>>) -> bool {
    matches!(s, Some(Cow::Borrowed(_)))
}

/// Appends `text` as a JSON string, copying it as it is when `plain`.
pub(super) fn push_text(out: &mut Vec<u8>, text: &str, plain: bool) {
    out.push(b'"');
    if plain {
        debug_assert!(next_to_escape(text.as_bytes(), 0).is_none());
        out.extend_from_slice(text.as_bytes());
    } else {
        push_escaped(out, text);
    }
    out.push(b'"');
}

/// Appends `s` escaped for a JSON string. NUL becomes U+FFFD: PostgreSQL
/// text cannot hold it, and DefectDojo would fail the whole import.
pub(super) fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(hit) = next_to_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..hit]);
        let c = bytes[hit];
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0 => out.extend_from_slice("\u{FFFD}".as_bytes()),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xF)]);
            }
        }
        start = hit + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Position of the first byte at or after `from` that needs escaping (a
/// control character, `"` or `\`), testing eight bytes per step.
pub(super) fn next_to_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        // The tail is padded with spaces, which need no escaping.
        let mut w = [b' '; 8];
        let n = (bytes.len() - i).min(8);
        w[..n].copy_from_slice(&bytes[i..i + n]);
        let hits = escape_mask(u64::from_le_bytes(w));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    None
}

/// High bit set in each byte of `w` (little endian) that is below 0x20,
/// `"` or `\` (SWAR). Bits above the lowest hit may be false positives
/// (borrows), the lowest one is always exact.
pub(super) fn escape_mask(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
    below_space | zero(w ^ (LO * u64::from(b'"'))) | zero(w ^ (LO * u64::from(b'\\')))
}

pub(super) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Appends `,"key":"value"`.
pub(super) fn push_str_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    push_json_str(out, value);
}

/// Appends `,"key":n`.
pub(super) fn push_num_field(out: &mut Vec<u8>, key: &str, n: u64) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(crate::decimal::decimal(n, &mut [0; 20]).as_bytes());
}
