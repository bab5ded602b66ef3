#!/usr/bin/env python3
"""`make action-test`: the GitHub Action (action.yml) run as a runner runs it.

Each step of the composite action runs under `bash --noprofile --norc -eo pipefail`
(GitHub's `shell: bash`) with the runner's files (GITHUB_OUTPUT, GITHUB_PATH,
GITHUB_ENV, GITHUB_STEP_SUMMARY) and variables (RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP,
GITHUB_ACTION_PATH, ...). The `${{ }}` expressions the action uses are evaluated here:
`inputs.*` and `steps.*.outputs.*` only; any other expression fails the test, so the
action cannot grow one this runner does not check. Input defaults and `required` come
from action.yml.

The release is a local directory (file:// URLs, which the action's curl reads as it
reads https://): this build's dojo-hook under the release name, with SHA256SUMS. The
fake DefectDojo (examples/fakes.rs) is started with a distinctive API key, which must
appear in nothing the action prints or writes.

    python3 scripts/action-test.py [DOJO_HOOK_BINARY] [FAKES_BINARY]
"""

import hashlib
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
KEY = "dj-action-test-7f3a9c1e5b"
TRIPLE = {"X64": "x86_64-unknown-linux-gnu", "ARM64": "aarch64-unknown-linux-gnu"}
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def version():
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        return re.search(r'^version = "(.*)"', f.read(), re.M).group(1)


VERSION = version()


def read_outputs(path):
    """GITHUB_OUTPUT's two forms: name=value and name<<DELIMITER ... DELIMITER."""
    out, lines, i = {}, open(path).read().splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        elif line:
            name, value = line.split("=", 1)
            out[name] = value
            i += 1
        else:
            i += 1
    return out


class Run:
    """One use of the action: its steps, their outputs and everything they printed."""

    def __init__(self, work, inputs, runner_os="Linux", arch="X64", action_path=None, server_url=None):
        self.work = work
        with open(os.path.join(ROOT, "action.yml")) as f:
            self.action = yaml.safe_load(f)
        self.inputs = {}
        for name, spec in self.action["inputs"].items():
            if name in inputs:
                self.inputs[name] = inputs[name]
            elif spec.get("required"):
                raise AssertionError("required input %s not given" % name)
            else:
                self.inputs[name] = str(spec.get("default", ""))
        unknown = set(inputs) - set(self.action["inputs"])
        if unknown:
            raise AssertionError("inputs action.yml does not declare: %s" % sorted(unknown))
        self.steps = {}
        self.printed = ""
        self.files = {n: os.path.join(work, n) for n in ("path", "env", "step-summary")}
        for p in self.files.values():
            open(p, "w").close()
        temp = os.path.join(work, "runner-temp")
        os.makedirs(temp, exist_ok=True)
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "RUNNER_OS": runner_os,
            "RUNNER_ARCH": arch,
            "RUNNER_TEMP": temp,
            "GITHUB_ACTION_PATH": action_path or ROOT,
            "GITHUB_SERVER_URL": server_url or "https://github.com",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_RUN_ID": "4711",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_REF_NAME": "main",
            "GITHUB_WORKSPACE": work,
            "GITHUB_PATH": self.files["path"],
            "GITHUB_ENV": self.files["env"],
            "GITHUB_STEP_SUMMARY": self.files["step-summary"],
        }
        self.code = None
        self.failed_step = None

    def evaluate(self, text):
        def one(m):
            parts = m.group(1).split(".")
            if len(parts) == 2 and parts[0] == "inputs":
                return self.inputs[parts[1]]
            if len(parts) == 4 and parts[0] == "steps" and parts[2] == "outputs":
                return self.steps.get(parts[1], {}).get(parts[3], "")
            raise AssertionError("an expression this runner does not evaluate: %s" % m.group(0))

        return EXPR.sub(one, str(text))

    def go(self):
        for step in self.action["runs"]["steps"]:
            assert step.get("shell") == "bash", "every step is shell: bash"
            assert "${{" not in step["run"], "inputs reach the scripts as variables, not as text"
            env = dict(self.env)
            extra = [l for l in open(self.files["path"]).read().splitlines() if l]
            env["PATH"] = ":".join(list(reversed(extra)) + [self.env["PATH"]])
            env.update({k: self.evaluate(v) for k, v in step.get("env", {}).items()})
            output = os.path.join(self.work, "output-%s" % step["id"])
            open(output, "w").close()
            env["GITHUB_OUTPUT"] = output
            script = os.path.join(self.work, "step-%s.sh" % step["id"])
            with open(script, "w") as f:
                f.write(step["run"])
            p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                               env=env, cwd=self.work, capture_output=True, text=True, timeout=120)
            self.printed += p.stdout + p.stderr
            self.steps[step["id"]] = read_outputs(output)
            self.printed += open(output).read()
            if p.returncode != 0:
                self.code, self.failed_step = p.returncode, step["id"]
                break
        else:
            self.code = 0
        self.outputs = {k: self.evaluate(v["value"]) for k, v in self.action["outputs"].items()}
        return self

    def everything(self):
        """All the action printed and all it wrote where a runner keeps it."""
        text = self.printed
        for p in self.files.values():
            text += open(p).read()
        return text


def release_dir(path, binary, tamper=False):
    """A release as `make dist` lays it out, with this machine's binary as the x86_64 one."""
    os.makedirs(path, exist_ok=True)
    name = "dojo-hook-%s-%s" % (VERSION, TRIPLE["X64"])
    shutil.copy(binary, os.path.join(path, name))
    shutil.copy(os.path.join(ROOT, "LICENSE"), os.path.join(path, "LICENSE"))
    lines = []
    for n in sorted(os.listdir(path)):
        if n != "SHA256SUMS":
            with open(os.path.join(path, n), "rb") as f:
                lines.append("%s  %s\n" % (hashlib.sha256(f.read()).hexdigest(), n))
    with open(os.path.join(path, "SHA256SUMS"), "w") as f:
        f.writelines(lines)
    if tamper:
        with open(os.path.join(path, name), "r+b") as f:
            f.seek(-100, os.SEEK_END)
            b = f.read(1)
            f.seek(-100, os.SEEK_END)
            f.write(bytes([b[0] ^ 0xFF]))
    return path


def action_checkout(path):
    """What the runner keeps of `uses: acme/dojo-hook@v1`: the repository at that ref."""
    os.makedirs(os.path.join(path, ".github"), exist_ok=True)
    shutil.copy(os.path.join(ROOT, "action.yml"), path)
    shutil.copy(os.path.join(ROOT, "Cargo.toml"), path)
    shutil.copytree(os.path.join(ROOT, ".github/action"), os.path.join(path, ".github/action"))
    return path


check = Checks("action-test")


def main():
    for p in (BINARY, FAKES):
        if not os.access(p, os.X_OK):
            raise SystemExit("action-test: no %s (cargo build; cargo build --example fakes)" % p)
    work = tempfile.mkdtemp(prefix="dojo-hook-action-test.")
    fakes = Fakes(FAKES, work, KEY)
    try:
        scenarios(work, fakes)
    finally:
        fakes.stop()
        shutil.rmtree(work, ignore_errors=True)
    check.finish()


def scenarios(work, fakes):
    # The release where `uses: acme/dojo-hook@v1` looks by default:
    # GITHUB_SERVER_URL/acme/dojo-hook/releases/download/vVERSION/.
    server = os.path.join(work, "server")
    release_dir(os.path.join(server, "acme/dojo-hook/releases/download/v%s" % VERSION), BINARY)
    checkout = action_checkout(os.path.join(work, "runner/_actions/acme/dojo-hook/v1"))
    common = {"url": fakes.dojo, "api-key": KEY, "scan-type": "Generic Findings Import",
              "product-type": "Web", "product": "shop", "engagement": "main", "import-mode": "reimport"}

    def run(tag, inputs, **kw):
        d = os.path.join(work, "run-" + tag)
        os.makedirs(d)
        kw.setdefault("action_path", checkout)
        kw.setdefault("server_url", "file://" + server)
        return Run(d, dict(common, **inputs), **kw).go()

    # 1. Installed from the default release URL, run, outputs set, reports written.
    report = generic_report(os.path.join(work, "first.json"),
                            [("SQL Injection", "High"), ("Weak TLS", "Low")])
    r = run("first", {"report": report, "fail-on": "Critical", "sarif-output": "dojo.sarif",
                      "junit-output": "dojo-junit.xml"})
    o = r.outputs
    summary = json.loads(o["summary"] or "{}")
    check("installs the release binary (SHA-256 checked) and imports", r.code == 0 and o["exit-code"] == "0",
          r.printed)
    check("test-id and test-url are the summary's",
          o["test-id"].isdigit() and o["test-id"] == str(summary.get("test_id"))
          and o["test-url"] == "%s/test/%s" % (fakes.dojo, o["test-id"]), str(o))
    check("counts: findings 2, duplicates 0, new-findings 2",
          (o["findings"], o["duplicates"], o["new-findings"]) == ("2", "0", "2"), str(o))
    check("the gate's verdict: passed, 0 at or above Critical",
          (o["gate"], o["gate-findings"]) == ("passed", "0"), str(o))
    check("path output and PATH for later steps",
          o["path"].endswith("/bin/dojo-hook") and os.path.dirname(o["path"]) in open(r.files["path"]).read(),
          str(o))
    check("SARIF and JUnit written where the inputs say",
          all(os.path.getsize(os.path.join(r.work, f)) > 0 for f in ("dojo.sarif", "dojo-junit.xml")))
    check("the Markdown summary goes to GITHUB_STEP_SUMMARY",
          "DefectDojo" in open(r.files["step-summary"]).read())
    check("the key appears nowhere (logs, outputs, PATH, ENV, summary, reports)",
          KEY not in r.everything() + open(os.path.join(r.work, "dojo.sarif")).read()
          + open(os.path.join(r.work, "dojo-junit.xml")).read())

    # 2. A new High finding with fail-on High: exit 3, and the outputs still set.
    report = generic_report(os.path.join(work, "second.json"),
                            [("SQL Injection", "High"), ("Weak TLS", "Low"), ("Path Traversal", "High")])
    r = run("gate", {"report": report, "fail-on": "High"})
    o = r.outputs
    check("a failed gate fails the step with exit 3", r.code == 3 and r.failed_step == "run", r.printed)
    check("and sets gate=failed, gate-findings=1, exit-code=3, new-findings=1",
          (o["gate"], o["gate-findings"], o["exit-code"], o["new-findings"]) == ("failed", "1", "3", "1"), str(o))
    check("the key appears nowhere after a failed gate", KEY not in r.everything())

    # 3. The version and a local directory given as inputs.
    local = release_dir(os.path.join(work, "mirror"), BINARY)
    r = run("mirror", {"report": report, "version": "v" + VERSION, "release-url": "file://" + local},
            action_path=ROOT, server_url="https://unreachable.invalid")
    check("inputs version and release-url (a local directory) are used", r.code == 0, r.printed)

    # 4. A binary that does not match SHA256SUMS is never run.
    bad = release_dir(os.path.join(work, "tampered"), BINARY, tamper=True)
    r = run("tampered", {"report": report, "release-url": "file://" + bad})
    check("a tampered binary fails the install step and nothing runs",
          r.code != 0 and r.failed_step == "install" and "run" not in r.steps
          and "does not match its SHA-256" in r.printed, r.printed)

    # 5. The runner's architecture picks the binary; other systems are told why not.
    r = run("arm64", {"report": report}, arch="ARM64")
    check("an ARM64 runner fetches the aarch64 binary",
          r.failed_step == "install" and "dojo-hook-%s-aarch64-unknown-linux-gnu failed" % VERSION in r.printed,
          r.printed)
    r = run("macos", {"report": report}, runner_os="macOS", arch="ARM64")
    check("a macOS runner is told the releases are for Linux",
          r.failed_step == "install" and "Linux on X64 and ARM64" in r.printed, r.printed)

    # 6. Not from a runner's action cache and no release-url: said, not guessed.
    r = run("local", {"report": report}, action_path=ROOT)
    check("an action path without OWNER/REPO asks for release-url",
          r.failed_step == "install" and "set the input release-url" in r.printed, r.printed)


if __name__ == "__main__":
    main()
