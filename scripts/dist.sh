#!/usr/bin/env bash
# Release artifacts, reproducibly (`make dist`, `make dist-check`):
#
#   scripts/dist.sh deps     installs the pinned toolchain (Debian 12 packages)
#   scripts/dist.sh build    target/dist/: the static binaries for x86_64 and
#                            aarch64, LICENSE, BUILDINFO, SHA256SUMS
#   scripts/dist.sh check    builds everything again from a copy of the
#                            sources in another directory, with a fresh
#                            target dir, and compares SHA256SUMS byte for byte
#
# What makes the same commit give the same bytes:
#   - the toolchain is pinned: Debian 12's rustc-web/cargo-web (the std of
#     both targets from the same source package), the aarch64 cross gcc,
#     binutils and libc (versions below, installed by `deps`; `build` refuses
#     any other rustc); BUILDINFO records every toolchain package's version;
#   - Cargo.lock (`--locked`) pins every crate;
#   - --remap-path-prefix maps the source dir, the target dir and CARGO_HOME
#     to fixed names (panic locations and debug paths carry no local path),
#     and -ffile-prefix-map does the same for ring's C and assembly;
#   - SOURCE_DATE_EPOCH is the last commit's time (for anything that dates
#     its output; the images are dated with it too);
#   - the binaries are stripped, LTO with one codegen unit (Cargo.toml).
# `check` proves it for the two builds at hand: another path, another
# target dir, the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pins. Update them together, then `make dist-check`.
RUST_DEB=1.96.0+dfsg1-1~deb12u2
RUSTC_RELEASE="rustc 1.96.0 (ac68faa20 2026-05-25)"
PINNED=(
    "rustc-web=$RUST_DEB" "cargo-web=$RUST_DEB"
    "libstd-rust-web-dev=$RUST_DEB" "libstd-rust-web-dev:arm64=$RUST_DEB"
    "gcc-12-aarch64-linux-gnu=12.2.0-14cross1" "gcc-aarch64-linux-gnu=4:12.2.0-3"
    "binutils-aarch64-linux-gnu=2.40-2" "libc6-dev-arm64-cross=2.36-8cross1"
)
# Recorded in BUILDINFO (the host's C toolchain and libc are Debian 12's own,
# updated in place by security updates, so they are recorded, not pinned).
RECORDED=(rustc-web cargo-web libstd-rust-web-dev:amd64 libstd-rust-web-dev:arm64
    gcc-12 gcc-12-aarch64-linux-gnu binutils binutils-aarch64-linux-gnu
    libc6-dev:amd64 libc6-dev-arm64-cross)
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)
# Debian's toolchain, not rustup's (which comes first on PATH).
DEB_RUSTC=/usr/bin/rustc
DEB_CARGO=/usr/bin/cargo

say() { echo "dist: $*"; }
fail() { echo "dist: FAILED: $*" >&2; exit 1; }

version() { sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1; }

deps() {
    local missing=()
    for p in "${PINNED[@]}"; do
        local name=${p%%=*} want=${p#*=}
        # A bare name answers for every architecture installed: all must match.
        local got
        got=$(dpkg-query -W -f '${Version}\n' "$name" 2>/dev/null | sort -u || true)
        [ "$got" = "$want" ] || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    say "installing the pinned toolchain: ${missing[*]}"
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# build OUT_DIR: both targets from the sources in the current directory.
build() {
    local out=$1 src epoch commit cargo_home target_dir v
    src=$(pwd -P)
    v=$(version)
    [ -x "$DEB_RUSTC" ] || fail "no $DEB_RUSTC: run 'make dist-deps' (Debian's rustc-web)"
    [ "$("$DEB_RUSTC" -V)" = "$RUSTC_RELEASE (built from a source tarball)" ] ||
        fail "$DEB_RUSTC is '$("$DEB_RUSTC" -V)', not the pinned '$RUSTC_RELEASE': run 'make dist-deps', or update the pins in scripts/dist.sh"
    epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
    commit=${DIST_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
    cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)
    target_dir=${DIST_TARGET_DIR:-$src/target/dist-build}
    mkdir -p "$target_dir" "$out"
    target_dir=$(cd "$target_dir" && pwd -P)
    # The last matching prefix wins: the target dir may lie inside the sources.
    local remap="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$src=/build/dojo-hook --remap-path-prefix=$target_dir=/build/target"
    local cmap="-ffile-prefix-map=$cargo_home=/cargo -ffile-prefix-map=$src=/build/dojo-hook -ffile-prefix-map=$target_dir=/build/target"
    rm -f "$out"/dojo-hook-* "$out"/SHA256SUMS
    for t in "${TARGETS[@]}"; do
        local started=$SECONDS
        say "building $t with $RUSTC_RELEASE (Debian $RUST_DEB)"
        env SOURCE_DATE_EPOCH="$epoch" RUSTC="$DEB_RUSTC" RUSTDOC=/usr/bin/rustdoc \
            CARGO_TARGET_DIR="$target_dir" \
            RUSTFLAGS="-C target-feature=+crt-static $remap" \
            CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
            CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
            CFLAGS_aarch64_unknown_linux_gnu="$cmap" CFLAGS_x86_64_unknown_linux_gnu="$cmap" \
            "$DEB_CARGO" build --quiet --locked --release --target "$t"
        cp "$target_dir/$t/release/dojo-hook" "$out/dojo-hook-$v-$t"
        say "$t: $(stat -c %s "$out/dojo-hook-$v-$t") bytes in $((SECONDS - started)) s"
    done
    cp LICENSE "$out/LICENSE"
    {
        echo "dojo-hook $v, commit $commit, SOURCE_DATE_EPOCH=$epoch"
        echo "$RUSTC_RELEASE"
        dpkg-query -W -f '${Package}:${Architecture} ${Version}\n' "${RECORDED[@]}"
    } >"$out/BUILDINFO"
    (cd "$out" && sha256sum "dojo-hook-$v-"* LICENSE BUILDINFO >SHA256SUMS)
    say "wrote $out:"
    sed 's/^/    /' "$out/SHA256SUMS"
}

check() {
    # work stays global: the EXIT trap removes it.
    [ -f target/dist/SHA256SUMS ] || fail "no target/dist/SHA256SUMS: run 'make dist' first"
    work=$(mktemp -d /tmp/dojo-hook-dist-check.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    # The tracked files as they are now (a dirty tree is checked as it is),
    # with the commit and epoch of the first build (from its BUILDINFO).
    mkdir -p "$work/elsewhere/src"
    git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$work/elsewhere/src"
    local first commit epoch
    first=$(head -n 1 target/dist/BUILDINFO)
    commit=$(sed -n 's/.*, commit \([^,]*\),.*/\1/p' <<<"$first")
    epoch=$(sed -n 's/.*SOURCE_DATE_EPOCH=\([0-9]*\)$/\1/p' <<<"$first")
    [ -n "$commit" ] && [ -n "$epoch" ] || fail "target/dist/BUILDINFO does not name a commit and an epoch: '$first'"
    (cd "$work/elsewhere/src" &&
        DIST_COMMIT="$commit" SOURCE_DATE_EPOCH="$epoch" \
            DIST_TARGET_DIR="$work/other-target" build "$work/out")
    if cmp -s target/dist/SHA256SUMS "$work/out/SHA256SUMS"; then
        say "ok: reproducible: a second build in $work/elsewhere/src with a fresh target dir gave the same bytes"
    else
        diff target/dist/SHA256SUMS "$work/out/SHA256SUMS" || true
        fail "the second build differs (see above)"
    fi
}

case "${1:-}" in
deps) deps ;;
build) build target/dist ;;
check) check ;;
*) fail "usage: scripts/dist.sh deps|build|check" ;;
esac
