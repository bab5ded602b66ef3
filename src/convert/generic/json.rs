//! The JSON writer of the generic converter: strings escaped eight bytes a
//! step, text borrowed from the input copied as it is, and fields.

use std::borrow::Cow;
use std::fmt;

use crate::convert::generic::json_array::swar;
use crate::convert::generic::markdown::Sink;

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
    swar::find(bytes, from, escape_mask)
}

/// High bit set in each byte of `w` (little endian) that is below 0x20,
/// `"` or `\`; the lowest one is exact ([`swar::zero`]).
fn escape_mask(w: u64) -> u64 {
    swar::below(w, 0x20) | swar::equal(w, b'"') | swar::equal(w, b'\\')
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
    out.extend_from_slice(crate::convert::generic::decimal::decimal(n, &mut [0; 20]).as_bytes());
}
