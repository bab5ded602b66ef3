# dojo-hook's container image: the static binary and nothing else.
#
# The binary is built first, outside the image (`make static`: glibc with
# crt-static, so name resolution from /etc/hosts and DNS is linked in), then
# copied in:
#
#   make image                      # buildah bud --storage-driver vfs
#   make static && docker build -t dojo-hook .
#
# No shell, no libc, no CA bundle (the public roots are compiled in), so it
# runs with readOnlyRootFilesystem; without a writable /tmp (an emptyDir) it
# produces bodies in two passes. USER is numeric so runAsNonRoot can check it.
FROM scratch
COPY target/x86_64-unknown-linux-gnu/release/dojo-hook /dojo-hook
USER 65532:65532
ENTRYPOINT ["/dojo-hook"]
