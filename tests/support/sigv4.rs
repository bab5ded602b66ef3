//! A small AWS Signature Version 4 query-string presigner, as MinIO and S3
//! clients (and so secureCodeBox) build presigned URLs: region and service
//! in the scope, `host` the only signed header, `UNSIGNED-PAYLOAD`.
//!
//! Follows "Authenticating Requests: Using Query Parameters" of the S3 API
//! reference; checked against its example in `tests/it/s3.rs`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::{digest, hmac};

/// Credentials and the endpoint that URLs are signed for.
#[derive(Clone, Debug)]
pub struct Presigner {
    /// `http://host:port`, no trailing slash; its authority is the signed
    /// `host` header.
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

impl Presigner {
    /// A URL for `method` on `path` (`/bucket/key`), signed `at` and valid
    /// for `expires` after that.
    pub fn presign(&self, method: &str, path: &str, at: SystemTime, expires: Duration) -> String {
        let secs = at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
        let (date, time) = utc(secs);
        let amz_date = format!("{date}T{time}Z");
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let host = self
            .endpoint
            .split_once("://")
            .map_or(self.endpoint.as_str(), |(_, rest)| rest);
        let path = encode(path, false);
        let mut query = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_string()),
            ("X-Amz-Credential", format!("{}/{scope}", self.access_key)),
            ("X-Amz-Date", amz_date.clone()),
            ("X-Amz-Expires", expires.as_secs().to_string()),
            ("X-Amz-SignedHeaders", "host".to_string()),
        ]
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k, true), encode(v, true)))
        .collect::<Vec<_>>();
        query.sort();
        let query = query.join("&");
        let canonical = format!("{method}\n{path}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
        );
        let mut key = format!("AWS4{}", self.secret_key).into_bytes();
        for part in [date.as_str(), &self.region, "s3", "aws4_request"] {
            key = sign(&key, part.as_bytes());
        }
        let signature = hex(&sign(&key, to_sign.as_bytes()));
        format!(
            "{}{path}?{query}&X-Amz-Signature={signature}",
            self.endpoint
        )
    }
}

fn sign(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SigV4's URI encoding: unreserved characters stay, everything else is
/// `%XX`; `/` stays in paths.
fn encode(s: &str, slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if !slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `("YYYYMMDD", "HHMMSS")` of a Unix time (civil-from-days, H. Hinnant).
fn utc(secs: u64) -> (String, String) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}{month:02}{day:02}"),
        format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}
