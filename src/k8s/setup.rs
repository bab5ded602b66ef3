//! The in-cluster settings: variables, the service account's files, and the
//! checks made before the Scan GET.

use std::path::{Path, PathBuf};

use ureq::tls::{Certificate, PemItem};

use super::{ACCOUNT_DIR_VARIABLE, Cluster, DEFAULT_ACCOUNT_DIR, agent, shown};
use crate::cli::Args;
use crate::config::{self, Getter, Settings};
use crate::error::Error;
use crate::http::redact::Secret;

impl Cluster {
    /// The connection to use, or `None` when the Scan does not come from
    /// Kubernetes: `SCAN_FILE` is set, or `KUBERNETES_SERVICE_HOST` is not.
    ///
    /// In a cluster, the variables that no Scan annotation can change
    /// (DefectDojo URL and key, numbers, switches) are checked first, with
    /// the cluster's own, so that the Scan GET, the first network call,
    /// is only made when the run can go on. Reads the token and the CA.
    pub fn from_env(get: Getter, args: &Args) -> Result<Option<Cluster>, Error> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if var("SCAN_FILE").is_some() {
            if var("KUBERNETES_SERVICE_HOST").is_some() {
                log::info!("SCAN_FILE is set: the Scan is not read from the Kubernetes API");
            }
            return Ok(None);
        }
        let Some(host) = var("KUBERNETES_SERVICE_HOST") else {
            // Every CI run ends here: not worth a line at the default level.
            log::debug!(
                "not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is not set) and no SCAN_FILE: \
                 scan name {} and scan type {} from the environment",
                shown(var("SCAN_NAME")),
                shown(var("SCAN_TYPE").or_else(|| var("DEFECTDOJO_SCAN_TYPE")))
            );
            return Ok(None);
        };

        // Only the problems are wanted here: the configuration is read
        // again, whole, once the Scan is known.
        let mut problems = Vec::new();
        Settings::read(get, &mut problems);
        problems.extend(config::findings_upload_problem(args));
        let port = service_port(&host, &var, &mut problems);
        let account_dir = PathBuf::from(
            var(ACCOUNT_DIR_VARIABLE).unwrap_or_else(|| DEFAULT_ACCOUNT_DIR.to_string()),
        );
        let scan_name = scan_name(&var, &mut problems);
        let namespace = namespace(&var, &account_dir, &mut problems);
        if !problems.is_empty() {
            return Err(Error::Config(problems));
        }

        let token = read_token(&account_dir)?;
        let ca = read_ca(&account_dir)?;
        Ok(Some(Cluster {
            api: format!("https://{}:{port}", bracket_ipv6(&host)),
            namespace,
            scan_name,
            token,
            agent: agent(ca),
            account_dir,
            categories_read: Vec::new(),
        }))
    }
}

/// `KUBERNETES_SERVICE_HOST` checked, and `KUBERNETES_SERVICE_PORT` (0 when
/// it is a problem).
fn service_port(
    host: &str,
    var: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> u16 {
    let host_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':');
    if !host.trim_matches(['[', ']']).chars().all(host_chars) {
        problems.push(format!(
            "KUBERNETES_SERVICE_HOST '{host}' is not a host name or IP address"
        ));
    }
    match var("KUBERNETES_SERVICE_PORT") {
        None => {
            problems.push(
                "KUBERNETES_SERVICE_PORT is not set, but KUBERNETES_SERVICE_HOST is: \
                 set both (Kubernetes does in every pod), or set SCAN_FILE"
                    .to_string(),
            );
            0
        }
        Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).unwrap_or_else(|| {
            problems.push(format!(
                "KUBERNETES_SERVICE_PORT '{p}' is not a port number"
            ));
            0
        }),
    }
}

/// `SCAN_NAME`, the Scan to read: required in a cluster.
fn scan_name(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> String {
    let Some(name) = var("SCAN_NAME") else {
        problems.push(
            "SCAN_NAME is not set: in a cluster the Scan is read from the Kubernetes API \
             by its name (the secureCodeBox operator sets SCAN_NAME); outside a hook Job, \
             set SCAN_FILE instead"
                .to_string(),
        );
        return String::new();
    };
    if !is_object_name(&name, 253) {
        problems.push(format!(
            "SCAN_NAME '{name}' is not a Kubernetes object name \
             (lowercase letters, digits, '-' and '.')"
        ));
    }
    name
}

/// `NAMESPACE`, else the service account's namespace.
fn namespace(
    var: &dyn Fn(&str) -> Option<String>,
    account_dir: &Path,
    problems: &mut Vec<String>,
) -> String {
    let namespace = var("NAMESPACE").unwrap_or_else(|| account_namespace(account_dir));
    if !is_object_name(&namespace, 63) || namespace.contains('.') {
        problems.push(format!(
            "NAMESPACE '{namespace}' is not a Kubernetes namespace name \
             (lowercase letters, digits and '-')"
        ));
    }
    namespace
}

pub(super) fn read_token(dir: &Path) -> Result<Secret, Error> {
    let path = dir.join("token");
    let text = read_account_file(&path, "service account token")?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::input(
            format!("service account token {}", path.display()),
            "is empty",
        ));
    }
    Ok(Secret::new(token))
}

fn read_ca(dir: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let path = dir.join("ca.crt");
    let what = format!("cluster CA {}", path.display());
    let pem = read_account_file(&path, "cluster CA")?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem.as_bytes()) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(Error::input(&what, format!("is not valid PEM ({e})"))),
        }
    }
    if certs.is_empty() {
        return Err(Error::input(what, "holds no PEM certificate"));
    }
    Ok(certs)
}

/// Reads one of the service account's files; never shows its content.
fn read_account_file(path: &Path, what: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(
            format!("{what} {}", path.display()),
            format!(
                "not found: the pod has no service account token mounted \
                 (automountServiceAccountToken: false?); set {ACCOUNT_DIR_VARIABLE} to where \
                 the token and ca.crt are, or SCAN_FILE"
            ),
        ),
        _ => Error::io(format!("reading {what} {}", path.display()), e),
    })
}

/// The service account's namespace, else `default` (as client-go does).
fn account_namespace(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// An RFC 1123 subdomain of at most `max` characters (Kubernetes object names).
fn is_object_name(name: &str, max: usize) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= max
        && name.chars().all(ok_char)
        && alnum(name.chars().next())
        && alnum(name.chars().last())
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_and_hosts() {
        assert!(is_object_name("zap-juiceshop-1795845600", 253));
        assert!(is_object_name("a.b", 253));
        for bad in ["", "-a", "a-", "A", "a/b", "a b", "a%2F"] {
            assert!(!is_object_name(bad, 253), "{bad}");
        }
        assert_eq!(bracket_ipv6("fd00::1"), "[fd00::1]");
        assert_eq!(bracket_ipv6("10.96.0.1"), "10.96.0.1");
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn args() -> Args {
        Args {
            raw_result: String::new(),
            findings: "f".into(),
            raw_result_upload: None,
            findings_upload: None,
        }
    }

    #[test]
    fn outside_a_cluster_or_with_a_scan_file_there_is_no_cluster() {
        let outside = env(&[("SCAN_NAME", "s")]);
        assert!(
            Cluster::from_env(&|k| outside.get(k).cloned(), &args())
                .unwrap()
                .is_none()
        );
        let with_file = env(&[("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("SCAN_FILE", "x")]);
        assert!(
            Cluster::from_env(&|k| with_file.get(k).cloned(), &args())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn in_a_cluster_every_local_problem_is_reported_first() {
        let vars = env(&[
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1/x"),
            ("KUBERNETES_SERVICE_PORT", "https"),
            ("NAMESPACE", "Bad_NS"),
            ("DEFECTDOJO_TIMEOUT_SECONDS", "soon"),
            // Annotations may override these, so they wait for the Scan.
            ("DEFECTDOJO_MINIMUM_SEVERITY", "urgent"),
        ]);
        let err = Cluster::from_env(&|k| vars.get(k).cloned(), &args()).unwrap_err();
        let text = err.to_string();
        for needle in [
            "DEFECTDOJO_URL",
            "DEFECTDOJO_APIKEY",
            "DEFECTDOJO_TIMEOUT_SECONDS",
            "KUBERNETES_SERVICE_HOST '10.0.0.1/x'",
            "KUBERNETES_SERVICE_PORT 'https'",
            "SCAN_NAME is not set",
            "NAMESPACE 'Bad_NS'",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        assert!(!text.contains("minimum severity"), "{text}");
        assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);
    }

    #[test]
    fn missing_token_is_a_local_error_and_debug_hides_the_token() {
        let dir = std::env::temp_dir().join(format!("dojo-hook-k8s-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vars = env(&[
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
            ("SCAN_NAME", "scan-1"),
            ("DEFECTDOJO_URL", "http://dojo"),
            ("DEFECTDOJO_APIKEY", "k"),
            (ACCOUNT_DIR_VARIABLE, dir.to_str().unwrap()),
        ]);
        let get = |k: &str| vars.get(k).cloned();
        let err = Cluster::from_env(&get, &args()).unwrap_err();
        assert!(err.to_string().contains("service account token"), "{err}");
        assert!(err.to_string().contains("not found"), "{err}");
        assert_eq!(err.exit_code(), crate::error::EXIT_LOCAL);

        std::fs::write(dir.join("token"), "tok-SECRET\n").unwrap();
        std::fs::write(dir.join("namespace"), "scans\n").unwrap();
        std::fs::write(dir.join("ca.crt"), "not pem").unwrap();
        let err = Cluster::from_env(&get, &args()).unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        std::fs::write(
            dir.join("ca.crt"),
            include_str!("../../fixtures/tls/k8s/ca.crt"),
        )
        .unwrap();
        let cluster = Cluster::from_env(&get, &args()).unwrap().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(cluster.namespace, "scans");
        assert_eq!(cluster.api, "https://[fd00::1]:443");
        assert_eq!(
            cluster.scan_url("/status"),
            "https://[fd00::1]:443/apis/execution.securecodebox.io/v1/namespaces/scans/scans/scan-1/status"
        );
        let debug = format!("{cluster:?}");
        assert!(!debug.contains("tok-SECRET"), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");
    }
}
