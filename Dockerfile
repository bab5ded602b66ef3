# dojo-hook's container images, for linux/amd64 and linux/arm64, from the
# release binaries (`make dist`: static, glibc with crt-static, so name
# resolution from /etc/hosts and DNS is linked in), copied in per architecture:
#
#   make image       # both architectures, both images, as manifest lists
#                    # (buildah, vfs storage, offline; scripts/image.sh)
#   make dist image-stage && docker buildx build --platform linux/amd64,linux/arm64 .
#
# The default image (the last stage) is the binary and nothing else: no
# shell, no libc, no CA bundle (the public roots are compiled in), so it runs
# with readOnlyRootFilesystem; without a writable /tmp (an emptyDir) it
# produces bodies in two passes. USER is numeric so runAsNonRoot can check it.
#
# The `shell` stage (tag VERSION-shell) is for CI jobs whose runner wraps the
# job in a shell (GitLab CI's `image:`, `sh -c`): Debian's busybox-static as
# /bin/sh with its applets, dojo-hook on PATH, a /tmp, no entrypoint, and
# root as the user, as CI job images are (the checkout belongs to the runner).

FROM scratch AS shell
ARG TARGETARCH
COPY target/image/${TARGETARCH}/shell/ /
COPY target/image/${TARGETARCH}/dojo-hook /usr/local/bin/dojo-hook
ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
CMD ["/bin/sh"]

FROM scratch
ARG TARGETARCH
COPY target/image/${TARGETARCH}/dojo-hook /dojo-hook
USER 65532:65532
ENTRYPOINT ["/dojo-hook"]
