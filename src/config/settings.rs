//! The settings no scan can change: DefectDojo's URL and key, numbers and
//! timeouts, switches, the gate, the summary file, the temp dir and the
//! network. Read and validated once, before anything about the scan is
//! known: in a cluster before the Scan GET ([`crate::k8s`]), and as the
//! first part of [`super::Config::build`].

use std::time::Duration;

use super::reporting::{self, GateSettings};
use super::value::{Getter, boolean, nonblank};
use crate::http::Network;
use crate::http::Timeouts;
use crate::http::redact::Secret;

/// The largest number of seconds any time variable accepts: 30 days. More
/// is a configuration error (exit 2), not a panic of instant arithmetic.
pub const MAX_SECONDS: u64 = 30 * 24 * 60 * 60;

/// Every setting that comes from variables alone.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DEFECTDOJO_URL` without trailing slashes.
    pub dojo_url: String,
    /// `DEFECTDOJO_APIKEY`, or the contents of `DEFECTDOJO_APIKEY_FILE`.
    pub api_key: Secret,
    /// The numbers: ids, limits, timeouts, sizes.
    pub numbers: Numbers,
    /// The on/off switches.
    pub switches: Switches,
    /// The build gate.
    pub gate: GateSettings,
    /// Where the Markdown summary goes, see [`super::Config::summary_file`].
    pub summary_file: Option<(String, bool)>,
    /// `TMPDIR` (default `/tmp`): where bodies are spooled.
    pub tmpdir: String,
    /// Trust (CA files), proxies and DefectDojo's extra headers.
    pub network: Network,
}

/// The numeric settings (see the fields of the same names on [`super::Config`]).
#[derive(Debug, Clone)]
pub struct Numbers {
    /// `DEFECTDOJO_USER_ID`.
    pub user_id: Option<u64>,
    /// `DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS`.
    pub max_pages: Option<u64>,
    /// `DEFECTDOJO_REFETCH_WAIT_SECONDS`.
    pub refetch_wait: Duration,
    /// `DEFECTDOJO_TIMEOUT_SECONDS`, `…_IMPORT_TIMEOUT_SECONDS`, `…_DEADLINE_SECONDS`.
    pub timeouts: Timeouts,
    /// `DEFECTDOJO_MEMORY_SPOOL_MB`.
    pub memory_spool_mb: u64,
    /// `DEFECTDOJO_MAX_UPLOAD_MB`.
    pub max_upload_mb: u64,
}

/// The on/off settings (see the fields of the same names on [`super::Config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    /// `DEFECTDOJO_LOW_PRIVILEGED_MODE` [default: false].
    pub low_privileged: bool,
    /// `DEFECTDOJO_DRY_RUN` [default: false].
    pub dry_run: bool,
    /// `DEFECTDOJO_GENERIC_FALLBACK` [default: true].
    pub generic_fallback: bool,
}

impl Settings {
    /// Reads and checks the variables no scan can change; every problem is
    /// added to `problems` (the values then are defaults or blanks).
    pub fn read(get: Getter, problems: &mut Vec<String>) -> Settings {
        let var = |name: &str| nonblank(get, name);
        // The order of the problems is the order of these lines.
        let dojo_url = read_dojo_url(&var, problems);
        let api_key = crate::http::credentials::api_key(&var, problems);
        let numbers = read_numbers(&var, problems);
        let switches = read_switches(&var, problems);
        let gate = reporting::read_gate(&var, problems);
        let network = Network::from_env(&var, problems);
        log_ignored(get);
        Settings {
            dojo_url,
            api_key,
            numbers,
            switches,
            gate,
            summary_file: reporting::read_summary_file(&var),
            tmpdir: var("TMPDIR").unwrap_or_else(|| "/tmp".to_string()),
            network,
        }
    }
}

/// `DEFECTDOJO_URL`, without trailing slashes and with its scheme in lower
/// case: required, http(s) in any letter case, no query, no user info.
///
/// User info is refused, not dropped: DefectDojo authenticates the API key
/// (`Authorization: Token`), so a user and password in the URL cannot log
/// in to it nor to a proxy in front of it, and every link the run prints
/// or writes (the test's, the findings') is built from this URL.
pub fn read_dojo_url(var: Getter, problems: &mut Vec<String>) -> String {
    let Some(url) = var("DEFECTDOJO_URL") else {
        problems.push("DEFECTDOJO_URL is not set: set it to DefectDojo's base URL, e.g. https://defectdojo.example.com".to_string());
        return String::new();
    };
    let url = url.trim_end_matches('/');
    let Some((scheme, rest)) = url.split_once("://").filter(|(s, rest)| {
        (s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https")) && !rest.is_empty()
    }) else {
        problems.push(format!(
            "DEFECTDOJO_URL '{}' is not an http:// or https:// URL",
            crate::http::redact::url(url)
        ));
        return url.to_string();
    };
    let url = format!("{}://{rest}", scheme.to_ascii_lowercase());
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if authority.contains('@') {
        problems.push(format!(
            "DEFECTDOJO_URL carries a user name or password ({}): DefectDojo and a proxy in \
             front of it take the API key (DEFECTDOJO_APIKEY) and DEFECTDOJO_EXTRA_HEADERS, \
             never these, and every link dojo-hook prints or writes would publish them; \
             remove the part before '@'",
            crate::http::redact::url(&url)
        ));
    } else if url.contains('?') || url.contains('#') {
        problems.push("DEFECTDOJO_URL must not contain a query string or fragment".to_string());
    }
    url
}

/// The numeric variables, each within its bounds.
pub fn read_numbers(var: Getter, problems: &mut Vec<String>) -> Numbers {
    let mut num = |name: &str, default: Option<u64>, min: u64, max: u64| {
        number(var, name, default, (min, max), problems)
    };
    let user_id = num("DEFECTDOJO_USER_ID", None, 1, u64::MAX);
    let max_pages = num("DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS", None, 1, u64::MAX);
    // Seconds are capped: a Duration near u64::MAX overflows every
    // instant it is added to (in ureq too), which panics.
    let refetch_wait = num("DEFECTDOJO_REFETCH_WAIT_SECONDS", Some(0), 0, MAX_SECONDS);
    let call = num("DEFECTDOJO_TIMEOUT_SECONDS", Some(60), 1, MAX_SECONDS);
    let import = num(
        "DEFECTDOJO_IMPORT_TIMEOUT_SECONDS",
        Some(1800),
        1,
        MAX_SECONDS,
    );
    let deadline = num("DEFECTDOJO_DEADLINE_SECONDS", None, 1, MAX_SECONDS);
    let memory_spool_mb = num("DEFECTDOJO_MEMORY_SPOOL_MB", Some(8), 0, u64::MAX);
    let max_upload_mb = num("DEFECTDOJO_MAX_UPLOAD_MB", Some(100), 1, u64::MAX);
    // The defaults are given twice because `num` answers `None` for an
    // unset variable without a default; these ones all have one.
    Numbers {
        user_id,
        max_pages,
        refetch_wait: Duration::from_secs(refetch_wait.unwrap_or(0)),
        timeouts: Timeouts {
            call: Duration::from_secs(call.unwrap_or(60)),
            import: Duration::from_secs(import.unwrap_or(1800)),
            deadline: deadline.map(Duration::from_secs),
        },
        memory_spool_mb: memory_spool_mb.unwrap_or(8),
        max_upload_mb: max_upload_mb.unwrap_or(100),
    }
}

/// One whole number within `min..=max`; out of bounds is a problem and the
/// default. A bound of `u64::MAX` means "no upper bound"; any other upper
/// bound is a number of seconds.
fn number(
    var: Getter,
    name: &str,
    default: Option<u64>,
    (min, max): (u64, u64),
    problems: &mut Vec<String>,
) -> Option<u64> {
    let Some(v) = var(name) else { return default };
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            problems.push(if max == u64::MAX {
                format!("{name} must be a whole number of at least {min}, got '{v}'")
            } else {
                format!(
                    "{name} must be a whole number of seconds from {min} to {max} \
                     (30 days), got '{v}'"
                )
            });
            default
        }
    }
}

/// The on/off variables.
pub fn read_switches(var: Getter, problems: &mut Vec<String>) -> Switches {
    Switches {
        low_privileged: boolean(var, "DEFECTDOJO_LOW_PRIVILEGED_MODE", problems).unwrap_or(false),
        dry_run: boolean(var, "DEFECTDOJO_DRY_RUN", problems).unwrap_or(false),
        generic_fallback: boolean(var, "DEFECTDOJO_GENERIC_FALLBACK", problems).unwrap_or(true),
    }
}

/// The Java hook's variables dojo-hook does not use: said at debug level,
/// since setting them is harmless.
fn log_ignored(get: Getter) {
    for ignored in ["DEFECTDOJO_IS_DEV", "IS_DEV", "DEFECTDOJO_USERNAME"] {
        if get(ignored).is_some() {
            log::debug!(
                "{ignored} is set and ignored (the Java hook's development mode / username are not used)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Runs a reader on a map of variables; returns its value and problems.
    fn on<T>(
        pairs: &[(&str, &str)],
        read: impl Fn(Getter, &mut Vec<String>) -> T,
    ) -> (T, Vec<String>) {
        let vars: HashMap<&str, &str> = pairs.iter().copied().collect();
        let var = |k: &str| nonblank(&|k| vars.get(k).map(|v| v.to_string()), k);
        let mut problems = Vec::new();
        (read(&var, &mut problems), problems)
    }

    #[test]
    fn the_url_is_required_http_and_without_query() {
        let (url, p) = on(&[("DEFECTDOJO_URL", "https://dojo/x//")], read_dojo_url);
        assert_eq!((url.as_str(), p.len()), ("https://dojo/x", 0));
        let (_, p) = on(&[], read_dojo_url);
        assert!(p[0].starts_with("DEFECTDOJO_URL is not set"), "{p:?}");
        for bad in ["dojo.example", "https://", "ftp://dojo"] {
            let (_, p) = on(&[("DEFECTDOJO_URL", bad)], read_dojo_url);
            assert!(p[0].contains("is not an http:// or https:// URL"), "{p:?}");
        }
        let (_, p) = on(&[("DEFECTDOJO_URL", "https://dojo/?a=1")], read_dojo_url);
        assert!(p[0].contains("query string"), "{p:?}");
        let (url, p) = on(&[("DEFECTDOJO_URL", "HTTPS://Dojo:8443/")], read_dojo_url);
        assert_eq!((url.as_str(), p.len()), ("https://Dojo:8443", 0));
    }

    #[test]
    fn user_info_in_the_url_is_refused_without_showing_it() {
        for given in [
            "http://alice:Secret99@dojo:8080",
            "https://alice:Secret99@dojo/x",
            "http://:Secret99@dojo",
            "http://Secret99@dojo?x",
        ] {
            let (_, p) = on(&[("DEFECTDOJO_URL", given)], read_dojo_url);
            assert_eq!(p.len(), 1, "{given}: {p:?}");
            assert!(p[0].contains("carries a user name or password"), "{p:?}");
            assert!(
                !p[0].contains("Secret99") && !p[0].contains("alice"),
                "{p:?}"
            );
        }
        let (_, p) = on(&[("DEFECTDOJO_URL", "https://dojo/a@b")], read_dojo_url);
        assert!(p.is_empty(), "an @ in the path is no user info: {p:?}");
    }

    #[test]
    fn numbers_have_defaults_and_bounds() {
        let (n, p) = on(&[], read_numbers);
        assert!(p.is_empty());
        assert_eq!(n.timeouts.call, Duration::from_secs(60));
        assert_eq!(n.timeouts.import, Duration::from_secs(1800));
        assert_eq!(
            (n.user_id, n.max_pages, n.timeouts.deadline),
            (None, None, None)
        );
        assert_eq!((n.memory_spool_mb, n.max_upload_mb), (8, 100));
        let (n, p) = on(
            &[
                ("DEFECTDOJO_USER_ID", "0"),
                ("DEFECTDOJO_TIMEOUT_SECONDS", "2592001"),
                ("DEFECTDOJO_DEADLINE_SECONDS", "2592000"),
                ("DEFECTDOJO_MEMORY_SPOOL_MB", "0"),
            ],
            read_numbers,
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            p[0],
            "DEFECTDOJO_USER_ID must be a whole number of at least 1, got '0'"
        );
        assert!(p[1].contains("from 1 to 2592000 (30 days)"), "{p:?}");
        assert_eq!(n.timeouts.call, Duration::from_secs(60));
        assert_eq!(n.timeouts.deadline, Some(Duration::from_secs(MAX_SECONDS)));
        assert_eq!(n.memory_spool_mb, 0);
    }

    #[test]
    fn switches_default_and_complain() {
        let (s, p) = on(&[], read_switches);
        assert!(p.is_empty());
        assert!(!s.low_privileged && !s.dry_run && s.generic_fallback);
        let (s, p) = on(
            &[
                ("DEFECTDOJO_DRY_RUN", "yes"),
                ("DEFECTDOJO_GENERIC_FALLBACK", "perhaps"),
            ],
            read_switches,
        );
        assert!(s.dry_run && s.generic_fallback);
        assert_eq!(
            p,
            ["DEFECTDOJO_GENERIC_FALLBACK must be true or false, got 'perhaps'"]
        );
    }

    #[test]
    fn settings_report_every_problem_and_read_no_scan_setting() {
        let (s, p) = on(
            &[
                ("DEFECTDOJO_TIMEOUT_SECONDS", "soon"),
                ("DEFECTDOJO_FAIL_ON", "urgent"),
                ("HTTPS_PROXY", "socks5://proxy:1080"),
                ("DEFECTDOJO_MINIMUM_SEVERITY", "urgent"),
                ("TMPDIR", "/var/tmp"),
            ],
            |get, problems| Settings::read(get, problems),
        );
        let text = p.join("\n");
        for needle in [
            "DEFECTDOJO_URL",
            "DEFECTDOJO_APIKEY",
            "DEFECTDOJO_TIMEOUT_SECONDS",
            "DEFECTDOJO_FAIL_ON",
            "HTTPS_PROXY",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        // An annotation may still set the minimum severity: not checked here.
        assert!(!text.contains("minimum severity"), "{text}");
        assert_eq!(s.tmpdir, "/var/tmp");
    }
}
