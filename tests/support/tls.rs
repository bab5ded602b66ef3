//! TLS for the fakes: the committed test PKI under `fixtures/tls/` (made by
//! `scripts/make-test-certs.sh`) and the server side of an accepted connection,
//! used by [`super::http::Server::start_tls`].
//!
//! A client that speaks plain HTTP to a TLS fake gets what Go's and nginx's TLS
//! servers answer: a plain `400` saying so.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::http::lock;

/// A file of the test PKI.
pub fn path(name: &str) -> String {
    format!("{}/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The CA that issued every server certificate below.
pub fn ca_file() -> String {
    path("ca.pem")
}

/// Which certificate a TLS fake presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cert {
    /// For 127.0.0.1 and localhost, valid until 2125.
    Good,
    /// Same names, valid only in 2020.
    Expired,
    /// For wrong.example only.
    WrongName,
}

/// A rustls server config presenting `cert` (issued by [`ca_file`]).
pub fn server_config(cert: Cert) -> Arc<ServerConfig> {
    let file = match cert {
        Cert::Good => "server.pem",
        Cert::Expired => "expired.pem",
        Cert::WrongName => "wrong-name.pem",
    };
    let chain = CertificateDer::pem_file_iter(path(file))
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| panic!("fixtures/tls/{file}: {e}"));
    let key = PrivateKeyDer::from_pem_file(path("server.key"))
        .unwrap_or_else(|e| panic!("fixtures/tls/server.key: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the fixture key matches the fixture certificates");
    Arc::new(config)
}

/// Go's answer to plain HTTP on a TLS port.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// The read and write halves of a connection.
pub type Halves = (Box<dyn Read + Send>, Box<dyn Write + Send>);

/// The server side of TLS on `tcp`: two halves sharing one rustls stream (the
/// plumbing reads a whole request before it writes, so they never wait for each
/// other long). The handshake happens on the first read. A client that does not
/// start with a TLS handshake record gets [`PLAIN_HTTP_ANSWER`] and `None`.
pub fn accept(config: &Arc<ServerConfig>, tcp: &TcpStream) -> Option<Halves> {
    let poll = tcp.read_timeout().ok().flatten();
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let mut first = [0u8; 1];
    let peeked = tcp.peek(&mut first);
    let _ = tcp.set_read_timeout(poll);
    if peeked.ok()? == 0 {
        return None;
    }
    if first[0] != 0x16 {
        answer_plain_http(tcp);
        return None;
    }
    let conn = ServerConnection::new(config.clone()).ok()?;
    let stream = Arc::new(Mutex::new(StreamOwned::new(conn, tcp.try_clone().ok()?)));
    Some((Box::new(Half(stream.clone())), Box::new(Half(stream))))
}

fn answer_plain_http(tcp: &TcpStream) {
    let mut w = tcp;
    let _ = w.write_all(PLAIN_HTTP_ANSWER);
    let _ = tcp.shutdown(Shutdown::Write);
    // Drain what the client sent, so closing does not reset the answer away.
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
    let mut sink = [0u8; 4096];
    let mut r = tcp;
    while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
}

struct Half(Arc<Mutex<StreamOwned<ServerConnection, TcpStream>>>);

impl Read for Half {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        lock(&self.0).read(buf)
    }
}

impl Write for Half {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        lock(&self.0).flush()
    }
}
