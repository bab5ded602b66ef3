//! The command line: positional arguments compatible with the Java hook.
//!
//! `dojo-hook [-h|--help] [-V|--version] [--] RAW_RESULT FINDINGS [RAW_RESULT_UPLOAD FINDINGS_UPLOAD]`,
//! or `dojo-hook REPORT` for a bare report (CI pipelines without secureCodeBox).
//!
//! Everything else is configured through environment variables and the scan
//! file ([`crate::config`]); this module only sorts the arguments.

use std::ffi::OsString;

use crate::error::Error;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Print the help text and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// Import (and with four arguments, sync back).
    Run(Args),
}

/// The positional arguments of a run. Its `Debug` shows URLs redacted
/// (presigned URLs carry their signature in the query string).
#[derive(Clone, PartialEq, Eq)]
pub struct Args {
    /// The raw scanner report: URL or local path.
    pub raw_result: String,
    /// The secureCodeBox findings.json: URL or local path.
    pub findings: String,
    /// Where to upload the raw result: accepted and unused, as in the Java hook.
    pub raw_result_upload: Option<String>,
    /// Where to write DefectDojo's verdicts: URL (PUT), path, or `-`.
    pub findings_upload: Option<String>,
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |s: &Option<String>| s.as_deref().map(crate::http::redact::url);
        f.debug_struct("Args")
            .field("raw_result", &crate::http::redact::url(&self.raw_result))
            .field("findings", &crate::http::redact::url(&self.findings))
            .field("raw_result_upload", &shown(&self.raw_result_upload))
            .field("findings_upload", &shown(&self.findings_upload))
            .finish()
    }
}

/// The usage line printed with usage errors and in `--help`.
pub const USAGE: &str = "usage: dojo-hook [-h|--help] [-V|--version] [--] RAW_RESULT FINDINGS [RAW_RESULT_UPLOAD FINDINGS_UPLOAD]\n       dojo-hook [-h|--help] [-V|--version] [--] REPORT";

/// Sorts the arguments (without the program name).
///
/// `-h`/`--help` wins wherever it stands before `--`, as in the Java hook;
/// `--` ends the options, as usual: everything after it is an argument,
/// even when it starts with `-`.
pub fn parse(mut args: Vec<OsString>) -> Result<Command, Error> {
    let after_marker = match args.iter().position(|a| a == "--") {
        Some(i) => args.split_off(i).into_iter().skip(1).collect(),
        None => Vec::new(),
    };
    let mut pargs = pico_args::Arguments::from_vec(args);
    if pargs.contains(["-h", "--help"]) {
        return Ok(Command::Help);
    }
    if pargs.contains(["-V", "--version"]) {
        return Ok(Command::Version);
    }
    let rest = pargs.finish();
    let mut positional = Vec::with_capacity(rest.len() + after_marker.len());
    for arg in rest {
        let arg = utf8(arg)?;
        if arg.starts_with('-') && arg.len() > 1 {
            return Err(Error::Usage(format!(
                "unknown option '{arg}' (configuration comes from environment variables; see --help)\n{USAGE}"
            )));
        }
        positional.push(arg);
    }
    for arg in after_marker {
        positional.push(utf8(arg)?);
    }
    let mut it = positional.into_iter();
    match it.len() {
        1 => Ok(Command::Run(Args {
            raw_result: it.next().unwrap_or_default(),
            findings: String::new(),
            raw_result_upload: None,
            findings_upload: None,
        })),
        2 => Ok(Command::Run(Args {
            raw_result: it.next().unwrap_or_default(),
            findings: it.next().unwrap_or_default(),
            raw_result_upload: None,
            findings_upload: None,
        })),
        4 => Ok(Command::Run(Args {
            raw_result: it.next().unwrap_or_default(),
            findings: it.next().unwrap_or_default(),
            raw_result_upload: it.next(),
            findings_upload: it.next(),
        })),
        n => Err(Error::Usage(format!(
            "wrong number of arguments: expected 1 (a bare report), 2 (import) or 4 (import and sync back), got {n}\n{USAGE}"
        ))),
    }
}

fn utf8(arg: OsString) -> Result<String, Error> {
    arg.into_string()
        .map_err(|a| Error::Usage(format!("argument {a:?} is not valid UTF-8\n{USAGE}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, Error> {
        parse(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn only_two_or_four_arguments_run() {
        for n in [0, 3, 5, 6, 10] {
            let args: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let err = run(&refs).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{n} arguments");
        }
        assert!(matches!(
            run(&["a", "b"]),
            Ok(Command::Run(Args {
                findings_upload: None,
                ..
            }))
        ));
        let Ok(Command::Run(args)) = run(&["a", "b", "c", "d"]) else {
            panic!("four arguments must run")
        };
        assert_eq!(args.findings_upload.as_deref(), Some("d"));
    }

    #[test]
    fn help_wins_anywhere() {
        for args in [
            &["-h"][..],
            &["--help"],
            &["foo", "-h", "baz"],
            &["foo", "bar", "--help"],
        ] {
            assert_eq!(run(args).unwrap(), Command::Help);
        }
        assert_eq!(run(&["-V"]).unwrap(), Command::Version);
    }

    #[test]
    fn double_dash_ends_the_options() {
        let Ok(Command::Run(args)) = run(&["--", "-report.xml"]) else {
            panic!("-- then one argument must run")
        };
        assert_eq!(args.raw_result, "-report.xml");
        let Ok(Command::Run(args)) = run(&["a", "--", "b", "c", "--help"]) else {
            panic!("-- then arguments must run")
        };
        assert_eq!(args.findings_upload.as_deref(), Some("--help"));
        assert_eq!(run(&["-h", "--", "a"]).unwrap(), Command::Help);
        assert!(run(&["--"]).is_err(), "no argument at all");
    }

    #[test]
    fn unknown_options_are_usage_errors_but_dash_is_stdout() {
        assert!(run(&["--nope", "a", "b"]).is_err());
        assert!(matches!(run(&["a", "b", "c", "-"]), Ok(Command::Run(_))));
    }
}
