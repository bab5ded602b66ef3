//! The one error type of dojo-hook and its exit codes.
//!
//! Every failure is one readable line: what failed, why, and (where we can
//! tell) how to fix it. Messages never contain the API key or a presigned
//! query string: URLs are passed through [`crate::http::redact::url`] before they
//! are put into an error.

use std::fmt;
use std::io;

/// Exit code for a failure of DefectDojo, object storage, Kubernetes or the
/// network, including input that the server rejected.
pub const EXIT_REMOTE: u8 = 1;
/// Exit code for usage, configuration or input problems found locally,
/// before (or without) anything reaching a server.
pub const EXIT_LOCAL: u8 = 2;
/// Exit code of the build gate: the import succeeded, and it created new
/// findings at or above `DEFECTDOJO_FAIL_ON`.
pub const EXIT_GATE: u8 = 3;

/// Everything that can go wrong in a run.
#[derive(Debug)]
pub enum Error {
    /// Wrong command line: the message says what was expected.
    Usage(String),
    /// Invalid configuration; every problem found, one per entry.
    Config(Vec<String>),
    /// A local input (findings.json, a report, the scan file) is unusable.
    Input {
        /// What was being read, e.g. `findings.json (./findings.json)`.
        what: String,
        /// Why it is unusable and, where possible, how to fix it.
        reason: String,
    },
    /// A local file could not be read or written.
    Io {
        /// The file or operation, e.g. `reading ./report.xml`.
        what: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing the output (FINDINGS_UPLOAD as a local file, a device or
    /// stdout) failed at run time, e.g. a full device: the import itself
    /// happened, so this is a failure of the run (exit 1), not of its input.
    Output {
        /// The output, e.g. `writing ./findings.json`.
        what: String,
        /// The underlying error.
        source: io::Error,
        /// What to point elsewhere when the device is full: the output's
        /// variable, or `TMPDIR` for scratch space there ([`Error::at`]).
        place: &'static str,
    },
    /// A server answered with an unexpected HTTP status.
    Http {
        /// The request, e.g. `creating product "web"` (URL redacted).
        what: String,
        /// The HTTP status code.
        status: u16,
        /// The useful part of the response body, or a hint.
        detail: String,
    },
    /// The request did not get an HTTP answer: DNS, connect, TLS, timeout.
    Transport {
        /// The request, e.g. `GET https://dojo.example/api/v2/user_profile/`.
        what: String,
        /// What went wrong and how to fix it.
        detail: String,
    },
    /// A server answered 2xx with something we cannot use (bad JSON, a
    /// missing field, a pagination loop).
    Protocol {
        /// The request or object concerned.
        what: String,
        /// What was wrong with the answer.
        detail: String,
    },
}

impl Error {
    /// The documented exit code for this error (see the README).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Input { .. } | Error::Io { .. } => {
                EXIT_LOCAL
            }
            Error::Output { .. }
            | Error::Http { .. }
            | Error::Transport { .. }
            | Error::Protocol { .. } => EXIT_REMOTE,
        }
    }

    /// Shorthand for [`Error::Input`].
    pub fn input(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Input {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(what: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// Shorthand for [`Error::Output`] of the findings output; [`Error::at`]
    /// names another place.
    pub fn output(what: impl Into<String>, source: io::Error) -> Error {
        Error::Output {
            what: what.into(),
            source,
            place: FINDINGS_PLACE,
        }
    }

    /// An [`Error::Output`] about `place` (the variable of the output, or
    /// `TMPDIR`), which its no-space hint names; other errors unchanged.
    pub fn at(self, place: &'static str) -> Error {
        match self {
            Error::Output { what, source, .. } => Error::Output {
                what,
                source,
                place,
            },
            other => other,
        }
    }

    /// Shorthand for [`Error::Protocol`].
    pub fn protocol(what: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::Protocol {
            what: what.into(),
            detail: detail.into(),
        }
    }

    /// Appends a sentence to the detail of a server's error (HTTP, transport
    /// or protocol); local errors are returned as they are.
    pub fn note(self, note: impl AsRef<str>) -> Error {
        let note = note.as_ref();
        match self {
            Error::Http {
                what,
                status,
                detail,
            } => Error::Http {
                what,
                status,
                detail: if detail.is_empty() {
                    note.to_string()
                } else {
                    format!("{detail}; {note}")
                },
            },
            Error::Transport { what, detail } => Error::Transport {
                what,
                detail: format!("{detail}; {note}"),
            },
            Error::Protocol { what, detail } => Error::Protocol {
                what,
                detail: format!("{detail}; {note}"),
            },
            other => other,
        }
    }

    /// Wraps this error in an `io::Error`, so it can travel through a `Read`
    /// implementation; [`Error::from_io`] gets it back.
    pub fn into_io(self) -> io::Error {
        io::Error::other(self)
    }

    /// Recovers an [`Error`] carried by [`Error::into_io`], or wraps a plain
    /// I/O error with `what`.
    pub fn from_io(what: impl Into<String>, err: io::Error) -> Error {
        if err.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            // unwraps are fine: we just checked the inner error's type.
            return *err.into_inner().unwrap().downcast::<Error>().unwrap();
        }
        Error::io(what, err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => write!(f, "{msg}"),
            Error::Config(problems) => match problems.as_slice() {
                [one] => write!(f, "configuration: {one}"),
                many => write!(f, "configuration: {}", many.join("; ")),
            },
            Error::Input { what, reason } => write!(f, "{what}: {reason}"),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
            Error::Output {
                what,
                source,
                place,
            } if is_out_of_space(source) => write!(
                f,
                "{what}: no space left on the device (ENOSPC): free space, or point {place} \
                 elsewhere"
            ),
            Error::Output { what, source, .. } => write!(f, "{what}: {source}"),
            Error::Http {
                what,
                status,
                detail,
            } => {
                if detail.is_empty() {
                    write!(f, "{what}: HTTP {status}")
                } else {
                    write!(f, "{what}: HTTP {status}: {detail}")
                }
            }
            Error::Transport { what, detail } => write!(f, "{what}: {detail}"),
            Error::Protocol { what, detail } => write!(f, "{what}: {detail}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Output { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The findings output's variables, as a no-space hint names them.
const FINDINGS_PLACE: &str = "FINDINGS_UPLOAD / DEFECTDOJO_FINDINGS_OUTPUT";

/// True for a full device: ENOSPC, and EDQUOT (122 on Linux): a
/// size-limited tmpfs, or a quota.
pub(crate) fn is_out_of_space(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull
        || (cfg!(target_os = "linux") && e.raw_os_error() == Some(122))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_split_local_from_remote() {
        assert_eq!(Error::Usage("x".into()).exit_code(), EXIT_LOCAL);
        assert_eq!(Error::input("a", "b").exit_code(), EXIT_LOCAL);
        let http = Error::Http {
            what: "x".into(),
            status: 500,
            detail: String::new(),
        };
        assert_eq!(http.exit_code(), EXIT_REMOTE);
    }

    #[test]
    fn a_note_extends_server_errors_only() {
        let http = Error::Http {
            what: "importing".into(),
            status: 500,
            detail: "Internal server error".into(),
        };
        assert_eq!(
            http.note("test 3 was removed").to_string(),
            "importing: HTTP 500: Internal server error; test 3 was removed"
        );
        let local = Error::input("findings.json", "not an array");
        assert_eq!(
            local.note("ignored").to_string(),
            "findings.json: not an array"
        );
    }

    #[test]
    fn a_full_device_names_the_place_to_move() {
        let full = || io::Error::from(io::ErrorKind::StorageFull);
        let findings = Error::output("writing f.json", full()).to_string();
        assert!(
            findings.ends_with("point FINDINGS_UPLOAD / DEFECTDOJO_FINDINGS_OUTPUT elsewhere"),
            "{findings}"
        );
        let sarif = Error::output("writing the SARIF report", full())
            .at("DEFECTDOJO_SARIF_OUTPUT")
            .to_string();
        assert!(
            sarif.ends_with("point DEFECTDOJO_SARIF_OUTPUT elsewhere"),
            "{sarif}"
        );
        let tmp = Error::output("x", full()).at("TMPDIR").to_string();
        assert!(tmp.ends_with("point TMPDIR elsewhere"), "{tmp}");
        assert_eq!(
            Error::input("a", "b").at("TMPDIR").to_string(),
            "a: b",
            "only output errors"
        );
    }

    #[test]
    fn errors_survive_a_trip_through_io() {
        let err = Error::input("findings.json", "not an array").into_io();
        let back = Error::from_io("reading", err);
        assert_eq!(back.to_string(), "findings.json: not an array");
    }
}
