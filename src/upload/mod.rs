//! Stage 2, the upload body: the raw report as it is (the 14 native scan
//! types) or findings.json converted to Generic Findings Import JSON, with an
//! exact length and within `DEFECTDOJO_MAX_UPLOAD_MB`, produced before
//! anything is created in DefectDojo, so a broken input creates nothing
//! there.

mod minify;

use std::io::BufReader;

use crate::body::Opened;
use crate::body::{self, Mode, Prepared};
use crate::convert::generic::{GenericReader, MAX_FINDING_BYTES};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::scan::types::Plan;
use crate::storage::{self, Place};
use minify::Minify;

/// A body ready to send, the file name it is sent as, and how to make it
/// again (the import stage re-sends a streamed body, or falls back to the
/// generic conversion, through this value rather than this module).
pub struct Upload<'a> {
    /// The body.
    pub body: Prepared<'a>,
    /// The file name DefectDojo sees (its parsers dispatch on the extension).
    pub file_name: String,
    /// Makes the body again.
    pub remake: Remake<'a>,
}

/// How an upload is made again.
#[derive(Clone, Copy)]
pub struct Remake<'a> {
    inputs: &'a Inputs,
    generic: bool,
}

impl<'a> Remake<'a> {
    /// The same body again, for a body that can be read only once.
    pub fn body(&self) -> Result<Prepared<'a>, Error> {
        let again = if self.generic {
            generic(self.inputs)
        } else {
            report(self.inputs)
        };
        again.map(|u| u.body)
    }

    /// findings.json as Generic Findings Import JSON, for the fallback when
    /// DefectDojo's native parser crashed.
    pub fn generic(&self) -> Result<Upload<'a>, Error> {
        generic(self.inputs)
    }
}

/// Checks what DefectDojo would refuse after the context was created (the
/// file name's extension), then produces the upload.
pub fn prepare(inputs: &Inputs) -> Result<Upload<'_>, Error> {
    let name = file_name(&inputs.cfg.import.plan, &inputs.raw);
    check_file_name(&name).map_err(|why| {
        Error::input(
            format!("raw report {}", inputs.raw.display()),
            format!(
                "{why}: give the file the extension of its format (e.g. report.json, \
                 report.xml); nothing was sent to DefectDojo"
            ),
        )
    })?;
    report(inputs)
}

/// The name the report is uploaded as: its own for a raw report (several
/// DefectDojo parsers dispatch on the extension), `findings.json` for a
/// converted one.
pub fn file_name(plan: &Plan, raw: &Place) -> String {
    match plan {
        Plan::Raw { .. } => raw.file_name().unwrap_or_else(|| "report".to_string()),
        Plan::Generic => "findings.json".to_string(),
    }
}

/// Produces the upload: the raw report as is, or findings.json converted,
/// checked against DEFECTDOJO_MAX_UPLOAD_MB before anything is sent.
pub fn report(inputs: &Inputs) -> Result<Upload<'_>, Error> {
    let Plan::Raw { dojo_type } = &inputs.cfg.import.plan else {
        return generic(inputs);
    };
    let (cfg, agent, raw) = (&inputs.cfg, &inputs.agent, &inputs.raw);
    let limit = cfg.max_upload_bytes();
    let what = format!("raw report {}", raw.display());
    let name = raw.file_name().unwrap_or_else(|| "report".to_string());
    // storage::open names the file or URL itself.
    let prepared = body::prepare(&what, &inputs.spool, Mode::Input, move || {
        storage::open(agent, raw, "raw report")
    })?;
    if prepared.is_empty() {
        return Err(Error::input(
            what,
            format!(
                "is empty (0 bytes): the scanner produced no report, so there is nothing for \
                 DefectDojo's \"{dojo_type}\" parser to import"
            ),
        ));
    }
    if prepared.len() <= limit {
        return Ok(Upload {
            body: prepared,
            file_name: name,
            remake: Remake {
                inputs,
                generic: false,
            },
        });
    }
    let lower = name.to_ascii_lowercase();
    if !(lower.ends_with(".json") || lower.ends_with(".sarif")) {
        return Err(too_large(&what, prepared.len(), cfg.max_upload_mb));
    }
    // Pretty-printed JSON often fits once its whitespace is gone.
    let before = prepared.len();
    drop(prepared);
    let minified = body::prepare(&what, &inputs.spool, Mode::Input, move || {
        let opened = storage::open(agent, raw, "raw report")?;
        Ok(Opened::stream(Minify::new(opened.reader)))
    })?;
    if minified.len() > limit {
        return Err(too_large(&what, minified.len(), cfg.max_upload_mb));
    }
    log::warn!(
        "{what} is {before} bytes, over DEFECTDOJO_MAX_UPLOAD_MB={}: uploading it minified \
         ({} bytes, the same JSON without whitespace)",
        cfg.max_upload_mb,
        minified.len()
    );
    Ok(Upload {
        body: minified,
        file_name: name,
        remake: Remake {
            inputs,
            generic: false,
        },
    })
}

/// findings.json converted to Generic Findings Import JSON: the upload of
/// a generic scan type, and of the fallback when a native parser crashed.
pub fn generic(inputs: &Inputs) -> Result<Upload<'_>, Error> {
    let (agent, findings) = (&inputs.agent, &inputs.findings);
    let what = format!("findings {}", findings.display());
    let prepared = body::prepare(&what, &inputs.spool, Mode::Input, move || {
        let opened = storage::open(agent, findings, "findings")?;
        let reader = GenericReader::new(
            BufReader::with_capacity(64 * 1024, opened.reader),
            MAX_FINDING_BYTES,
        );
        Ok(Opened::stream(reader))
    })?;
    if prepared.len() > inputs.cfg.max_upload_bytes() {
        return Err(too_large(
            &format!("{what}, converted to Generic Findings Import JSON,"),
            prepared.len(),
            inputs.cfg.max_upload_mb,
        ));
    }
    Ok(Upload {
        body: prepared,
        file_name: "findings.json".to_string(),
        remake: Remake {
            inputs,
            generic: true,
        },
    })
}

/// File extensions DefectDojo accepts for imports (`DD_FILE_IMPORT_TYPES`).
pub const IMPORT_EXTENSIONS: &[&str] = &[
    "xml", "csv", "nessus", "json", "jsonl", "html", "js", "zip", "xlsx", "txt", "sarif", "fpr",
    "md", "log", "fvdl",
];

/// Checks the report's name (the local part of the checks): DefectDojo
/// refuses a file without one of its extensions (a 400,
/// `fixtures/dojo/recorded/v3/29-*`).
pub fn check_file_name(name: &str) -> Result<(), String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext {
        Some(e) if IMPORT_EXTENSIONS.contains(&e.as_str()) => Ok(()),
        _ => Err(format!(
            "the report's file name \"{name}\" does not end in an extension DefectDojo accepts ({})",
            IMPORT_EXTENSIONS.join(", ")
        )),
    }
}

fn too_large(what: &str, len: u64, max_mb: u64) -> Error {
    Error::input(
        what,
        format!(
            "is {:.1} MiB, over the upload limit of {max_mb} MiB (DEFECTDOJO_MAX_UPLOAD_MB, which should \
             match DefectDojo's DD_SCAN_FILE_MAX_SIZE): raise both, or split the report; nothing was sent",
            len as f64 / 1048576.0
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert!(check_file_name("report.SARIF").is_ok());
        assert!(check_file_name("nuclei.jsonl").is_ok());
        assert!(check_file_name("scan.exe").is_err());
        assert!(check_file_name("report").is_err());
    }
}
