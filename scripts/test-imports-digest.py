#!/usr/bin/env python3
"""Writes fixtures/dojo/recorded/test-imports-digest.json: the recorded answers of
/api/v2/test_imports/ (3.2.0: 156-158, 2.58.4: 92-94) reduced to what the fake must
reproduce after the same reimport lifecycle with a smaller report: each answer's count
and, in the answer's order, each row's type, actions and import settings. N and U
are written without their counts (they scale with the report), C and R with theirs.

    python3 scripts/test-imports-digest.py ../shared/dojo-api
"""
import collections
import json
import sys

FILES = {
    "v3": ["156-test-imports-by-test", "157-test-imports-by-test-action-reactivated",
           "158-test-imports-by-finding"],
    "v2": ["v2.58.4-rbac/92-test-imports-by-test",
           "v2.58.4-rbac/93-test-imports-by-test-action-reactivated",
           "v2.58.4-rbac/94-test-imports-by-finding"],
}
FLAGS = ("close_old_findings", "close_old_findings_product_scope", "do_not_reactivate")


def row(r):
    counts = collections.Counter(a["action"] for a in r["test_import_finding_action_set"])
    words = [r["type"]]
    words += [c if c in "NU" else f"{c}{counts[c]}" for c in "NCRU" if counts[c]]
    flags = [f for f in FLAGS if r["import_settings"][f]]
    if flags:
        words.append("[" + ",".join(flags) + "]")
    return " ".join(words)


def main(recorded):
    out = {}
    for flavour, names in FILES.items():
        answers = []
        for name in names:
            with open(f"{recorded}/{name}.json") as f:
                answer = json.load(f)
            answers.append({"recorded": name, "count": answer["count"],
                            "rows": [row(r) for r in answer["results"]]})
        out[flavour] = answers
    with open("fixtures/dojo/recorded/test-imports-digest.json", "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/dojo-api")
