//! Percent-decoding of URL parts, for names and for comparing or redacting
//! query parameters.

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
    fn escapes_plus_and_broken_escapes() {
        assert_eq!(percent_decode_str("a%2Cb%20c+d"), "a,b c+d");
        assert_eq!(percent_decode("a%2Cb+c", true), b"a,b c");
        assert_eq!(percent_decode_str("100%"), "100%");
        assert_eq!(percent_decode_str("%4"), "%4");
        assert_eq!(percent_decode_str("%zz%41"), "%zzA");
        assert_eq!(percent_decode_str("%ff"), "%ff");
    }
}
