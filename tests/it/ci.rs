//! CI pipelines without Kubernetes: bare reports, the reimport lifecycle,
//! the optional import fields, CI metadata and precedence.

use serde_json::{Value, json};

use crate::harness::{Hook, TempDir, fixture};
use crate::support::fake_dojo::{FakeDojo, Flavour};

/// A report in DefectDojo's own generic format, uploaded as is.
fn generic_report(titles: &[&str]) -> String {
    let findings: Vec<Value> = titles
        .iter()
        .map(|t| json!({"title": t, "severity": "High", "description": format!("{t} found")}))
        .collect();
    json!({ "findings": findings }).to_string()
}

fn ci_hook(dojo: &FakeDojo) -> Hook {
    Hook::new(dojo)
        .env("DEFECTDOJO_PRODUCT_NAME", "shop")
        .env("DEFECTDOJO_ENGAGEMENT_NAME", "main")
}

#[test]
fn a_bare_report_with_any_parser() {
    let dojo = FakeDojo::start(Flavour::V3);
    let report = fixture("samples/trivy/repo/securecodebox-repo.json");
    let out = ci_hook(&dojo)
        .env("SCAN_NAME", "")
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .args(&[report.as_str()])
        .run();
    out.expect(0);
    let import = dojo.last_import().unwrap();
    assert_eq!(import.field("scan_type"), Some("Trivy Scan"));
    assert_eq!(
        import.real_title(),
        Some("Trivy Scan"),
        "a bare report's test is named after its type"
    );
    assert_eq!(import.file_name.as_deref(), Some("securecodebox-repo.json"));

    // A secureCodeBox type without a native parser: the one argument is a findings.json.
    let findings = fixture("samples/nmap/findings.json");
    let out = ci_hook(&dojo)
        .env("SCAN_TYPE", "ncrack")
        .args(&[findings.as_str()])
        .run();
    out.expect(0);
    assert_eq!(
        dojo.last_import().unwrap().field("scan_type"),
        Some("Generic Findings Import")
    );
    assert_eq!(out.summary()["findings"]["total"], 8);

    let out = ci_hook(&dojo).args(&[report.as_str()]).run();
    out.expect(2);
    assert!(out.error_line().contains("DEFECTDOJO_SCAN_TYPE"), "{out}");
}

#[test]
fn verdicts_to_a_findings_output_file() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("ciout");
    let report = tmp.file("report.json", generic_report(&["A", "B"]));
    let out_path = tmp.path().join("verdicts.json");
    let out = ci_hook(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Generic Findings Import")
        .env("DEFECTDOJO_FINDINGS_OUTPUT", out_path.display().to_string())
        .args(&[report.to_str().unwrap()])
        .run();
    out.expect(0);
    let synced: Vec<Value> = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(synced.len(), 2);
    assert_eq!(out.summary()["synced"], 2);
}

#[test]
fn the_reimport_lifecycle_closes_and_reactivates() {
    for flavour in [Flavour::V3, Flavour::V2] {
        let dojo = FakeDojo::start(flavour);
        let tmp = TempDir::new("life");
        let full = tmp.file("full.json", generic_report(&["One", "Two", "Three"]));
        let minus = tmp.file("minus.json", generic_report(&["One", "Two"]));
        let run = |path: &std::path::Path, extra: &[(&str, &str)]| {
            let mut hook = ci_hook(&dojo)
                .env("DEFECTDOJO_SCAN_TYPE", "Generic Findings Import")
                .env("DEFECTDOJO_IMPORT_MODE", "reimport");
            for (k, v) in extra {
                hook = hook.env(k, *v);
            }
            let out = hook.args(&[path.to_str().unwrap()]).run();
            out.expect(0);
            out.summary()
        };
        let first = run(&full, &[]);
        assert_eq!(first["import_mode"], "import", "no test yet: a new one");
        let test = first["test_id"].clone();

        let closed = run(&minus, &[]);
        assert_eq!(closed["import_mode"], "reimport");
        assert_eq!(closed["test_id"], test, "into the same test");
        assert_eq!(
            closed["delta"]["closed"]["total"], 1,
            "{flavour:?}: {closed}"
        );
        assert_eq!(
            dojo.last_import().unwrap().field("close_old_findings"),
            Some("true")
        );

        let back = run(&full, &[]);
        assert_eq!(back["delta"]["reactivated"]["total"], 1, "{back}");

        run(&minus, &[]);
        let kept = run(&full, &[("DEFECTDOJO_DO_NOT_REACTIVATE", "true")]);
        assert_eq!(kept["delta"]["reactivated"]["total"], 0, "{kept}");
        assert_eq!(
            dojo.last_import().unwrap().field("do_not_reactivate"),
            Some("true")
        );
        let st = dojo.state();
        let three = st.findings.iter().find(|f| f.title == "Three").unwrap();
        assert!(
            three.is_mitigated && !three.active,
            "do_not_reactivate keeps it closed"
        );
        assert_eq!(st.tests.len(), 1, "one test for the whole lifecycle");
    }
}

#[test]
fn every_optional_field_reaches_the_form() {
    let dojo = FakeDojo::start(Flavour::V3);
    let report = fixture("samples/trivy/repo/securecodebox-repo.json");
    let settings = [
        ("DEFECTDOJO_ACTIVE", "true", "active", "true"),
        ("DEFECTDOJO_VERIFIED", "FALSE", "verified", "false"),
        ("DEFECTDOJO_PUSH_TO_JIRA", "false", "push_to_jira", "false"),
        ("DEFECTDOJO_SERVICE", "checkout", "service", "checkout"),
        (
            "DEFECTDOJO_ENVIRONMENT",
            "Production",
            "environment",
            "Production",
        ),
        (
            "DEFECTDOJO_GROUP_BY",
            "component_name",
            "group_by",
            "component_name",
        ),
        (
            "DEFECTDOJO_APPLY_TAGS_TO_FINDINGS",
            "true",
            "apply_tags_to_findings",
            "true",
        ),
        (
            "DEFECTDOJO_APPLY_TAGS_TO_ENDPOINTS",
            "true",
            "apply_tags_to_endpoints",
            "true",
        ),
        ("DEFECTDOJO_BUILD_ID", "b-7", "build_id", "b-7"),
        ("DEFECTDOJO_COMMIT_HASH", "c0ffee", "commit_hash", "c0ffee"),
        (
            "DEFECTDOJO_BRANCH_TAG",
            "release/1.2",
            "branch_tag",
            "release/1.2",
        ),
        (
            "DEFECTDOJO_API_SCAN_CONFIGURATION",
            "4",
            "api_scan_configuration",
            "4",
        ),
        (
            "DEFECTDOJO_DEDUPLICATION_EXECUTION_MODE",
            "sync",
            "deduplication_execution_mode",
            "sync",
        ),
        (
            "DEFECTDOJO_CLOSE_OLD_FINDINGS",
            "true",
            "close_old_findings",
            "true",
        ),
        (
            "DEFECTDOJO_CLOSE_OLD_FINDINGS_PRODUCT_SCOPE",
            "true",
            "close_old_findings_product_scope",
            "true",
        ),
    ];
    let mut hook = ci_hook(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .env("DEFECTDOJO_TEST_TAGS", "ci, nightly")
        .env("DEFECTDOJO_ENGAGEMENT_END_DATE", "2099-12-31")
        .env(
            "DEFECTDOJO_SOURCE_CODE_MANAGEMENT_URI",
            "https://git.example.com/shop",
        );
    for (var, value, _, _) in settings {
        hook = hook.env(var, value);
    }
    let out = hook.args(&[report.as_str()]).run();
    out.expect(0);
    let import = dojo.last_import().unwrap();
    for (_, _, field, want) in settings {
        assert_eq!(import.field(field), Some(want), "{field}");
    }
    let tags: Vec<&str> = import
        .fields
        .iter()
        .filter(|(k, _)| k == "tags")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(tags, ["ci", "nightly"]);
    let st = dojo.state();
    let e = st
        .engagement(out.summary()["engagement_id"].as_u64().unwrap())
        .unwrap();
    assert_eq!(e.target_end, "2099-12-31");
    assert_eq!(
        e.source_code_management_uri.as_deref(),
        Some("https://git.example.com/shop")
    );
    assert_eq!(
        e.branch_tag.as_deref(),
        Some(""),
        "the engagement's branch tag stays its version"
    );
}

#[test]
fn bad_field_values_are_config_errors() {
    let out = Hook::bare()
        .env("DEFECTDOJO_URL", "http://127.0.0.1:9")
        .env("DEFECTDOJO_APIKEY", "k")
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .env("DEFECTDOJO_PRODUCT_NAME", "p")
        .env("DEFECTDOJO_ENGAGEMENT_NAME", "e")
        .env("DEFECTDOJO_ACTIVE", "sometimes")
        .env("DEFECTDOJO_GROUP_BY", "owner")
        .env("DEFECTDOJO_IMPORT_MODE", "upsert")
        .args(&["report.json"])
        .run();
    out.expect(2);
    let line = out.error_line();
    for needle in ["DEFECTDOJO_ACTIVE", "group_by", "import mode"] {
        assert!(line.contains(needle), "{needle}: {line}");
    }
}

/// The CI variables of each provider, and what they must become.
/// provider, its variables, then the build id, commit, branch and repository URL it yields.
type Provider = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PROVIDERS: &[Provider] = &[
    (
        "github",
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "1001"),
            ("GITHUB_SHA", "aaa111"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
        ],
        "1001",
        "aaa111",
        "main",
        "https://github.com/acme/shop",
    ),
    (
        "gitlab",
        &[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_ID", "2002"),
            ("CI_COMMIT_SHA", "bbb222"),
            ("CI_COMMIT_REF_NAME", "develop"),
            ("CI_PROJECT_URL", "https://gitlab.example.com/acme/shop"),
            ("CI_PROJECT_NAME", "shop"),
        ],
        "2002",
        "bbb222",
        "develop",
        "https://gitlab.example.com/acme/shop",
    ),
    (
        "jenkins",
        &[
            ("JENKINS_URL", "https://jenkins.example.com/"),
            ("BUILD_ID", "3003"),
            ("GIT_COMMIT", "ccc333"),
            ("GIT_BRANCH", "origin/release"),
            ("GIT_URL", "https://git.example.com/acme/shop.git"),
        ],
        "3003",
        "ccc333",
        "release",
        "https://git.example.com/acme/shop.git",
    ),
];

#[test]
fn ci_metadata_is_detected_per_provider() {
    for (provider, vars, build, commit, branch, repo) in PROVIDERS {
        let dojo = FakeDojo::start(Flavour::V3);
        let report = fixture("samples/trivy/repo/securecodebox-repo.json");
        let mut hook = Hook::new(&dojo)
            .env("SCAN_NAME", "")
            .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan");
        for (k, v) in *vars {
            hook = hook.env(k, *v);
        }
        let out = hook.args(&[report.as_str()]).run();
        out.expect(0);
        assert_eq!(out.summary()["ci"], *provider);
        let import = dojo.last_import().unwrap();
        assert_eq!(import.field("build_id"), Some(*build), "{provider}");
        assert_eq!(import.field("commit_hash"), Some(*commit), "{provider}");
        assert_eq!(import.field("branch_tag"), Some(*branch), "{provider}");
        let st = dojo.state();
        assert_eq!(
            st.products[0].name, "shop",
            "{provider}: the repository names the product"
        );
        assert_eq!(
            st.engagements[0].source_code_management_uri.as_deref(),
            Some(*repo),
            "{provider}"
        );
    }
}

#[test]
fn annotation_beats_variable_beats_ci() {
    let dojo = FakeDojo::start(Flavour::V3);
    let report = fixture("samples/trivy/repo/securecodebox-repo.json");
    let run = |hook: Hook| {
        let out = hook
            .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_SHA", "from-ci")
            .args(&[report.as_str()])
            .run();
        out.expect(0);
        dojo.last_import()
            .unwrap()
            .field("commit_hash")
            .map(str::to_string)
    };
    assert_eq!(run(ci_hook(&dojo)).as_deref(), Some("from-ci"));
    assert_eq!(
        run(ci_hook(&dojo).env("DEFECTDOJO_COMMIT_HASH", "from-var")).as_deref(),
        Some("from-var")
    );
    let annotated = ci_hook(&dojo)
        .env("DEFECTDOJO_COMMIT_HASH", "from-var")
        .scan_file(&json!({"commit-hash": "from-annotation"}));
    assert_eq!(run(annotated).as_deref(), Some("from-annotation"));
}

/// A laptop: no CI variables, no scan name, only what the README's example sets.
fn laptop(dojo: &FakeDojo) -> Hook {
    Hook::bare()
        .env("DEFECTDOJO_URL", dojo.url.clone())
        .env("DEFECTDOJO_APIKEY", crate::harness::KEY)
}

#[test]
fn the_readmes_laptop_example_works_as_written() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("laptop");
    let trivy = tmp.file(
        "trivy.json",
        std::fs::read(fixture("samples/trivy/repo/securecodebox-repo.json")).unwrap(),
    );
    let out = laptop(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Trivy Scan")
        .env("DEFECTDOJO_PRODUCT_NAME", "shop")
        .args(&["trivy.json"])
        .run_in(tmp.path());
    out.expect(0);
    drop(trivy);
    let state = dojo.state();
    let engagement = state.engagements.last().unwrap();
    assert_eq!(
        engagement.name.as_deref(),
        Some("shop"),
        "named after the product"
    );
    drop(state);
    assert_eq!(dojo.last_import().unwrap().real_title(), Some("Trivy Scan"));
    // A known scan type costs no look at the server's 1.4 MB list.
    assert_eq!(dojo.requests_to("/api/v2/oa3/schema/").len(), 0);
}

#[test]
fn the_first_run_error_says_what_to_set_next() {
    let dojo = FakeDojo::start(Flavour::V3);
    dojo.expect_no_calls();
    let out = laptop(&dojo).args(&["report.xml"]).run();
    out.expect(2);
    assert_eq!(
        out.error_line(),
        "dojo-hook: error: configuration: dojo-hook REPORT needs the report's DefectDojo scan \
         type and the product it belongs to: set DEFECTDOJO_SCAN_TYPE and DEFECTDOJO_PRODUCT_NAME, \
         e.g. DEFECTDOJO_SCAN_TYPE=\"Trivy Scan\" DEFECTDOJO_PRODUCT_NAME=shop dojo-hook report.xml"
    );
    let out = laptop(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "Nmap Scan")
        .args(&["report.xml"])
        .run();
    out.expect(2);
    assert!(
        out.error_line().ends_with(
            "configuration: dojo-hook REPORT needs the product it belongs to: set \
             DEFECTDOJO_PRODUCT_NAME (created in DefectDojo when missing)"
        ),
        "{out}"
    );
}

#[test]
fn a_scan_type_dojo_hook_does_not_map_is_checked_once() {
    let dojo = FakeDojo::start(Flavour::V3);
    let tmp = TempDir::new("sarif");
    let report = tmp.file("report.sarif", r#"{"version":"2.1.0","runs":[]}"#);
    let out = ci_hook(&dojo)
        .env("DEFECTDOJO_SCAN_TYPE", "SARIF")
        .args(&[report.to_str().unwrap()])
        .run();
    out.expect(0);
    assert_eq!(dojo.requests_to("/api/v2/oa3/schema/").len(), 1, "{out}");
}
