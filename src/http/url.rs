//! Percent-encoding and -decoding of URL parts: names in query values and
//! path segments, and query parameters compared or redacted.

use std::fmt::Write;

/// Appends `text` with every byte outside RFC 3986's unreserved set
/// percent-encoded, so a `%`, `/`, `&`, `+` or space inside a name can be
/// read neither as an escape nor as a separator; [`percent_decode`] undoes it.
pub fn percent_encode_into(out: &mut String, text: &str) {
    for &b in text.as_bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            push_escape(out, b);
        }
    }
}

/// RFC 3986's unreserved bytes: letters, digits, `-`, `.`, `_`, `~`.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// [`percent_encode_into`] a new string.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    percent_encode_into(&mut out, text);
    out
}

/// Appends byte `b` as `%XX`.
pub fn push_escape(out: &mut String, b: u8) {
    // Writing to a String cannot fail.
    let _ = write!(out, "%{b:02X}");
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it
/// is. With `plus_is_space` (a form-encoded query), `+` is a space.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                // h and l are hex digits, so the value fits a byte.
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// A path segment or parameter value, decoded; `text` itself if the decoded
/// bytes are not UTF-8.
pub fn percent_decode_str(text: &str) -> String {
    String::from_utf8(percent_decode(text, false)).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_fully_encoded_and_decode_back() {
        let name = "rec2-R&D + Ops/Überwachung \"α\" 100%";
        let encoded = percent_encode(name);
        assert_eq!(
            encoded,
            "rec2-R%26D%20%2B%20Ops%2F%C3%9Cberwachung%20%22%CE%B1%22%20100%25"
        );
        assert_eq!(percent_decode_str(&encoded), name);
        assert_eq!(percent_decode(&encoded, true), name.as_bytes());
    }

    #[test]
    fn escapes_plus_and_broken_escapes() {
        assert_eq!(percent_decode_str("a%2Cb%20c+d"), "a,b c+d");
        assert_eq!(percent_decode("a%2Cb+c", true), b"a,b c");
        assert_eq!(percent_decode_str("100%"), "100%");
        assert_eq!(percent_decode_str("%4"), "%4");
        assert_eq!(percent_decode_str("%zz%41"), "%zzA");
        assert_eq!(percent_decode_str("%ff"), "%ff");
    }
}
