//! Server certificate trust, and the TLS step of the run's connections.
//!
//! Hand-written because ureq cannot be given the web PKI roots and extra CA
//! files together: its TLS connector is replaced by this one.
//!
//! Certificates are verified against the public web PKI roots (the
//! `webpki-roots` crate, Mozilla's list) **plus** every PEM certificate in the
//! files named by [`CA_VARIABLES`]. The files add to the roots, they never
//! replace them, and there is no switch to turn verification off: a private
//! CA is trusted by naming its certificate, which keeps the API key and the
//! findings away from whoever sits in between.
//!
//! ureq 3.5 takes either its built-in roots or a list of DER certificates,
//! and webpki-roots gives trust anchors, not certificates; so this module
//! wraps connections in TLS itself, as the last step of ureq's connector
//! chain (after TCP and a proxy's CONNECT), with a rustls `ClientConfig`
//! whose root store holds both. A failed handshake becomes a [`TlsFailure`]:
//! one line that says what is wrong and which variable fixes it.
//!
//! What this module must not do: log certificates' contents beyond names and
//! counts, or decide anything about proxies ([`super::proxy`]).

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// The variables naming PEM files whose certificates are trusted in addition
/// to the web PKI roots, in the order they are read.
///
/// `NODE_EXTRA_CA_CERTS` is what the secureCodeBox operator sets for hooks
/// when a custom CA is configured.
pub const CA_VARIABLES: [&str; 3] = ["DEFECTDOJO_CA_FILE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"];

/// Where extra trusted certificates came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSource {
    /// The variable that named the file.
    pub variable: &'static str,
    /// The file.
    pub path: String,
    /// How many certificates of the file were added.
    pub certificates: usize,
}

/// The trust of a run: web PKI roots plus the certificates of the CA files.
#[derive(Clone)]
pub struct Trust {
    config: Arc<ClientConfig>,
    sources: Vec<CaSource>,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trust")
            .field("sources", &self.sources)
            .finish()
    }
}

impl Default for Trust {
    /// The web PKI roots only.
    fn default() -> Trust {
        Trust::from_certificates(Vec::new(), Vec::new())
    }
}

impl Trust {
    /// Reads the files named by [`CA_VARIABLES`]; a file that is missing,
    /// unreadable or holds no usable certificate is a problem naming its
    /// variable. `var` returns a variable's trimmed, non-empty value.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Trust {
        let mut sources = Vec::new();
        let mut all = Vec::new();
        for variable in CA_VARIABLES {
            let Some(path) = var(variable) else { continue };
            match read_ca_file(&path) {
                Ok(certs) => {
                    sources.push(CaSource {
                        variable,
                        path,
                        certificates: certs.len(),
                    });
                    all.push(certs);
                }
                Err(why) => problems.push(format!("{variable} {path}: {why}")),
            }
        }
        Trust::from_certificates(sources, all)
    }

    fn from_certificates(
        mut sources: Vec<CaSource>,
        files: Vec<Vec<CertificateDer<'static>>>,
    ) -> Trust {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for (source, certs) in sources.iter_mut().zip(files) {
            let (added, ignored) = roots.add_parsable_certificates(certs);
            if ignored > 0 {
                log::warn!(
                    "{} {}: {ignored} of its certificates cannot be used as a trust anchor and are ignored",
                    source.variable,
                    source.path
                );
            }
            source.certificates = added;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            // unwrap is fine: ring's default provider supports the default versions.
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Trust {
            config: Arc::new(config),
            sources,
        }
    }

    /// The CA files that were added to the web PKI roots.
    pub fn sources(&self) -> &[CaSource] {
        &self.sources
    }

    /// What is trusted, for logs and errors: `the web PKI roots and 1
    /// certificate from DEFECTDOJO_CA_FILE (/etc/ca.pem)`.
    pub fn describe(&self) -> String {
        if self.sources.is_empty() {
            return "the web PKI roots only; no CA file is configured".to_string();
        }
        let files: Vec<String> = self
            .sources
            .iter()
            .map(|s| {
                format!(
                    "{} certificate{} from {} ({})",
                    s.certificates,
                    if s.certificates == 1 { "" } else { "s" },
                    s.variable,
                    s.path
                )
            })
            .collect();
        format!("the web PKI roots and {}", files.join(" and "))
    }

    /// The connector that wraps `https://` connections with this trust.
    pub(crate) fn connector(&self) -> TlsConnector {
        TlsConnector {
            trust: self.clone(),
        }
    }
}

/// The certificates of a PEM file; other PEM sections (keys) are skipped.
pub fn read_ca_file(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => {
            "not found: check the path (a mounted ConfigMap or Secret?)".to_string()
        }
        io::ErrorKind::PermissionDenied => {
            "permission denied: check the file's permissions".to_string()
        }
        io::ErrorKind::IsADirectory => "is a directory, not a PEM file".to_string(),
        _ => format!("cannot be read: {e}"),
    })?;
    let certs = parse_pem(&bytes)?;
    if certs.is_empty() {
        return Err(
            "holds no certificate: give a PEM file with at least one \"-----BEGIN CERTIFICATE-----\" block"
                .to_string(),
        );
    }
    Ok(certs)
}

/// The certificates of PEM text.
pub fn parse_pem(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("is not a valid PEM file ({e})"))
}

/// The TLS step of the connector chain (see the module docs).
pub(crate) struct TlsConnector {
    trust: Trust,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("trust", &self.trust)
            .finish()
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        // Plain http://, or already TLS (an https:// proxy's own connection
        // is wrapped when it is made; the tunnel through it is not TLS yet).
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let peer = Peer::of(details.uri);
        let name = ServerName::try_from(peer.host.clone()).map_err(|_| {
            TlsFailure::boxed(format!(
                "TLS: '{}' is neither a host name nor an IP address",
                peer.host
            ))
        })?;
        let mut conn = ClientConnection::new(self.trust.config.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        if let Err(err) = conn.complete_io(&mut sock) {
            return Err(handshake_error(err, &peer, &self.trust));
        }
        log::trace!("TLS with {peer}: {:?}", conn.negotiated_cipher_suite());
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned::new(conn, sock),
        })))
    }
}

/// A connection wrapped in TLS by [`TlsConnector`].
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// `host:port` of a connection, for messages (never the user info).
struct Peer {
    host: String,
    port: Option<u16>,
}

impl Peer {
    fn of(uri: &ureq::http::Uri) -> Peer {
        let host = uri.host().unwrap_or("");
        Peer {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: uri.port_u16(),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(port) => write!(f, "{host}:{port}"),
            None => write!(f, "{host}"),
        }
    }
}

/// A failed TLS handshake, explained in one line.
#[derive(Debug)]
pub struct TlsFailure(String);

impl TlsFailure {
    fn boxed(detail: String) -> ureq::Error {
        ureq::Error::Other(Box::new(TlsFailure(detail)))
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailure {}

fn handshake_error(err: io::Error, peer: &Peer, trust: &Trust) -> ureq::Error {
    match err.downcast::<rustls::Error>() {
        Ok(tls) => TlsFailure::boxed(explain(&tls, &peer.to_string(), Some(trust))),
        // A timeout or another ureq error travelling through the adapter.
        Err(io) if io.get_ref().is_some() => ureq::Error::from(io),
        Err(io) if io.kind() == io::ErrorKind::UnexpectedEof => TlsFailure::boxed(format!(
            "TLS: {peer} closed the connection during the TLS handshake: is this a plain-HTTP \
             port (then use http://), or does something in between block TLS?"
        )),
        Err(io) => ureq::Error::Io(io),
    }
}

/// The readable detail of a TLS failure inside a ureq error, if it is one.
pub fn detail(err: &ureq::Error) -> Option<String> {
    match err {
        ureq::Error::Other(inner) => inner.downcast_ref::<TlsFailure>().map(|f| f.0.clone()),
        ureq::Error::Rustls(tls) => Some(explain(tls, "the server", None)),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(|tls| explain(tls, "the server", None)),
        _ => None,
    }
}

/// One line for a rustls error; `peer` is `host:port` or "the server".
fn explain(err: &rustls::Error, peer: &str, trust: Option<&Trust>) -> String {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(cert) => explain_certificate(cert, peer, trust),
        E::InvalidMessage(_) => format!(
            "TLS: {peer} did not answer with TLS (it looks like plain HTTP): use http:// for \
             this port, or the port that serves https://"
        ),
        E::AlertReceived(alert) => format!(
            "TLS: {peer} refused the handshake (alert {alert:?}): it may not serve this host \
             name, or need a client certificate or a TLS version or cipher dojo-hook does not offer"
        ),
        E::PeerIncompatible(why) => {
            format!(
                "TLS: {peer} offers no TLS version or cipher in common with dojo-hook ({why:?})"
            )
        }
        other => format!("TLS with {peer} failed: {other}"),
    }
}

fn explain_certificate(err: &CertificateError, peer: &str, trust: Option<&Trust>) -> String {
    use CertificateError as C;
    let whose = format!("the certificate of {peer}");
    match err {
        C::UnknownIssuer => {
            let trusted = trust.map_or_else(
                || "the web PKI roots and the CA files".to_string(),
                Trust::describe,
            );
            let fix = match trust {
                Some(t) if !t.sources().is_empty() => format!(
                    "{} not hold the CA that issued it (the root of its chain), or the server \
                     does not send its intermediate certificates",
                    if t.sources().len() == 1 {
                        "that file does"
                    } else {
                        "those files do"
                    }
                ),
                _ => format!(
                    "if the server uses a private CA, put that CA's certificate (PEM) in a file \
                     and name it in {} (or {} or {})",
                    CA_VARIABLES[0], CA_VARIABLES[1], CA_VARIABLES[2]
                ),
            };
            format!("TLS: {whose} is issued by an unknown CA (trusted: {trusted}): {fix}")
        }
        C::NotValidForNameContext {
            expected,
            presented,
        } => {
            let expected = expected.to_str();
            let names: Vec<String> = presented.iter().map(|n| presented_name(n)).collect();
            let has = if names.is_empty() {
                "it names no host at all (no subjectAltName)".to_string()
            } else {
                format!("it is for {}", names.join(", "))
            };
            format!(
                "TLS: {whose} is not valid for the name {expected} ({has}): use a URL with one of \
                 the certificate's names, or have the certificate reissued for {expected}"
            )
        }
        C::NotValidForName => format!(
            "TLS: {whose} is not valid for the host name in the URL: use one of the \
             certificate's names, or have it reissued"
        ),
        C::ExpiredContext { time, not_after } => format!(
            "TLS: {whose} expired on {} (this machine's clock says {}): the certificate must be renewed",
            utc(*not_after),
            utc(*time)
        ),
        C::Expired => format!("TLS: {whose} has expired: the certificate must be renewed"),
        C::NotValidYetContext { time, not_before } => format!(
            "TLS: {whose} is valid only from {} (this machine's clock says {}): check the clocks",
            utc(*not_before),
            utc(*time)
        ),
        C::NotValidYet => format!("TLS: {whose} is not valid yet: check the clocks"),
        other => format!("TLS: {whose} was rejected: {other}"),
    }
}

/// webpki's `DnsName("a.example")` / `IpAddress(10.0.0.1)` → `a.example` / `10.0.0.1`.
fn presented_name(raw: &str) -> String {
    for prefix in ["DnsName(\"", "IpAddress("] {
        if let Some(rest) = raw.strip_prefix(prefix) {
            return rest.trim_end_matches(')').trim_end_matches('"').to_string();
        }
    }
    raw.to_string()
}

/// `2021-01-01 00:00:00 UTC`.
fn utc(t: UnixTime) -> String {
    let secs = t.as_secs() as i64;
    let (year, month, day) = crate::util::time::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fixture(name: &str) -> String {
        format!("{}/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn ca_files_add_to_the_web_pki_roots() {
        let ca = fixture("ca.pem");
        let env = |name: &str| (name == "NODE_EXTRA_CA_CERTS").then(|| ca.clone());
        let mut problems = Vec::new();
        let trust = Trust::from_env(&env, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(trust.sources().len(), 1);
        assert_eq!(trust.sources()[0].certificates, 1);
        assert!(
            trust
                .describe()
                .starts_with("the web PKI roots and 1 certificate from NODE_EXTRA_CA_CERTS")
        );
        assert_eq!(
            Trust::default().describe(),
            "the web PKI roots only; no CA file is configured"
        );
    }

    #[test]
    fn unusable_ca_files_name_their_variable() {
        let dir = std::env::temp_dir().join(format!("dojo-hook-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let key_only = fixture("server.key");
        let values = [
            ("DEFECTDOJO_CA_FILE", "/nonexistent/ca.pem".to_string()),
            ("SSL_CERT_FILE", empty.display().to_string()),
            ("NODE_EXTRA_CA_CERTS", key_only),
        ];
        let env = |name: &str| {
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let mut problems = Vec::new();
        Trust::from_env(&env, &mut problems);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("DEFECTDOJO_CA_FILE /nonexistent/ca.pem: not found"));
        assert!(
            problems[1].starts_with("SSL_CERT_FILE ")
                && problems[1].contains("holds no certificate")
        );
        assert!(
            problems[2].starts_with("NODE_EXTRA_CA_CERTS ")
                && problems[2].contains("holds no certificate")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn certificate_errors_read_well() {
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let wrong = explain_certificate(
            &CertificateError::NotValidForNameContext {
                expected: name,
                presented: vec![
                    "DnsName(\"wrong.example\")".into(),
                    "IpAddress(10.0.0.1)".into(),
                ],
            },
            "127.0.0.1:8443",
            None,
        );
        assert_eq!(
            wrong,
            "TLS: the certificate of 127.0.0.1:8443 is not valid for the name 127.0.0.1 (it is for \
             wrong.example, 10.0.0.1): use a URL with one of the certificate's names, or have the \
             certificate reissued for 127.0.0.1"
        );
        let expired = explain_certificate(
            &CertificateError::ExpiredContext {
                time: UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000)),
                not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_609_459_200)),
            },
            "dojo:443",
            None,
        );
        assert!(
            expired.contains("expired on 2021-01-01 00:00:00 UTC"),
            "{expired}"
        );
        assert!(
            expired.contains("clock says 2023-11-14 22:13:20 UTC"),
            "{expired}"
        );
        let unknown = explain_certificate(
            &CertificateError::UnknownIssuer,
            "dojo:443",
            Some(&Trust::default()),
        );
        assert!(unknown.contains("unknown CA"), "{unknown}");
        assert!(
            unknown.contains("DEFECTDOJO_CA_FILE (or SSL_CERT_FILE or NODE_EXTRA_CA_CERTS)"),
            "{unknown}"
        );
    }

    #[test]
    fn pem_parsing() {
        let pem = std::fs::read(fixture("ca.pem")).unwrap();
        assert_eq!(parse_pem(&pem).unwrap().len(), 1);
        let mut two = pem.clone();
        two.extend_from_slice(b"\n# a comment line\n");
        two.extend_from_slice(&std::fs::read(fixture("other-ca.pem")).unwrap());
        assert_eq!(parse_pem(&two).unwrap().len(), 2);
        assert!(
            parse_pem(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err()
        );
    }
}
