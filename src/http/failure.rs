//! Failed calls as one readable line each: calls without an answer
//! ([`transport_error`], [`send_error`]), answers with a non-2xx status
//! ([`status_error`]) and server text made safe to print ([`one_line`]).
//!
//! The server's own message is kept (DefectDojo's field errors, a proxy's
//! page title), redacted ([`super::redact::server_text`]) and cut short; a
//! TLS or proxy failure is explained by [`super::tls`] and [`super::proxy`].

use std::io::Read;

use ureq::http::Response;

use super::deadline::{bound_secs, deadline_error, deadline_hit};
use crate::error::Error;

/// Largest error body we read: enough for any DefectDojo message, bounded
/// so that a hostile or broken server cannot make us buffer gigabytes.
pub const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// Turns a ureq error (no HTTP answer) into one readable line.
///
/// `what` must already be redacted (e.g. `GET https://dojo/api/v2/…`).
pub fn transport_error(what: &str, err: ureq::Error) -> Error {
    if let Some(detail) = detail(&err) {
        return Error::Transport {
            what: what.to_string(),
            detail,
        };
    }
    if deadline_hit(&err) {
        return deadline_error(what);
    }
    let detail = match &err {
        ureq::Error::Timeout(kind) => timeout_detail(kind),
        ureq::Error::HostNotFound => {
            "host not found: check the host name in the URL and the DNS of this machine".into()
        }
        ureq::Error::ConnectionFailed => {
            "connection refused or unreachable: check the URL's host and port".into()
        }
        ureq::Error::Io(io) => io_detail(io),
        ureq::Error::Rustls(tls) => format!("TLS failed: {tls}"),
        ureq::Error::Tls(msg) => format!("TLS failed: {msg}"),
        ureq::Error::BadUri(_) => "the URL is not valid".into(),
        ureq::Error::Protocol(p) => format!(
            "the server did not speak HTTP/1.1 ({p}); is this a TLS port addressed with http://?"
        ),
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => {
            "the server answered with a redirect".into()
        }
        other => other.to_string(),
    };
    Error::Transport {
        what: what.to_string(),
        detail,
    }
}

/// Which bound a timeout hit, and the variable that raises it: an ordinary
/// call's per-call timeout, a transfer's global one ([`super::deadline::cap`],
/// [`super::deadline::cap_transfer`]; the deadline's was told apart before).
fn timeout_detail(kind: &ureq::Timeout) -> String {
    use ureq::Timeout::*;
    let (call, transfer) = bound_secs();
    let phase = match kind {
        PerCall => {
            return format!(
                "timed out: the call took longer than DEFECTDOJO_TIMEOUT_SECONDS={call} s as a \
                 whole (the server is overloaded, or sends its answer too slowly): check it, or \
                 raise DEFECTDOJO_TIMEOUT_SECONDS"
            );
        }
        Global => {
            return format!(
                "timed out: the transfer took longer than DEFECTDOJO_IMPORT_TIMEOUT_SECONDS=\
                 {transfer} s as a whole (the server is overloaded, or sends or reads too \
                 slowly): check it, or raise DEFECTDOJO_IMPORT_TIMEOUT_SECONDS"
            );
        }
        Connect => "connect",
        Resolve => "name resolution",
        SendRequest | SendBody | PerWrite => "sending",
        RecvResponse => "waiting for the response",
        RecvBody | PerRead => "reading the response",
        _ => "overall",
    };
    format!(
        "timed out ({phase}); the server did not answer in time: check that it is up, \
         or raise DEFECTDOJO_TIMEOUT_SECONDS / DEFECTDOJO_IMPORT_TIMEOUT_SECONDS"
    )
}

/// The readable detail of a TLS or proxy failure, if `err` is one.
fn detail(err: &ureq::Error) -> Option<String> {
    super::tls::detail(err).or_else(|| super::proxy::detail(err))
}

/// The error of a request that got no answer; a failure of the body's
/// own reader (e.g. a second pass that differed) is passed on as it is.
pub fn send_error(request: &str, err: ureq::Error) -> Error {
    match err {
        ureq::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<Error>()) => {
            Error::from_io(request, io)
        }
        other => transport_error(request, other),
    }
}

/// The error of reading an answer's body: ureq's own errors (a timeout)
/// travel inside the `io::Error`.
pub fn body_error(what: &str, err: std::io::Error) -> Error {
    transport_error(what, ureq::Error::from(err))
}

fn io_detail(io: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match io.kind() {
        ConnectionRefused => "connection refused: check the URL's host and port".into(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
            "the server closed the connection without an answer (a proxy or uWSGI limit, \
             the server crashed, or http:// was used for a TLS port)"
                .into()
        }
        TimedOut => "timed out: the server did not answer in time".into(),
        _ => io.to_string(),
    }
}

/// Reads at most `limit` bytes of a body; a longer body is cut.
pub fn read_prefix(resp: &mut Response<ureq::Body>, limit: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    let reader = resp.body_mut().as_reader();
    // A broken body is still worth showing as far as it came.
    let _ = reader.take(limit).read_to_end(&mut buf);
    buf
}

/// Builds the error for a non-2xx answer, reading a bounded part of its body.
pub fn status_error(what: &str, resp: &mut Response<ureq::Body>) -> Error {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = read_prefix(resp, ERROR_BODY_LIMIT);
    Error::Http {
        what: what.to_string(),
        status,
        detail: error_detail(status, &content_type, &body),
    }
}

/// The useful part of an error body, on one line.
///
/// DefectDojo answers with DRF field errors plus a `message` (a Python repr
/// of the same errors) and a `pro` advert list, or `{"detail": …}`, or a bare
/// list of strings; proxies answer with HTML. Field errors are shown as
/// `field: message`, the advert is dropped, HTML is summarised by its title.
pub fn error_detail(status: u16, content_type: &str, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if status == 400 && plain_http_to_tls_port(trimmed) {
        return "the port speaks TLS, but the URL says http://: use https://".to_string();
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let detail = json_detail(&value);
        if !detail.is_empty() {
            return one_line(&detail, 600);
        }
    }
    if content_type.contains("html") || trimmed.starts_with('<') {
        let title = html_title(trimmed).unwrap_or_default();
        let what = if title.is_empty() {
            "an HTML page".to_string()
        } else {
            format!("an HTML page titled \"{}\"", one_line(&title, 120))
        };
        return match status {
            413 => format!(
                "{what}: the upload is larger than a proxy in front of DefectDojo accepts \
                 (nginx client_max_body_size, or the ingress annotation \
                 nginx.ingress.kubernetes.io/proxy-body-size)"
            ),
            502..=504 => format!(
                "{what} from a proxy: DefectDojo behind it did not answer (down, restarting, \
                 or slower than the proxy's timeout)"
            ),
            _ => format!("{what} instead of a JSON answer (is DEFECTDOJO_URL the API's base URL?)"),
        };
    }
    one_line(trimmed, 300)
}

/// nginx's and Go's answers to a plain-HTTP request on a TLS port.
fn plain_http_to_tls_port(body: &str) -> bool {
    let lower = body
        .get(..body.len().min(2048))
        .unwrap_or(body)
        .to_ascii_lowercase();
    lower.contains("plain http request was sent to https port")
        || lower.contains("http request to an https server")
}

fn json_detail(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(json_detail).collect::<Vec<_>>().join("; "),
        Value::Object(map) => {
            let mut parts = Vec::new();
            for (key, val) in map {
                if key == "message" || key == "pro" {
                    continue;
                }
                let text = json_detail(val);
                match key.as_str() {
                    "detail" | "non_field_errors" => parts.push(text),
                    _ => parts.push(format!("{key}: {text}")),
                }
            }
            if parts.is_empty() {
                if let Some(Value::String(msg)) = map.get("message") {
                    parts.push(msg.clone());
                }
            }
            parts.join("; ")
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = lower[start..].find("</title>")? + start;
    Some(
        html[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Server-supplied text as one printable line: the layout of an error page
/// (runs of spaces, tabs and line breaks) collapsed to single spaces, then
/// secrets redacted and every other control or bidirectional character
/// shown escaped ([`super::redact::server_text`]), cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let safe = super::redact::server_text(&joined);
    if safe.chars().count() <= max {
        safe
    } else {
        let cut: String = safe.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_drop_message_and_advert() {
        let body = br#"{"name":["product with this name already exists."],"message":"{'name': ...}","pro":["Pro comes with support."]}"#;
        assert_eq!(
            error_detail(400, "application/json", body),
            "name: product with this name already exists."
        );
    }

    #[test]
    fn bare_lists_and_detail_and_message() {
        assert_eq!(
            error_detail(400, "", br#"["Engagement \"9\" does not exist"]"#),
            "Engagement \"9\" does not exist"
        );
        assert_eq!(
            error_detail(403, "", br#"{"detail":"Invalid token."}"#),
            "Invalid token."
        );
        assert_eq!(
            error_detail(
                500,
                "",
                br#"{"message":"Internal server error, check logs for details","pro":["x"]}"#
            ),
            "Internal server error, check logs for details"
        );
        assert_eq!(
            error_detail(400, "", br#"{"non_field_errors":["Report file is too large. Maximum supported size is 100 MB"],"message":"x"}"#),
            "Report file is too large. Maximum supported size is 100 MB"
        );
    }

    #[test]
    fn html_413_names_the_proxy_limit() {
        let body = b"<html><head><title>413 Request Entity Too Large</title></head></html>";
        let d = error_detail(413, "text/html", body);
        assert!(d.contains("413 Request Entity Too Large"), "{d}");
        assert!(d.contains("client_max_body_size"), "{d}");
    }

    #[test]
    fn html_gateway_errors_blame_the_proxys_upstream() {
        let body = b"<html><head><title>504 Gateway Time-out</title></head></html>";
        let d = error_detail(504, "text/html", body);
        assert!(d.contains("504 Gateway Time-out\" from a proxy"), "{d}");
        assert!(!d.contains("base URL"), "{d}");
    }

    #[test]
    fn plain_http_on_a_tls_port_says_https() {
        let nginx = b"<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>";
        let go = b"Client sent an HTTP request to an HTTPS server.\n";
        for body in [&nginx[..], &go[..]] {
            assert!(error_detail(400, "text/html", body).contains("use https://"));
        }
    }

    #[test]
    fn an_echoed_key_and_control_bytes_are_not_shown() {
        let _key = super::super::redact::Secret::new("http-test-key-4242");
        let body = b"{\"detail\":\"bad header Authorization: Token http-test-key-4242 \\u001b]0;pwned\\u0007\"}";
        let d = error_detail(403, "application/json", body);
        assert_eq!(
            d,
            "bad header Authorization: Token [redacted] \\u001B]0;pwned\\u0007"
        );
        let raw = b"Token http-test-key-4242\x1b[2J\x00\x07 end";
        assert_eq!(
            error_detail(400, "text/plain", raw),
            "Token [redacted]\\u001B[2J\\u0000\\u0007 end"
        );
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(one_line("a  b\n c", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
