//! The network settings of a run — trust ([`crate::tls`]), proxies
//! ([`crate::proxy`]) and DefectDojo's extra headers ([`crate::credentials`])
//! — and the one agent built from them for DefectDojo and object storage.
//!
//! The agent's connector chain is ureq's CONNECT-proxy step, then TCP, then
//! our TLS step; ureq's own proxy detection from the environment is switched
//! off, and a middleware sets each request's proxy (or none). The Kubernetes
//! API is not reached through this agent: it has its own cluster CA.

use ureq::Agent;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};

use crate::credentials;
use crate::http::{self, Timeouts};
use crate::proxy::Proxies;
use crate::redact::Secret;
use crate::tls::Trust;

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

/// Builds the agent for DefectDojo and object storage (see the module docs).
pub fn agent(timeouts: &Timeouts, network: &Network) -> Agent {
    if network.trust.sources().is_empty() {
        log::debug!("trusting {}", network.trust.describe());
    } else {
        log::info!("trusting {}", network.trust.describe());
    }
    let mut config = http::config_builder(timeouts).proxy(None);
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

/// The readable detail of a TLS or proxy failure, if `err` is one.
pub fn detail(err: &ureq::Error) -> Option<String> {
    crate::tls::detail(err).or_else(|| crate::proxy::detail(err))
}
