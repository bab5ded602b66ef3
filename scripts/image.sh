#!/usr/bin/env bash
# The images, from the release binaries in target/dist (`make dist`), offline
# with buildah (vfs storage, no daemon), dated to the last commit:
#
#   scripts/image.sh build            two manifest lists, linux/amd64 + linux/arm64:
#       $IMAGE         FROM scratch: /dojo-hook, USER 65532:65532, no shell
#       $IMAGE-shell   for CI jobs that run `script:` through a shell (GitLab's
#                      `image:`): busybox-static from Debian as /bin/sh and its
#                      applets, dojo-hook on PATH, no entrypoint
#   scripts/image.sh stage            only target/image/ (for docker buildx)
#   scripts/image.sh push DEST        both lists with all their images, e.g.
#       DEST=docker://ghcr.io/OWNER/dojo-hook (tags VERSION and VERSION-shell)
#       or DEST=oci:/some/dir (an OCI layout; image-check.sh pushes there)
#
# The build context holds only target/image/ (see .dockerignore): per
# architecture the binary and the shell image's root, staged here. busybox
# comes from Debian's busybox-static package of each architecture, pinned.
set -euo pipefail
cd "$(dirname "$0")/.."

BUSYBOX_DEB=1:1.35.0-4+deb12u1+b1
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE=${IMAGE:-localhost/dojo-hook:$VERSION}
STORAGE=(--storage-driver vfs)
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
declare -A TRIPLE=([amd64]=x86_64-unknown-linux-gnu [arm64]=aarch64-unknown-linux-gnu)

say() { echo "image: $*"; }
fail() { echo "image: FAILED: $*" >&2; exit 1; }

need_buildah() {
    command -v buildah >/dev/null 2>&1 && return 0
    say "installing the Debian package buildah"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah
}

# target/image/ARCH/{dojo-hook,shell/}: what the Dockerfile copies.
stage() {
    local arch=$1 dir=target/image/$1 bin deb
    bin=target/dist/dojo-hook-$VERSION-${TRIPLE[$arch]}
    [ -x "$bin" ] || fail "no $bin: run 'make dist' first"
    rm -rf "$dir"
    mkdir -p "$dir/shell/bin" "$dir/shell/tmp" "$dir/debs"
    cp "$bin" "$dir/dojo-hook"
    deb=$dir/debs/busybox-static.deb
    (cd "$dir/debs" && apt-get download -qq "busybox-static:$arch=$BUSYBOX_DEB" 2>/dev/null) ||
        { apt-get update -qq && (cd "$dir/debs" && apt-get download -qq "busybox-static:$arch=$BUSYBOX_DEB"); }
    mv "$dir/debs"/busybox-static_*.deb "$deb"
    dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C "$dir/debs" ./bin/busybox
    mv "$dir/debs/bin/busybox" "$dir/shell/bin/busybox"
    rm -rf "$dir/debs"
    # The applets, where busybox's own --install would put them (listed by
    # the staged busybox itself; the arm64 one under qemu-user).
    local list applet
    list=$(if [ "$arch" = amd64 ]; then "$dir/shell/bin/busybox" --list-full; else
        qemu-aarch64-static "$dir/shell/bin/busybox" --list-full; fi)
    for applet in $list; do
        [ "$applet" = bin/busybox ] && continue
        mkdir -p "$dir/shell/$(dirname "$applet")"
        ln -sf /bin/busybox "$dir/shell/$applet"
    done
    chmod 1777 "$dir/shell/tmp"
    find "$dir" -exec touch -h -d "@$EPOCH" {} +
}

build() {
    need_buildah
    command -v qemu-aarch64-static >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static
    }
    for arch in amd64 arm64; do stage "$arch"; done
    local name target
    for name in "$IMAGE" "$IMAGE-shell"; do
        buildah manifest rm "${STORAGE[@]}" "$name" >/dev/null 2>&1 || true
    done
    for arch in amd64 arm64; do
        for target in default shell; do
            name=$IMAGE
            [ "$target" = shell ] && name=$IMAGE-shell
            local args=()
            [ "$target" = shell ] && args=(--target shell)
            buildah bud "${STORAGE[@]}" --quiet --timestamp "$EPOCH" \
                --platform "linux/$arch" --build-arg "TARGETARCH=$arch" "${args[@]}" \
                --manifest "$name" -t "$name-$arch" . >/dev/null
        done
    done
    say "built $IMAGE and $IMAGE-shell (linux/amd64, linux/arm64), dated $EPOCH"
}

push() {
    local dest=${1:?usage: scripts/image.sh push DEST}
    # Registries take lowercase names only (GitHub's OWNER/REPO may not be).
    [[ $dest == docker://* ]] && dest=$(printf '%s' "$dest" | tr '[:upper:]' '[:lower:]')
    need_buildah
    if [ -n "${REGISTRY_USER:-}" ] && [ -n "${REGISTRY_PASSWORD:-}" ]; then
        local registry=${dest#docker://}
        registry=${registry%%/*}
        printf '%s' "$REGISTRY_PASSWORD" |
            buildah login "${STORAGE[@]}" --username "$REGISTRY_USER" --password-stdin "$registry" >/dev/null
    fi
    buildah manifest push "${STORAGE[@]}" --quiet --all --format oci "$IMAGE" "$dest:$VERSION"
    buildah manifest push "${STORAGE[@]}" --quiet --all --format oci "$IMAGE-shell" "$dest:$VERSION-shell"
    say "pushed $IMAGE to $dest:$VERSION and $IMAGE-shell to $dest:$VERSION-shell"
}

case "${1:-}" in
stage) for arch in amd64 arm64; do stage "$arch"; done ;;
build) build ;;
push) push "${2:-}" ;;
*) fail "usage: scripts/image.sh build | push DEST" ;;
esac
