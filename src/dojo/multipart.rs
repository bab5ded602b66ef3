//! A streaming `multipart/form-data` body (RFC 7578) with an exact length.
//!
//! The body is `head ++ file ++ tail`: the text fields and the file part's
//! headers, then the file's bytes as they are read, then the closing
//! boundary. Only `head` and `tail` are held in memory, so a report of
//! gigabytes is sent with a known `Content-Length` (`docs/style.md`).
//! This module only builds bytes; it does no I/O of its own.

use std::io::{Cursor, Read};

/// The fixed part of generated boundaries.
const BOUNDARY_PREFIX: &str = "dojo-hook-";

/// A boundary that is new for every call: a fixed prefix and 128 random
/// bits (`crate::util::random`). A boundary must not occur in the content; nobody
/// can predict this one to plant it in a report.
pub fn new_boundary() -> String {
    let (a, b) = (crate::util::random::bits(), crate::util::random::bits());
    format!("{BOUNDARY_PREFIX}{a:016x}{b:016x}")
}

/// A `multipart/form-data` body: text fields plus at most one file part,
/// which is sent last.
#[derive(Debug, Clone)]
pub struct Multipart {
    boundary: String,
    /// The encoded text parts, in the order they were added.
    fields: Vec<u8>,
    /// The encoded headers of the file part, if there is one.
    file_head: Option<Vec<u8>>,
}

impl Multipart {
    /// An empty form with this boundary (1–70 characters of letters, digits
    /// and `'()+_,-./:=?`, as RFC 2046 allows; see [`new_boundary`]).
    pub fn new(boundary: impl Into<String>) -> Multipart {
        let boundary = boundary.into();
        debug_assert!(
            is_valid_boundary(&boundary),
            "invalid boundary {boundary:?}"
        );
        Multipart {
            boundary,
            fields: Vec::new(),
            file_head: None,
        }
    }

    /// Adds a text field. The value is sent as it is (any UTF-8, line
    /// breaks included); Django reads it as UTF-8.
    pub fn text(mut self, name: &str, value: &str) -> Multipart {
        self.fields
            .extend_from_slice(format!("--{}\r\n", self.boundary).as_bytes());
        self.fields.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                quote(name)
            )
            .as_bytes(),
        );
        self.fields.extend_from_slice(value.as_bytes());
        self.fields.extend_from_slice(b"\r\n");
        self
    }

    /// Declares the file part, whose bytes are given to [`Multipart::reader`].
    /// It always comes after the text fields; a second call replaces it.
    ///
    /// `filename` should keep its extension: some DefectDojo parsers decide
    /// by it. `"` and `\` are escaped and line breaks dropped, which
    /// Django's parser undoes.
    pub fn file(mut self, name: &str, filename: &str, content_type: &str) -> Multipart {
        let filename: String = filename
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        let content_type: String = content_type
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        self.file_head = Some(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n",
                self.boundary,
                quote(name),
                quote(&filename)
            )
            .into_bytes(),
        );
        self
    }

    /// The `Content-Type` header value of the request.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The exact length of the body for a file of `file_len` bytes (ignored
    /// if no file part was declared).
    pub fn len(&self, file_len: u64) -> u64 {
        let file = if self.file_head.is_some() {
            file_len
        } else {
            0
        };
        (self.head().len() + self.tail().len()) as u64 + file
    }

    /// The body as a stream, with the file's bytes read from `file` (which
    /// must yield exactly the `file_len` given to [`Multipart::len`]; a
    /// [`crate::body::Prepared`] reader does). Without a file part, `file`
    /// is not read.
    pub fn reader<'a>(&self, file: impl Read + 'a) -> impl Read + 'a {
        let file: Box<dyn Read + 'a> = if self.file_head.is_some() {
            Box::new(file)
        } else {
            Box::new(std::io::empty())
        };
        Cursor::new(self.head())
            .chain(file)
            .chain(Cursor::new(self.tail()))
    }

    /// Text parts and the file part's headers.
    fn head(&self) -> Vec<u8> {
        let mut head = self.fields.clone();
        if let Some(file_head) = &self.file_head {
            head.extend_from_slice(file_head);
        }
        head
    }

    /// Ends the file's bytes and closes the body.
    fn tail(&self) -> Vec<u8> {
        let lead = if self.file_head.is_some() { "\r\n" } else { "" };
        format!("{lead}--{}--\r\n", self.boundary).into_bytes()
    }
}

/// Escapes a name or filename for a quoted-string: `\` and `"` get a
/// backslash, line breaks (which would end the header) are dropped.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => {}
            c => out.push(c),
        }
    }
    out
}

fn is_valid_boundary(b: &str) -> bool {
    (1..=70).contains(&b.len())
        && !b.ends_with(' ')
        && b.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(form: &Multipart, file: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        form.reader(file).read_to_end(&mut out).unwrap();
        assert_eq!(
            out.len() as u64,
            form.len(file.len() as u64),
            "len() must be exact"
        );
        out
    }

    #[test]
    fn fields_and_file_exact_bytes() {
        let form = Multipart::new("XyZ")
            .text("scan_type", "ZAP Scan")
            .text("minimum_severity", "Info")
            .file("file", "zap-report.xml", "text/xml");
        let out = body(&form, b"<OWASPZAPReport/>");
        let expected = "--XyZ\r\n\
            Content-Disposition: form-data; name=\"scan_type\"\r\n\r\n\
            ZAP Scan\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"minimum_severity\"\r\n\r\n\
            Info\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"zap-report.xml\"\r\n\
            Content-Type: text/xml\r\n\r\n\
            <OWASPZAPReport/>\r\n\
            --XyZ--\r\n";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        assert_eq!(form.content_type(), "multipart/form-data; boundary=XyZ");
    }

    #[test]
    fn empty_file_and_field_order() {
        // The file part is declared first but still sent last.
        let form = Multipart::new("b")
            .file("file", "empty.json", "application/json")
            .text("tags", "");
        let out = body(&form, b"");
        let expected = "--b\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\n\r\n\
            --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"empty.json\"\r\n\
            Content-Type: application/json\r\n\r\n\r\n--b--\r\n";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn unicode_values_and_line_breaks_are_kept() {
        let value = "Prüfung – 検査 🚀\r\nzweite Zeile\n";
        let form = Multipart::new("b").text("engagement_name", value);
        let out = String::from_utf8(body(&form, b"ignored")).unwrap();
        assert_eq!(
            out,
            format!(
                "--b\r\nContent-Disposition: form-data; name=\"engagement_name\"\r\n\r\n{value}\r\n--b--\r\n"
            )
        );
        assert_eq!(
            form.len(123),
            out.len() as u64,
            "no file part: file_len is ignored"
        );
    }

    #[test]
    fn names_are_quoted_and_filenames_keep_their_extension() {
        let form = Multipart::new("b").file(
            "fi\"le",
            "we\"ird\\na\r\nme.sarif.json",
            "application/json\r\nX-Evil: 1",
        );
        let out = String::from_utf8(body(&form, b"{}")).unwrap();
        assert!(
            out.contains(
                "name=\"fi\\\"le\"; filename=\"we\\\"ird\\\\name.sarif.json\"\r\n\
                 Content-Type: application/jsonX-Evil: 1\r\n\r\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn length_matches_for_large_files() {
        let form = Multipart::new(new_boundary()).text("a", "1").file(
            "file",
            "r.json",
            "application/json",
        );
        let n: u64 = 5 * 1024 * 1024 + 7;
        let mut counted = 0u64;
        let mut reader = form.reader(std::io::repeat(b'x').take(n));
        let mut buf = [0u8; 65536];
        loop {
            match reader.read(&mut buf).unwrap() {
                0 => break,
                k => counted += k as u64,
            }
        }
        assert_eq!(counted, form.len(n));
    }

    #[test]
    fn generated_boundaries_are_valid_and_differ() {
        let a = new_boundary();
        let b = new_boundary();
        assert_ne!(a, b);
        for x in [&a, &b] {
            assert!(x.starts_with(BOUNDARY_PREFIX));
            assert!(is_valid_boundary(x), "{x}");
        }
    }
}
