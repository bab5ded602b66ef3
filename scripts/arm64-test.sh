#!/usr/bin/env bash
# The aarch64 release binary, tested, not only built (`make arm64-test`, in
# .ci/run after `make dist`): under qemu-user (Debian's qemu-user-static, no
# binfmt_misc needed: qemu is the program, the binary its argument)
#
#   1. the demo flow end to end (scripts/demo.sh: two runs as the operator
#      makes them, import and sync back through presigned-style URLs);
#   2. the integration tests (tests/it) with DOJO_HOOK_BIN pointing at the
#      aarch64 binary and DOJO_HOOK_RUNNER at qemu, all but these:
#        - scale::peak_memory_stays_flat_from_1k_to_100k_findings measures
#          peak RSS with /usr/bin/time, which under qemu-user is qemu's own
#          (the translated code and its caches), not dojo-hook's;
#        - fake_selftest:: and fake_bench:: test the fakes, not the binary
#          (they run nothing but the test process).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
BIN=$(pwd -P)/target/dist/dojo-hook-$VERSION-aarch64-unknown-linux-gnu
say() { echo "arm64-test: $*"; }
fail() { echo "arm64-test: FAILED: $*"; exit 1; }

[ -x "$BIN" ] || fail "no $BIN: run 'make dist' first"
if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
    say "installing the Debian package qemu-user-static"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static
fi
QEMU=$(command -v qemu-aarch64-static)
# An aarch64 ELF (e_machine 183 at offset 18), statically linked (no PT_INTERP).
[ "$(od -An -t u2 -j 18 -N 2 "$BIN" | tr -d ' ')" = 183 ] || fail "$BIN is not an aarch64 ELF binary"
! readelf -l "$BIN" | grep -q 'program interpreter' || fail "$BIN asks for a dynamic loader: not static"
export DOJO_HOOK_BIN=$BIN DOJO_HOOK_RUNNER=$QEMU
version=$("$QEMU" "$BIN" --version)
[ "$version" = "dojo-hook $VERSION" ] || fail "--version printed '$version'"
say "$version ($(stat -c %s "$BIN") bytes) runs under $("$QEMU" --version | head -n 1)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The demo.
[ -x target/debug/examples/fakes ] || cargo build --example fakes
started=$SECONDS
FAKES=target/debug/examples/fakes bash scripts/demo.sh >"$work/demo.out" 2>&1 ||
    { cat "$work/demo.out"; fail "the demo failed"; }
summaries=$(grep -c '"mode":"import+sync"' "$work/demo.out" || true)
[ "$summaries" = 2 ] || { cat "$work/demo.out"; fail "the demo printed $summaries import+sync summaries, not 2"; }
grep -q '"duplicate": true' "$work/demo.out" ||
    { cat "$work/demo.out"; fail "the second run's findings did not come back as duplicates"; }
say "ok: the demo flow, 2 runs (import + sync back), duplicates synced back, in $((SECONDS - started)) s"

# 2. The integration tests.
started=$SECONDS
set +e
cargo test --test it -- --skip scale::peak_memory_stays_flat_from_1k_to_100k_findings \
    --skip fake_selftest:: --skip fake_bench:: --skip house:: 2>&1 | tee "$work/it.out"
code=${PIPESTATUS[0]}
set -e
result=$(grep '^test result:' "$work/it.out" | tail -n 1)
[ "$code" = 0 ] || fail "integration tests under qemu: $result"
say "ok: integration tests with the aarch64 binary under qemu-user: $result, in $((SECONDS - started)) s"
