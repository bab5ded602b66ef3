//! What a secureCodeBox location is to DefectDojo: an endpoint URL its
//! parser takes, a file path with a line, or neither.

use crate::http::url::is_unreserved;

/// What a secureCodeBox location is, as far as DefectDojo cares.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LocationKind<'l> {
    /// A URL DefectDojo's endpoint parser accepts.
    Endpoint,
    /// A file path, maybe with a line (`src/app.py:10-12`, `file:///x`).
    File { path: &'l str, line: Option<u64> },
    /// Anything else (`host:443`, free text); only in the description.
    Other,
}

pub(super) fn classify_location(loc: &str) -> LocationKind<'_> {
    let loc = loc.trim();
    if loc.len() >= 7 && loc.is_char_boundary(7) && loc[..7].eq_ignore_ascii_case("file://") {
        let path = &loc[7..];
        let path = path.strip_prefix("localhost").unwrap_or(path);
        return if path.is_empty() || path.contains(char::is_control) {
            LocationKind::Other
        } else {
            LocationKind::File { path, line: None }
        };
    }
    if loc.contains("://") {
        return if is_endpoint_url(loc) {
            LocationKind::Endpoint
        } else {
            LocationKind::Other
        };
    }
    file_location(loc).map_or(LocationKind::Other, |(path, line)| LocationKind::File {
        path,
        line,
    })
}

/// Whether `s` is a URL with a scheme and host that DefectDojo's endpoint
/// parser (`Endpoint.from_uri`, Python `hyperlink`) takes without raising:
/// ASCII only, RFC 3986 characters only (no spaces, quotes, `<>`, `{}`, `|`,
/// `\`, `^`, backticks), valid `%XX` escapes, a plain host name or bracketed
/// IPv6 address, and a numeric port. `file:` URLs are paths, not endpoints.
pub(super) fn is_endpoint_url(s: &str) -> bool {
    let Some(colon) = s.find("://") else {
        return false;
    };
    let scheme = &s[..colon];
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !scheme_ok || scheme.eq_ignore_ascii_case("file") {
        return false;
    }
    let rest = &s[colon + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_port = match authority.rfind('@') {
        Some(at) => {
            let userinfo_ok = valid_chars(&authority[..at], |c| {
                is_unreserved(c) || is_sub_delim(c) || c == b':'
            });
            if !userinfo_ok {
                return false;
            }
            &authority[at + 1..]
        }
        None => authority,
    };
    let bracketed = host_port.starts_with('[');
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            return false;
        };
        let ip = &inner[..end];
        let ip_ok = !ip.is_empty()
            && ip
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
        if !ip_ok {
            return false;
        }
        match &inner[end + 1..] {
            "" => (ip, None),
            p => match p.strip_prefix(':') {
                Some(port) => (ip, Some(port)),
                None => return false,
            },
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (bracketed
            || host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')));
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= 65_535)
    });
    if !host_ok || !port_ok {
        return false;
    }
    // path, query and fragment: one `#` at most, which starts the fragment
    let (before, fragment) = tail.split_once('#').unwrap_or((tail, ""));
    let pchar =
        |c: u8| is_unreserved(c) || is_sub_delim(c) || matches!(c, b':' | b'@' | b'/' | b'?');
    valid_chars(before, pchar) && valid_chars(fragment, pchar)
}

fn is_sub_delim(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Every byte satisfies `ok` or starts a `%XX` escape.
fn valid_chars(s: &str, ok: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !hex(i + 1) || !hex(i + 2) {
                return false;
            }
            i += 3;
        } else if ok(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// A location that is a file path, with the line of a `:line`, `:line-end`
/// or `:line:column` suffix (semgrep writes `/src/app.py:103-114`).
///
/// Paths are: absolute (`/`, `~/`, `C:\`), explicitly relative (`./`,
/// `../`), containing a `\`, containing a `/` where the part before the
/// first `/` is not a `host:port`, or a bare file name with a line range
/// (`app.py:10-12`). A bare `name:443` is not a path: it is the usual
/// `host:port` of TLS and network scanners.
pub(super) fn file_location(loc: &str) -> Option<(&str, Option<u64>)> {
    if loc.is_empty() || loc.contains(char::is_control) {
        return None;
    }
    let (path, line, ranged) = split_line_suffix(loc);
    if path.is_empty() {
        return None;
    }
    let b = path.as_bytes();
    let drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    let first_segment = path.split('/').next().unwrap_or("");
    let host_port = first_segment.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())
    });
    let is_path = path.starts_with(['/', '~'])
        || path.starts_with("./")
        || path.starts_with("../")
        || drive
        || path.contains('\\')
        || (path.contains('/') && !host_port)
        || (ranged && path.contains('.') && !path.contains(':'));
    is_path.then_some((path, line))
}

/// Splits `path:10`, `path:10-12` and `path:10:5` into the path, the
/// (first) line, and whether the suffix was a `a-b` range.
pub(super) fn split_line_suffix(loc: &str) -> (&str, Option<u64>, bool) {
    let number = |s: &str| -> Option<u64> {
        if !s.is_empty() && s.len() <= 9 && s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let Some((head, last)) = loc.rsplit_once(':') else {
        return (loc, None, false);
    };
    if let Some((a, b)) = last.split_once('-') {
        if let (Some(start), Some(_)) = (number(a), number(b)) {
            return (head, Some(start), true);
        }
        return (loc, None, false);
    }
    let Some(n) = number(last) else {
        return (loc, None, false);
    };
    // path:line:column
    if let Some((head2, line)) = head.rsplit_once(':') {
        if let Some(line) = number(line) {
            return (head2, Some(line), false);
        }
    }
    (head, Some(n), false)
}
