//! Requests and pagination: counting GETs, following `next` safely.
//!
//! DefectDojo's `next` links are absolute URLs on the host the *server*
//! believes it has, which is wrong behind a proxy or an ingress, and sending
//! the API key to whatever host a response names would leak it. So only the
//! query string of `next` is kept and put back onto our own path; the
//! pipeline's [`Fetch`] always prefixes `DEFECTDOJO_URL`. A `next` that leads
//! back to a page already read is a loop and stops the run.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use crate::error::Error;
use crate::http::url::percent_decode;

use super::Fetch;

/// The [`Fetch`] of a run, counting its requests.
pub(crate) struct Client<F> {
    pub fetch: F,
    pub requests: u64,
}

impl<F: Fetch> Client<F> {
    /// GETs `path_and_query` (always under `/api/v2/`).
    pub fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        debug_assert!(path_and_query.starts_with("/api/v2/"));
        self.requests += 1;
        log::debug!("GET {path_and_query}");
        self.fetch.get(path_and_query)
    }

    /// Like [`Client::get`], but a 404 (the object was deleted meanwhile)
    /// is `None`.
    pub fn get_unless_gone(&mut self, path_and_query: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.get(path_and_query) {
            Ok(body) => Ok(Some(body)),
            Err(Error::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Puts the query string of the server's `next` link onto `path` (e.g.
/// `/api/v2/findings/`). Scheme, host, port and path of `next` are ignored.
pub(crate) fn rebuild_next(path: &str, next: &str) -> Result<String, Error> {
    let without_fragment = next.split_once('#').map_or(next, |(n, _)| n);
    match without_fragment.split_once('?') {
        Some((_, query)) if !query.is_empty() => Ok(format!("{path}?{query}")),
        _ => Err(Error::protocol(
            format!("following DefectDojo's pagination of {path}"),
            format!("the `next` link {next:?} has no query string, so it names no page"),
        )),
    }
}

/// The scheme and authority of an absolute URL (`https://host:8080`), for
/// telling the user that DefectDojo names another origin than ours.
pub(crate) fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + end])
}

/// The pages one pagination chain has requested, for loop detection.
///
/// Pages are compared by their sorted, percent-decoded parameters: our first
/// request writes `prefetch=endpoints,duplicate_finding` and DefectDojo's
/// `next` writes `prefetch=endpoints%2Cduplicate_finding&…` in another order,
/// and both name the same page. Only a 64-bit hash of each is kept (a million
/// findings are 4,000 pages: 32 KiB instead of half a megabyte of keys); two
/// different pages would have to collide to be taken for a loop, a chance of
/// about 10⁻¹² at that size.
#[derive(Default)]
pub(crate) struct Visited(HashSet<u64>);

impl Visited {
    /// Records `path_and_query`; false if it was requested before.
    pub fn insert(&mut self, path_and_query: &str) -> bool {
        let mut hasher = std::hash::DefaultHasher::new();
        page_key(path_and_query).hash(&mut hasher);
        self.0.insert(hasher.finish())
    }
}

fn page_key(path_and_query: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(&percent_decode(p, true)).into_owned())
        .collect();
    params.sort_unstable();
    format!("{path}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_keeps_only_the_query() {
        let next = "http://127.0.0.1:8080/api/v2/findings/?limit=2&offset=2&prefetch=endpoints%2Cduplicate_finding&test=3";
        assert_eq!(
            rebuild_next("/api/v2/findings/", next).unwrap(),
            "/api/v2/findings/?limit=2&offset=2&prefetch=endpoints%2Cduplicate_finding&test=3"
        );
        let elsewhere = "https://evil.example:444/other/prefix/api/v2/tests/?offset=2#frag";
        assert_eq!(
            rebuild_next("/api/v2/findings/", elsewhere).unwrap(),
            "/api/v2/findings/?offset=2"
        );
    }

    #[test]
    fn next_without_query_is_an_error() {
        for next in [
            "http://dojo/api/v2/findings/",
            "http://dojo/api/v2/findings/?",
            "",
        ] {
            let err = rebuild_next("/api/v2/findings/", next).unwrap_err();
            assert!(matches!(err, Error::Protocol { .. }), "{next}");
        }
    }

    #[test]
    fn origin_is_scheme_and_authority() {
        assert_eq!(
            origin("http://127.0.0.1:8080/api/v2/x/?a=1"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("https://dojo.example"), Some("https://dojo.example"));
        assert_eq!(origin("/api/v2/x/"), None);
    }

    #[test]
    fn the_same_page_in_another_spelling_is_a_repeat() {
        let mut seen = Visited::default();
        assert!(seen.insert(
            "/api/v2/findings/?test=3&limit=2&offset=0&prefetch=endpoints,duplicate_finding"
        ));
        assert!(!seen.insert(
            "/api/v2/findings/?limit=2&offset=0&prefetch=endpoints%2Cduplicate_finding&test=3"
        ));
        assert!(seen.insert(
            "/api/v2/findings/?limit=2&offset=2&prefetch=endpoints%2Cduplicate_finding&test=3"
        ));
        assert!(seen.insert("/api/v2/location_findings/?limit=2&offset=2"));
    }
}
