//! The import call: one streamed multipart `POST /api/v2/import-scan/`.
//!
//! One call instead of the Java hook's create-test-then-reimport. The
//! report part keeps the file name (and so the extension) DefectDojo's
//! parser dispatches on; the body has an exact Content-Length.

use std::time::Duration;

use super::model::ImportAnswer;
use super::{Dojo, Method};
use crate::body::Prepared;
use crate::dojo::multipart::{self, Multipart};
use crate::error::Error;
use crate::http::{self, deadline, retry};

/// Bodies above this size announce themselves with `Expect: 100-continue`,
/// so a proxy's size limit or a bad key is reported before the upload.
const EXPECT_CONTINUE_ABOVE: u64 = 1024 * 1024;

/// The form of one import or reimport.
#[derive(Debug, Clone, Default)]
pub struct ImportForm {
    /// DefectDojo scan type.
    pub scan_type: String,
    /// Engagement id (import).
    pub engagement: u64,
    /// The test to reimport into; `None` imports into a new test.
    pub reimport_test: Option<u64>,
    /// Test title.
    pub test_title: String,
    /// Test version.
    pub version: Option<String>,
    /// Lead user id.
    pub lead: Option<u64>,
    /// `minimum_severity`.
    pub minimum_severity: Option<String>,
    /// `scan_date`.
    pub scan_date: Option<String>,
    /// The report's file name (its extension matters).
    pub file_name: String,
    /// The optional fields ([`crate::config::form`]), sent after the others;
    /// also `deduplication_execution_mode=async_wait` when the verdicts are
    /// read back and none is configured (`crate::import`'s `form`).
    pub extra: Vec<(String, String)>,
}

impl ImportForm {
    /// The form's text fields, in the order they are sent.
    pub fn fields(&self) -> Vec<(&str, String)> {
        let mut f = vec![("scan_type", self.scan_type.clone())];
        match self.reimport_test {
            Some(test) => f.push(("test", test.to_string())),
            None => f.push(("engagement", self.engagement.to_string())),
        }
        f.push(("test_title", self.test_title.clone()));
        let optional = [
            ("version", self.version.clone()),
            ("lead", self.lead.map(|l| l.to_string())),
            ("minimum_severity", self.minimum_severity.clone()),
            ("scan_date", self.scan_date.clone()),
        ];
        f.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v))),
        );
        f.extend(self.extra.iter().map(|(k, v)| (k.as_str(), v.clone())));
        f
    }

    /// `import-scan` or `reimport-scan`.
    pub fn endpoint(&self) -> &'static str {
        if self.reimport_test.is_some() {
            "reimport-scan"
        } else {
            "import-scan"
        }
    }
}

/// The part content type DefectDojo's parsers expect for a file name.
pub fn content_type_for(file_name: &str) -> &'static str {
    let lower = file_name.to_ascii_lowercase();
    match lower.rsplit_once('.').map(|(_, ext)| ext) {
        Some("json") | Some("sarif") => "application/json",
        Some("jsonl") => "application/x-ndjson",
        Some("xml") | Some("nessus") | Some("fvdl") => "application/xml",
        Some("csv") => "text/csv",
        Some("html") => "text/html",
        Some("txt") | Some("log") | Some("md") => "text/plain",
        _ => "application/octet-stream",
    }
}

/// Whether a failed import may have been processed by DefectDojo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    /// It certainly was not: the connection was refused, so it may be sent
    /// again.
    Refused(Option<Duration>),
    /// Overloaded or rate-limited (429, 503): usually refused before the
    /// import ran, but a proxy answers 503 when DefectDojo resets after the
    /// body arrived, so it is sent again (after `Retry-After` when given)
    /// only once no test of this run exists.
    Busy(Option<Duration>),
    /// It certainly was not, and sending it again would fail the same way.
    No,
    /// The request went out and its answer was lost (a timeout, a reset, a
    /// 502 or 504 of a proxy): DefectDojo may have imported it.
    Unknown,
}

/// Sends the import once. `timeout` bounds the wait for DefectDojo's
/// answer. [`crate::dojo::landing::import`] decides what a failure means.
pub fn import(
    dojo: &Dojo,
    form: &ImportForm,
    report: &mut Prepared<'_>,
    timeout: Duration,
) -> Result<ImportAnswer, (Error, Landed)> {
    let url = format!("{}/api/v2/{}/", dojo.base(), form.endpoint());
    let what = format!(
        "{} {} as \"{}\" (POST /api/v2/{}/)",
        if form.reimport_test.is_some() {
            "reimporting"
        } else {
            "importing"
        },
        form.file_name,
        form.scan_type,
        form.endpoint()
    );
    let mut multipart = Multipart::new(multipart::new_boundary());
    for (name, value) in form.fields() {
        multipart = multipart.text(name, &value);
    }
    let multipart = multipart.file("file", &form.file_name, content_type_for(&form.file_name));
    let len = multipart.len(report.len());
    log::info!(
        "uploading {} ({} bytes, body {}) to DefectDojo as \"{}\"",
        form.file_name,
        report.len(),
        report.mode(),
        form.scan_type
    );
    dojo.count(Method::Post);
    deadline::check(&what).map_err(|e| (e, Landed::No))?;
    // The whole call is bounded by the import timeout (and the deadline).
    let request = deadline::cap_transfer(dojo.agent().post(&url))
        .config()
        // DefectDojo parses the whole report before it answers: the wait
        // for the answer (and each read of it) gets the import timeout.
        .timeout_recv_response(Some(timeout))
        .timeout_per_read(Some(timeout))
        .build();
    let mut request = dojo
        .authorize(request)
        .header("Content-Length", len.to_string())
        .content_type(multipart.content_type());
    if len > EXPECT_CONTINUE_ABOVE {
        request = request.header("Expect", "100-continue");
    }
    let mut body = multipart.reader(report.reader().map_err(|e| (e, Landed::No))?);
    let sent = request.send(ureq::SendBody::from_reader(&mut body));
    let mut resp = sent.map_err(|e| {
        let landed = transport_landed(&e);
        (http::send_error(&what, e), landed)
    })?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        let landed = match status {
            429 | 503 => Landed::Busy(retry::retry_after(&resp)),
            // A proxy gave up waiting; DefectDojo may have finished.
            502 | 504 => Landed::Unknown,
            _ => Landed::No,
        };
        return Err((
            explain_too_large(http::status_error(&what, &mut resp)),
            landed,
        ));
    }
    // A 2xx whose body is lost (a timeout while it trickles in): DefectDojo
    // did import it, but its test is unknown.
    let bytes = super::read_answer(&mut resp, &what).map_err(|e| match e {
        Error::Transport { .. } => (e, Landed::Unknown),
        other => (other, Landed::No),
    })?;
    super::parse(&bytes, &what).map_err(|e| (e, Landed::No))
}

/// What a failure without an answer says about the import: a refused or
/// failed connection never reached DefectDojo, a failure of our own body
/// never completed it; anything else (a timeout waiting for the answer, a
/// reset) may have come after DefectDojo got it all.
fn transport_landed(err: &ureq::Error) -> Landed {
    use std::io::ErrorKind;
    match err {
        ureq::Error::ConnectionFailed | ureq::Error::Timeout(ureq::Timeout::Connect) => {
            Landed::Refused(None)
        }
        ureq::Error::HostNotFound | ureq::Error::Timeout(ureq::Timeout::Resolve) => Landed::No,
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => Landed::Refused(None),
        ureq::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<Error>()) => Landed::No,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::BadUri(_) => Landed::No,
        _ => Landed::Unknown,
    }
}

/// DefectDojo's own size check (a 400) names its setting.
fn explain_too_large(err: Error) -> Error {
    match err {
        Error::Http {
            what,
            status: 400,
            detail,
        } if detail.contains("Report file is too large") => Error::Http {
            what,
            status: 400,
            detail: format!(
                "{detail} (DefectDojo's DD_SCAN_FILE_MAX_SIZE: raise it on the server, and set \
                 DEFECTDOJO_MAX_UPLOAD_MB to the same value so dojo-hook checks before uploading)"
            ),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_only_when_set() {
        let form = ImportForm {
            scan_type: "Nmap Scan".into(),
            engagement: 7,
            test_title: "t".into(),
            minimum_severity: Some("Low".into()),
            file_name: "nmap-results.xml".into(),
            ..ImportForm::default()
        };
        let names: Vec<&str> = form.fields().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            ["scan_type", "engagement", "test_title", "minimum_severity"]
        );
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type_for("findings.json"), "application/json");
        assert_eq!(content_type_for("nmap-results.XML"), "application/xml");
        assert_eq!(
            content_type_for("nuclei-results.jsonl"),
            "application/x-ndjson"
        );
        assert_eq!(content_type_for("report"), "application/octet-stream");
    }
}
