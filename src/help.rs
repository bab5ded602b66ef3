//! The `--help` text: every argument, variable and annotation, with defaults
//! and precedence. Kept next to nothing else so it reads like the manual.

/// Printed by `dojo-hook --help`.
pub const HELP: &str = concat!(
    "dojo-hook ",
    env!("CARGO_PKG_VERSION"),
    " — imports security scan results into OWASP DefectDojo and hands DefectDojo's
verdicts (duplicate, false positive, risk accepted, out of scope) back.

USAGE:
    dojo-hook [-h|--help] [-V|--version] RAW_RESULT FINDINGS [RAW_RESULT_UPLOAD FINDINGS_UPLOAD]

ARGUMENTS (each an http(s):// URL, e.g. a presigned object-storage URL, or a local path):
    RAW_RESULT          the scanner's raw report; uploaded as is for scan types with a native
                        DefectDojo parser
    FINDINGS            the secureCodeBox findings.json; converted to DefectDojo's
                        \"Generic Findings Import\" JSON for every other scan type
    RAW_RESULT_UPLOAD   accepted and not used (as in the Java hook)
    FINDINGS_UPLOAD     where DefectDojo's verdicts are written as secureCodeBox findings:
                        a URL (PUT with an exact Content-Length), a path, or - for stdout.
                        With 4 arguments the import waits for deduplication, reads the
                        findings back and writes them; the target is only written when
                        the whole result was produced and checked.

PRECEDENCE (per-scan settings):
    annotation defectdojo.securecodebox.io/x-y  >  variable DEFECTDOJO_X_Y  >  default

ENVIRONMENT:
    DEFECTDOJO_URL                      DefectDojo's base URL (required; trailing / ignored)
    DEFECTDOJO_APIKEY                   API v2 key (required); sent only to DEFECTDOJO_URL
    DEFECTDOJO_LOW_PRIVILEGED_MODE      true: never create product types, skip the
                                        orchestration-engine link [default: false]
    DEFECTDOJO_USER_ID                  the lead user's id; skips the user_profile lookup
    DEFECTDOJO_SCAN_TYPE                a DefectDojo scan type used as is (any parser, e.g.
                                        \"SARIF\"); \"Generic Findings Import\" converts FINDINGS
    SCAN_TYPE                           the secureCodeBox scan type [default: the scan's
                                        spec.scanType]; none at all: generic import, warned
    SCAN_FILE                           a JSON file: a Scan resource (kubectl get scan -o json)
                                        or a flat object of annotations (short keys such as
                                        \"product-name\" allowed). Not set in a cluster: the
                                        Scan is read from the Kubernetes API, and its
                                        status.findings is updated after a sync back
    SCAN_NAME                           the scan's name [default: the scan file's metadata.name];
                                        in a cluster without SCAN_FILE, required (the operator
                                        sets it)
    NAMESPACE                           the scan's namespace [default: the service account's
                                        namespace file, else default]
    KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT
                                        set by Kubernetes in every pod: the API server, trusted
                                        only with the service account's ca.crt, never proxied
    KUBERNETES_SERVICE_ACCOUNT_DIR      where the service account's token, ca.crt and namespace
                                        are [default: /var/run/secrets/kubernetes.io/serviceaccount]
    DEFECTDOJO_MINIMUM_SEVERITY         Info|Low|Medium|High|Critical, any case; findings
                                        below are dropped by DefectDojo [default: not sent]
    DEFECTDOJO_SCAN_DATE                YYYY-MM-DD; overrides every finding's own date
                                        [default: not sent]
    DEFECTDOJO_PRODUCT_TYPE_NAME, DEFECTDOJO_PRODUCT_NAME, DEFECTDOJO_PRODUCT_DESCRIPTION,
    DEFECTDOJO_PRODUCT_TAGS, DEFECTDOJO_ENGAGEMENT_NAME, DEFECTDOJO_ENGAGEMENT_VERSION,
    DEFECTDOJO_ENGAGEMENT_DEDUPLICATE_ON_ENGAGEMENT, DEFECTDOJO_ENGAGEMENT_TAGS,
    DEFECTDOJO_TEST_TITLE               the variables of the annotations below
    DEFECTDOJO_TIMEOUT_SECONDS          connect and read timeout of ordinary calls [default: 60]
    DEFECTDOJO_IMPORT_TIMEOUT_SECONDS   wait for the import's answer [default: 1800]
    DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS  safety limit on pages read per list [default: unlimited]
    DEFECTDOJO_REFETCH_WAIT_SECONDS     (deprecated) extra wait before reading back [default: 0]
    DEFECTDOJO_MEMORY_SPOOL_MB          without a writable TMPDIR, results up to this size are
                                        held in memory, larger ones produced twice [default: 8]
    TMPDIR                              where bodies are spooled [default: /tmp]; not writable
                                        (read-only root): two-pass mode, nothing written
    RUST_LOG                            log level on stderr [default: info]; secrets are never
                                        logged at any level
    DEFECTDOJO_IS_DEV, IS_DEV, DEFECTDOJO_USERNAME   accepted and ignored

ANNOTATIONS (prefix defectdojo.securecodebox.io/):
    product-type-name                   [default: product type id 1]
    product-name                        [default: the owning ScheduledScan's name, else the scan name]
    product-description                 used on create [default: \"Product was automatically created
                                        by the secureCodeBox DefectDojo integration\"]
    product-tags                        comma-separated, used on create
    engagement-name                     [default: the scan name]
    engagement-version                  engagement version and branch tag, test version
    engagement-deduplicate-on-engagement  true|false, used on create [default: false]
    engagement-tags                     comma-separated, used on create
    test-title                          [default: the scan name]
    minimum_severity or minimum-severity  as DEFECTDOJO_MINIMUM_SEVERITY
    scan-date                           as DEFECTDOJO_SCAN_DATE

EXIT CODES:
    0   success (and --help, --version)
    1   DefectDojo, object storage, Kubernetes API or network failure, including input the
        server rejected
    2   usage, configuration or input problem found locally (nothing was imported)

OUTPUT:
    logs on stderr; one JSON summary line on stdout (on stderr when FINDINGS_UPLOAD is -)
"
);
