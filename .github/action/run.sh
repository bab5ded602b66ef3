#!/usr/bin/env bash
# action.yml, step `run`: dojo-hook on the report with the inputs as its
# variables; the summary's fields become step outputs. The exit code is
# dojo-hook's (3: the gate failed), after the outputs are written, so that
# later steps (`if: always()`) can use them. Nothing here prints the key.
set -uo pipefail

# An input left empty is an empty variable, which dojo-hook reads as unset.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"${DOJO_HOOK:-dojo-hook}" "$DOJO_HOOK_REPORT" >"$out"
code=$?
cat "$out"
echo "exit-code=$code" >>"$GITHUB_OUTPUT"
summary=$(grep '^{' "$out" | tail -n 1)
[ -n "$summary" ] || exit "$code"
python3 - "$summary" >>"$GITHUB_OUTPUT" <<'PY' || echo "::warning title=dojo-hook::python3 could not read the summary: only exit-code is set"
import json, sys
s = json.loads(sys.argv[1])
gate = s.get("gate")
new = s.get("new")
fields = {
    "summary": sys.argv[1],
    "test-id": s.get("test_id", ""),
    "test-url": s.get("test_url", ""),
    "findings": s.get("findings", {}).get("total", ""),
    "duplicates": s.get("duplicates", ""),
    "new-findings": new["total"] if new else "",
    "gate": ("failed" if gate["failed"] else "passed") if gate else "",
    "gate-findings": gate["findings"] if gate else "",
}
for k, v in fields.items():
    print("%s=%s" % (k, v))
PY
exit "$code"
