//! Logging to stderr through env_logger, with the HTTP stack kept quiet.
//!
//! ureq and its protocol crate log full URIs (presigned signatures) and raw
//! request headers (the API key) at debug and trace. Whatever `RUST_LOG`
//! says, records from those crates above `info` are dropped here, before
//! env_logger sees them. Every message that passes goes through
//! `crate::http::redact::log_line`: one line, whatever it quotes.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Crates whose debug and trace output may contain secrets.
const CAPPED: &[&str] = &["ureq", "ureq_proto", "rustls", "webpki"];

struct CappedLogger(env_logger::Logger);

fn allowed(target: &str, level: Level) -> bool {
    level <= Level::Info
        || !CAPPED.iter().any(|c| {
            target == *c
                || target
                    .strip_prefix(c)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
}

impl Log for CappedLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        allowed(metadata.target(), metadata.level()) && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if allowed(record.target(), record.level()) && self.0.enabled(record.metadata()) {
            // The last line of defence: whatever a message quotes (a server's
            // text, a certificate's name, a finding's title), no remembered
            // secret, no terminal control sequence and no line break of its
            // own (a CI runner's workflow command) reaches the log.
            let message = crate::http::redact::log_line(&record.args().to_string());
            self.0.log(
                &Record::builder()
                    .args(format_args!("{message}"))
                    .metadata(record.metadata().clone())
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build(),
            );
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Installs the logger: `RUST_LOG` decides, `info` is the default.
pub fn init() {
    let logger = env_logger::Builder::new()
        .filter_level(LevelFilter::Info)
        .parse_env("RUST_LOG")
        // No timestamps: the container runtime and CI logs add their own.
        .format_timestamp(None)
        .target(env_logger::Target::Stderr)
        .build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(CappedLogger(logger))).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_stack_is_capped_at_info() {
        assert!(!allowed("ureq::unversioned::transport", Level::Debug));
        assert!(!allowed("ureq_proto::client", Level::Trace));
        assert!(!allowed("ureq", Level::Trace));
        assert!(allowed("ureq", Level::Warn));
        assert!(allowed("dojo_hook::pipeline", Level::Trace));
        assert!(allowed("ureqx", Level::Trace));
    }
}
