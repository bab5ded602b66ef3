//! Which DefectDojo scan type a scan is imported as, and from which file.
//!
//! The secureCodeBox scan types with a native DefectDojo parser upload the
//! raw scanner report; every other type converts findings.json into
//! DefectDojo's "Generic Findings Import" JSON. The table is the Java hook's,
//! exactly (`docs/java-hook.md`, "Scan type mapping").

/// DefectDojo's scan type for converted secureCodeBox findings.
pub const GENERIC: &str = "Generic Findings Import";

/// The native mappings: secureCodeBox `spec.scanType` → DefectDojo scan type.
pub const NATIVE: &[(&str, &str)] = &[
    ("nmap", "Nmap Scan"),
    ("zap-automation-framework", "ZAP Scan"),
    ("sslyze", "Sslyze Scan"),
    ("ssh-audit", "SSH Audit Importer"),
    ("trivy-image", "Trivy Scan"),
    ("trivy-image-autodiscovery", "Trivy Scan"),
    ("trivy-filesystem", "Trivy Scan"),
    ("trivy-repo", "Trivy Scan"),
    ("trivy-k8s", "Trivy Scan"),
    ("gitleaks", "Gitleaks Scan"),
    ("nikto", "Nikto Scan"),
    ("nuclei", "Nuclei Scan"),
    ("wpscan", "Wpscan"),
    ("semgrep", "Semgrep JSON Report"),
];

/// secureCodeBox scan types without a native mapping, imported as Generic
/// Findings Import by design (the scanners of secureCodeBox 4 and 5). A
/// scan type in neither list is most likely a typo, or a chart's
/// `scanner.nameAppend` suffix; it still goes generic, with a warning.
pub const KNOWN_GENERIC: &[&str] = &[
    "amass",
    "cmseek",
    "doggo",
    "ffuf",
    "git-repo-scanner",
    "kube-hunter",
    "kubeaudit",
    "ncrack",
    "screenshooter",
    "ssh-scan",
    "subfinder",
    "test-scan",
    "trivy-sbom-image",
    "typo3scan",
    "whatweb",
    "zap-advanced-scan",
    "zap-api-scan",
    "zap-baseline-scan",
    "zap-full-scan",
];

/// The warning for a secureCodeBox scan type that is neither mapped nor
/// known, with the nearest known type.
pub fn unknown_type_warning(scb_type: &str) -> Option<String> {
    if native(scb_type).is_some() || KNOWN_GENERIC.contains(&scb_type) {
        return None;
    }
    let known: Vec<String> = NATIVE
        .iter()
        .map(|(s, _)| *s)
        .chain(KNOWN_GENERIC.iter().copied())
        .map(str::to_string)
        .collect();
    let hint = match crate::util::suggest::nearest(scb_type, &known) {
        Some(near) => format!(" (did you mean '{near}'?)"),
        None => String::new(),
    };
    Some(format!(
        "scan type '{scb_type}' (SCAN_TYPE or the scan's spec.scanType) is none of the \
         secureCodeBox scan types dojo-hook knows{hint}: importing FINDINGS as \"{GENERIC}\"; \
         set DEFECTDOJO_SCAN_TYPE to upload the raw report with a DefectDojo parser instead"
    ))
}

/// What gets uploaded, and as which DefectDojo scan type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Upload the raw scanner report as is.
    Raw {
        /// DefectDojo's scan type (a parser name).
        dojo_type: String,
    },
    /// Convert findings.json to Generic Findings Import JSON and upload that.
    Generic,
}

impl Plan {
    /// The DefectDojo scan type this plan imports as.
    pub fn dojo_type(&self) -> &str {
        match self {
            Plan::Raw { dojo_type } => dojo_type,
            Plan::Generic => GENERIC,
        }
    }
}

/// Decides the plan. `dojo_override` is `DEFECTDOJO_SCAN_TYPE` (used as is,
/// any DefectDojo parser); `scb_type` the secureCodeBox scan type.
pub fn plan(dojo_override: Option<&str>, scb_type: Option<&str>) -> Plan {
    match dojo_override {
        Some(GENERIC) => Plan::Generic,
        Some(dojo) => Plan::Raw {
            dojo_type: dojo.to_string(),
        },
        None => match scb_type.and_then(native) {
            Some(dojo) => Plan::Raw {
                dojo_type: dojo.to_string(),
            },
            None => Plan::Generic,
        },
    }
}

/// True for the DefectDojo scan types dojo-hook maps to itself (the native
/// mappings' targets and Generic Findings Import): parsers every supported
/// DefectDojo has, so they need no check against the server's list.
pub fn is_known_dojo_type(dojo_type: &str) -> bool {
    dojo_type == GENERIC || NATIVE.iter().any(|(_, d)| *d == dojo_type)
}

/// The native DefectDojo scan type of a secureCodeBox scan type (exact,
/// case-sensitive match, as in the Java hook).
pub fn native(scb_type: &str) -> Option<&'static str> {
    NATIVE.iter().find(|(s, _)| *s == scb_type).map(|(_, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapping_of_the_java_hook() {
        // README.md's "Scan types" table, row by row: a change to the table
        // and to NATIVE must be made together.
        const README: [(&str, &str); 14] = [
            ("nmap", "Nmap Scan"),
            ("zap-automation-framework", "ZAP Scan"),
            ("sslyze", "Sslyze Scan"),
            ("ssh-audit", "SSH Audit Importer"),
            ("trivy-image", "Trivy Scan"),
            ("trivy-image-autodiscovery", "Trivy Scan"),
            ("trivy-filesystem", "Trivy Scan"),
            ("trivy-repo", "Trivy Scan"),
            ("trivy-k8s", "Trivy Scan"),
            ("gitleaks", "Gitleaks Scan"),
            ("nikto", "Nikto Scan"),
            ("nuclei", "Nuclei Scan"),
            ("wpscan", "Wpscan"),
            ("semgrep", "Semgrep JSON Report"),
        ];
        assert_eq!(NATIVE.len(), README.len());
        for (scb, dojo) in README {
            assert_eq!(plan(None, Some(scb)).dojo_type(), dojo, "{scb}");
            assert!(is_known_dojo_type(dojo), "{dojo}");
        }
    }

    #[test]
    fn everything_else_is_generic() {
        for t in [
            "kube-hunter",
            "trivy-image-foo",
            "Nmap",
            "zap-baseline-scan",
            "",
        ] {
            assert_eq!(plan(None, Some(t)), Plan::Generic, "{t}");
        }
        assert_eq!(plan(None, None), Plan::Generic);
    }

    #[test]
    fn unknown_types_are_warned_about() {
        assert_eq!(unknown_type_warning("nmap"), None);
        assert_eq!(unknown_type_warning("kube-hunter"), None);
        let w = unknown_type_warning("nmpa").unwrap();
        assert!(w.contains("did you mean 'nmap'"), "{w}");
        assert!(unknown_type_warning("my-own-scanner").is_some());
    }

    #[test]
    fn override_wins() {
        assert_eq!(plan(Some("SARIF"), Some("nmap")).dojo_type(), "SARIF");
        assert_eq!(plan(Some(GENERIC), Some("nmap")), Plan::Generic);
    }
}
