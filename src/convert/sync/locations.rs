//! Where a finding is: DefectDojo 2.x endpoints and 3.x locations.
//!
//! 2.x prefetches real endpoint objects, and the URL is assembled from them
//! with the Java hook's rules. 3.x prefetches only location-finding
//! references; the URL (`location_value`) sits on the location, so the
//! findings of a page are resolved together with
//! `/api/v2/location_findings/?finding_includes=<ids>&prefetch=location`.
//! The id list is split so that no request line grows past `max_uri_len`:
//! DefectDojo's official uWSGI (`--buffer-size 8192`) drops a request whose
//! URL is longer than about 3,880 characters without any answer.

use std::collections::HashMap;

use crate::error::Error;

use super::finding_pages::{DojoLocation, LocationFindingsPage, LocationRef, PrefetchedEndpoint};
use super::pager::{Client, Visited, rebuild_next};
use super::{Fetch, parse};

/// The location of a finding without endpoints (the Java hook's word).
pub(crate) const UNKNOWN: &str = "unknown";

const LOCATION_FINDINGS: &str = "/api/v2/location_findings/";
const PREFIX: &str = "/api/v2/location_findings/?finding_includes=";
const SUFFIX: &str = "&prefetch=location&limit=";

/// The URL of a 2.x endpoint object: `protocol://host:port/path?query`,
/// each part only when set, as the Java hook built it. Unlike Java, a
/// missing protocol gives `host:port…`, not `//host:port…`. `None` when the
/// object has none of these parts.
pub(crate) fn endpoint_url(e: &PrefetchedEndpoint) -> Option<String> {
    fn set(s: Option<&str>) -> Option<&str> {
        s.filter(|s| !s.is_empty())
    }
    let protocol = set(e.protocol.as_ref().and_then(|p| p.as_deref()));
    let host = set(e.host.as_ref().and_then(|h| h.as_deref()));
    let mut url = String::new();
    if let Some(protocol) = protocol {
        // Also without a host: `file` endpoints give `file:///path`.
        url.push_str(protocol);
        url.push_str("://");
    }
    if let Some(host) = host {
        url.push_str(host);
        if let Some(port) = e.port {
            url.push(':');
            url.push_str(&port.to_string());
        }
    }
    if let Some(path) = set(e.path.as_deref()) {
        if !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
    }
    if let Some(query) = set(e.query.as_deref()) {
        url.push('?');
        url.push_str(query);
    }
    (!url.is_empty()).then_some(url)
}

/// The largest `limit` of a location request: a reference and its
/// prefetched location are a few hundred bytes, so a page stays well under
/// a megabyte.
pub(crate) const MAX_LIMIT: usize = 1000;

/// The shortest `max_uri_len` that always fits one finding id (20 digits)
/// and the largest limit.
pub(crate) const MIN_URI_LEN: usize = PREFIX.len() + SUFFIX.len() + 4 + 20;

/// Splits sorted `ids` into `location_findings` requests whose path and
/// query are at most `max_len` bytes long. Each request asks for
/// `limit = max(page_size, ids in it)` (at most [`MAX_LIMIT`]), so a
/// request normally needs one page (findings with several locations need
/// more).
pub(crate) fn location_requests(
    ids: &[u64],
    page_size: usize,
    max_len: usize,
) -> Vec<(String, &[u64])> {
    // No chunk has more than ids.len() ids, so this many digits always fit.
    let limit_of = |n: usize| page_size.max(n).min(MAX_LIMIT);
    let limit_digits = limit_of(ids.len()).to_string().len();
    let room = max_len.saturating_sub(PREFIX.len() + SUFFIX.len() + limit_digits);
    let mut requests = Vec::new();
    let mut start = 0;
    while start < ids.len() {
        let mut end = start;
        let mut used = 0;
        while end < ids.len() {
            let add = digit_count(ids[end]) + usize::from(end > start);
            // At least one id per request, so the loop always ends;
            // `MIN_URI_LEN` makes sure that one fits.
            if end > start && used + add > room {
                break;
            }
            used += add;
            end += 1;
        }
        let chunk = &ids[start..end];
        let list: Vec<String> = chunk.iter().map(u64::to_string).collect();
        let limit = limit_of(chunk.len());
        requests.push((format!("{PREFIX}{}{SUFFIX}{limit}", list.join(",")), chunk));
        start = end;
    }
    requests
}

fn digit_count(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Resolves 2.x locations: `wanted` holds `(finding id, first endpoint
/// id)`, `prefetched` the page's endpoint objects. Only an original's
/// endpoint can be missing from the prefetch (DefectDojo prefetches the
/// endpoints of the page's own findings); those are fetched once each. The
/// answer maps finding ids to URLs.
pub(crate) fn resolve_v2<F: Fetch>(
    client: &mut Client<F>,
    wanted: &[(u64, u64)],
    prefetched: &HashMap<u64, PrefetchedEndpoint>,
) -> Result<HashMap<u64, String>, Error> {
    let mut missing: Vec<u64> = wanted
        .iter()
        .map(|w| w.1)
        .filter(|e| !prefetched.contains_key(e))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    let mut fetched = HashMap::new();
    for id in missing {
        log::info!("endpoint {id} was not prefetched by DefectDojo; fetching it");
        let what = format!("reading DefectDojo endpoint {id}");
        if let Some(body) = client.get_unless_gone(&format!("/api/v2/endpoints/{id}/"))? {
            let endpoint: PrefetchedEndpoint = parse(&body, &what, "an endpoint")?;
            fetched.insert(id, endpoint);
        }
    }
    Ok(wanted
        .iter()
        .filter_map(|&(finding, e)| {
            let endpoint = prefetched.get(&e).or_else(|| fetched.get(&e))?;
            Some((finding, endpoint_url(endpoint)?))
        })
        .collect())
}

/// Resolves 3.x locations: `wanted` holds `(finding id, first location
/// reference id)`; the answer maps finding ids to `location_value`.
///
/// The finding's *first* reference decides, as the first endpoint did in
/// the Java hook; a finding whose first reference is not answered gets its
/// lowest-numbered other location. Findings absent from the answer are
/// absent from the map. A chain stops early once every finding of its
/// request has its first reference, so findings with many locations do not
/// cost a page of references each.
pub(crate) fn resolve_v3<F: Fetch>(
    client: &mut Client<F>,
    wanted: &[(u64, u64)],
    page_size: usize,
    max_uri_len: usize,
) -> Result<HashMap<u64, String>, Error> {
    let first_ref: HashMap<u64, u64> = wanted.iter().copied().collect();
    let mut ids: Vec<u64> = first_ref.keys().copied().collect();
    ids.sort_unstable();

    let mut gathered = Gathered::default();
    for (first, chunk) in location_requests(&ids, page_size, max_uri_len) {
        let what = format!(
            "reading the locations of {} findings from DefectDojo",
            chunk.len()
        );
        let mut visited = Visited::default();
        let mut next = Some(first);
        while let Some(path) = next.take() {
            if !visited.insert(&path) {
                return Err(Error::protocol(
                    what,
                    format!("the `next` links loop back to {path}, a page already read"),
                ));
            }
            let body = client.get(&path)?;
            let page: LocationFindingsPage = parse(&body, &what, "a location_findings page")?;
            let locations = page.prefetch.and_then(|p| p.location).unwrap_or_default();
            let empty = page.results.is_empty();
            for r in page.results {
                gathered.add(r, chunk, &locations, &first_ref, &what)?;
            }
            let complete = chunk.iter().all(|id| gathered.found.contains_key(id));
            match page.next {
                Some(_) if complete => {}
                Some(_) if empty => log::warn!(
                    "DefectDojo answered an empty location page with a `next` link ({path}); \
                     stopping there"
                ),
                Some(n) => next = Some(rebuild_next(LOCATION_FINDINGS, &n)?),
                None => {}
            }
        }
    }
    Ok(gathered.finish())
}

/// The locations read so far: each finding's first reference, else its
/// lowest-numbered other one.
#[derive(Default)]
struct Gathered {
    found: HashMap<u64, String>,
    others: HashMap<u64, (u64, String)>,
    without_location: u64,
}

impl Gathered {
    /// Takes one reference of a page answering the findings of `chunk`.
    fn add(
        &mut self,
        r: LocationRef,
        chunk: &[u64],
        locations: &HashMap<u64, DojoLocation>,
        first_ref: &HashMap<u64, u64>,
        what: &str,
    ) -> Result<(), Error> {
        let Some(finding) = r.finding else {
            return Ok(());
        };
        if chunk.binary_search(&finding).is_err() {
            // DefectDojo ignores unknown filters silently; paging through
            // every location of the instance is not an option.
            return Err(Error::protocol(
                what,
                format!(
                    "the answer lists finding {finding}, which was not asked for: \
                     this DefectDojo seems to ignore the `finding_includes` filter"
                ),
            ));
        }
        let value = r
            .location
            .and_then(|l| locations.get(&l))
            .and_then(|l| l.location_value.clone());
        let Some(value) = value else {
            self.without_location += 1;
            return Ok(());
        };
        if first_ref.get(&finding) == Some(&r.id) {
            self.found.insert(finding, value);
        } else {
            let other = self.others.entry(finding).or_insert((r.id, value.clone()));
            if r.id < other.0 {
                *other = (r.id, value);
            }
        }
        Ok(())
    }

    /// Every finding's location.
    fn finish(mut self) -> HashMap<u64, String> {
        if self.without_location > 0 {
            log::warn!(
                "{} location references came without their location \
                 (was prefetch=location ignored?); those findings keep location \"{UNKNOWN}\"",
                self.without_location
            );
        }
        for (finding, (_, value)) in self.others {
            self.found.entry(finding).or_insert(value);
        }
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(json: &str) -> PrefetchedEndpoint {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn v2_endpoint_urls_follow_the_java_rules() {
        let cases = [
            (
                r#"{"protocol": "tcp", "host": "scanme.nmap.org", "port": 22, "path": null, "query": null}"#,
                Some("tcp://scanme.nmap.org:22"),
            ),
            (
                r#"{"protocol": "https", "host": "shop", "port": 443, "path": "rest/x", "query": "q=1&b"}"#,
                Some("https://shop:443/rest/x?q=1&b"),
            ),
            (
                r#"{"protocol": "http", "host": "shop", "port": null, "path": "/a b", "query": ""}"#,
                Some("http://shop/a b"),
            ),
            // Java wrote `//host:3000`; the `//` without a scheme is dropped.
            (
                r#"{"protocol": null, "host": "juice-shop.svc", "port": 3000, "path": null}"#,
                Some("juice-shop.svc:3000"),
            ),
            (
                r#"{"protocol": "file", "host": null, "port": null, "path": "/etc/passwd"}"#,
                Some("file:///etc/passwd"),
            ),
            (
                r#"{"protocol": null, "host": null, "port": 80, "path": null}"#,
                None,
            ),
            (r#"{"protocol": "", "host": "", "path": ""}"#, None),
        ];
        for (json, want) in cases {
            assert_eq!(endpoint_url(&endpoint(json)).as_deref(), want, "{json}");
        }
    }

    #[test]
    fn requests_stay_within_the_uri_limit() {
        let ids: Vec<u64> = (0..1000).map(|i| 1_000_000 + i * 7).collect();
        let requests = location_requests(&ids, 250, 3500);
        let mut covered = Vec::new();
        for (path, chunk) in &requests {
            assert!(path.len() <= 3500, "{} bytes", path.len());
            assert!(path.starts_with(PREFIX));
            let limit: usize = path.rsplit_once("limit=").unwrap().1.parse().unwrap();
            assert_eq!(limit, 250.max(chunk.len()));
            covered.extend_from_slice(chunk);
        }
        assert_eq!(covered, ids, "every id exactly once, in order");
        // 8 bytes per id: 3,429 bytes of room give 428 ids per request.
        assert_eq!(requests.len(), 3);
        assert!(requests[0].0.len() > 3400, "requests are packed");
    }

    #[test]
    fn tiny_limits_still_make_progress() {
        let ids = [u64::MAX, 1, 22];
        let requests = location_requests(&ids, 500, MIN_URI_LEN);
        assert!(requests.iter().all(|(p, _)| p.len() <= MIN_URI_LEN));
        // 21 bytes of room: the 20-digit id alone, then "1,22".
        assert_eq!(requests.len(), 2);
        assert!(location_requests(&[], 250, 3500).is_empty());
    }
}
