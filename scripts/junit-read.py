#!/usr/bin/env python3
"""Reads a JUnit XML file the way a CI test-report action does, and prints it as JSON.

    python3 scripts/junit-read.py FILE

The parser is junitparser, the one EnricoMi/publish-unit-test-result-action reads
JUnit XML with (`make deps` installs it into target/tools/python and exports
JUNITPARSER_PATH). It parses with the standard library's strict XML parser (or
lxml), so a file that is not well-formed XML, such as one holding a raw control
character, fails here: the parse error goes to stderr and the exit code is 1.

Prints one JSON object:

    {"tests": N, "failures": N, "skipped": N, "errors": N,
     "declared": {...the <testsuites> element's own counts...},
     "suites": [{"name": .., "tests": N, "failures": N, "skipped": N, "errors": N,
                 "declared": {"tests": N, "failures": N, "skipped": N, "errors": N},
                 "cases": [{"name": .., "classname": ..,
                            "result": "failure" | "error" | "skipped" | "passed",
                            "message": .. or null}]}]}

The counts are counted from the <testcase> elements; "declared" holds the
attributes as written (null where absent), so a test can check that both agree.
Used by tests/support/reports.rs (`read_junit`).
"""

import json
import os
import sys

if os.environ.get("JUNITPARSER_PATH"):
    sys.path.insert(0, os.environ["JUNITPARSER_PATH"])

try:
    from junitparser import Error, Failure, JUnitXml, Skipped
except ImportError as e:
    sys.exit(f"junitparser not found ({e}): set JUNITPARSER_PATH, or run `make deps`")

COUNTS = ("tests", "failures", "skipped", "errors")


def declared(elem):
    """The count attributes as written: junitparser's own getters would fill in
    missing ones from the cases, which is what we are checking them against."""
    out = {}
    for key in COUNTS:
        value = elem.get(key)
        out[key] = None if value is None else int(value)
    return out


def outcome(case):
    """A case's result: the first of its <failure>, <error> or <skipped>."""
    for entry in case.result:
        if isinstance(entry, Failure):
            return "failure", entry.message
        if isinstance(entry, Error):
            return "error", entry.message
        if isinstance(entry, Skipped):
            return "skipped", entry.message
    return "passed", None


def read(path):
    xml = JUnitXml.fromfile(path)
    total = dict.fromkeys(COUNTS, 0)
    suites = []
    for suite in xml:
        counts = dict.fromkeys(COUNTS, 0)
        cases = []
        for case in suite:
            result, message = outcome(case)
            counts["tests"] += 1
            if result == "failure":
                counts["failures"] += 1
            elif result == "error":
                counts["errors"] += 1
            elif result == "skipped":
                counts["skipped"] += 1
            cases.append(
                {
                    "name": case.name,
                    "classname": case.classname,
                    "result": result,
                    "message": message,
                }
            )
        for key in COUNTS:
            total[key] += counts[key]
        suites.append(
            {
                "name": suite.name,
                **counts,
                "declared": declared(suite._elem),
                "cases": cases,
            }
        )
    return {**total, "declared": declared(xml._elem), "suites": suites}


def main():
    if len(sys.argv) != 2:
        print("usage: junit-read.py FILE", file=sys.stderr)
        return 2
    path = sys.argv[1]
    try:
        report = read(path)
    except Exception as e:  # the parse error (or a bad count) is the answer
        print(f"{path}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(report, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
