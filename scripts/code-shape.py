#!/usr/bin/env python3
"""The shape of src/: lines of code per file (tests apart) and the longest functions.

    python3 scripts/code-shape.py [SRC_DIR] [--over N]

Counts non-blank lines that are not only a comment. A file's `#[cfg(test)] mod tests`
block (to the end of the file, as this project writes it) and files named tests.rs
count as test code. A function's length runs from its `fn` line to its closing brace,
found by counting braces outside strings, chars and comments. With --over N, exits 1
when a function over N lines has no `// one piece:` comment above it (the project's
marker for a function that must stay whole: a state machine, a hot loop).
"""

import os
import re
import sys

FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(unsafe\s+)?fn\s+(\w+)")


def strip(line, state):
    """The line without strings, chars and comments; `state` carries block comments."""
    out, i, n = [], 0, len(line)
    while i < n:
        if state["block"]:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out)
            state["block"], i = False, end + 2
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"], i = True, i + 2
            continue
        if c == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
            continue
        if c == "'" and re.match(r"'(\\.|[^\\'])'", line[i:]):
            i += len(re.match(r"'(\\.|[^\\'])+'", line[i:]).group(0))
            continue
        out.append(c)
        i += 1
    return "".join(out)


def shape(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    test_at = next(
        (i for i, l in enumerate(lines) if l.strip() == "#[cfg(test)]" and i + 1 < len(lines)
         and lines[i + 1].lstrip().startswith("mod tests {")),
        len(lines),
    )
    if os.path.basename(path) == "tests.rs":
        test_at = 0
    code = sum(
        1 for l in lines[:test_at] if l.strip() and not l.strip().startswith("//")
    )
    fns, state, stack, depth = [], {"block": False}, [], 0
    for i, raw in enumerate(lines[:test_at]):
        text = strip(raw, state)
        m = FN.match(raw)
        if m and not raw.rstrip().endswith(";"):
            marked = any("one piece:" in lines[j] for j in range(max(0, i - 6), i))
            stack.append((m.group(5), i, depth, marked))
        for c in text:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if stack and depth == stack[-1][2]:
                    name, start, _, marked = stack.pop()
                    fns.append((i - start + 1, name, start + 1, marked))
    return code, len(lines) - test_at, fns


def main():
    args = sys.argv[1:]
    over = None
    if "--over" in args:
        at = args.index("--over")
        over = int(args[at + 1])
        del args[at : at + 2]
    root = args[0] if args else "src"
    rows, all_fns = [], []
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith(".rs"):
                p = os.path.join(dirpath, f)
                code, tests, fns = shape(p)
                rows.append((code, tests, os.path.relpath(p, root)))
                all_fns += [(n, name, f"{os.path.relpath(p, root)}:{line}", m) for n, name, line, m in fns]
    rows.sort(reverse=True)
    print(f"{len(rows)} files, {sum(r[0] for r in rows)} lines of code, {sum(r[1] for r in rows)} lines of tests")
    for code, tests, p in rows:
        print(f"{code:6} {tests:6}  {p}")
    all_fns.sort(reverse=True)
    print("longest functions:")
    for n, name, where, marked in all_fns[:10]:
        print(f"{n:6}  {name}  {where}{'  (one piece)' if marked else ''}")
    if over is not None:
        bad = [f for f in all_fns if f[0] > over and not f[3]]
        for n, name, where, _ in bad:
            print(f"over {over} lines without a `// one piece:` comment: {name} ({n}) {where}")
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
