//! multipart/form-data parsing (RFC 7578) for the import endpoints: the fake reads the
//! form itself, so it sees exactly what a client put on the wire (field order, file
//! name, part content type).

use super::super::http::percent_decode;

/// One part of a multipart/form-data body.
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// Parses a multipart/form-data body (RFC 7578), boundary taken from the content type.
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let invalid = || "Multipart form parse error - Invalid boundary in multipart: None".to_string();
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| {
            p.strip_prefix("boundary=")
                .or_else(|| p.strip_prefix("BOUNDARY="))
        })
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(invalid)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut pos = find(body, &delimiter, 0).ok_or_else(invalid)?;
    let mut parts = Vec::new();
    loop {
        pos += delimiter.len();
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        // Skip the rest of the delimiter line (transport padding, CRLF).
        let line_end = find(body, b"\r\n", pos).ok_or_else(invalid)?;
        let headers_start = line_end + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start).ok_or_else(invalid)?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]).into_owned();
        let data_start = headers_end + 4;
        let data_end = find(body, &next_delimiter, data_start).ok_or_else(invalid)?;
        let mut part = Part {
            name: String::new(),
            file_name: None,
            content_type: None,
            data: body[data_start..data_end].to_vec(),
        };
        for line in headers.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in split_params(v) {
                        let Some((pk, pv)) = param.split_once('=') else {
                            continue;
                        };
                        let pv = pv.trim().trim_matches('"').to_string();
                        match pk.trim().to_ascii_lowercase().as_str() {
                            "name" => part.name = pv,
                            "filename" => part.file_name = Some(pv),
                            // RFC 5987 form: filename*=UTF-8''na%C3%AFve.json
                            "filename*" => {
                                let encoded = pv.split_once("''").map_or(pv.as_str(), |(_, e)| e);
                                part.file_name = Some(percent_decode(encoded, false));
                            }
                            _ => {}
                        }
                    }
                }
                "content-type" => part.content_type = Some(v.trim().to_string()),
                _ => {}
            }
        }
        parts.push(part);
        pos = data_end + 2;
    }
}

/// Splits header parameters on `;` outside quotes.
fn split_params(v: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in v.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// First index of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let j = i + hay[i..hay.len() - needle.len() + 1]
            .iter()
            .position(|&b| b == first)?;
        if &hay[j..j + needle.len()] == needle {
            return Some(j);
        }
        i = j + 1;
    }
    None
}
