#!/usr/bin/env bash
# Builds the images and checks them (CI runs this after `make dist-check`):
#
#   - buildah and qemu-user-static are installed when missing (Debian);
#   - `make image`: two manifest lists from the dist binaries, each with
#     linux/amd64 and linux/arm64 (scripts/image.sh);
#   - per architecture, the default image: the binary at most 6 MB and the
#     image at most 10 MB (uncompressed, as `docker save` writes it); the
#     architecture in its config; 65532:65532 with /dojo-hook as entrypoint;
#     a root holding nothing but /dojo-hook (no shell); `/dojo-hook --version`
#     from the image's own root as 65532 (arm64: under qemu-user-static,
#     copied into the root); the chroot name-resolution test with the image's
#     binary (scripts/chroot-dns-test.sh);
#   - per architecture, the shell image: at most 12 MB; no entrypoint;
#     /bin/sh is busybox; `sh -c 'dojo-hook --version'` in its root (arm64:
#     the shell finds dojo-hook on PATH under qemu, and dojo-hook runs);
#   - the same commit gives the same images: built again, the same digests;
#   - `make image-push IMAGE_DEST=oci:DIR` (the release's push, to an OCI
#     layout here) writes both lists with both platforms;
#   - prints the sizes and the --version start-up time (hyperfine when
#     installed, else a loop).
#
# Needs root (buildah's vfs storage, chroot).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_BINARY=6000000   # bytes
MAX_IMAGE=10000000   # bytes
MAX_SHELL_IMAGE=12000000
STORAGE=(--storage-driver vfs)
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE=localhost/dojo-hook:$VERSION
declare -A TRIPLE=([amd64]=x86_64-unknown-linux-gnu [arm64]=aarch64-unknown-linux-gnu)

say() { echo "image-check: $*"; }
fail() { echo "image-check: FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (buildah vfs storage and chroot)"
for pkg in buildah:buildah qemu-user-static:qemu-aarch64-static; do
    command -v "${pkg#*:}" >/dev/null 2>&1 && continue
    say "installing the Debian package ${pkg%%:*}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkg%%:*}"
done
CHROOT=$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot)
QEMU=$(command -v qemu-aarch64-static)

make --no-print-directory image IMAGE="$IMAGE"

work=$(mktemp -d)
ctrs=()
cleanup() {
    for c in "${ctrs[@]}"; do
        buildah umount "${STORAGE[@]}" "$c" >/dev/null 2>&1 || true
        buildah rm "${STORAGE[@]}" "$c" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

inspect() { buildah inspect "${STORAGE[@]}" --type image --format "$2" "$1"; }
# mount_image IMAGE ARCH: a container of it, mounted at $mounted (not in a
# subshell: cleanup needs the container in ctrs).
mount_image() {
    local c
    c=$(buildah from "${STORAGE[@]}" --arch "$2" --name "dojo-hook-check-$$-${#ctrs[@]}" "$1")
    ctrs+=("$c")
    mounted=$(buildah mount "${STORAGE[@]}" "$c")
}
saved_size() {
    buildah push "${STORAGE[@]}" --quiet "$1" "docker-archive:$work/$2.tar:$1" >/dev/null
    stat -c %s "$work/$2.tar"
}

# The manifest lists.
for list in "$IMAGE" "$IMAGE-shell"; do
    platforms=$(buildah manifest inspect "${STORAGE[@]}" "$list" |
        python3 -c 'import json,sys; print(" ".join(sorted("%s/%s" % (m["platform"]["os"], m["platform"]["architecture"]) for m in json.load(sys.stdin)["manifests"])))')
    [ "$platforms" = "linux/amd64 linux/arm64" ] || fail "$list lists '$platforms', not linux/amd64 linux/arm64"
done
say "ok: $IMAGE and $IMAGE-shell are manifest lists of linux/amd64 and linux/arm64"

declare -A SIZES
for arch in amd64 arm64; do
    img=$IMAGE-$arch
    bin=target/dist/dojo-hook-$VERSION-${TRIPLE[$arch]}
    run=()
    [ "$arch" = arm64 ] && run=(/qemu-aarch64-static)

    # The default image.
    binary_bytes=$(stat -c %s "$bin")
    image_bytes=$(saved_size "$img" "$arch")
    [ "$binary_bytes" -le "$MAX_BINARY" ] || fail "$arch binary is $binary_bytes bytes (> $MAX_BINARY)"
    [ "$image_bytes" -le "$MAX_IMAGE" ] || fail "$arch image is $image_bytes bytes (> $MAX_IMAGE)"
    [ "$(inspect "$img" '{{.OCIv1.Architecture}}')" = "$arch" ] || fail "$img is not for $arch"
    user=$(inspect "$img" '{{.OCIv1.Config.User}}')
    entrypoint=$(inspect "$img" '{{.OCIv1.Config.Entrypoint}}')
    [ "$user" = "65532:65532" ] || fail "$img: USER is '$user', not 65532:65532"
    [ "$entrypoint" = "[/dojo-hook]" ] || fail "$img: ENTRYPOINT is $entrypoint"
    mount_image "$img" "$arch"
    mnt=$mounted
    contents=$(cd "$mnt" && find . -mindepth 1 | sort | tr '\n' ' ')
    [ "$contents" = "./dojo-hook " ] || fail "$img holds more than /dojo-hook: $contents"
    cmp -s "$mnt/dojo-hook" "$bin" || fail "$img's /dojo-hook is not $bin"
    [ "$arch" = arm64 ] && cp "$QEMU" "$mnt/qemu-aarch64-static"
    version=$("$CHROOT" --userspec=65532:65532 "$mnt" "${run[@]}" /dojo-hook --version)
    [ "$version" = "dojo-hook $VERSION" ] || fail "$img: --version printed '$version'"
    say "ok: $img: '$version' from the image's root as 65532:65532${run:+ (under qemu-user)}; nothing else in the image"
    [ -x target/debug/examples/fakes ] || cargo build --example fakes
    CHROOT_RUNNER=${run:+$QEMU} bash scripts/chroot-dns-test.sh "$bin"

    # The shell image.
    simg=$IMAGE-shell-$arch
    shell_bytes=$(saved_size "$simg" "shell-$arch")
    [ "$shell_bytes" -le "$MAX_SHELL_IMAGE" ] || fail "$simg is $shell_bytes bytes (> $MAX_SHELL_IMAGE)"
    [ "$(inspect "$simg" '{{.OCIv1.Architecture}}')" = "$arch" ] || fail "$simg is not for $arch"
    [ "$(inspect "$simg" '{{.OCIv1.Config.Entrypoint}}')" = "[]" ] || fail "$simg has an entrypoint"
    mount_image "$simg" "$arch"
    smnt=$mounted
    [ "$(readlink "$smnt/bin/sh")" = /bin/busybox ] || fail "$simg: /bin/sh is not busybox"
    [ "$(stat -c %a "$smnt/tmp")" = 1777 ] || fail "$simg: /tmp is not 1777"
    cmp -s "$smnt/usr/local/bin/dojo-hook" "$bin" || fail "$simg's dojo-hook is not $bin"
    # PATH as a runtime sets it from the image's config.
    path=$(inspect "$simg" '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' | sed -n 's/^PATH=//p')
    [[ ":$path:" == *:/usr/local/bin:* ]] || fail "$simg: PATH '$path' lacks /usr/local/bin"
    if [ "$arch" = amd64 ]; then
        version=$(env -i PATH="$path" "$CHROOT" "$smnt" /bin/sh -c 'cd /tmp && dojo-hook --version')
    else
        # qemu-user runs one program: the shell finds dojo-hook, then qemu runs it.
        cp "$QEMU" "$smnt/qemu-aarch64-static"
        found=$(env -i PATH="$path" "$CHROOT" "$smnt" /qemu-aarch64-static /bin/sh -c 'command -v dojo-hook')
        [ "$found" = /usr/local/bin/dojo-hook ] || fail "$simg: sh found '$found' for dojo-hook"
        version=$("$CHROOT" "$smnt" /qemu-aarch64-static /usr/local/bin/dojo-hook --version)
    fi
    [ "$version" = "dojo-hook $VERSION" ] || fail "$simg: printed '$version'"
    say "ok: $simg: sh is busybox, dojo-hook on PATH, '$version'"
    SIZES[$arch]="binary $binary_bytes bytes, image $image_bytes bytes ($(gzip -c "$work/$arch.tar" | wc -c) gzipped), shell image $shell_bytes bytes ($(gzip -c "$work/shell-$arch.tar" | wc -c) gzipped)"
done

# The same commit, the same images.
digests() {
    for i in "$IMAGE"-{amd64,arm64,shell-amd64,shell-arm64}; do
        echo "$(buildah inspect "${STORAGE[@]}" --type image --format '{{.FromImageDigest}}' "$i")"
    done
}
first=$(digests)
[ "$(grep -c '^sha256:' <<<"$first")" = 4 ] || fail "image digests: $first"
for c in "${ctrs[@]}"; do
    buildah umount "${STORAGE[@]}" "$c" >/dev/null 2>&1 || true
    buildah rm "${STORAGE[@]}" "$c" >/dev/null 2>&1 || true
done
ctrs=()
bash scripts/image.sh build >/dev/null
[ "$(digests)" = "$first" ] || fail "a second build gave other image digests: $(digests | tr '\n' ' ') (first: $(echo "$first" | tr '\n' ' '))"
say "ok: built again, the same four image digests"

# The release's push, to an OCI layout.
make --no-print-directory image-push IMAGE="$IMAGE" IMAGE_DEST="oci:$work/oci" >/dev/null
pushed=$(python3 - "$work/oci" <<'PY'
import json, os, sys
root = sys.argv[1]
def blob(d):
    return json.load(open(os.path.join(root, "blobs", *d.split(":"))))
out = []
for m in json.load(open(os.path.join(root, "index.json")))["manifests"]:
    tag = m.get("annotations", {}).get("org.opencontainers.image.ref.name")
    plats = sorted("%s/%s" % (x["platform"]["os"], x["platform"]["architecture"]) for x in blob(m["digest"])["manifests"])
    out.append("%s=%s" % (tag, ",".join(plats)))
print(" ".join(sorted(out)))
PY
)
[ "$pushed" = "$VERSION-shell=linux/amd64,linux/arm64 $VERSION=linux/amd64,linux/arm64" ] ||
    fail "the pushed OCI layout holds '$pushed'"
say "ok: make image-push wrote both lists, both platforms each ($pushed)"

# Start-up time of --version (the amd64 release binary, as in the image).
BIN=target/dist/dojo-hook-$VERSION-${TRIPLE[amd64]}
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

for arch in amd64 arm64; do say "sizes $arch: ${SIZES[$arch]}"; done
say "limits: binary $MAX_BINARY, image $MAX_IMAGE, shell image $MAX_SHELL_IMAGE bytes (uncompressed)"
say "--version start-up (amd64): $startup"
