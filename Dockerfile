# The project's images: one build, one target per image (docs/images.md).
#
#   docker build --target controller  -t REGISTRY/hotupgrade/controller:TAG .
#   docker build --target sidecar     -t REGISTRY/hotupgrade/sidecar:TAG .
#   docker build --target placeholder -t REGISTRY/hotupgrade/placeholder:TAG .
#   docker build --target demo        -t REGISTRY/hotupgrade/demo:TAG .
#
# Every image runs Node 24 on a distroless base (no shell, no package manager) as user
# 65532, writes nothing to its root filesystem (the chart sets readOnlyRootFilesystem),
# and runs the TypeScript sources directly (Node's type stripping: no build step).
# The bases are ARGs so that a mirror or a pinned digest can replace them, e.g.
#   --build-arg RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12@sha256:...
# A replacement runtime base must be glibc-based and have `node` on PATH or at /nodejs/bin.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# Production dependencies from the lockfile. --omit=dev leaves out the devDependency
# `node` (a second Node binary) and the toolchain; of the install scripts only koffi's
# runs (package.json allowScripts), and it only checks that koffi's prebuilt binary loads.
# npm installs only this platform's koffi binary package. Then what Node never loads is
# removed (98 MB -> 55 MB): type declarations, source maps, docs, koffi's musl build (the
# runtime base is glibc), C++ sources and headers, and the prebuilt addons of bare-fs and
# bare-url (tar-fs's backends for the Bare runtime, not Node).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --no-update-notifier \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -name '*.md' -o -name '*.bare' \) -delete \
 && find node_modules/@koromix -mindepth 2 -maxdepth 2 -type d -name 'musl_*' -exec rm -rf {} + \
 && find node_modules/koffi -type f \( -name '*.cc' -o -name '*.hh' -o -name '*.h' -o -name '*.S' -o -name '*.asm' \
      -o -name '*.inc' -o -name '*.def' -o -name CMakeLists.txt \) -delete \
 && rm -rf node_modules/koffi/vendor node_modules/koffi/doc /root/.npm

# What every image carries: the dependencies and the runtime sources (no tests, see
# .dockerignore). One shared set of layers, so a node pulls them once for all images.
FROM ${RUNTIME_IMAGE} AS app
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY package.json ./
COPY sdk sdk
COPY launcher launcher
COPY placeholder placeholder
COPY sidecar sidecar
COPY controller controller
# The hub (hub mode, issue #6) runs from the controller image: its code imports
# controller/ modules. The chart sets `command: ["node", "/app/hub/main.ts"]`.
COPY hub hub
COPY demo demo
ENV NODE_ENV=production \
    PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin
# Numeric, so that runAsNonRoot can verify it.
USER 65532:65532
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.vendor="hotupgrade" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# The operator: reconciles HotDeployments. Flags (`--help`) go in the pod's args. The same
# image runs the hub with the command `node /app/hub/main.ts`.
FROM app AS controller
LABEL org.opencontainers.image.title="hotupgrade-controller" \
      org.opencontainers.image.description="Kubernetes operator for in-place, state-keeping hot upgrades"
ENTRYPOINT ["node", "/app/controller/main.ts"]

# The per-pod sidecar: observes the shared volume, serves slot readiness and metrics (:9901).
FROM app AS sidecar
LABEL org.opencontainers.image.title="hotupgrade-sidecar" \
      org.opencontainers.image.description="hotupgrade per-pod sidecar: slot readiness, handover reports, metrics"
EXPOSE 9901
ENTRYPOINT ["node", "/app/sidecar/server.ts"]

# The program of the slot not in use. ENTRYPOINT, not CMD: the slot container keeps the
# business container's args, which the placeholder accepts and ignores.
FROM app AS placeholder
LABEL org.opencontainers.image.title="hotupgrade-placeholder" \
      org.opencontainers.image.description="hotupgrade placeholder slot: announces itself, then idles"
ENTRYPOINT ["node", "/app/placeholder/main.ts"]

# The demo business server (slot mode through the SDK, port 8080).
# DEMO_BUILD only makes otherwise identical builds distinct images (demo:v1, v2, v3).
FROM app AS demo
ARG DEMO_BUILD=dev
ENV DEMO_BUILD=${DEMO_BUILD}
LABEL org.opencontainers.image.title="hotupgrade-demo" \
      org.opencontainers.image.description="hotupgrade demo server: per-session counters kept across hot upgrades" \
      io.hotupgrade.demo-build="${DEMO_BUILD}"
EXPOSE 8080
ENTRYPOINT ["node", "/app/demo/server.ts"]

# The demo image whose process fails at start (exit 1): a bad release, for the tests of
# failed upgrades and rollbacks.
FROM demo AS demo-crash
ENV DEMO_FAIL_START="set in the demo-crash image: this release fails at start on purpose"

# The same demo in binary mode (HOTUPGRADE_MODE=binary): the launcher is the entrypoint.
# In the active slot it runs the server and switches to a newer staged version in place;
# in the other slot it stages /app into the shared volume. A slot container's command
# cannot change in place, so a binary-mode image carries this entrypoint itself.
FROM demo AS demo-binary
ENV HOTUPGRADE_LISTEN=0.0.0.0:8080
ENTRYPOINT ["node", "/app/launcher/main.ts", "--from", "/app", "--", "node", "./demo/server.ts"]
