#!/usr/bin/env python3
"""Writes a synthetic secureCodeBox findings.json of N findings (~1 KB each) to stdout
or a file, one finding at a time (constant memory).

    scripts/gen-findings.py --count 200000 --out /tmp/findings.json
    scripts/gen-findings.py --size-mb 200 --out /tmp/findings.json

Findings look like real ones: name, location, description, category, severity,
mitigation, references, and attributes with nested objects and arrays. One description
in four has line breaks, quotes and Markdown characters, one in four non-ASCII text
(written as UTF-8, as the Node.js parser SDK writes it).
"""
import argparse
import json
import sys

SEVERITIES = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH"]
CATEGORIES = ["Open Port", "Vulnerability", "Header Not Set", "Secret", "Misconfiguration"]
# Most descriptions are one plain paragraph; some have line breaks, quotes, Markdown
# characters or non-ASCII text, which need escaping on the way to DefectDojo.
DESCRIPTIONS = [
    "The component answers with a vulnerable version banner. "
    "An attacker can smuggle requests past the proxy and reach internal routes. "
    "Observed during the scheduled scan; see the attributes for the raw evidence.",
    "The component answers with a vulnerable version banner. "
    "An attacker can smuggle requests past the proxy and reach internal routes. "
    "Observed during the scheduled scan; see the attributes for the raw evidence.",
    "The response header \"Server\" discloses the version.\n\n"
    "Steps:\n  1. send `GET /` with *any* client\n  2. read the header\n"
    "Observed during the scheduled scan; see the attributes for the raw evidence.",
    "Die Komponente meldet eine verwundbare Version (Überprüfung → fehlgeschlagen). "
    "An attacker can smuggle requests past the proxy and reach internal routes; "
    "see the attributes for the raw evidence.",
]


def finding(i):
    return {
        "id": "%08x-0000-4000-8000-%012x" % (i, i),
        "name": "Synthetic finding %d: outdated component allows request smuggling" % (i % 5000),
        "location": "https://app-%d.example.com:8443/api/v%d/items/%d" % (i % 97, i % 3, i),
        "description": DESCRIPTIONS[i % len(DESCRIPTIONS)],
        "category": CATEGORIES[i % len(CATEGORIES)],
        "severity": SEVERITIES[i % len(SEVERITIES)],
        "osi_layer": "APPLICATION",
        "mitigation": "Upgrade the component to the fixed version and restart the service.",
        "references": [
            {"type": "CVE", "value": "CVE-2024-%05d" % (i % 99999)},
            {"type": "URL", "value": "https://nvd.nist.gov/vuln/detail/CVE-2024-%05d" % (i % 99999)},
        ],
        "attributes": {
            "port": 8443,
            "service": {"name": "https", "product": "nginx", "version": "1.18.%d" % (i % 9)},
            "tags": ["external", "scheduled", "tier-%d" % (i % 4)],
            "evidence": {"request": "GET /api/items/%d HTTP/1.1" % i, "status": 200},
        },
        "parsed_at": "2026-11-27T06:%02d:%02dZ" % (i // 60 % 60, i % 60),
        "identified_at": "2026-11-27T05:59:%02dZ" % (i % 60),
        "scan": {"created_at": "2026-11-27T05:00:00Z", "name": "bench", "namespace": "default", "scan_type": "bench-scan"},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, help="number of findings")
    ap.add_argument("--size-mb", type=float, help="stop after about this many MiB")
    ap.add_argument("--out", help="output file (default: stdout)")
    args = ap.parse_args()
    if args.count is None and args.size_mb is None:
        ap.error("give --count or --size-mb")
    limit = args.size_mb * 1024 * 1024 if args.size_mb else None
    out = open(args.out, "w", buffering=1 << 20, encoding="utf-8") if args.out else sys.stdout
    written = out.write("[")
    i = 0
    while (args.count is None or i < args.count) and (limit is None or written < limit):
        written += out.write(("," if i else "") + json.dumps(finding(i), separators=(",", ":"), ensure_ascii=False))
        i += 1
    out.write("]\n")
    out.close()
    print("wrote %d findings, %.1f MiB" % (i, written / 1048576), file=sys.stderr)


if __name__ == "__main__":
    main()
