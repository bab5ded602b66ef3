#!/usr/bin/env bash
# The static binary resolves service names in an otherwise empty root, as in
# the scratch image: the root holds only the binary, /etc/hosts and
# /etc/resolv.conf (what kubelet mounts into every container), and no
# /etc/nsswitch.conf, no libc, no /tmp. glibc (>= 2.34) links its files and
# dns lookups into a static binary.
#
# It runs dojo-hook as the secureCodeBox operator does (four presigned-style
# URLs) as user 65532 in that root, against the fake DefectDojo and the fake
# object store on loopback, both reached by names from /etc/hosts only (the
# nameserver in resolv.conf never answers). Needs root for chroot: skipped
# with a note otherwise.
#
#   scripts/chroot-dns-test.sh [STATIC_BINARY]     (make test runs it)
#
# CHROOT_RUNNER=/usr/bin/qemu-aarch64-static runs an aarch64 binary: the
# (static) emulator is copied into the root beside it and runs it there
# (scripts/image-check.sh does this for the arm64 image's binary).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/x86_64-unknown-linux-gnu/release/dojo-hook}
FAKES=${FAKES:-target/debug/examples/fakes}

if [ "$(id -u)" != 0 ]; then
    echo "chroot-dns-test: SKIPPED: chroot needs root (running as uid $(id -u))"
    exit 0
fi
[ -x "$BIN" ] || { echo "chroot-dns-test: no static binary at $BIN (make static)"; exit 1; }
[ -x "$FAKES" ] || { echo "chroot-dns-test: no $FAKES (cargo build --example fakes)"; exit 1; }
CHROOT=$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot) || { echo "chroot-dns-test: no chroot (coreutils)"; exit 1; }

work=$(mktemp -d)
fakes_pid=
cleanup() {
    [ -n "$fakes_pid" ] && kill "$fakes_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The root: the binary and the two files kubelet provides, nothing writable.
root=$work/root
mkdir -p "$root/etc"
cp "$BIN" "$root/dojo-hook"
run=()
if [ -n "${CHROOT_RUNNER:-}" ]; then
    cp "$CHROOT_RUNNER" "$root/runner"
    run=(/runner)
fi
cat >"$root/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
127.0.0.1	defectdojo-django.default.svc defectdojo-django.default.svc.cluster.local
127.0.0.1	minio.securecodebox-system.svc
HOSTS
# TEST-NET-1: no nameserver answers there.
printf 'nameserver 192.0.2.53\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n' \
    >"$root/etc/resolv.conf"
chmod 0555 "$root" "$root/etc"
chmod 0444 "$root/etc/hosts" "$root/etc/resolv.conf"

mkdir -p "$work/store/securecodebox/scan-1"
cp fixtures/samples/nmap/nmap-results.xml fixtures/samples/nmap/findings.json \
    "$work/store/securecodebox/scan-1/"
before=$(sha256sum "$work/store/securecodebox/scan-1/findings.json")

"$FAKES" --flavour v3 --dojo-port 0 --store-port 0 --store-dir "$work/store" \
    >"$work/fakes.out" 2>"$work/fakes.err" &
fakes_pid=$!
for _ in $(seq 200); do
    [ "$(wc -l <"$work/fakes.out")" -ge 2 ] && break
    sleep 0.05
done
dojo_port=$(awk '$1 == "dojo" {print $2}' "$work/fakes.out" | sed 's/.*://')
store_port=$(awk '$1 == "store" {print $2}' "$work/fakes.out" | sed 's/.*://')
[ -n "$dojo_port" ] && [ -n "$store_port" ] || {
    echo "chroot-dns-test: the fakes did not start:"; cat "$work/fakes.err"; exit 1;
}

sig='X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=t%2F20261127&X-Amz-Signature=00ff'
base="http://minio.securecodebox-system.svc:$store_port/securecodebox/scan-1"
set +e
env -i DEFECTDOJO_URL="http://defectdojo-django.default.svc:$dojo_port" \
    DEFECTDOJO_APIKEY=dojo-admin-key DEFECTDOJO_LOW_PRIVILEGED_MODE=false \
    SCAN_NAME=nmap-scan-1 SCAN_TYPE=nmap NAMESPACE=default \
    "$CHROOT" --userspec=65532:65532 "$root" "${run[@]}" /dojo-hook \
    "$base/nmap-results.xml?$sig" "$base/findings.json?$sig" \
    "$base/nmap-results.xml?$sig" "$base/findings.json?$sig" \
    >"$work/stdout" 2>"$work/stderr"
code=$?
set -e

fail() {
    echo "chroot-dns-test: FAILED: $*"
    echo "--- stdout"; cat "$work/stdout"
    echo "--- stderr"; cat "$work/stderr"
    exit 1
}
[ "$code" = 0 ] || fail "exit code $code"
grep -q '"mode":"import+sync"' "$work/stdout" || fail "no import+sync summary"
grep -q '"synced":' "$work/stdout" || fail "nothing synced back"
after=$(sha256sum "$work/store/securecodebox/scan-1/findings.json")
[ "$before" != "$after" ] || fail "findings.json was not written back"
left=$(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ')
expected="./dojo-hook ./etc ./etc/hosts ./etc/resolv.conf ${run:+./runner }"
[ "$left" = "$expected" ] || fail "the root changed: $left"
echo "chroot-dns-test: ok: static binary in an empty root reached DefectDojo and the store by /etc/hosts names${run:+ (under $CHROOT_RUNNER)}"
