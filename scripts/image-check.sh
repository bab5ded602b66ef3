#!/usr/bin/env bash
# Builds the container image and checks it (CI runs this after `make test`):
#
#   - buildah is installed when missing (Debian package, no recommends);
#   - `make image`: the static binary, then FROM scratch with buildah (vfs);
#   - the binary is at most 6 MB and the image at most 10 MB (uncompressed,
#     as `docker save` writes it);
#   - the image runs as 65532:65532 with /dojo-hook as entrypoint, and its
#     root holds nothing but /dojo-hook (no shell);
#   - `/dojo-hook --version` runs from the image's own root, as 65532;
#   - the image's binary passes the chroot name-resolution test;
#   - prints the sizes and the --version start-up time (hyperfine when
#     installed, else a loop).
#
# Needs root (buildah's vfs storage, chroot).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_BINARY=6000000   # bytes
MAX_IMAGE=10000000   # bytes
STORAGE=(--storage-driver vfs)
BIN=target/x86_64-unknown-linux-gnu/release/dojo-hook
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE=localhost/dojo-hook:$VERSION

say() { echo "image-check: $*"; }
fail() { echo "image-check: FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (buildah vfs storage and chroot)"
if ! command -v buildah >/dev/null 2>&1; then
    say "installing the Debian package buildah"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah
fi
CHROOT=$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot)

make --no-print-directory image IMAGE="$IMAGE"

work=$(mktemp -d)
ctr=
cleanup() {
    if [ -n "$ctr" ]; then
        buildah umount "${STORAGE[@]}" "$ctr" >/dev/null 2>&1 || true
        buildah rm "${STORAGE[@]}" "$ctr" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Sizes.
binary_bytes=$(stat -c %s "$BIN")
buildah push "${STORAGE[@]}" --quiet "$IMAGE" "docker-archive:$work/image.tar:$IMAGE" >/dev/null
image_bytes=$(stat -c %s "$work/image.tar")
gzip_bytes=$(gzip -c "$work/image.tar" | wc -c)
[ "$binary_bytes" -le "$MAX_BINARY" ] || fail "binary is $binary_bytes bytes (> $MAX_BINARY)"
[ "$image_bytes" -le "$MAX_IMAGE" ] || fail "image is $image_bytes bytes (> $MAX_IMAGE)"

# Configuration.
user=$(buildah inspect "${STORAGE[@]}" --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
entrypoint=$(buildah inspect "${STORAGE[@]}" --type image --format '{{.OCIv1.Config.Entrypoint}}' "$IMAGE")
[ "$user" = "65532:65532" ] || fail "USER is '$user', not 65532:65532"
[ "$entrypoint" = "[/dojo-hook]" ] || fail "ENTRYPOINT is $entrypoint"

# The image's own root.
ctr=$(buildah from "${STORAGE[@]}" --name "dojo-hook-check-$$" "$IMAGE")
mnt=$(buildah mount "${STORAGE[@]}" "$ctr")
contents=$(cd "$mnt" && find . -mindepth 1 | sort | tr '\n' ' ')
[ "$contents" = "./dojo-hook " ] || fail "the image holds more than /dojo-hook: $contents"
version=$("$CHROOT" --userspec=65532:65532 "$mnt" /dojo-hook --version)
[ "$version" = "dojo-hook $VERSION" ] || fail "--version printed '$version'"
say "ok: '$version' from the image's root as 65532:65532; nothing else in the image"

[ -x target/debug/examples/fakes ] || cargo build --example fakes
bash scripts/chroot-dns-test.sh "$mnt/dojo-hook"

# Start-up time of --version (the static binary, as in the image).
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 50 --runs 500 --export-json "$work/startup.json" \
        "$BIN --version" >/dev/null 2>&1
    startup=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f ms mean, %.2f ms median (hyperfine, 500 runs)" % (r["mean"]*1e3, r["median"]*1e3))' "$work/startup.json")
else
    start=$(date +%s%N)
    for _ in $(seq 500); do "$BIN" --version >/dev/null; done
    startup=$(awk -v ns="$(( $(date +%s%N) - start ))" \
        'BEGIN { printf "%.2f ms mean (500 runs in a shell loop, fork included)", ns / 500 / 1e6 }')
fi

say "ok: binary $binary_bytes bytes (limit $MAX_BINARY), image $image_bytes bytes uncompressed (limit $MAX_IMAGE), $gzip_bytes bytes gzipped"
say "--version start-up: $startup"
