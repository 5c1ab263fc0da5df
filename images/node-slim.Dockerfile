# Local stand-in for docker.io/library/node:24-bookworm-slim, built by
# `bash test/cluster/images.sh base-node` only because this machine cannot pull images.
# Context (made by images.sh): rootfs.tar, Debian bookworm from `debootstrap --variant=minbase`
# with ca-certificates, slimmed like debian:bookworm-slim; node.tar, the project's Node
# binary at /usr/local/bin/node and npm at /usr/local/lib/node_modules/npm with its links.
FROM scratch
ADD rootfs.tar /
ADD node.tar /
ARG NODE_VERSION
ARG RECIPE
ARG NPM_VERSION
ENV NODE_VERSION=${NODE_VERSION} \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL io.hotupgrade.stand-in="node:24-bookworm-slim, built locally by test/cluster/images.sh" \
      io.hotupgrade.node-version="${NODE_VERSION}" \
      io.hotupgrade.npm-version="${NPM_VERSION}" \
      io.hotupgrade.recipe="${RECIPE}"
CMD ["node"]
