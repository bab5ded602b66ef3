#!/usr/bin/env python3
"""`make gitlab-component-test`: the GitLab CI/CD component templates/dojo-hook.yml.

1. Both documents are checked against GitLab's CI JSON schema, as check-jsonschema
   (PyPI, pinned in the Makefile) vendors it (`--builtin-schema vendor.gitlab-ci`,
   GitLab's own app/assets/javascripts/editor/schema/ci.json): the `spec:` header as
   it is, the job once its `$[[ inputs.* ]]` are filled in as GitLab fills them
   (typed: an array input stays an array; inputs without a default are required; an
   input with `options` takes only those). A broken copy of the job must fail the
   same check, so the check is known to look.
2. The job runs as a runner runs it in the shell image: its variables exported,
   each `script:` line through busybox sh (the image's /bin/sh), dojo-hook on
   PATH, the key as the masked CI/CD variable, GitLab's CI variables set; against
   the fake DefectDojo. The file `artifacts:reports:junit` names must exist and
   parse with junitparser (scripts/junit-read.py); a failed gate exits 3 and
   still leaves the report (`when: always` uploads it).

    python3 scripts/gitlab-component-test.py [DOJO_HOOK_BINARY] [FAKES_BINARY]
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

from checks import Checks, Fakes, generic_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/dojo-hook"))
FAKES = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target/debug/examples/fakes"))
TEMPLATE = os.path.join(ROOT, "templates/dojo-hook.yml")
CHECK_JSONSCHEMA = os.environ.get("CHECK_JSONSCHEMA", "check-jsonschema")
KEY = "dj-gitlab-test-4c8e2a"
INPUT = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")
check = Checks("gitlab-component-test")


def resolve(spec, given):
    """The inputs' values as GitLab resolves them: defaults, required, options, types."""
    values = {}
    for name, s in spec["inputs"].items():
        if name in given:
            v = given[name]
        elif "default" in s:
            v = s["default"]
        else:
            raise ValueError("input %s is required (it has no default)" % name)
        kind = s.get("type", "string")
        types = {"string": str, "array": list, "boolean": bool, "number": (int, float)}
        if not isinstance(v, types[kind]):
            raise ValueError("input %s must be a %s, not %r" % (name, kind, v))
        if "options" in s and v not in s["options"]:
            raise ValueError("input %s must be one of %s, not %r" % (name, s["options"], v))
        values[name] = v
    unknown = set(given) - set(spec["inputs"])
    if unknown:
        raise ValueError("unknown inputs %s" % sorted(unknown))
    return values


def interpolate(node, values):
    """`$[[ inputs.x ]]` filled in: a whole value keeps the input's type, inside text it is text."""
    if isinstance(node, dict):
        return {interpolate(k, values): interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, values) for v in node]
    if isinstance(node, str):
        whole = INPUT.fullmatch(node.strip())
        if whole:
            return values[whole.group(1)]
        return INPUT.sub(lambda m: str(values[m.group(1)]), node)
    return node


def schema_errors(doc, work, tag):
    path = os.path.join(work, tag + ".yml")
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    p = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.gitlab-ci", path],
                       capture_output=True, text=True)
    return None if p.returncode == 0 else p.stdout + p.stderr


def run_job(job, work, bin_dir):
    """The job's script lines through busybox sh, in the build dir, as a runner would."""
    env = {
        "PATH": bin_dir + ":/usr/bin:/bin",
        "HOME": work,
        "CI": "true", "GITLAB_CI": "true", "CI_SERVER_FQDN": "gitlab.example.com",
        "CI_PIPELINE_ID": "815", "CI_COMMIT_SHA": "89abcdef0123456789abcdef0123456789abcdef",
        "CI_COMMIT_REF_NAME": "main", "CI_PROJECT_NAME": "shop",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/shop",
        "DEFECTDOJO_APIKEY": KEY,  # the masked CI/CD variable
    }
    env.update({k: str(v) for k, v in job.get("variables", {}).items()})
    printed, code = "", 0
    for line in job["script"]:
        p = subprocess.run(["busybox", "sh", "-c", line], env=env, cwd=work,
                           capture_output=True, text=True, timeout=120)
        printed += p.stdout + p.stderr
        code = p.returncode
        if code != 0:
            break
    return code, printed


def junit(path):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/junit-read.py"), path],
                       capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else None


def main():
    for p in (BINARY, FAKES):
        if not os.access(p, os.X_OK):
            raise SystemExit("gitlab-component-test: no %s (cargo build; cargo build --example fakes)" % p)
    with open(TEMPLATE) as f:
        header, body = list(yaml.safe_load_all(f))
    work = tempfile.mkdtemp(prefix="dojo-hook-gitlab-test.")
    fakes = Fakes(FAKES, work, KEY)
    try:
        tests(header, body, work, fakes.dojo)
    finally:
        fakes.stop()
        shutil.rmtree(work, ignore_errors=True)
    check.finish()


def tests(header, body, work, dojo):
    errors = schema_errors(header, work, "header")
    check("the spec: header passes GitLab's CI schema", errors is None, errors or "")
    given = {"image": "ghcr.io/acme/dojo-hook:0.1.0-shell", "needs": ["semgrep"], "report": "report.json",
             "scan-type": "Generic Findings Import", "url": dojo, "product-type": "Web", "fail-on": "Critical"}
    values = resolve(header["spec"], given)
    config = interpolate(body, values)
    errors = schema_errors(config, work, "job")
    check("the job, inputs filled in, passes GitLab's CI schema", errors is None, errors or "")
    name, job = next(iter(config.items()))
    broken = {name: dict(job, artifacts={"when": "sometimes", "reports": {"junit": 5}})}
    check("a broken job fails the same check", schema_errors(broken, work, "broken") is not None)
    check("an array input stays an array (needs)", job["needs"] == ["semgrep"], str(job["needs"]))
    try:
        resolve(header["spec"], dict(given, **{"import-mode": "sideways"}))
        check("an input outside its options is refused", False)
    except ValueError:
        check("an input outside its options is refused", True)
    check("the job's JUnit file is its test report, uploaded also when the job fails",
          job["artifacts"]["reports"]["junit"] == job["variables"]["DEFECTDOJO_JUNIT_OUTPUT"]
          and job["artifacts"]["when"] == "always", str(job))

    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir)
    shutil.copy(BINARY, os.path.join(bin_dir, "dojo-hook"))
    generic_report(os.path.join(work, "report.json"), [("SQL Injection", "High"), ("Weak TLS", "Low")])
    code, printed = run_job(job, work, bin_dir)
    report = junit(os.path.join(work, job["artifacts"]["reports"]["junit"]))
    check("the job runs in busybox sh against DefectDojo and passes", code == 0 and '"test_id"' in printed,
          printed)
    check("the JUnit report parses: 2 cases", report is not None and report["tests"] == 2, str(report))
    check("GitLab's pipeline was detected", '"ci":"gitlab"' in printed, printed)

    generic_report(os.path.join(work, "report.json"),
                   [("SQL Injection", "High"), ("Weak TLS", "Low"), ("Path Traversal", "High")])
    gated = interpolate(body, resolve(header["spec"], dict(given, **{"fail-on": "High"})))
    os.remove(os.path.join(work, "dojo-hook-junit.xml"))
    code, printed = run_job(next(iter(gated.values())), work, bin_dir)
    report = junit(os.path.join(work, "dojo-hook-junit.xml"))
    check("a failed gate fails the job with exit 3", code == 3, printed)
    check("and the report is there with the new High as a failure",
          report is not None and report["failures"] >= 1, str(report))
    check("the key appears nowhere in the job's log", KEY not in printed)


if __name__ == "__main__":
    main()
