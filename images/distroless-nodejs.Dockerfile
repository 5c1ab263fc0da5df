# Local stand-in for gcr.io/distroless/nodejs24-debian12:nonroot, built by
# `bash test/cluster/images.sh base-node` only because this machine cannot pull images.
# Context (made by images.sh): rootfs.tar with no shell and no package manager: glibc,
# libgcc and libstdc++ from the Debian bookworm rootfs, CA certificates, /etc/passwd and
# /etc/group with root and nonroot (65532), /tmp (1777), and Node at /nodejs/bin/node.
FROM scratch
ADD rootfs.tar /
ARG NODE_VERSION
ARG RECIPE
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL io.hotupgrade.stand-in="gcr.io/distroless/nodejs24-debian12:nonroot, built locally by test/cluster/images.sh" \
      io.hotupgrade.node-version="${NODE_VERSION}" \
      io.hotupgrade.recipe="${RECIPE}"
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/nodejs/bin/node"]
