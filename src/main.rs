//! The dojo-hook binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    dojo_hook::logging::init();
    ExitCode::from(dojo_hook::app::main_with_env())
}
