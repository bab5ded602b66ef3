#!/usr/bin/env bash
# `make demo`: starts the bundled fake DefectDojo (3.x) and fake object store on
# loopback, then runs dojo-hook exactly as the secureCodeBox operator does
# (four presigned-style URLs), and shows the summary and a few synced findings.
# DOJO_HOOK_BIN and DOJO_HOOK_RUNNER run another binary (scripts/arm64-test.sh:
# the aarch64 release binary under qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${DOJO_HOOK_BIN:-target/release/dojo-hook}
read -r -a RUNNER <<<"${DOJO_HOOK_RUNNER:-}"
FAKES=${FAKES:-target/release/examples/fakes}
work=$(mktemp -d)
trap 'kill "$fakes_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# The scan's results, as the operator stores them in its bucket.
mkdir -p "$work/store/securecodebox/scan-demo"
cp fixtures/samples/nmap/nmap-results.xml "$work/store/securecodebox/scan-demo/nmap-results.xml"
cp fixtures/samples/nmap/findings.json "$work/store/securecodebox/scan-demo/findings.json"

. scripts/start-fakes.sh
start_fakes "$work/store"
sig='X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=demo%2F20261127&X-Amz-Signature=0123456789abcdef'
base="$store/securecodebox/scan-demo"

cat >"$work/scan.json" <<'JSON'
{"apiVersion": "execution.securecodebox.io/v1", "kind": "Scan",
 "metadata": {"name": "nmap-scanme-1795845600", "namespace": "default",
   "creationTimestamp": "2026-11-27T06:00:00Z",
   "annotations": {"defectdojo.securecodebox.io/product-type-name": "Demo",
                   "defectdojo.securecodebox.io/product-name": "scanme.nmap.org",
                   "defectdojo.securecodebox.io/engagement-name": "Nightly network scan"}},
 "spec": {"scanType": "nmap", "parameters": ["-Pn", "scanme.nmap.org"]}}
JSON

echo "== fake DefectDojo at $dojo (API key $key), fake object store at $store"
for run in 1 2; do
    echo "== run $run: dojo-hook RAW_RESULT FINDINGS RAW_RESULT_UPLOAD FINDINGS_UPLOAD (4 presigned URLs)"
    env -i PATH="$PATH" \
        DEFECTDOJO_URL="$dojo" DEFECTDOJO_APIKEY="$key" \
        SCAN_FILE="$work/scan.json" NAMESPACE=default TMPDIR="$work" \
        "${RUNNER[@]}" "$BIN" "$base/nmap-results.xml?$sig" "$base/findings.json?$sig" \
        "$base/nmap-results.xml?$sig" "$base/findings.json?$sig"
done

echo "== findings.json in the bucket now holds DefectDojo's verdicts; the second run's"
echo "   findings are duplicates of the first run's (first 2 of them):"
python3 - "$work/store/securecodebox/scan-demo/findings.json" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
for f in findings[:2]:
    print(json.dumps(f, indent=2))
print("... %d findings in all" % len(findings))
PY
