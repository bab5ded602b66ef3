//! Redaction of secrets before anything reaches a log line or an error.
//!
//! Presigned object-storage URLs carry their credentials in the query string
//! (`X-Amz-Signature`, `X-Amz-Credential`, …) and proxy URLs may carry a user
//! and password. Every URL that dojo-hook prints goes through [`url`].
//!
//! Servers may quote a request back (a 400 or 403 body repeating the
//! `Authorization` header, an S3 error quoting the signed URL) and may send
//! terminal control sequences. Every secret is remembered when it is read
//! ([`Secret::new`], [`remember_query`]), and every server-supplied text
//! goes through [`server_text`] (via [`super::failure::one_line`]); what reaches
//! stderr or stdout goes through [`log_line`] once more (every log record and
//! the final error line: one line each) or [`terminal`] (our own multi-line
//! text: the gate's list, the usage), so nothing a server sends is printed
//! unfiltered, and nothing it sends starts a line.

use std::sync::Mutex;

use super::url::percent_decode_str;

/// A URL without its query string, fragment and user info, safe to print.
///
/// `https://u:p@minio:9000/bucket/scan/findings.json?X-Amz-Signature=…`
/// becomes `https://minio:9000/bucket/scan/findings.json?…`.
pub fn url(raw: &str) -> String {
    let (without_fragment, _) = raw.split_once('#').unwrap_or((raw, ""));
    let (base, query) = match without_fragment.split_once('?') {
        Some((base, q)) => (base, !q.is_empty()),
        None => (without_fragment, false),
    };
    let base = strip_userinfo(base);
    if query { format!("{base}?…") } else { base }
}

fn strip_userinfo(base: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => base.to_string(),
    }
}

/// What a remembered secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Values shorter than this are not searched for: no real token is that
/// short, and replacing `1` or `on` in every line would garble the output.
const MIN_SECRET_CHARS: usize = 8;

/// Every secret value of the run, longest first (so a value that contains
/// another is replaced whole).
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers a value that must never be printed.
pub fn remember(value: &str) {
    if value.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Remembers the query string of a (presigned) URL and each of its
/// parameter values, as given and percent-decoded: an S3 error body quotes
/// them one by one (`SignatureProvided`, `CanonicalRequest`).
pub fn remember_query(raw: &str) {
    let Some((_, query)) = raw.split_once('?') else {
        return;
    };
    let query = query.split('#').next().unwrap_or(query);
    remember(query);
    for pair in query.split('&') {
        if let Some((_, value)) = pair.split_once('=') {
            remember(value);
            remember(&percent_decode_str(value));
        }
    }
}

/// Server-supplied text made safe to print: remembered secrets replaced by
/// [`REDACTED`], and line breaks, tabs, every other control character (ESC,
/// BEL, NUL, C1 controls such as CSI) and the bidirectional controls shown
/// as visible escapes ([`crate::util::text::one_line`]), so a server can neither
/// leak a key through an echo, nor drive the CI log's terminal, nor start
/// a line of its own.
pub fn server_text(text: &str) -> String {
    secrets(&crate::util::text::one_line(text))
}

/// A log record about to be written: one line, whatever it quotes
/// ([`server_text`]; no log message of ours has a line break).
pub fn log_line(text: &str) -> String {
    server_text(text)
}

/// Text about to be written to stderr or stdout: like [`server_text`], but
/// our own line breaks and tabs are kept (server text in it has been made
/// one line before, [`crate::util::text`]).
pub fn terminal(text: &str) -> String {
    secrets(&crate::util::text::escaped_except(text, &['\n', '\t']))
}

/// Replaces every remembered secret in `text`.
fn secrets(text: &str) -> String {
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value, and remembers it ([`remember`]) so that it is
    /// redacted wherever a server quotes it back.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        remember(&value);
        Secret(value)
    }

    /// The value itself: only for building the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_query_is_dropped() {
        assert_eq!(
            url("https://minio:9000/b/findings.json?X-Amz-Signature=abc&X-Amz-Credential=k"),
            "https://minio:9000/b/findings.json?…"
        );
    }

    #[test]
    fn user_info_and_fragment_are_dropped() {
        assert_eq!(
            url("http://user:pw@proxy:3128/x#frag"),
            "http://proxy:3128/x"
        );
        assert_eq!(url("http://host/a?"), "http://host/a");
        assert_eq!(url("./local/path"), "./local/path");
    }

    #[test]
    fn remembered_secrets_and_controls_never_pass() {
        let key = Secret::new("redact-test-key-0815");
        remember_query(
            "https://minio/b/f.json?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=cafe0815beef",
        );
        let echoed = format!(
            "Authorization: Token {}\u{1b}[31m\u{7}\0 sig=cafe0815beef cred=AKIA/2024\u{9b}2J",
            key.expose()
        );
        let shown = server_text(&echoed);
        assert_eq!(
            shown,
            "Authorization: Token [redacted]\\u001B[31m\\u0007\\u0000 sig=[redacted] \
             cred=[redacted]\\u009B2J"
        );
        assert_eq!(terminal("a\nb\t\u{1b}c\r"), "a\nb\t\\u001Bc\\r");
        assert_eq!(log_line("a\n::error::x"), "a\\n::error::x");
        remember("short");
        assert_eq!(server_text("short"), "short");
    }

    #[test]
    fn secret_debug_hides_value() {
        let s = Secret::new("supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
        assert_eq!(s.expose(), "supersecret");
    }
}
