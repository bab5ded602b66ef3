//! The process around a run: the command line, `--help` and `--version`,
//! where the summary line goes, and the error line with its exit code.
//! The only place that reads the process environment.

use std::ffi::OsString;
use std::io::Write;

use crate::cli::{self, Command};
use crate::error::Error;
use crate::outputs::Outcome;

/// Runs with the process's arguments and environment; returns the exit code.
pub fn main_with_env() -> u8 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let get = |name: &str| std::env::var(name).ok();
    match cli::parse(args) {
        Ok(Command::Help) => {
            print!("{}", crate::help::HELP);
            0
        }
        Ok(Command::Version) => {
            println!("dojo-hook {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Run(args)) => match crate::run::run(args, &get) {
            Ok(Outcome {
                line,
                code,
                stdout_taken,
            }) => {
                let line = crate::http::redact::terminal(&line);
                // An output written to stdout owns it.
                let written = if stdout_taken {
                    writeln!(std::io::stderr(), "{line}")
                } else {
                    writeln!(std::io::stdout(), "{line}")
                };
                // A closed stdout (e.g. `| head`) is not a failure of the import.
                drop(written);
                code
            }
            Err(err) => report(&err),
        },
        Err(err) => report(&err),
    }
}

fn report(err: &Error) -> u8 {
    let text = err.to_string();
    // The usage text is ours and has line breaks; every other error is one
    // line, whatever server or user text it quotes.
    let line = match err {
        Error::Usage(_) => crate::http::redact::terminal(&text),
        _ => crate::http::redact::log_line(&text),
    };
    eprintln!("dojo-hook: error: {line}");
    err.exit_code()
}
