//! What DefectDojo's requests carry beyond the request itself: the API key
//! (`DEFECTDOJO_APIKEY`, or a file named by `DEFECTDOJO_APIKEY_FILE`) and the
//! extra headers of `DEFECTDOJO_EXTRA_HEADERS`, for a WAF or an
//! identity-aware proxy in front of DefectDojo (Cloudflare Access, Google
//! IAP, …).
//!
//! Values are [`Secret`]s from the moment they are read: problems name the
//! variable, the file and the line, never a value. Sending them is
//! [`crate::dojo`]'s business, and only to DefectDojo.

use std::io::{self, Read};

use super::redact::Secret;

/// The variable holding the API key itself.
pub const APIKEY: &str = "DEFECTDOJO_APIKEY";
/// The variable naming a file that holds the API key.
pub const APIKEY_FILE: &str = "DEFECTDOJO_APIKEY_FILE";
/// The variable holding extra headers for DefectDojo, `Name: value` per line.
pub const EXTRA_HEADERS: &str = "DEFECTDOJO_EXTRA_HEADERS";

/// The largest key file read: far above any token, small enough to read whole.
const KEY_FILE_LIMIT: u64 = 64 * 1024;

/// Headers dojo-hook sets itself (framing, routing), which an extra header
/// must not replace. `Authorization` is refused separately.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "expect",
    "te",
    "trailer",
    "upgrade",
];

/// The API key from `DEFECTDOJO_APIKEY` or `DEFECTDOJO_APIKEY_FILE` (exactly
/// one of them). `var` returns a variable's trimmed, non-empty value.
pub fn api_key(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Secret {
    match (var(APIKEY), var(APIKEY_FILE)) {
        (Some(_), Some(_)) => problems.push(format!(
            "{APIKEY} and {APIKEY_FILE} are both set: set only one of them"
        )),
        (Some(key), None) => match checked_key(&key) {
            Ok(key) => return Secret::new(key),
            Err(why) => problems.push(format!("{APIKEY} {why}")),
        },
        (None, Some(path)) => match read_key_file(&path) {
            Ok(key) => return key,
            Err(why) => problems.push(format!("{APIKEY_FILE} {path}: {why}")),
        },
        (None, None) => problems.push(format!(
            "{APIKEY} is not set: set it (or {APIKEY_FILE}, the path of a file holding it) to a \
             DefectDojo API v2 key (DefectDojo → API v2 Key)"
        )),
    }
    Secret::default()
}

/// Reads a key file: the key, with surrounding whitespace (a trailing
/// newline) removed; an empty file or one with more than one word is refused.
pub fn read_key_file(path: &str) -> Result<Secret, String> {
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "not found: check the path (a mounted Secret?)".to_string(),
        io::ErrorKind::PermissionDenied => {
            "permission denied: check the file's permissions and the container's user".to_string()
        }
        _ => format!("cannot be read: {}", e.kind()),
    })?;
    let mut text = String::new();
    file.take(KEY_FILE_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => "is not text (UTF-8)".to_string(),
            io::ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
            _ => format!("cannot be read: {}", e.kind()),
        })?;
    if text.len() as u64 > KEY_FILE_LIMIT {
        return Err("is larger than 64 KiB: it must hold only the API key".to_string());
    }
    if text.trim().trim_start_matches(BOM).trim().is_empty() {
        return Err("is empty: it must hold the API key".to_string());
    }
    checked_key(&text).map(Secret::new)
}

/// A byte order mark, which editors on Windows put at the start of a file.
const BOM: char = '\u{feff}';

/// The key without surrounding whitespace and a leading byte order mark
/// (a key file saved on Windows); a key that still holds a line break, a
/// control character or anything but printable ASCII is refused, because it
/// cannot be a DefectDojo key and cannot be sent in a header.
fn checked_key(raw: &str) -> Result<&str, String> {
    let key = raw.trim().trim_start_matches(BOM).trim();
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "holds more than one word or line (a line break, a space or a control character): \
             it must hold only the API key"
                .to_string(),
        );
    }
    if !key.is_ascii() {
        return Err(
            "holds a non-ASCII character: DefectDojo's API keys are 40 hexadecimal characters \
             (DefectDojo → API v2 Key); copy the key again"
                .to_string(),
        );
    }
    Ok(key)
}

/// Parses `DEFECTDOJO_EXTRA_HEADERS`: one `Name: value` per line; empty
/// lines and lines starting with `#` are skipped. Every bad line is
/// reported, by number, without its value.
pub fn extra_headers(text: &str) -> Result<Vec<(String, Secret)>, Vec<String>> {
    let mut headers = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{EXTRA_HEADERS} line {}", i + 1);
        match header(line) {
            Ok(h) => headers.push(h),
            Err(why) => problems.push(format!("{at} {why}")),
        }
    }
    if problems.is_empty() {
        Ok(headers)
    } else {
        Err(problems)
    }
}

fn header(line: &str) -> Result<(String, Secret), String> {
    let Some((name, value)) = line.split_once(':') else {
        return Err("is not of the form `Name: value`".to_string());
    };
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(
            "does not start with a header name (letters, digits and !#$%&'*+-.^_`|~, then ':')"
                .to_string(),
        );
    }
    if name.eq_ignore_ascii_case("authorization") {
        return Err(format!(
            "sets Authorization, which carries DefectDojo's API key ({APIKEY}); a proxy in front \
             of DefectDojo takes its own token in another header (Google IAP: \
             Proxy-Authorization: Bearer …; Cloudflare Access: CF-Access-Client-Id and \
             CF-Access-Client-Secret)"
        ));
    }
    if RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        return Err(format!("sets {name}, which dojo-hook sets itself"));
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("gives {name} no value"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!("gives {name} a value with control characters"));
    }
    Ok((name.to_string(), Secret::new(value)))
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(env: &[(&str, &str)]) -> (Secret, Vec<String>) {
        let get = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let mut problems = Vec::new();
        (api_key(&get, &mut problems), problems)
    }

    fn temp(name: &str, content: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("dojo-hook-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn key_from_the_variable_or_a_file_never_both() {
        assert_eq!(key(&[(APIKEY, "k1")]).0.expose(), "k1");
        let file = temp("key", "  k2-from-file\r\n\n");
        let path = file.display().to_string();
        let (k, problems) = key(&[(APIKEY_FILE, &path)]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(k.expose(), "k2-from-file");
        let (_, problems) = key(&[(APIKEY, "k1"), (APIKEY_FILE, &path)]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("both set"), "{problems:?}");
        let (_, problems) = key(&[]);
        assert!(problems[0].contains(APIKEY_FILE), "{problems:?}");
    }

    #[test]
    fn a_byte_order_mark_is_dropped_other_odd_characters_refused() {
        let bom = temp("bom", "\u{feff}k-bom-key\r\n").display().to_string();
        let (k, problems) = key(&[(APIKEY_FILE, &bom)]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(k.expose(), "k-bom-key");
        assert_eq!(key(&[(APIKEY, "\u{feff}k3")]).0.expose(), "k3");
        for (bad, want) in [
            ("secret-a\nsecret-b", "more than one word"),
            ("secret-\u{7}x", "control character"),
            ("secret-\u{e9}x", "non-ASCII"),
            ("secret-\u{a0}x", "more than one word"),
        ] {
            let (_, problems) = key(&[(APIKEY, bad)]);
            assert_eq!(problems.len(), 1, "{bad:?}");
            assert!(
                problems[0].starts_with("DEFECTDOJO_APIKEY holds"),
                "{problems:?}"
            );
            assert!(problems[0].contains(want), "{problems:?}");
            assert!(!problems[0].contains("secret-"), "{problems:?}");
        }
    }

    #[test]
    fn bad_key_files_are_named_never_shown() {
        let empty = temp("empty", " \n\t\n").display().to_string();
        let two = temp("two", "secret-one\nsecret-two\n")
            .display()
            .to_string();
        for (path, want) in [
            ("/nonexistent/key".to_string(), "not found"),
            (empty, "is empty"),
            (two, "more than one word"),
            (std::env::temp_dir().display().to_string(), "directory"),
        ] {
            let (_, problems) = key(&[(APIKEY_FILE, &path)]);
            assert_eq!(problems.len(), 1, "{path}");
            assert!(
                problems[0].starts_with(&format!("{APIKEY_FILE} {path}: ")),
                "{problems:?}"
            );
            assert!(problems[0].contains(want), "{problems:?}");
            assert!(!problems[0].contains("secret-"), "{problems:?}");
        }
    }

    #[test]
    fn extra_headers_parse_and_keep_their_order() {
        let h = extra_headers(
            "CF-Access-Client-Id: abc.access\r\n\n# comment\n  CF-Access-Client-Secret:  s3cr3t:with:colons  \nX-A: 1\nX-A: 2",
        )
        .unwrap();
        let shown: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.expose())).collect();
        assert_eq!(
            shown,
            [
                ("CF-Access-Client-Id", "abc.access"),
                ("CF-Access-Client-Secret", "s3cr3t:with:colons"),
                ("X-A", "1"),
                ("X-A", "2"),
            ]
        );
        assert!(!format!("{h:?}").contains("s3cr3t"));
        assert_eq!(extra_headers("").unwrap().len(), 0);
    }

    #[test]
    fn bad_header_lines_are_reported_by_number_without_values() {
        let problems = extra_headers(
            "X-Ok: fine\nno colon secret-1\nauthorization: Bearer secret-2\nBad Name: secret-3\nHost: secret-4\nX-Empty:   \n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].starts_with("DEFECTDOJO_EXTRA_HEADERS line 2 is not of the form"));
        assert!(problems[1].starts_with("DEFECTDOJO_EXTRA_HEADERS line 3 sets Authorization"));
        assert!(
            problems[2]
                .starts_with("DEFECTDOJO_EXTRA_HEADERS line 4 does not start with a header name")
        );
        assert!(problems[3].starts_with("DEFECTDOJO_EXTRA_HEADERS line 5 sets Host"));
        assert!(problems[4].starts_with("DEFECTDOJO_EXTRA_HEADERS line 6 gives X-Empty no value"));
        assert!(!problems.join(" ").contains("secret-"), "{problems:?}");
    }
}
