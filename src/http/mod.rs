//! The HTTP layer shared by DefectDojo, object storage and Kubernetes calls.
//!
//! One ureq agent is built per run ([`agent()`]). Statuses are not turned into
//! errors by ureq (`http_status_as_error(false)`), so a 4xx/5xx reaches the
//! user with the server's own message ([`failure`]); redirects are not
//! followed, so the API key never travels to a host the user did not name.
//! Everything that is printed goes through [`redact`].
//!
//! - [`agent`](mod@agent): the run's network settings and the agents built from them.
//! - [`tls`]: certificate trust and the TLS step of the connections.
//! - [`proxy`]: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, per request.
//! - [`deadline`]: the run's deadline and the bounds of calls and transfers.
//! - [`retry`]: retries of idempotent requests.
//! - [`failure`]: failed calls as one readable line.
//! - [`redact`]: secrets kept out of logs and errors.
//! - [`url`]: percent-decoding of URL parts.

pub mod agent;
pub mod credentials;
pub mod deadline;
pub mod failure;
pub mod proxy;
pub mod redact;
pub mod retry;
pub mod tls;
pub mod url;

pub use agent::{Network, agent};
pub use deadline::Timeouts;
pub use failure::{
    ERROR_BODY_LIMIT, body_error, one_line, read_prefix, send_error, status_error, transport_error,
};
