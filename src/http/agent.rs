//! The settings of a run's connections — timeouts, trust ([`super::tls`]),
//! proxies ([`super::proxy`]) and DefectDojo's extra headers
//! ([`super::credentials`]) — and the agents built from them: one for
//! DefectDojo and object storage ([`agent`]), one for the Kubernetes API
//! ([`direct_agent`]).
//!
//! The run's agent's connector chain is ureq's CONNECT-proxy step, then
//! TCP, then our TLS step; ureq's own proxy detection from the environment
//! is switched off, and a middleware sets each request's proxy (or none).
//! The Kubernetes API is not reached through this agent: it has its own
//! cluster CA.

use std::time::Duration;

use ureq::Agent;
use ureq::config::ConfigBuilder;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::typestate::AgentScope;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};

use super::credentials;
use super::deadline::Timeouts;
use super::proxy::Proxies;
use super::redact::Secret;
use super::tls::Trust;

/// Trust, proxies and extra DefectDojo headers, as configured.
#[derive(Clone, Debug, Default)]
pub struct Network {
    /// Web PKI roots plus the CA files.
    pub trust: Trust,
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`.
    pub proxies: Proxies,
    /// `DEFECTDOJO_EXTRA_HEADERS`, sent with every DefectDojo request only.
    pub dojo_headers: Vec<(String, Secret)>,
}

impl Network {
    /// Reads every network variable; each problem names its variable.
    /// `var` returns a variable's trimmed, non-empty value.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Network {
        let trust = Trust::from_env(var, problems);
        let proxies = Proxies::from_env(var, problems);
        let dojo_headers = match var(credentials::EXTRA_HEADERS) {
            None => Vec::new(),
            Some(text) => credentials::extra_headers(&text).unwrap_or_else(|bad| {
                problems.extend(bad);
                Vec::new()
            }),
        };
        Network {
            trust,
            proxies,
            dojo_headers,
        }
    }
}

/// Builds the agent for DefectDojo and object storage (see the module docs)
/// and starts the run's limits from the same timeouts
/// ([`super::deadline::start`]): the deadline counts from here, and nothing
/// can call out before it is set.
pub fn agent(timeouts: &Timeouts, network: &Network) -> Agent {
    super::deadline::start(timeouts);
    if network.trust.sources().is_empty() {
        log::debug!("trusting {}", network.trust.describe());
    } else {
        log::info!("trusting {}", network.trust.describe());
    }
    let mut config = config_builder(timeouts).proxy(None);
    if !network.proxies.is_empty() {
        log::info!("proxies: {}", network.proxies.describe());
        config = config.middleware(network.proxies.middleware());
    }
    if !network.dojo_headers.is_empty() {
        let names: Vec<&str> = network
            .dojo_headers
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        log::debug!("extra DefectDojo headers: {}", names.join(", "));
    }
    let connector =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(network.trust.connector());
    Agent::with_parts(config.build(), connector, DefaultResolver::default())
}

/// An agent that trusts only `ca` (ureq's own TLS, no public roots) and
/// never goes through a proxy, each call bounded by `timeout` as a whole:
/// the Kubernetes API server, with the cluster's CA.
pub fn direct_agent(ca: Vec<Certificate<'static>>, timeout: Duration) -> Agent {
    let tls = TlsConfig::builder().root_certs(RootCerts::from(ca)).build();
    common()
        .proxy(None)
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// What every agent shares: statuses are not errors, no redirects, our
/// user agent.
fn common() -> ConfigBuilder<AgentScope> {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("dojo-hook/", env!("CARGO_PKG_VERSION")))
}

/// The settings of the run's agent before its proxies: [`common`]'s and
/// the timeouts. The proxy is left at ureq's default (ureq reads
/// `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` itself, by its own
/// rules); [`agent`] replaces that with [`super::proxy`]'s.
fn config_builder(timeouts: &Timeouts) -> ConfigBuilder<AgentScope> {
    let call = Some(timeouts.call);
    common()
        // The whole call, so that a server trickling its answer a byte at a
        // time cannot keep a run alive; transfers replace it
        // ([`super::deadline::cap_transfer`]), the deadline adds a global one.
        .timeout_per_call(call)
        .timeout_connect(call)
        .timeout_resolve(call)
        .timeout_send_request(call)
        .timeout_recv_response(call)
        // Bodies may be large: bound each read and write, not the whole body.
        .timeout_per_read(call)
        .timeout_per_write(call)
}

#[cfg(test)]
mod pin {
    /// `ureq::unversioned` is outside ureq's semver: Cargo.toml must ask for
    /// exactly the version Cargo.lock builds, the one this code was written for.
    #[test]
    fn ureq_is_pinned_to_the_locked_version() {
        let root = env!("CARGO_MANIFEST_DIR");
        let read = |name: &str| std::fs::read_to_string(format!("{root}/{name}")).expect(name);
        let manifest = read("Cargo.toml");
        let wanted = manifest
            .lines()
            .find_map(|l| l.strip_prefix("ureq = { version = \"="))
            .and_then(|rest| rest.split('"').next())
            .expect("ureq = { version = \"=x.y.z\" … } in Cargo.toml");
        let lock = read("Cargo.lock");
        let locked = lock
            .split("[[package]]")
            .find(|p| p.contains("\nname = \"ureq\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
            .map(|v| v.trim_end_matches('"'))
            .expect("ureq in Cargo.lock");
        assert_eq!(wanted, locked);
    }
}
