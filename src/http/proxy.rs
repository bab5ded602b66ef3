//! Forward proxies: `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, chosen per request.
//!
//! Hand-written because ureq holds one proxy per agent, not one per scheme,
//! and matches `NO_PROXY` by rules other than curl's, which setups are written for.
//!
//! The variables are read as curl reads them: the lower-case form first, then
//! the upper-case one; `https_proxy` for `https://` URLs, `http_proxy` for
//! `http://` URLs; `ALL_PROXY` is not read. A proxy URL is `http://` (the
//! default) or `https://`, with optional `user:password@` (percent-encoded),
//! sent as `Proxy-Authorization: Basic` on the CONNECT request. Every request
//! through a proxy is a CONNECT tunnel, plain `http://` ones too (ureq 3
//! sends no absolute-form requests).
//!
//! `NO_PROXY` is matched as curl matches it, which differs from ureq's own
//! rules (ureq's `.example.com` does not match `example.com`, and it has no
//! CIDR ranges), so ureq never sees `NO_PROXY`: a middleware picks the proxy,
//! or none, for each request ([`Proxies::route`]). Loopback addresses and
//! `localhost` are not excluded unless `NO_PROXY` says so, as in curl.
//!
//! Proxy credentials never reach a log line or an error: proxies are shown
//! through [`super::redact::url`].

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ureq::http::{Request, Response, Uri};
use ureq::middleware::{Middleware, MiddlewareNext};
use ureq::{Body, RequestExt, SendBody};

/// One configured proxy.
#[derive(Clone)]
pub struct ProxyRoute {
    /// The variable it came from, e.g. `https_proxy`.
    pub variable: &'static str,
    /// Its URL without user info, safe to print.
    pub shown: String,
    proxy: ureq::Proxy,
}

impl fmt::Debug for ProxyRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.shown, self.variable)
    }
}

/// The proxies of a run and their exceptions.
#[derive(Clone, Debug, Default)]
pub struct Proxies {
    https: Option<ProxyRoute>,
    http: Option<ProxyRoute>,
    no_proxy: NoProxy,
}

impl Proxies {
    /// Reads `https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY` and
    /// `no_proxy`/`NO_PROXY`; an unusable proxy URL is a problem naming its
    /// variable. `var` returns a variable's trimmed, non-empty value.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Proxies {
        let mut pick = |names: [&'static str; 2]| -> Option<ProxyRoute> {
            let (variable, url) = names
                .iter()
                .find_map(|name| var(name).map(|value| (*name, value)))?;
            match parse_proxy(&url) {
                Ok(proxy) => Some(ProxyRoute {
                    variable,
                    shown: super::redact::url(&url),
                    proxy,
                }),
                Err(why) => {
                    problems.push(format!("{variable} '{}' {why}", super::redact::url(&url)));
                    None
                }
            }
        };
        let https = pick(["https_proxy", "HTTPS_PROXY"]);
        let http = pick(["http_proxy", "HTTP_PROXY"]);
        let no_proxy = ["no_proxy", "NO_PROXY"]
            .iter()
            .find_map(|name| var(name))
            .map(|v| NoProxy::parse(&v))
            .unwrap_or_default();
        Proxies {
            https,
            http,
            no_proxy,
        }
    }

    /// True when no proxy is configured.
    pub fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }

    /// The proxy for a request to `uri`, or `None` to connect directly.
    pub fn route(&self, uri: &Uri) -> Option<&ProxyRoute> {
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let route = if https { &self.https } else { &self.http };
        let route = route.as_ref()?;
        let host = uri.host()?;
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        if self.no_proxy.matches(host, port) {
            None
        } else {
            Some(route)
        }
    }

    /// One line for the log: which proxy serves what, and the exceptions.
    pub fn describe(&self) -> String {
        let show = |r: &Option<ProxyRoute>| {
            r.as_ref().map_or("direct".to_string(), |r| {
                format!("via {} ({})", r.shown, r.variable)
            })
        };
        format!(
            "https:// {}, http:// {}; NO_PROXY: {}",
            show(&self.https),
            show(&self.http),
            self.no_proxy
        )
    }

    /// The middleware that applies [`Proxies::route`] to every request.
    pub(crate) fn middleware(&self) -> Route {
        Route(Arc::new(self.clone()))
    }
}

fn parse_proxy(url: &str) -> Result<ureq::Proxy, String> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        None | Some("http") | Some("https") => {}
        Some(s) if s.starts_with("socks") => {
            return Err(format!(
                "is a {s}:// proxy, which dojo-hook does not support: give an http:// or https:// proxy"
            ));
        }
        Some(s) => {
            return Err(format!(
                "has the scheme {s}://: give an http:// or https:// proxy"
            ));
        }
    }
    ureq::Proxy::new(url).map_err(|_| {
        "is not a proxy URL: give http://[user:password@]host:port (user and password percent-encoded)"
            .to_string()
    })
}

/// Sets each request's proxy (or none) by [`Proxies::route`], and says which
/// proxy failed when a request cannot get through it.
pub(crate) struct Route(Arc<Proxies>);

impl Middleware for Route {
    fn handle(
        &self,
        request: Request<SendBody>,
        next: MiddlewareNext,
    ) -> Result<Response<Body>, ureq::Error> {
        let route = self.0.route(request.uri()).cloned();
        match &route {
            Some(r) => log::debug!(
                "{}: via proxy {} ({})",
                authority(request.uri()),
                r.shown,
                r.variable
            ),
            None => log::debug!("{}: direct", authority(request.uri())),
        }
        // Always Some inside a middleware: the agent marks every request it runs.
        let Some(config) = request.middleware_config() else {
            return Err(ureq::Error::Other(
                "proxy middleware run outside an agent".into(),
            ));
        };
        let request = config
            .proxy(route.as_ref().map(|r| r.proxy.clone()))
            .build();
        match (next.handle(request), route) {
            (Err(err), Some(route)) if is_proxy_failure(&err) => Err(ureq::Error::Other(Box::new(
                ProxyFailure::new(&route, &err),
            ))),
            (result, _) => result,
        }
    }
}

fn authority(uri: &Uri) -> String {
    let host = uri.host().unwrap_or("");
    match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Errors that happen on the way to, or at, the proxy (ureq resolves and
/// connects to the proxy, never to the target, when one is set).
fn is_proxy_failure(err: &ureq::Error) -> bool {
    matches!(
        err,
        ureq::Error::ConnectProxyFailed(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Timeout(ureq::Timeout::Connect)
    ) || matches!(err, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused)
}

/// A request that could not get through its proxy, explained in one line.
#[derive(Debug)]
pub struct ProxyFailure(String);

impl ProxyFailure {
    fn new(route: &ProxyRoute, err: &ureq::Error) -> ProxyFailure {
        let proxy = format!("the proxy {} ({})", route.shown, route.variable);
        let var = route.variable;
        let detail = match err {
            ureq::Error::ConnectProxyFailed(reason) => {
                // ureq says "proxy server responded 407/407" (code and code).
                let status = reason
                    .split_whitespace()
                    .find_map(|w| w.split('/').next()?.parse::<u16>().ok());
                let reason = status.map_or(reason.clone(), |s| format!("HTTP {s}"));
                match status {
                    Some(407) => format!(
                        "{proxy} wants credentials ({reason}): check the user and password in {var} \
                         (http://user:password@host:port, percent-encoded)"
                    ),
                    Some(403) | Some(405) => format!(
                        "{proxy} refused the tunnel ({reason}): it may allow CONNECT only to port 443 \
                         (Squid's default), or not to this host; allow it there, or add the host to NO_PROXY"
                    ),
                    Some(502) | Some(503) | Some(504) => format!(
                        "{proxy} could not reach the host ({reason}): check the URL's host and port, \
                         or whether the host belongs in NO_PROXY"
                    ),
                    _ => format!("{proxy} refused the tunnel ({reason})"),
                }
            }
            ureq::Error::HostNotFound => {
                format!("{proxy}: its host name was not found; check {var}")
            }
            ureq::Error::Timeout(_) => {
                format!("{proxy} did not accept the connection in time; check {var}")
            }
            _ => format!(
                "{proxy} cannot be reached (connection refused or unreachable); check {var}"
            ),
        };
        ProxyFailure(detail)
    }
}

impl fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProxyFailure {}

/// The readable detail of a proxy failure inside a ureq error, if it is one.
pub fn detail(err: &ureq::Error) -> Option<String> {
    match err {
        ureq::Error::Other(inner) => inner.downcast_ref::<ProxyFailure>().map(|f| f.0.clone()),
        _ => None,
    }
}

/// `NO_PROXY`, matched as curl matches it.
///
/// Entries are separated by commas (and blanks). `*` matches every host. A
/// host name entry matches that name and every name below it, with or
/// without a leading `.` (`.example.com` and `example.com` both match
/// `example.com` and `a.example.com`, never `notexample.com`); a leading
/// `*.` is read as `.`. An IP address entry matches that address, and
/// `addr/bits` a CIDR range; they match only URLs whose host is an IP
/// address (names are not resolved). Comparison ignores case and a trailing
/// dot. Beyond curl, `host:port` (and `[v6]:port`) matches only that port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    pattern: Pattern,
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    /// Lower case, without leading and trailing dots.
    Domain(String),
    Net(IpAddr, u8),
}

impl NoProxy {
    /// Parses a `NO_PROXY` value; entries that cannot match anything are dropped.
    pub fn parse(value: &str) -> NoProxy {
        let mut list = NoProxy::default();
        for token in value.split(|c: char| c == ',' || c.is_whitespace()) {
            let token = token.trim();
            if token.is_empty() {
                continue;
            }
            if token == "*" {
                list.all = true;
                continue;
            }
            match parse_entry(token) {
                Some(entry) => list.entries.push(entry),
                None => log::debug!("NO_PROXY entry '{token}' cannot match any host; ignored"),
            }
        }
        list
    }

    /// True when a request to `host` (as in a URL; `[v6]` allowed) on `port`
    /// goes without a proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            entry.port.is_none_or(|p| p == port)
                && match (&entry.pattern, ip) {
                    (Pattern::Net(net, bits), Some(ip)) => in_net(ip, *net, *bits),
                    (Pattern::Domain(domain), None) => {
                        name == *domain
                            || name
                                .strip_suffix(domain.as_str())
                                .is_some_and(|rest| rest.ends_with('.'))
                    }
                    _ => false,
                }
        })
    }
}

impl fmt::Display for NoProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all {
            return f.write_str("* (everything)");
        }
        if self.entries.is_empty() {
            return f.write_str("(none)");
        }
        let shown: Vec<String> = self
            .entries
            .iter()
            .map(|e| {
                let p = match &e.pattern {
                    Pattern::Domain(d) => d.clone(),
                    Pattern::Net(ip, bits) if *bits == full_bits(*ip) => ip.to_string(),
                    Pattern::Net(ip, bits) => format!("{ip}/{bits}"),
                };
                match e.port {
                    Some(port) if p.contains(':') => format!("[{p}]:{port}"),
                    Some(port) => format!("{p}:{port}"),
                    None => p,
                }
            })
            .collect();
        f.write_str(&shown.join(","))
    }
}

fn parse_entry(token: &str) -> Option<Entry> {
    // Bare IPv6 (with or without /bits) first: its colons are not a port.
    if let Some(pattern) = parse_net(token) {
        return Some(Entry {
            pattern,
            port: None,
        });
    }
    let (host, port) = if let Some(rest) = token.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (inside, port)
    } else {
        match token.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
            None => (token, None),
        }
    };
    if let Some(pattern) = parse_net(host) {
        return Some(Entry { pattern, port });
    }
    let domain = host
        .strip_prefix("*.")
        .unwrap_or(host)
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if domain.is_empty() || domain.contains(['*', '/', '[', ']']) {
        return None;
    }
    Some(Entry {
        pattern: Pattern::Domain(domain),
        port,
    })
}

fn parse_net(text: &str) -> Option<Pattern> {
    let (addr, bits) = match text.split_once('/') {
        Some((addr, bits)) => (addr, Some(bits.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let ip = addr.parse::<IpAddr>().ok()?;
    let full = full_bits(ip);
    let bits = bits.unwrap_or(full);
    (bits <= full).then_some(Pattern::Net(ip, bits))
}

fn full_bits(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn np(v: &str) -> NoProxy {
        NoProxy::parse(v)
    }

    #[test]
    fn domains_match_themselves_and_below_with_or_without_a_dot() {
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            let p = np(list);
            assert!(p.matches("example.com", 443), "{list}");
            assert!(p.matches("a.b.Example.COM", 443), "{list}");
            assert!(p.matches("example.com.", 80), "{list}");
            assert!(!p.matches("notexample.com", 443), "{list}");
            assert!(!p.matches("example.com.evil", 443), "{list}");
            assert!(!p.matches("93.184.215.14", 443), "{list}");
        }
    }

    #[test]
    fn lists_blanks_and_star() {
        let p = np(" localhost , svc.cluster.local,,minio ");
        assert!(p.matches("localhost", 80));
        assert!(p.matches("dojo.defectdojo.svc.cluster.local", 80));
        assert!(p.matches("minio", 9000));
        assert!(!p.matches("127.0.0.1", 80), "names are not resolved");
        assert!(np("*").matches("anything.example", 1));
        assert!(np("a.example,*").matches("b.example", 1));
        assert!(!np("").matches("localhost", 80));
        assert!(!np("*.").matches("x", 80));
    }

    #[test]
    fn ip_literals_and_ranges() {
        let p = np("127.0.0.1,10.0.0.0/8,::1,fd00::/8");
        assert!(p.matches("127.0.0.1", 80));
        assert!(!p.matches("127.0.0.2", 80));
        assert!(p.matches("10.200.3.4", 80));
        assert!(!p.matches("11.0.0.1", 80));
        assert!(p.matches("[::1]", 80));
        assert!(p.matches("[fd12:3456::1]", 80));
        assert!(!p.matches("[fe80::1]", 80));
        assert!(!p.matches("localhost", 80));
        assert!(np("0.0.0.0/0").matches("8.8.8.8", 53));
        assert!(np("::/0").matches("[2001:db8::1]", 443));
        assert!(np("10.0.0.0/33").entries.is_empty(), "bad prefix length");
    }

    #[test]
    fn ports_narrow_an_entry() {
        let p = np("127.0.0.1:9000,minio:9000,[::1]:8080,.svc:443");
        assert!(p.matches("127.0.0.1", 9000));
        assert!(!p.matches("127.0.0.1", 8080));
        assert!(p.matches("minio", 9000));
        assert!(!p.matches("minio", 80));
        assert!(p.matches("[::1]", 8080));
        assert!(!p.matches("[::1]", 8081));
        assert!(p.matches("dojo.ns.svc", 443));
        assert!(!p.matches("dojo.ns.svc", 8080));
        assert!(np("host:notaport").entries.is_empty());
        assert_eq!(
            p.to_string(),
            "127.0.0.1:9000,minio:9000,[::1]:8080,svc:443"
        );
    }

    fn proxies(env: &[(&str, &str)]) -> (Proxies, Vec<String>) {
        let get = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let mut problems = Vec::new();
        (Proxies::from_env(&get, &mut problems), problems)
    }

    fn via(p: &Proxies, url: &str) -> Option<&'static str> {
        p.route(&url.parse::<Uri>().unwrap()).map(|r| r.variable)
    }

    #[test]
    fn scheme_picks_the_variable_lower_case_first() {
        let (p, problems) = proxies(&[
            ("HTTPS_PROXY", "http://upper:3128"),
            ("https_proxy", "http://user:pw@lower:3128"),
            ("HTTP_PROXY", "plain:8080"),
            ("NO_PROXY", ".internal,127.0.0.1"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(via(&p, "https://dojo.example/api/v2/"), Some("https_proxy"));
        assert_eq!(via(&p, "http://minio.example:9000/b/k"), Some("HTTP_PROXY"));
        assert_eq!(via(&p, "https://dojo.internal/"), None);
        assert_eq!(via(&p, "http://127.0.0.1:9000/"), None);
        let shown = p.describe();
        assert!(
            shown.contains("via http://lower:3128 (https_proxy)"),
            "{shown}"
        );
        assert!(!shown.contains("pw"), "{shown}");

        let (p, _) = proxies(&[("HTTPS_PROXY", "http://proxy:3128")]);
        assert_eq!(via(&p, "http://minio:9000/"), None, "no http proxy");
        assert!(!p.is_empty());
        assert!(proxies(&[]).0.is_empty());
    }

    #[test]
    fn unusable_proxy_urls_are_problems_without_credentials() {
        let (_, problems) = proxies(&[
            ("HTTPS_PROXY", "socks5://u:secret@proxy:1080"),
            ("HTTP_PROXY", "ftp://proxy"),
        ]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("HTTPS_PROXY 'socks5://proxy:1080' is a socks5:// proxy"));
        assert!(problems[1].contains("ftp://"));
        assert!(!problems.join(" ").contains("secret"));
    }
}
