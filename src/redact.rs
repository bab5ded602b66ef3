//! Redaction of secrets before anything reaches a log line or an error.
//!
//! Presigned object-storage URLs carry their credentials in the query string
//! (`X-Amz-Signature`, `X-Amz-Credential`, …) and proxy URLs may carry a user
//! and password. Every URL that dojo-hook prints goes through [`url`].

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

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself: only for building the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no value was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
    fn secret_debug_hides_value() {
        let s = Secret::new("supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
        assert_eq!(s.expose(), "supersecret");
    }
}
