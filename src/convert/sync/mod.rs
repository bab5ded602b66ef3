//! Sync back: the findings of one DefectDojo test → secureCodeBox
//! `findings.json`, page by page.
//!
//! [`SyncReader`] is a [`Read`] that yields one compact JSON array. It asks
//! DefectDojo for one page of findings at a time (with the endpoints and the
//! originals of duplicates prefetched), converts it, hands the bytes out and
//! only then asks for the next page: memory is bounded by the page size,
//! never by the number of findings.
//!
//! Requests for N findings with page size L:
//! * ⌈N/L⌉ findings pages (one when N = 0);
//! * DefectDojo 3.x: plus one `location_findings` request per page that has
//!   findings with endpoints, more only when the id list must be split to
//!   stay under `max_uri_len` or when findings have so many locations that
//!   the answer spans pages;
//! * rarely: one `GET /api/v2/findings/<id>/` per distinct original that the
//!   server did not prefetch and that is not on the page, and on 2.x one
//!   `GET /api/v2/endpoints/<id>/` per distinct endpoint not prefetched
//!   (only an original's endpoint can be missing). Both are logged.
//!
//! There is no request per finding. The DefectDojo flavour is told from the
//! shape of the prefetched endpoint objects, not from a version call.
//!
//! Pagination is defensive: `next` is reduced to its query string and put
//! onto our own path (see `pager.rs`), a `next` that leads back to a page
//! already read fails the run, and so does a page beyond `max_pages`. If
//! DefectDojo's `count` changes while we page (it is still deduplicating or
//! another import runs), offsets shift: findings may be skipped or listed
//! twice. That is logged as a warning and the run goes on, because the
//! result is still the best picture available; a finding listed twice is
//! written once (its id would otherwise appear twice in findings.json).

mod finding_pages;
mod ids;
mod locations;
mod map;
mod options;
mod pager;
mod seen;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};

use serde::Deserialize;

use crate::error::Error;

use finding_pages::{DojoFinding, FindingsPage, PrefetchedEndpoint, Shape};
pub(crate) use ids::IdSet;
use locations::{UNKNOWN, resolve_v2, resolve_v3};
use pager::{Client, Visited, origin, rebuild_next};

pub use options::{
    DEFAULT_MAX_URI_LEN, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ReadBackCounts, SyncOptions,
};
pub use seen::Seen;

/// GET access to DefectDojo's API, provided by the pipeline.
///
/// The implementation prefixes `DEFECTDOJO_URL`, adds the API key, checks
/// the status (a non-2xx answer is an [`Error::Http`]) and bounds the body.
pub trait Fetch {
    /// GETs `path_and_query`, which always starts with `/api/v2/`, and
    /// returns the body of a 2xx answer.
    fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error>;

    /// Sees every finding once, in order, as it is written: where outputs
    /// other than findings.json (SARIF, JUnit) take their part of the same
    /// read. An error ends the read-back.
    fn seen(&mut self, _finding: &Seen<'_>) -> Result<(), Error> {
        Ok(())
    }

    /// Told once, when the whole array was read (after the last
    /// [`Self::seen`]), with its counts; never after a failure.
    fn finished(&mut self, _counts: ReadBackCounts) {}
}

impl<F: Fetch + ?Sized> Fetch for &mut F {
    fn get(&mut self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        (**self).get(path_and_query)
    }
    fn seen(&mut self, finding: &Seen<'_>) -> Result<(), Error> {
        (**self).seen(finding)
    }
    fn finished(&mut self, counts: ReadBackCounts) {
        (**self).finished(counts)
    }
}

const FINDINGS: &str = "/api/v2/findings/";

enum ReaderState {
    Start,
    Page(String),
    Close,
    Done,
    Failed,
}

/// A [`Read`] of the test's findings as a secureCodeBox findings array.
///
/// Errors travel through `read` as `io::Error`; get them back with
/// [`Error::from_io`]. After an error, further reads fail too.
pub struct SyncReader<F: Fetch> {
    client: Client<F>,
    opts: SyncOptions,
    state: ReaderState,
    out: Vec<u8>,
    pos: usize,
    visited: Visited,
    pages: u64,
    flavour: Option<Shape>,
    announced: Option<u64>,
    /// Ids written so far: DefectDojo may list a finding twice while its
    /// offsets shift. Bits per finding, not the findings themselves.
    seen: IdSet,
    counts: ReadBackCounts,
    /// Closed findings left out ([`SyncOptions::leave_out_closed`]).
    left_out: u64,
    warned_flavour: bool,
    warned_origin: bool,
}

impl<F: Fetch> SyncReader<F> {
    /// Prepares the read-back; nothing is requested before the first read.
    ///
    /// A trailing `/` on `base_url` is dropped. Invalid options are an
    /// [`Error::Config`].
    pub fn new(fetch: F, mut options: SyncOptions) -> Result<SyncReader<F>, Error> {
        let trimmed = options.base_url.trim_end_matches('/').len();
        options.base_url.truncate(trimmed);
        options.check()?;
        Ok(SyncReader {
            client: Client { fetch, requests: 0 },
            opts: options,
            state: ReaderState::Start,
            out: Vec::new(),
            pos: 0,
            visited: Visited::default(),
            pages: 0,
            flavour: None,
            announced: None,
            seen: IdSet::default(),
            counts: ReadBackCounts::default(),
            left_out: 0,
            warned_flavour: false,
            warned_origin: false,
        })
    }

    /// The counts, once the whole array has been read; `None` before (and
    /// after a failure), so partial numbers never reach the scan status.
    pub fn counts(&self) -> Option<ReadBackCounts> {
        matches!(self.state, ReaderState::Done).then_some(self.counts)
    }

    /// Requests made so far.
    pub fn requests(&self) -> u64 {
        self.client.requests
    }

    /// Gives the [`Fetch`] back.
    pub fn into_fetch(self) -> F {
        self.client.fetch
    }

    /// The first request: page one of the test's findings.
    fn first_path(&self) -> String {
        format!(
            "{FINDINGS}?test={}&limit={}&offset=0&prefetch=endpoints,duplicate_finding",
            self.opts.test_id, self.opts.page_size
        )
    }

    fn what(&self) -> String {
        format!(
            "reading the findings of DefectDojo test {}",
            self.opts.test_id
        )
    }

    /// Produces the next piece of output into `self.out`.
    fn advance(&mut self) -> Result<(), Error> {
        match std::mem::replace(&mut self.state, ReaderState::Failed) {
            ReaderState::Start => {
                self.out.push(b'[');
                let first = self.first_path();
                self.visited.insert(&first);
                self.state = ReaderState::Page(first);
            }
            ReaderState::Page(path) => {
                self.state = match self.convert_page(&path)? {
                    Some(next) => ReaderState::Page(next),
                    None => ReaderState::Close,
                };
            }
            ReaderState::Close => {
                self.out.push(b']');
                let left_out = match self.left_out {
                    0 => String::new(),
                    n => format!("; {n} closed ones left out"),
                };
                log::info!(
                    "read back {} findings of DefectDojo test {} ({} page{}, {} request{}{left_out})",
                    self.counts.total,
                    self.opts.test_id,
                    self.pages,
                    if self.pages == 1 { "" } else { "s" },
                    self.client.requests,
                    if self.client.requests == 1 { "" } else { "s" },
                );
                self.client.fetch.finished(self.counts);
                self.state = ReaderState::Done;
            }
            ReaderState::Done => self.state = ReaderState::Done,
            ReaderState::Failed => {
                return Err(Error::protocol(self.what(), "the read-back already failed"));
            }
        }
        Ok(())
    }

    /// Reads, converts and writes one findings page; returns the path of
    /// the next one.
    fn convert_page(&mut self, path: &str) -> Result<Option<String>, Error> {
        let what = self.what();
        self.pages += 1;
        let body = self.client.get(path)?;
        let page: FindingsPage<'_> = parse(&body, &what, "a page of findings")?;
        self.note_count(page.count);
        let prefetch = page.prefetch.unwrap_or_default();
        let endpoints = prefetch.endpoints.unwrap_or_default();
        let prefetched = prefetch.duplicate_finding.unwrap_or_default();
        self.note_flavour(&endpoints, &what)?;

        // Originals: prefetched, on this page, or (rarely) fetched one by one.
        let on_page: HashMap<u64, &DojoFinding<'_>> =
            page.results.iter().map(|f| (f.id, f)).collect();
        let mut missing: Vec<u64> = page
            .results
            .iter()
            .filter_map(DojoFinding::original_id)
            .filter(|id| !prefetched.contains_key(id) && !on_page.contains_key(id))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let bodies = self.fetch_originals(&missing)?;
        let mut fetched: HashMap<u64, DojoFinding<'_>> = HashMap::new();
        for (id, body) in &bodies {
            let what = format!("reading DefectDojo finding {id}");
            let original: DojoFinding<'_> = parse(body, &what, "a finding")?;
            if original.id != *id {
                return Err(Error::protocol(
                    what,
                    format!("the answer is finding {}", original.id),
                ));
            }
            fetched.insert(*id, original);
        }
        let original_of = |id: u64| {
            prefetched
                .get(&id)
                .or_else(|| on_page.get(&id).copied())
                .or_else(|| fetched.get(&id))
        };

        // Locations of the page's findings and of the originals they name.
        let mut subjects: Vec<&DojoFinding<'_>> = page.results.iter().collect();
        let mut extra: HashSet<u64> = HashSet::new();
        for f in &page.results {
            if let Some(o) = f.original_id().and_then(original_of) {
                if !on_page.contains_key(&o.id) && extra.insert(o.id) {
                    subjects.push(o);
                }
            }
        }
        let locations = self.locate(&subjects, &endpoints)?;
        let location_of =
            |f: &DojoFinding<'_>| locations.get(&f.id).map_or(UNKNOWN, String::as_str);

        for f in &page.results {
            if !self.seen.insert(f.id) {
                log::warn!(
                    "DefectDojo listed finding {} twice while paging; writing it once",
                    f.id
                );
                continue;
            }
            let original = f.original_id().map(|oid| (oid, original_of(oid)));
            self.write_one(f, original, &location_of)?;
        }

        let empty = page.results.is_empty();
        self.follow(page.next.as_ref().map(|n| n.as_str()), empty, &what)
    }

    /// Converts and writes one finding, embedding its original (one level,
    /// as far as DefectDojo named and we found it).
    fn write_one<'l>(
        &mut self,
        f: &DojoFinding<'_>,
        original: Option<(u64, Option<&DojoFinding<'_>>)>,
        location_of: &dyn Fn(&DojoFinding<'_>) -> &'l str,
    ) -> Result<(), Error> {
        let location = Some(location_of(f)).filter(|&l| l != UNKNOWN);
        if self.opts.leave_out_closed && f.is_mitigated == Some(true) {
            self.left_out += 1;
            return self.client.fetch.seen(&seen::seen(f, location));
        }
        let original = match original {
            Some((oid, Some(o))) => {
                if let Some(further) = o.original_id() {
                    // The Java hook stopped here with an error; one level is
                    // all we embed, so there is no need to.
                    log::debug!("original finding {oid} is itself a duplicate of {further}");
                }
                Some(map::convert(o, location_of(o), None, &self.opts.base_url)?)
            }
            _ => None,
        };
        let scb = map::convert(f, location_of(f), original, &self.opts.base_url)?;
        if self.counts.total > 0 {
            self.out.push(b',');
        }
        serde_json::to_writer(&mut self.out, &scb)
            .map_err(|e| Error::protocol(format!("writing finding {}", f.id), e.to_string()))?;
        self.counts.add(
            scb.level,
            f.duplicate == Some(true),
            f.false_p == Some(true),
        );
        self.client.fetch.seen(&seen::seen(f, location))
    }

    /// The path of the page after this one, from DefectDojo's `next` link.
    fn follow(
        &mut self,
        next: Option<&str>,
        empty: bool,
        what: &str,
    ) -> Result<Option<String>, Error> {
        let Some(next) = next else {
            self.check_complete(what)?;
            return Ok(None);
        };
        if empty {
            // Offsets only grow, so an empty page with a `next` would walk
            // on forever without reading anything; stopping there would
            // write an incomplete result over the scan's findings.
            return Err(Error::protocol(
                what,
                "DefectDojo answered an empty page that still has a `next` link; \
                 the result would be incomplete",
            ));
        }
        if let Some(max) = self.opts.max_pages.filter(|&max| self.pages >= max) {
            return Err(Error::protocol(
                what,
                format!(
                    "there are more than {max} pages of {} findings; raise \
                     DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS to read them all",
                    self.opts.page_size
                ),
            ));
        }
        self.note_origin(next);
        let rebuilt = rebuild_next(FINDINGS, next)?;
        if !self.visited.insert(&rebuilt) {
            return Err(Error::protocol(
                what,
                format!("the `next` link {next:?} leads back to a page already read"),
            ));
        }
        Ok(Some(rebuilt))
    }

    /// GETs originals that were neither prefetched nor on the page. A 404
    /// (deleted meanwhile) leaves the duplicate without its original.
    fn fetch_originals(&mut self, ids: &[u64]) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        let mut bodies = Vec::with_capacity(ids.len());
        for &id in ids {
            log::info!("original finding {id} was not prefetched by DefectDojo; fetching it");
            match self.client.get_unless_gone(&format!("{FINDINGS}{id}/"))? {
                Some(body) => bodies.push((id, body)),
                None => log::warn!("original finding {id} no longer exists in DefectDojo"),
            }
        }
        Ok(bodies)
    }

    /// Maps finding ids to their location URL; findings without (known)
    /// endpoints are absent.
    fn locate(
        &mut self,
        subjects: &[&DojoFinding<'_>],
        endpoints: &HashMap<u64, PrefetchedEndpoint>,
    ) -> Result<HashMap<u64, String>, Error> {
        let wanted: Vec<(u64, u64)> = subjects
            .iter()
            .filter_map(|f| f.first_endpoint().map(|e| (f.id, e)))
            .collect();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        match self.flavour {
            Some(Shape::LocationRef) => resolve_v3(
                &mut self.client,
                &wanted,
                self.opts.page_size,
                self.opts.max_uri_len,
            ),
            Some(Shape::Endpoint) => resolve_v2(&mut self.client, &wanted, endpoints),
            None => {
                if !self.warned_flavour {
                    self.warned_flavour = true;
                    log::warn!(
                        "DefectDojo prefetched no endpoint objects, so neither 2.x endpoints \
                         nor 3.x locations can be read; findings get location \"{UNKNOWN}\""
                    );
                }
                Ok(HashMap::new())
            }
        }
    }

    fn note_flavour(
        &mut self,
        endpoints: &HashMap<u64, PrefetchedEndpoint>,
        what: &str,
    ) -> Result<(), Error> {
        let Some(shape) = endpoints.values().find_map(PrefetchedEndpoint::shape) else {
            return Ok(());
        };
        match self.flavour {
            None => {
                log::debug!(
                    "DefectDojo {} (told by the prefetched endpoint objects)",
                    match shape {
                        Shape::Endpoint => "2.x: endpoints",
                        Shape::LocationRef => "3.x: locations",
                    }
                );
                self.flavour = Some(shape);
                Ok(())
            }
            Some(known) if known == shape => Ok(()),
            Some(_) => Err(Error::protocol(
                what,
                "the prefetched endpoint objects changed shape between pages",
            )),
        }
    }

    fn note_count(&mut self, count: Option<u64>) {
        match (self.announced, count) {
            (None, Some(count)) => {
                log::info!("DefectDojo test {} has {count} findings", self.opts.test_id);
                self.announced = Some(count);
            }
            (Some(before), Some(now)) if before != now => {
                log::warn!(
                    "the number of findings of DefectDojo test {} changed from {before} to \
                     {now} while reading (still deduplicating, or another import?): findings \
                     may be missing from the result",
                    self.opts.test_id
                );
                self.announced = Some(now);
            }
            _ => {}
        }
    }

    /// An incomplete read-back must not be written over the scan's
    /// findings: fewer findings than DefectDojo announced is an error.
    fn check_complete(&self, what: &str) -> Result<(), Error> {
        match self
            .announced
            .filter(|&a| a > self.counts.total + self.left_out)
        {
            Some(announced) => Err(Error::protocol(
                what,
                format!(
                    "DefectDojo announced {announced} findings for test {} but listed only {}; \
                     the result would be incomplete",
                    self.opts.test_id,
                    self.counts.total + self.left_out
                ),
            )),
            None => Ok(()),
        }
    }

    fn note_origin(&mut self, next: &str) {
        let ours = origin(&self.opts.base_url);
        if let Some(theirs) = origin(next).filter(|&t| Some(t) != ours) {
            if !self.warned_origin {
                self.warned_origin = true;
                log::debug!(
                    "DefectDojo's `next` links name {theirs}; following their query on {}",
                    ours.unwrap_or(&self.opts.base_url)
                );
            }
        }
    }
}

impl<F: Fetch> Read for SyncReader<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.pos == self.out.len() {
            if matches!(self.state, ReaderState::Done) {
                return Ok(0);
            }
            self.out.clear();
            self.pos = 0;
            if let Err(e) = self.advance() {
                // Half a page must not leak out after the error.
                self.out.clear();
                return Err(e.into_io());
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Parses a DefectDojo answer; `expected` names what it should have been.
pub(crate) fn parse<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    what: &str,
    expected: &str,
) -> Result<T, Error> {
    // One UTF-8 check of the whole body is far cheaper than serde_json's
    // check of every string and key in `from_slice`; invalid UTF-8 goes to
    // `from_slice` for its error message.
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    parsed.map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        Error::protocol(
            what,
            format!("the answer is not {expected} ({e}); it starts with {start:?}"),
        )
    })
}
