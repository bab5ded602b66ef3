"""What the scripts that check the CI configurations share (ci-config-check.py,
action-test.py, gitlab-component-test.py): counted checks with the closing
"N passed, N failed" line, the bundled fakes started with a chosen API key, and a
Generic Findings Import report."""

import json
import os
import subprocess
import sys
import time


class Checks:
    def __init__(self, name):
        self.name, self.results = name, []

    def __call__(self, what, ok, detail=""):
        self.results.append(bool(ok))
        print("%s: %s: %s%s" % (self.name, "ok" if ok else "FAILED", what, "" if ok else "\n" + detail))

    def finish(self):
        failed = self.results.count(False)
        print("%d passed, %d failed" % (len(self.results) - failed, failed))
        sys.exit(1 if failed else 0)


class Fakes:
    """examples/fakes.rs (DefectDojo 3.x) on free loopback ports, accepting `key` only."""

    def __init__(self, binary, work, key):
        out = os.path.join(work, "fakes.out")
        self.proc = subprocess.Popen([binary, "--flavour", "v3", "--dojo-port", "0", "--store-port", "0",
                                      "--api-key", key], stdout=open(out, "w"), stderr=subprocess.DEVNULL)
        for _ in range(200):
            lines = dict(l.split(None, 1) for l in open(out).read().splitlines() if " " in l)
            if "key" in lines:
                break
            time.sleep(0.02)
        else:
            self.stop()
            raise SystemExit("the fakes did not start")
        assert lines["key"] == key, lines
        self.dojo = lines["dojo"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def generic_report(path, findings):
    """A Generic Findings Import JSON report of (title, severity) pairs."""
    with open(path, "w") as f:
        json.dump({"findings": [{"title": t, "severity": s, "description": t + " found",
                                 "file_path": "app/%d.py" % i, "line": i + 1}
                                for i, (t, s) in enumerate(findings)]}, f)
    return path
