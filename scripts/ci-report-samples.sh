#!/usr/bin/env bash
# Writes the sample SARIF and JUnit reports in fixtures/ci-reports/ from a
# real-looking CI run against the bundled fake DefectDojo (3.x): Semgrep's
# findings on secureCodeBox's vulnerable Flask app, imported; two findings
# triaged in DefectDojo (false positive, risk accepted); then the next
# pipeline run reimports the report with one finding fixed and one new, with
# DEFECTDOJO_FAIL_ON=High and both reports on. Run by `make ci-report-samples`.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/dojo-hook
FAKES=target/release/examples/fakes
OUT=fixtures/ci-reports
work=$(mktemp -d)
trap 'kill "$fakes_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

. scripts/start-fakes.sh
start_fakes "$work"

# Pipeline 1 reports the first eight findings; pipeline 2 has fixed the
# first one and found a new one (the ninth).
python3 - fixtures/samples/semgrep/findings.json "$work" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
json.dump(findings[:8], open(sys.argv[2] + "/run1.json", "w"))
json.dump(findings[1:], open(sys.argv[2] + "/run2.json", "w"))
PY

run() {
    env -i PATH="$PATH" DEFECTDOJO_URL="$dojo" DEFECTDOJO_APIKEY="$key" TMPDIR="$work" \
        GITHUB_ACTIONS=true GITHUB_REPOSITORY=acme/flask-shop GITHUB_SERVER_URL=https://github.com \
        GITHUB_RUN_ID=4711 GITHUB_SHA=3f2c1e0 GITHUB_REF_NAME=main GITHUB_WORKSPACE=/test/flask \
        SCAN_TYPE=semgrep DEFECTDOJO_SCAN_TYPE="Generic Findings Import" \
        DEFECTDOJO_PRODUCT_NAME=flask-shop DEFECTDOJO_TEST_TITLE="Semgrep" \
        DEFECTDOJO_IMPORT_MODE=reimport RUST_LOG=warn "$@"
}

raw=fixtures/samples/semgrep/semgrep-findings.json
run "$BIN" "$raw" "$work/run1.json" >/dev/null

# Security triages two findings in DefectDojo.
python3 - "$dojo" <<'PY'
import json, sys, urllib.request
dojo = sys.argv[1]
def call(method, path, body=None):
    req = urllib.request.Request(dojo + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Token dojo-admin-key",
                                          "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
findings = call("GET", "/api/v2/findings/?limit=100")["results"]
by_title = sorted(findings, key=lambda f: f["id"])
call("PATCH", "/api/v2/findings/%d/" % by_title[2]["id"], {"false_p": True, "active": False})
call("PATCH", "/api/v2/findings/%d/" % by_title[3]["id"], {"risk_accepted": True, "active": False})
PY

run DEFECTDOJO_FAIL_ON=High DEFECTDOJO_SARIF_OUTPUT="$OUT/semgrep.sarif" \
    DEFECTDOJO_JUNIT_OUTPUT="$OUT/semgrep.junit.xml" "$BIN" "$raw" "$work/run2.json" || code=$?
echo "the second run exited ${code:-0} (3: the gate failed on the new High finding)"
# The links name the fake's random port: give them a stable, real-looking host.
sed -i "s#$dojo#https://defectdojo.example.com#g" "$OUT/semgrep.sarif" "$OUT/semgrep.junit.xml"
ls -l "$OUT"
