//! The `--help` text: every argument, variable and annotation, with defaults
//! and precedence. Kept next to nothing else so it reads like the manual.

/// Printed by `dojo-hook --help`.
pub const HELP: &str = concat!(
    "dojo-hook ",
    env!("CARGO_PKG_VERSION"),
    " — imports security scan results into OWASP DefectDojo and hands DefectDojo's
verdicts (duplicate, false positive, risk accepted, out of scope) back.

USAGE:
    dojo-hook [-h|--help] [-V|--version] [--] RAW_RESULT FINDINGS [RAW_RESULT_UPLOAD FINDINGS_UPLOAD]
    dojo-hook [-h|--help] [-V|--version] [--] REPORT

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
    REPORT              (one argument, CI pipelines) a bare report, uploaded as is with
                        DEFECTDOJO_SCAN_TYPE or a native SCAN_TYPE; with any other SCAN_TYPE
                        it is a secureCodeBox findings.json and converted

PRECEDENCE (per-scan settings):
    annotation defectdojo.securecodebox.io/x-y  >  variable DEFECTDOJO_X_Y  >  CI-detected  >  default
    Naming rule: DefectDojo's form field x_y is DEFECTDOJO_X_Y and annotation .../x-y.

ENVIRONMENT:
    DEFECTDOJO_URL                      DefectDojo's base URL (required; trailing / ignored;
                                        user:password@ refused: the API key authenticates)
    DEFECTDOJO_APIKEY                   API v2 key (required); sent only to DEFECTDOJO_URL
    DEFECTDOJO_APIKEY_FILE              instead of DEFECTDOJO_APIKEY (never both): a file holding
                                        the key, e.g. a mounted Secret; surrounding whitespace
                                        and the trailing newline are ignored
    DEFECTDOJO_EXTRA_HEADERS            extra headers for every DefectDojo request (never for
                                        storage), one \"Name: value\" per line, e.g. a Cloudflare
                                        Access service token or a proxy's token; values are
                                        never logged; Authorization cannot be overridden
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
    DEFECTDOJO_IMPORT_MODE              import: a new test per run [default, but for a scan
                                        owned by a ScheduledScan]; reimport: into the latest
                                        test of the engagement with the same scan type and
                                        title (a new one when there is none) [default for a
                                        ScheduledScan's scans; engagement and test are then
                                        named after the ScheduledScan]. After a reimport, the
                                        findings written back leave out the closed ones
    DEFECTDOJO_FINDINGS_OUTPUT          where DefectDojo's verdicts go when there is no 4th
                                        argument: a path, a URL, or -
    DEFECTDOJO_SARIF_OUTPUT             a SARIF 2.1.0 report of the test (code scanning), with
                                        DefectDojo's triage as suppressions: a path, a URL, or -
    DEFECTDOJO_JUNIT_OUTPUT             a JUnit XML report of the test (test-report widgets):
                                        failures fail the gate, triaged findings are skipped
    DEFECTDOJO_SARIF_MAX_RESULTS        results kept in the SARIF run, most severe open ones
                                        first [default: 25000, GitHub's limit; 0: no limit]
    DEFECTDOJO_SOURCE_ROOT              repository root for SARIF's relative paths [default:
                                        GITHUB_WORKSPACE, CI_PROJECT_DIR, WORKSPACE, the cwd]
    DEFECTDOJO_ACTIVE, DEFECTDOJO_VERIFIED          true|false; unset: as the scanner says
    DEFECTDOJO_PUSH_TO_JIRA, DEFECTDOJO_SERVICE, DEFECTDOJO_ENVIRONMENT,
    DEFECTDOJO_GROUP_BY (component_name|component_name+component_version|file_path|
    finding_title|vuln_id_from_tool), DEFECTDOJO_CREATE_FINDING_GROUPS_FOR_ALL_FINDINGS,
    DEFECTDOJO_APPLY_TAGS_TO_FINDINGS, DEFECTDOJO_APPLY_TAGS_TO_ENDPOINTS,
    DEFECTDOJO_API_SCAN_CONFIGURATION (id), DEFECTDOJO_ENDPOINT_TO_ADD (id), DEFECTDOJO_DEDUPLICATION_EXECUTION_MODE
    (async|async_wait|sync), DEFECTDOJO_CLOSE_OLD_FINDINGS [default: true on reimport],
    DEFECTDOJO_CLOSE_OLD_FINDINGS_PRODUCT_SCOPE (import only), DEFECTDOJO_DO_NOT_REACTIVATE
    (reimport only)                     DefectDojo's form fields of the same name; not sent
                                        when unset
    DEFECTDOJO_TEST_TAGS                comma-separated test tags
    DEFECTDOJO_BUILD_ID, DEFECTDOJO_COMMIT_HASH, DEFECTDOJO_BRANCH_TAG
                                        stored on the test [default: detected from GitHub
                                        Actions, GitLab CI or Jenkins]
    DEFECTDOJO_SOURCE_CODE_MANAGEMENT_URI   set on an engagement dojo-hook creates
                                        [default: the detected repository URL]
    DEFECTDOJO_ENGAGEMENT_END_DATE      YYYY-MM-DD, for an engagement dojo-hook creates
                                        [default: today]
    DEFECTDOJO_FAIL_ON                  build gate: exit 3 when this run created new findings
                                        (active, not duplicate, not false positive) at or
                                        above this severity; they are printed with links
    DEFECTDOJO_FAIL_ON_REACTIVATED      true: reactivated findings count for the gate too
    GITHUB_STEP_SUMMARY                 a Markdown summary is appended there when set ...
    DEFECTDOJO_SUMMARY_FILE             ... else written to this file
    DEFECTDOJO_DRY_RUN                  true: GET requests only; check the report, the scan
                                        type (against the server's own list) and the names,
                                        print the plan; exit 0, or 2 when a real run would fail
    DEFECTDOJO_GENERIC_FALLBACK         when DefectDojo's native parser crashes (HTTP 500), import
                                        FINDINGS as Generic Findings Import instead [default: true]
    DEFECTDOJO_MAX_UPLOAD_MB            largest report sent [default: 100, DefectDojo's
                                        DD_SCAN_FILE_MAX_SIZE]; a larger JSON report is
                                        minified when that is enough, else exit 2
    DEFECTDOJO_TIMEOUT_SECONDS          connect timeout, and bound of each ordinary call as a
                                        whole, its answer included [default: 60]
    DEFECTDOJO_IMPORT_TIMEOUT_SECONDS   bound of the import and of each object-storage
                                        transfer as a whole [default: 1800]
    DEFECTDOJO_DEADLINE_SECONDS         deadline of the whole run: no request or retry starts
                                        after it, each request's timeout is capped by the time
                                        left; reached: exit 1 [default: none]
                                        (seconds: at most 2592000, 30 days; more is exit 2)
    DEFECTDOJO_MAX_PAGE_COUNT_FOR_GETS  safety limit on pages read per list [default: unlimited]
    DEFECTDOJO_REFETCH_WAIT_SECONDS     (deprecated) extra wait before reading back [default: 0]
    DEFECTDOJO_MEMORY_SPOOL_MB          without a writable TMPDIR, results up to this size are
                                        held in memory, larger ones produced twice [default: 8]
    TMPDIR                              where bodies are spooled [default: /tmp]; not writable
                                        (read-only root): two-pass mode, nothing written
    DEFECTDOJO_CA_FILE, SSL_CERT_FILE, NODE_EXTRA_CA_CERTS
                                        PEM files whose certificates are trusted in addition to
                                        the web PKI roots, for DefectDojo and object storage
                                        (never instead of them); no switch turns checks off
    HTTPS_PROXY, HTTP_PROXY             proxy for https:// / http:// URLs (the lower-case form
                                        wins): http(s)://[user:password@]host:port, tunnelled
                                        with CONNECT; ALL_PROXY is not read
    NO_PROXY                            hosts reached directly, as curl reads it: name (and its
                                        subdomains, leading dot optional), IP, CIDR, host:port, *
    RUST_LOG                            log level on stderr [default: info]; secrets are never
                                        logged at any level
    DEFECTDOJO_IS_DEV, IS_DEV, DEFECTDOJO_USERNAME   accepted and ignored

ANNOTATIONS (prefix defectdojo.securecodebox.io/; each also as its DEFECTDOJO_ variable):
    product-type-name                   [default: product type id 1]
    product-name                        [default: the owning ScheduledScan's name, else the scan
                                        name, else the CI repository's name]
    product-description                 used on create [default: \"Product was automatically created
                                        by the secureCodeBox DefectDojo integration\"]
    product-tags                        comma-separated, used on create
    engagement-name                     [default: in reimport mode the owning ScheduledScan's
                                        name; else the scan name, else the CI repository's
                                        name, else the product name]
    engagement-version                  engagement version and branch tag, test version
    engagement-deduplicate-on-engagement  true|false, used on create [default: false]
    engagement-tags                     comma-separated, used on create
    engagement-end-date                 YYYY-MM-DD, used on create [default: today]
    source-code-management-uri          the repository, used on create [default: detected]
    test-title                          [default: in reimport mode the owning ScheduledScan's
                                        name; else the scan name; for a bare REPORT without a
                                        scan name, its DefectDojo scan type]
    test-tags                           comma-separated test tags
    import-mode                         import|reimport [default: reimport for a scan owned by a
                                        ScheduledScan, so its runs update one test; else import]
    minimum_severity or minimum-severity  as DEFECTDOJO_MINIMUM_SEVERITY
    scan-date                           as DEFECTDOJO_SCAN_DATE
    active, verified, push-to-jira, service, environment, group-by,
    create-finding-groups-for-all-findings, apply-tags-to-findings,
    apply-tags-to-endpoints, build-id, commit-hash, branch-tag,
    api-scan-configuration, endpoint-to-add, deduplication-execution-mode,
    close-old-findings, close-old-findings-product-scope, do-not-reactivate
                                        the form fields above, per scan (x_y is x-y)
    sarif-output, junit-output, sarif-max-results   as the DEFECTDOJO_ variables
    (an unknown annotation of this prefix is ignored with a warning: a typo?)

EXIT CODES:
    0   success (and --help, --version)
    1   DefectDojo, object storage, Kubernetes API or network failure, including input the
        server rejected
    2   usage, configuration or input problem found locally (nothing was imported),
        including an output whose directory is missing or takes no files, an output
        that is a directory, two outputs on one place (however spelled) or a report on
        an input; a name longer than DefectDojo takes;
        a DEFECTDOJO_SCAN_TYPE this DefectDojo does not list (checked before anything is
        created); a dry run that found a problem
    3   the build gate: the import succeeded and created new findings at or above
        DEFECTDOJO_FAIL_ON
    129, 130, 143  stopped by SIGHUP, SIGINT or SIGTERM: one line says where and what
        stays in DefectDojo; an unfinished test of this run is removed first

LIMITS:
    findings.json: at most 16 MiB per finding and 128 levels of nesting; beyond: exit 2.
    Names: product type, product, test title 255 characters, engagement name 300, version
    100, build id, commit hash, branch tag 150 (DefectDojo's); beyond: exit 2.
    Server and scanner text on stderr, in logs and the Markdown summary: one line, control,
    bidirectional and zero-width characters shown as \\n, \\u202E, …; titles cut at 200.
    Reads, the storage PUT and the description PATCH are retried (4 attempts, backoff with
    jitter, Retry-After honoured up to 30 s, within 60 s) on connection errors, timeouts, 429,
    502, 503, 504; the import is sent again only when it certainly did not land.

OUTPUT:
    logs on stderr; one JSON summary line on stdout (on stderr when an output is -)
"
);
