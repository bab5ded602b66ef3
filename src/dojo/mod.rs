//! The DefectDojo API v2 client: typed calls on top of [`crate::http`].
//!
//! Every request carries `Authorization: Token …` and the extra headers of
//! `DEFECTDOJO_EXTRA_HEADERS` ([`Dojo::authorize`]), and goes to the origin of
//! `DEFECTDOJO_URL` only (`next` links are rebuilt onto it). Names are
//! compared exactly on our side, because DefectDojo's `name` filters differ
//! by endpoint (partial and case-insensitive on products, exact elsewhere)
//! and unknown filters are silently ignored.

pub mod cleanup;
pub mod context;
pub mod import_call;
pub mod import_history;
pub mod landing;
pub mod model;
pub(crate) mod multipart;
pub mod own;
pub mod scan_types;
pub mod test_findings;

use std::cell::Cell;
use std::io::Read;

use serde::de::DeserializeOwned;
use ureq::Agent;

use crate::error::Error;
use crate::http::redact::{self, Secret};
use crate::http::url::percent_encode;
use crate::http::{self, deadline, retry};

/// Largest JSON answer we read from DefectDojo (a page of 500 findings with
/// prefetched originals is a few MB).
pub const BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// A DefectDojo server, as configured.
pub struct Dojo<'a> {
    agent: &'a Agent,
    base: String,
    key: Secret,
    headers: Vec<(String, Secret)>,
    max_pages: Option<u64>,
    requests: Cell<u64>,
    mutations: Cell<u64>,
}

/// An HTTP method with a JSON body (or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Create.
    Post,
    /// Update.
    Patch,
    /// Delete.
    Delete,
}

impl<'a> Dojo<'a> {
    /// A client for `base` (DEFECTDOJO_URL without trailing slash).
    pub fn new(agent: &'a Agent, base: &str, key: Secret, max_pages: Option<u64>) -> Dojo<'a> {
        Dojo {
            agent,
            base: base.trim_end_matches('/').to_string(),
            key,
            headers: Vec::new(),
            max_pages,
            requests: Cell::new(0),
            mutations: Cell::new(0),
        }
    }

    /// The base URL (no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The client's parts, for a client of the same server on another
    /// thread ([`crate::signals`]).
    pub(crate) fn parts(&self) -> (Agent, String, Secret, Vec<(String, Secret)>) {
        (
            self.agent.clone(),
            self.base.clone(),
            self.key.clone(),
            self.headers.clone(),
        )
    }

    /// The agent, for the import call.
    pub fn agent(&self) -> &Agent {
        self.agent
    }

    /// Extra headers sent with every request to DefectDojo (and nowhere else).
    pub fn with_headers(mut self, headers: Vec<(String, Secret)>) -> Dojo<'a> {
        self.headers = headers;
        self
    }

    /// The `Authorization` header value.
    pub(crate) fn auth(&self) -> String {
        format!("Token {}", self.key.expose())
    }

    /// Adds `Authorization` and the extra headers to a request.
    pub fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let request = request.header("Authorization", self.auth());
        self.headers
            .iter()
            .fold(request, |r, (name, value)| r.header(name, value.expose()))
    }

    /// Requests sent so far (all methods) and the mutating ones among them.
    pub fn request_counts(&self) -> (u64, u64) {
        (self.requests.get(), self.mutations.get())
    }

    pub(crate) fn count(&self, method: Method) {
        self.requests.set(self.requests.get() + 1);
        if method != Method::Get {
            self.mutations.set(self.mutations.get() + 1);
        }
    }

    /// Sends a request to `path` (starting with `/api/v2/`) and returns the
    /// raw body of a 2xx answer.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Vec<u8>, Error> {
        let url = format!("{}{path}", self.base);
        let verb = match method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        };
        let shown = format!("{what} ({verb} {})", redact::url(&url));
        let attempt = || {
            log::debug!("{verb} {}", redact::url(&url));
            self.count(method);
            match (method, body) {
                (Method::Get, _) => deadline::cap(self.authorize(self.agent.get(&url))).call(),
                (Method::Delete, _) => {
                    deadline::cap(self.authorize(self.agent.delete(&url))).call()
                }
                (Method::Post, b) => {
                    deadline::cap(self.authorize(self.agent.post(&url))).send_json_value(b)
                }
                (Method::Patch, b) => {
                    deadline::cap(self.authorize(self.agent.patch(&url))).send_json_value(b)
                }
            }
        };
        // Reads, the PATCH of a description and a DELETE (a repeat finds the
        // object gone: 404) may be sent again; a POST creating an object is
        // sent once.
        let policy = match method {
            Method::Get | Method::Patch | Method::Delete => retry::POLICY,
            Method::Post => retry::Policy {
                attempts: 1,
                ..retry::POLICY
            },
        };
        let mut resp = retry::run(&shown, &policy, attempt).map_err(|e| match e {
            Error::Transport { detail, .. } => Error::Transport {
                what: what.to_string(),
                detail,
            },
            other => other,
        })?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.explain(what, http::status_error(what, &mut resp)));
        }
        read_answer(&mut resp, what)
    }

    /// Adds hints to common failures: a bad key, a wrong base URL.
    fn explain(&self, what: &str, err: Error) -> Error {
        match err {
            Error::Http {
                status: 403,
                detail,
                ..
            } if detail.contains("Invalid token") || detail.contains("credentials were not provided") => {
                Error::Http {
                    what: what.to_string(),
                    status: 403,
                    detail: format!("{detail} (check DEFECTDOJO_APIKEY: DefectDojo → API v2 Key)"),
                }
            }
            Error::Http {
                status, detail, ..
            } if (300..400).contains(&status) => Error::Http {
                what: what.to_string(),
                status,
                detail: format!(
                    "DefectDojo answered with a redirect, which dojo-hook does not follow so the API key \
                     stays with the host you named: check DEFECTDOJO_URL (https:// instead of http://?) {detail}"
                )
                .trim_end()
                .to_string(),
            },
            other => other,
        }
    }

    /// GET and parse.
    pub fn get<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, Error> {
        let body = self.call(Method::Get, path, None, what)?;
        parse(&body, what)
    }

    /// POST a JSON body and parse the answer.
    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<T, Error> {
        let answer = self.call(Method::Post, path, Some(body), what)?;
        parse(&answer, what)
    }

    /// Lists every object of `path` with the query `params` (see
    /// [`Dojo::each_page`]) and keeps those `keep` accepts.
    pub fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, &str)],
        what: &str,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, Error> {
        let mut kept = Vec::new();
        self.each_page(path, params, 100, what, |page: Vec<T>| {
            kept.extend(page.into_iter().filter(|t| keep(t)));
        })?;
        Ok(kept)
    }

    /// Reads every page of `path` with the query `params` and `limit`,
    /// following `next` (rebuilt onto our base URL), and hands each page's
    /// objects to `each`, so a caller that counts holds one page at a time.
    /// A loop of `next` links, or more pages than
    /// `DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS` allows, is an error.
    pub fn each_page<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, &str)],
        limit: u32,
        what: &str,
        mut each: impl FnMut(Vec<T>),
    ) -> Result<(), Error> {
        let mut query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        query.push(format!("limit={limit}"));
        let mut next = Some(format!("{path}?{}", query.join("&")));
        let mut seen = std::collections::HashSet::new();
        let mut pages = 0u64;
        while let Some(page_path) = next.take() {
            if !seen.insert(page_path.clone()) {
                return Err(Error::protocol(
                    what,
                    "the `next` links loop back to a page already read",
                ));
            }
            pages += 1;
            if self.max_pages.is_some_and(|max| pages > max) {
                return Err(Error::protocol(
                    what,
                    "more pages than DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS allows",
                ));
            }
            let page: model::Page<T> = self.get(&page_path, what)?;
            next = page.next.as_deref().map(|n| rebuild_next(path, n));
            each(page.results);
        }
        Ok(())
    }
}

trait SendJson {
    fn send_json_value(
        self,
        body: Option<&serde_json::Value>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>;
}

impl SendJson for ureq::RequestBuilder<ureq::typestate::WithBody> {
    fn send_json_value(
        self,
        body: Option<&serde_json::Value>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let bytes = body
            .map(|b| b.to_string())
            .unwrap_or_else(|| "{}".to_string());
        self.content_type("application/json").send(bytes.as_bytes())
    }
}

/// Reads a 2xx answer's body, at most [`BODY_LIMIT`] bytes; a failure
/// (a timeout of a trickling server included) is an error, not a short body.
pub(crate) fn read_answer(
    resp: &mut ureq::http::Response<ureq::Body>,
    what: &str,
) -> Result<Vec<u8>, Error> {
    // Sized from Content-Length (bounded): a growing vector copied a page
    // of findings several times over.
    let announced = resp.body().content_length().unwrap_or(0).min(BODY_LIMIT);
    let mut buf = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    resp.body_mut()
        .as_reader()
        .take(BODY_LIMIT + 1)
        .read_to_end(&mut buf)
        .map_err(|e| http::body_error(what, e))?;
    if buf.len() as u64 > BODY_LIMIT {
        return Err(Error::protocol(what, "the answer is larger than 64 MiB"));
    }
    Ok(buf)
}

/// Parses a JSON answer into `T`. The base-URL hint is only for an answer
/// that is no JSON at all (a web page, a proxy's text): JSON of the wrong
/// shape, or broken inside (a raw NUL in a string), came from the API.
pub fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(80)]).to_string();
        let start = http::one_line(&start, 80);
        let json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        let detail = if json {
            format!(
                "the answer is not the expected JSON ({e}); it starts with {start:?}: \
                 DefectDojo or a proxy in between sent a broken answer"
            )
        } else {
            format!(
                "DefectDojo's answer is not the expected JSON ({e}); it starts with {start:?}: \
                 is DEFECTDOJO_URL the base URL of DefectDojo?"
            )
        };
        Error::protocol(what, detail)
    })
}

/// Rebuilds a `next` link onto `path`: only its query string is kept, so the
/// request goes to DEFECTDOJO_URL whatever host the server thinks it has.
pub fn rebuild_next(path: &str, next: &str) -> String {
    match next.split_once('?') {
        Some((_, query)) => format!("{path}?{query}"),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_answer_that_is_no_json_gets_the_base_url_hint() {
        let hint = "is DEFECTDOJO_URL the base URL";
        let page = parse::<Vec<u64>>(b"<html>login</html>", "reading").unwrap_err();
        assert!(page.to_string().contains(hint), "{page}");
        let nul = parse::<Vec<String>>(b"[\"a\0b\"]", "reading").unwrap_err();
        let nul = nul.to_string();
        assert!(
            !nul.contains(hint) && nul.contains("broken answer"),
            "{nul}"
        );
        assert!(!nul.contains('\0'), "{nul}");
    }

    #[test]
    fn next_links_are_rebuilt_on_our_base() {
        assert_eq!(
            rebuild_next(
                "/api/v2/products/",
                "http://internal:8080/api/v2/products/?limit=100&offset=100&name=a"
            ),
            "/api/v2/products/?limit=100&offset=100&name=a"
        );
    }
}
