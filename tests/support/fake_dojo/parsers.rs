//! What the fake does with an uploaded report.
//!
//! - "Generic Findings Import" is parsed for real, like DefectDojo's generic parser
//!   (`dojo/tools/generic/json_parser.py`, `docs/defectdojo-behaviour.md`): JSON by default,
//!   CSV for `.csv` files. A missing required key or a key outside the allowed list aborts
//!   the whole import with a 400 ("Required fields are missing: [...]", "Not allowed
//!   fields are present: [...]", `fixtures/dojo/recorded/v3/64-*`); unparseable JSON is a 500.
//! - Every other scan type yields a few canned findings, deterministic from the file
//!   length (so re-importing the same file matches, a changed file does not), unless the
//!   report is malformed for its format (XML without its closing root element, JSON that
//!   does not parse, an empty file): then the import answers 500 and, as recorded (`fixtures/dojo/recorded/v3/31-*`,
//!   `fixtures/dojo/recorded/v3/145-*`, `fixtures/dojo/recorded/v3/146-*`), leaves an empty test behind.

use serde_json::{Map, Value};

use super::state::{Endpoint, Finding, SEVERITIES, parse_endpoint};
use super::util::{is_date, parse_datetime};

/// A parsed finding plus the endpoints to attach once it has an id.
#[derive(Clone, Debug)]
pub struct Parsed {
    pub finding: Finding,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug)]
pub enum ParseError {
    /// A validation message the import answers as a 400 `message` (`fixtures/dojo/recorded/v3/64-*`).
    Invalid(String),
    /// The parser crashed: 500 "Internal server error, check logs for details".
    Crash,
}

const REQUIRED: [&str; 3] = ["title", "severity", "description"];

const ALLOWED: &[&str] = &[
    "date",
    "cwe",
    "cve",
    "epss_score",
    "epss_percentile",
    "cvssv3",
    "cvssv3_score",
    "cvssv4",
    "cvssv4_score",
    "mitigation",
    "impact",
    "steps_to_reproduce",
    "severity_justification",
    "references",
    "active",
    "verified",
    "false_p",
    "out_of_scope",
    "risk_accepted",
    "under_review",
    "is_mitigated",
    "thread_id",
    "mitigated",
    "numerical_severity",
    "param",
    "payload",
    "line",
    "file_path",
    "component_name",
    "component_version",
    "static_finding",
    "dynamic_finding",
    "scanner_confidence",
    "unique_id_from_tool",
    "vuln_id_from_tool",
    "sast_source_object",
    "sast_sink_object",
    "sast_source_line",
    "sast_source_file_path",
    "nb_occurences",
    "publish_date",
    "service",
    "planned_remediation_date",
    "planned_remediation_version",
    "effort_for_fixing",
    "tags",
    "kev_date",
    "known_exploited",
    "ransomware_used",
    "fix_available",
    "fix_version",
    "title",
    "severity",
    "description",
];

/// Allowed keys the [`Finding`] struct models itself; the others go to `Finding::extra`.
const MODELLED: &[&str] = &[
    "title",
    "severity",
    "description",
    "cwe",
    "cve",
    "line",
    "file_path",
    "date",
    "mitigated",
    "component_name",
    "component_version",
    "unique_id_from_tool",
    "vuln_id_from_tool",
    "mitigation",
    "impact",
    "references",
    "service",
    "active",
    "verified",
    "false_p",
    "out_of_scope",
    "risk_accepted",
    "under_review",
    "is_mitigated",
    "static_finding",
    "dynamic_finding",
    "nb_occurences",
];

/// Parses a Generic Findings Import report (`.csv` as CSV, anything else as JSON).
pub fn parse_generic(file_name: &str, bytes: &[u8]) -> Result<Vec<Parsed>, ParseError> {
    if extension(file_name) == "csv" {
        return parse_generic_csv(bytes);
    }
    let report: Value = serde_json::from_slice(bytes).map_err(|_| ParseError::Crash)?;
    let report = report.as_object().ok_or(ParseError::Crash)?;
    let items = match report.get("findings") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ParseError::Crash),
    };
    items
        .iter()
        .map(|item| generic_item(item.as_object().ok_or(ParseError::Crash)?))
        .collect()
}

fn generic_item(item: &Map<String, Value>) -> Result<Parsed, ParseError> {
    let mut item = item.clone();
    // The special keys are popped before validation, as the parser does.
    let endpoints = item.remove("endpoints");
    item.remove("files");
    let tags = item.remove("tags");
    let vulnerability_ids = item.remove("vulnerability_ids");
    let cwes = item.remove("cwes");
    if let Some(date) = item.get("date") {
        let text = date.as_str().ok_or(ParseError::Crash)?;
        let parsed = parse_datetime(text).ok_or(ParseError::Crash)?;
        item.insert("date".into(), Value::String(parsed[..10].to_string()));
    }
    let mut missing: Vec<String> = REQUIRED
        .iter()
        .filter(|k| !item.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    missing.sort();
    if !missing.is_empty() {
        return Err(ParseError::Invalid(format!(
            "Required fields are missing: {}",
            py_list(&missing)
        )));
    }
    // serde_json's map is sorted, so this list comes out sorted like Python's sorted().
    let not_allowed: Vec<String> = item
        .keys()
        .filter(|k| !ALLOWED.contains(&k.as_str()))
        .cloned()
        .collect();
    if !not_allowed.is_empty() {
        return Err(ParseError::Invalid(format!(
            "Not allowed fields are present: {}",
            py_list(&not_allowed)
        )));
    }

    let text = |k: &str| match item.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let number = |k: &str| match item.get(k) {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let flag = |k: &str| match item.get(k) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => super::util::parse_bool(s),
        _ => None,
    };
    let mut f = Finding::new(
        &text("title").unwrap_or_default(),
        &text("severity").unwrap_or_default(),
        &text("description").unwrap_or_default(),
    );
    f.cwe = number("cwe").unwrap_or(0);
    f.line = number("line");
    f.file_path = text("file_path");
    f.component_name = text("component_name");
    f.component_version = text("component_version");
    f.unique_id_from_tool = text("unique_id_from_tool");
    f.vuln_id_from_tool = text("vuln_id_from_tool");
    f.mitigation = text("mitigation");
    f.impact = text("impact");
    f.references = text("references");
    f.service = text("service");
    if let Some(date) = text("date") {
        f.date = date;
    }
    f.active = flag("active").unwrap_or(true);
    f.verified = flag("verified").unwrap_or(false);
    f.false_p = flag("false_p").unwrap_or(false);
    f.out_of_scope = flag("out_of_scope").unwrap_or(false);
    f.risk_accepted = flag("risk_accepted").unwrap_or(false);
    f.under_review = flag("under_review").unwrap_or(false);
    f.is_mitigated = flag("is_mitigated").unwrap_or(false);
    f.mitigated = text("mitigated").and_then(|m| parse_datetime(&m));
    f.static_finding = flag("static_finding").unwrap_or(false);
    f.dynamic_finding = flag("dynamic_finding").unwrap_or(true);
    f.nb_occurences = number("nb_occurences").or(Some(1));
    for k in item.keys() {
        // Fields the renderer has a slot for but the struct does not model.
        if !MODELLED.contains(&k.as_str()) {
            f.extra.insert(k.clone(), item[k].clone());
        }
    }
    if let Some(cve) = text("cve") {
        f.vulnerability_ids.push(cve);
    }
    match vulnerability_ids {
        Some(Value::Array(ids)) => f
            .vulnerability_ids
            .extend(ids.iter().filter_map(|v| v.as_str().map(str::to_string))),
        Some(Value::String(id)) => f.vulnerability_ids.push(id),
        _ => {}
    }
    if let Some(Value::Array(list)) = cwes {
        f.cwes = list.iter().filter_map(cwe_label).collect();
        if f.cwe == 0 {
            f.cwe = f
                .cwes
                .first()
                .and_then(|c| c.trim_start_matches("CWE-").parse().ok())
                .unwrap_or(0);
        }
    } else if f.cwe > 0 {
        f.cwes = vec![format!("CWE-{}", f.cwe)];
    }
    if let Some(Value::Array(list)) = tags {
        f.tags = list
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
    }
    let endpoints = match endpoints {
        Some(Value::Array(list)) => list.iter().filter_map(endpoint_item).collect(),
        _ => Vec::new(),
    };
    f.rehash();
    Ok(Parsed {
        finding: f,
        endpoints,
    })
}

fn cwe_label(v: &Value) -> Option<String> {
    let n: i64 = match v {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s
            .trim()
            .trim_start_matches("CWE-")
            .trim_start_matches("cwe-")
            .parse()
            .ok()?,
        _ => return None,
    };
    Some(format!("CWE-{n}"))
}

/// A generic endpoint: a URL string, or a dict of endpoint fields.
fn endpoint_item(v: &Value) -> Option<Endpoint> {
    match v {
        Value::String(url) => Some(parse_endpoint(url)),
        Value::Object(m) => {
            let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
            Some(Endpoint {
                protocol: s("protocol"),
                userinfo: s("userinfo"),
                host: s("host"),
                port: m
                    .get("port")
                    .and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()))
                    .map(|p| p as u16),
                path: s("path"),
                query: s("query"),
                fragment: s("fragment"),
                ..Endpoint::default()
            })
        }
        _ => None,
    }
}

fn py_list(items: &[String]) -> String {
    super::util::py_repr_list(items)
}

/// Generic CSV: columns Title, Description, Severity and Date are required (a missing
/// column crashes the parser: 500); rows with the same severity, title and description
/// are merged (endpoints appended, `nb_occurences` counted).
fn parse_generic_csv(bytes: &[u8]) -> Result<Vec<Parsed>, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows = csv_rows(text.trim_start_matches('\u{feff}'));
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let header = rows.remove(0);
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(title), Some(desc), Some(sev), Some(date)) = (
        col("Title"),
        col("Description"),
        col("Severity"),
        col("Date"),
    ) else {
        return Err(ParseError::Crash);
    };
    let get = |row: &Vec<String>, i: Option<usize>| {
        i.and_then(|i| row.get(i)).map(|s| s.trim().to_string())
    };
    let mut out: Vec<Parsed> = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
    {
        let severity = get(row, Some(sev))
            .filter(|s| SEVERITIES.contains(&s.as_str()))
            .unwrap_or("Info".into());
        let mut f = Finding::new(
            &get(row, Some(title)).unwrap_or_default(),
            &severity,
            &get(row, Some(desc)).unwrap_or_default(),
        );
        let d = get(row, Some(date)).unwrap_or_default();
        if !d.is_empty() {
            f.date = parse_datetime(&d)
                .filter(|s| is_date(&s[..10]))
                .ok_or(ParseError::Crash)?[..10]
                .to_string();
        }
        f.cwe = get(row, col("CweId"))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        f.mitigation = get(row, col("Mitigation")).filter(|s| !s.is_empty());
        f.impact = get(row, col("Impact")).filter(|s| !s.is_empty());
        f.references = get(row, col("References")).filter(|s| !s.is_empty());
        let truthy =
            |v: Option<String>| v.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        if let Some(a) = get(row, col("Active")).filter(|s| !s.is_empty()) {
            f.active = truthy(Some(a));
        }
        f.verified = truthy(get(row, col("Verified")));
        f.false_p = truthy(get(row, col("FalsePositive")));
        for c in ["CVE", "Vulnerability Id"] {
            if let Some(id) = get(row, col(c)).filter(|s| !s.is_empty()) {
                f.vulnerability_ids.push(id);
            }
        }
        if f.cwe > 0 {
            f.cwes = vec![format!("CWE-{}", f.cwe)];
        }
        f.rehash();
        let endpoint = get(row, col("Url"))
            .filter(|s| !s.is_empty())
            .map(|u| parse_endpoint(&u));
        let key = |p: &Parsed| {
            (
                p.finding.severity.clone(),
                p.finding.title.clone(),
                p.finding.description.clone(),
            )
        };
        let this = Parsed {
            finding: f,
            endpoints: endpoint.into_iter().collect(),
        };
        match out.iter_mut().find(|p| key(p) == key(&this)) {
            Some(existing) => {
                existing.finding.nb_occurences =
                    Some(existing.finding.nb_occurences.unwrap_or(1) + 1);
                existing.endpoints.extend(this.endpoints);
            }
            None => out.push(this),
        }
    }
    Ok(out)
}

/// Minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Lower-case extension of a file name ("" if none).
pub fn extension(file_name: &str) -> String {
    match file_name.rsplit_once('.') {
        Some((_, ext)) if !ext.contains('/') => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Xml,
    Json,
    JsonLines,
    Any,
}

/// The format a native parser insists on: a few known XML-only and JSON-only parsers,
/// otherwise whatever the extension says.
fn expected_format(scan_type: &str, ext: &str) -> Format {
    // "Sslyze Scan" is not here: DefectDojo's sslyze parser serves both its
    // scan types and dispatches on the file's extension (.xml / .json).
    const XML: [&str; 5] = [
        "Nmap Scan",
        "ZAP Scan",
        "Burp Scan",
        "Nexpose Scan",
        "Acunetix Scan",
    ];
    const JSON: [&str; 8] = [
        "Trivy Scan",
        "Trivy Operator Scan",
        "Gitleaks Scan",
        "SSH Audit Importer",
        "Wpscan",
        "Anchore Grype",
        "Semgrep JSON Report",
        "SARIF",
    ];
    if XML.contains(&scan_type) {
        return Format::Xml;
    }
    if JSON.contains(&scan_type) || scan_type.contains("JSON") {
        return Format::Json;
    }
    match ext {
        "xml" | "nessus" | "fvdl" => Format::Xml,
        "json" | "sarif" => Format::Json,
        "jsonl" => Format::JsonLines,
        _ => Format::Any,
    }
}

/// Whether a native parser would crash on this report.
pub fn is_malformed(scan_type: &str, file_name: &str, bytes: &[u8]) -> bool {
    if bytes.trim_ascii().is_empty() {
        return true;
    }
    let ext = extension(file_name);
    if scan_type == "Nuclei Scan" {
        // JSON Lines, or one JSON document.
        return serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err()
            && !json_lines_ok(bytes);
    }
    match expected_format(scan_type, &ext) {
        Format::Xml => !xml_is_closed(bytes),
        Format::Json => serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err(),
        Format::JsonLines => !json_lines_ok(bytes),
        Format::Any => false,
    }
}

fn json_lines_ok(bytes: &[u8]) -> bool {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .all(|l| serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok())
}

/// Whether the document's root element is closed (or self-closing): enough to tell a
/// complete XML report from a truncated one without an XML parser.
fn xml_is_closed(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            let Some(end) = r.find("?>") else {
                return false;
            };
            rest = r[end + 2..].trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let Some(end) = r.find("-->") else {
                return false;
            };
            rest = r[end + 3..].trim_start();
        } else if let Some(r) = rest.strip_prefix("<!") {
            let Some(end) = r.find('>') else { return false };
            rest = r[end + 1..].trim_start();
        } else {
            break;
        }
    }
    let Some(r) = rest.strip_prefix('<') else {
        return false;
    };
    let name: String = r
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
        .collect();
    if name.is_empty() {
        return false;
    }
    let Some(tag_end) = r.find('>') else {
        return false;
    };
    if r[..tag_end].ends_with('/') {
        return true;
    }
    let mut tail = text.trim_end();
    // Comments or processing instructions may follow the root element.
    while tail.ends_with("-->") || tail.ends_with("?>") {
        match tail.rfind(if tail.ends_with("-->") { "<!--" } else { "<?" }) {
            Some(i) => tail = tail[..i].trim_end(),
            None => return false,
        }
    }
    let Some(body) = tail.strip_suffix('>') else {
        return false;
    };
    body.trim_end().ends_with(&format!("</{name}"))
}

/// Dynamic scanners whose canned findings get an endpoint.
fn is_dynamic(scan_type: &str) -> bool {
    [
        "Nmap",
        "ZAP",
        "Nikto",
        "SSLyze",
        "Sslyze",
        "SSH Audit",
        "Nuclei",
        "Wpscan",
        "Burp",
        "Nessus",
        "OpenVAS",
        "Acunetix",
    ]
    .iter()
    .any(|n| scan_type.contains(n))
}

/// `count` canned findings for a native report of `file_len` bytes: titles
/// "<Scan Type> Finding <n>", severities cycling with the length, descriptions naming the
/// length. Dynamic scanners get one endpoint each (`tcp://scanme.example.org:<port>` for
/// Nmap, `https://target.example.org/path-<n>` for the others); static ones a file and line.
pub fn canned_findings(scan_type: &str, file_len: usize, count: usize) -> Vec<Parsed> {
    (0..count)
        .map(|i| {
            let severity = SEVERITIES[(file_len + i) % SEVERITIES.len()];
            let mut f = Finding::new(
                &format!("{scan_type} finding {}", i + 1),
                severity,
                &format!(
                    "Canned finding {} of a {file_len}-byte {scan_type} report.",
                    i + 1
                ),
            );
            let mut endpoints = Vec::new();
            if is_dynamic(scan_type) {
                let url = if scan_type.contains("Nmap") {
                    format!(
                        "tcp://scanme.example.org:{}",
                        [22, 80, 443][i % 3] + 1000 * (i / 3) as u16
                    )
                } else {
                    format!("https://target.example.org/path-{}", i + 1)
                };
                endpoints.push(parse_endpoint(&url));
            } else {
                f.static_finding = true;
                f.dynamic_finding = false;
                f.file_path = Some(format!("src/file-{}.txt", i + 1));
                f.line = Some(i as i64 + 1);
                f.rehash();
            }
            Parsed {
                finding: f,
                endpoints,
            }
        })
        .collect()
}
