//! FakeProxy: a forward proxy on 127.0.0.1 for the network tests, std threads only.
//!
//! It serves `CONNECT host:port` tunnels (ureq 3 tunnels plain `http://` requests
//! too, so that is all a client of ours sends) and answers anything else with 405.
//! With credentials, a CONNECT without the right `Proxy-Authorization: Basic …` gets
//! 407. Every CONNECT is logged as a [`Tunnel`] with its target and the credentials
//! header as sent, so tests can count what went through the proxy and what did not.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::http::lock;

/// One CONNECT request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Tunnel {
    /// `host:port` as requested.
    pub target: String,
    /// The `Proxy-Authorization` header, if any.
    pub authorization: Option<String>,
    /// Whether the tunnel was opened (credentials right, target reachable).
    pub opened: bool,
}

struct Shared {
    tunnels: Mutex<Vec<Tunnel>>,
    credentials: Option<(String, String)>,
    shutdown: AtomicBool,
}

/// A running proxy; stops accepting when dropped.
pub struct FakeProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeProxy {
    /// A proxy that lets everyone through.
    pub fn start() -> FakeProxy {
        FakeProxy::start_with(None)
    }

    /// A proxy that wants `Proxy-Authorization: Basic base64(user:password)`.
    pub fn with_credentials(user: &str, password: &str) -> FakeProxy {
        FakeProxy::start_with(Some((user.to_string(), password.to_string())))
    }

    fn start_with(credentials: Option<(String, String)>) -> FakeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("FakeProxy: bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let shared = Arc::new(Shared {
            tunnels: Mutex::new(Vec::new()),
            credentials,
            shutdown: AtomicBool::new(false),
        });
        let accept_shared = shared.clone();
        thread::Builder::new()
            .name("proxy-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_shared.shutdown.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = accept_shared.clone();
                    let _ = thread::Builder::new()
                        .name("proxy-conn".into())
                        .spawn(move || serve(stream, &shared));
                }
            })
            .expect("spawn proxy accept thread");
        FakeProxy {
            url: format!("http://{addr}"),
            addr,
            shared,
        }
    }

    /// The proxy URL with `user:password@` (percent-encode them yourself if needed).
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// Every CONNECT so far, in arrival order.
    pub fn tunnels(&self) -> Vec<Tunnel> {
        lock(&self.shared.tunnels).clone()
    }

    /// The targets of the CONNECTs so far.
    pub fn targets(&self) -> Vec<String> {
        self.tunnels().into_iter().map(|t| t.target).collect()
    }

    /// The `Proxy-Authorization` value that `user:password` gives.
    pub fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
    }
}

impl Drop for FakeProxy {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(client: TcpStream, shared: &Shared) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let Some((request_line, headers)) = read_head(&mut reader) else {
        return;
    };
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !method.eq_ignore_ascii_case("CONNECT") {
        answer(&client, "405 Method Not Allowed", "");
        return;
    }
    let authorization = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.clone());
    let mut tunnel = Tunnel {
        target: target.to_string(),
        authorization: authorization.clone(),
        opened: false,
    };
    if let Some((user, password)) = &shared.credentials {
        if authorization.as_deref() != Some(FakeProxy::basic(user, password).as_str()) {
            lock(&shared.tunnels).push(tunnel);
            answer(
                &client,
                "407 Proxy Authentication Required",
                "Proxy-Authenticate: Basic realm=\"fake\"\r\n",
            );
            return;
        }
    }
    let upstream = match TcpStream::connect(target) {
        Ok(s) => s,
        Err(_) => {
            lock(&shared.tunnels).push(tunnel);
            answer(&client, "502 Bad Gateway", "");
            return;
        }
    };
    tunnel.opened = true;
    lock(&shared.tunnels).push(tunnel);
    let mut w = &client;
    if w.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    // Bytes the client sent right after the CONNECT head are already buffered.
    let early = reader.buffer().to_vec();
    let _ = client.set_read_timeout(None);
    let (Ok(up_write), Ok(up_read)) = (upstream.try_clone(), upstream.try_clone()) else {
        return;
    };
    let to_upstream = thread::spawn(move || {
        let mut up = up_write;
        if up.write_all(&early).is_ok() {
            let _ = io::copy(&mut reader.into_inner(), &mut up);
        }
        let _ = up.shutdown(Shutdown::Write);
    });
    let mut up = up_read;
    let _ = io::copy(&mut up, &mut w);
    let _ = client.shutdown(Shutdown::Write);
    let _ = to_upstream.join();
}

fn read_head(reader: &mut impl BufRead) -> Option<(String, Vec<(String, String)>)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let request_line = line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let text = line.trim_end();
        if text.is_empty() {
            return Some((request_line, headers));
        }
        let (k, v) = text.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
}

fn answer(client: &TcpStream, status: &str, extra_headers: &str) {
    let mut w = client;
    let _ = write!(
        w,
        "HTTP/1.1 {status}\r\n{extra_headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = client.shutdown(Shutdown::Write);
    let mut sink = [0u8; 1024];
    let mut r = client;
    let _ = client.set_read_timeout(Some(Duration::from_secs(2)));
    while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:s3cret", "dXNlcjpzM2NyZXQ="),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
