#!/usr/bin/env bash
# Builds container images locally (no registry is reachable) and imports them into the
# node's containerd. Reusable by later suites: every image is `docker build` against
# locally made base images, then `docker save | ctr -n k8s.io images import -`.
#
# Usage: images.sh [--containerd SOCK] [--keep-docker] COMMAND...
#   base-busybox            hotupgrade.local/busybox:1 (FROM scratch + Debian's busybox-static)
#   base-pause              hotupgrade.local/pause:<k8s version> (static pause from the k8s module)
#   base-node               local stand-ins for the public bases of the project's Dockerfile,
#                           node:24-bookworm-slim and gcr.io/distroless/nodejs24-debian12:nonroot
#                           (debootstrap + the project's Node binary; see docs/images.md)
#   build [OPTS] TAG CONTEXT_DIR
#                           docker build of CONTEXT_DIR/Dockerfile, with no network unless
#                           OPTS say otherwise: --network host, --target STAGE,
#                           --build-arg NAME=VALUE (repeatable)
#   info TAG                print "TAG<TAB>IMAGE_ID<TAB>SIZE_BYTES" on stdout
#   import TAG[,TAG...]     docker save TAG... | ctr -n k8s.io images import (needs --containerd);
#                           several tags in one stream carry their shared layers once
#   save TAG[,TAG...] FILE  docker save TAG... to FILE (for other clusters' loaders, e.g. kind)
#   docker-stop             stop the dockerd this script started with --keep-docker
# Commands run in order, e.g. `images.sh --containerd S base-busybox import hotupgrade.local/busybox:1`.
#
# dockerd: if none answers on ${DOCKER_SOCK}, one is started for the duration of this
# script (or until docker-stop with --keep-docker) with --bridge=none and no iptables, so
# it adds no bridge, no rules and no NAT. Its image store is cached in
# ~/.cache/hotupgrade/docker, so rebuilding an unchanged image is a cache hit.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE_ROOT="${HOTUPGRADE_STATE:-/tmp/hotupgrade-cluster}"
DOCKER_STATE="${STATE_ROOT}/docker"
DOCKER_SOCK="${DOCKER_STATE}/docker.sock"
DOCKER_DATA="${HOTUPGRADE_CACHE}/docker"
DOCKER_PIDFILE="${DOCKER_STATE}/dockerd.pid"
BUSYBOX_IMAGE="hotupgrade.local/busybox:1"
# The CAs this machine's Node trusts (for the Node stand-in's npm ci; see base_node_slim).
HOST_CA="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
# base-node: the public names of the Dockerfile's bases (see docs/images.md).
NODE_SLIM_IMAGE="node:24-bookworm-slim"
DISTROLESS_IMAGE="gcr.io/distroless/nodejs24-debian12:nonroot"
DEBIAN_SUITE="bookworm"
DEBIAN_MIRROR="${HOTUPGRADE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# npm 11, as Node 24 bundles; this release honours package.json allowScripts like the project's.
NPM_VERSION="11.19.1"
ROOTFS_CACHE="${HOTUPGRADE_CACHE}/rootfs"
ROOTFS_TAR="${ROOTFS_CACHE}/debian-${DEBIAN_SUITE}-minbase.tar"
CONTAINERD_SOCK=""
KEEP_DOCKER=0
STARTED_DOCKER=0

docker_() { docker -H "unix://${DOCKER_SOCK}" "$@"; }
docker_up() { docker_ version >/dev/null 2>&1; }

start_docker() {
  docker_up && return 0
  command -v dockerd >/dev/null || die "dockerd is missing: run bash test/cluster/prereqs.sh (apt-get install docker.io)"
  mkdir -p "${DOCKER_STATE}" "${DOCKER_DATA}"
  echo '{}' >"${DOCKER_STATE}/daemon.json"
  log "starting dockerd (log ${DOCKER_STATE}/dockerd.log)"
  # setsid: its own session, so it is stopped only by PID, never by a terminal's Ctrl-C.
  setsid dockerd --config-file "${DOCKER_STATE}/daemon.json" --data-root "${DOCKER_DATA}" \
    --exec-root "${DOCKER_STATE}/exec" --pidfile "${DOCKER_PIDFILE}" -H "unix://${DOCKER_SOCK}" \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false --userland-proxy=false \
    --storage-driver=overlay2 >>"${DOCKER_STATE}/dockerd.log" 2>&1 </dev/null &
  echo $! >"${DOCKER_STATE}/dockerd.launcher.pid"
  local i
  for ((i = 0; i < 300; i++)); do
    docker_up && {
      STARTED_DOCKER=1
      return 0
    }
    kill -0 "$(cat "${DOCKER_STATE}/dockerd.launcher.pid")" 2>/dev/null ||
      die "dockerd exited; read ${DOCKER_STATE}/dockerd.log"
    sleep 0.1
  done
  die "dockerd did not answer within 30s; read ${DOCKER_STATE}/dockerd.log"
}

stop_docker() {
  local pid
  pid=$(cat "${DOCKER_PIDFILE}" 2>/dev/null || cat "${DOCKER_STATE}/dockerd.launcher.pid" 2>/dev/null || true)
  [[ -n "${pid}" ]] || return 0
  # Only signal it if the PID still is a dockerd (PIDs get reused).
  if [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == dockerd ]]; then
    kill "${pid}"
    local i
    for ((i = 0; i < 200; i++)); do
      [[ -d "/proc/${pid}" ]] || break
      sleep 0.1
    done
    [[ -d "/proc/${pid}" ]] && kill -9 "${pid}"
  fi
  rm -f "${DOCKER_PIDFILE}" "${DOCKER_STATE}/dockerd.launcher.pid"
  log "dockerd stopped"
}

# Build contexts of base-node (hundreds of MB), removed even when a step fails.
TMP_DIRS=()
on_exit() {
  ((${#TMP_DIRS[@]})) && rm -rf "${TMP_DIRS[@]}"
  if ((STARTED_DOCKER && !KEEP_DOCKER)); then stop_docker; fi
}
trap on_exit EXIT

have_image() { docker_ image inspect "$1" >/dev/null 2>&1; }

# build [--network host] [--target STAGE] [--build-arg K=V]... TAG CTX; sets BUILD_ARGC to
# the number of arguments it took, for the command loop.
BUILD_ARGC=0
build() {
  local network=none opts=() n=0
  while [[ "${1:-}" == --* ]]; do
    [[ $# -ge 2 ]] || die "build: $1 needs a value"
    case "$1" in
    --network) network="$2" ;;
    --target) opts+=(--target "$2") ;;
    --build-arg) opts+=(--build-arg "$2") ;;
    *) die "build: unknown option $1 (--network, --target, --build-arg)" ;;
    esac
    shift 2
    n=$((n + 2))
  done
  [[ $# -ge 2 ]] || die "build: needs TAG and CONTEXT_DIR"
  local tag="$1" ctx="$2"
  BUILD_ARGC=$((n + 2))
  start_docker
  log "docker build ${tag} from ${ctx}${opts[*]:+ ${opts[*]}} (network ${network})"
  local t0
  t0=$(date +%s%N)
  # --network=none by default: a RUN step gets no network (there is no bridge, and nothing
  # to reach). `--network host` is for a RUN that needs the npm registry.
  # The legacy builder (DOCKER_BUILDKIT=0): buildx may not be installed.
  # Its output is shown only when it fails (the legacy builder's deprecation notice is noise).
  local out
  out=$(mktemp)
  if ! DOCKER_BUILDKIT=0 docker_ build --network="${network}" -q "${opts[@]}" -t "${tag}" "${ctx}" >"${out}" 2>&1; then
    grep -v -e '^DEPRECATED: The legacy builder' -e '^ *BuildKit is currently disabled' \
      -e '^ *environment-variable\.$' "${out}" >&2 || true
    rm -f "${out}"
    die "docker build ${tag} failed (output above)"
  fi
  rm -f "${out}"
  log "built ${tag} in $((($(date +%s%N) - t0) / 1000000)) ms"
}

info() {
  start_docker
  local out
  out=$(docker_ image inspect --format '{{.Id}}	{{.Size}}' "$1" 2>/dev/null) || die "info $1: no such image"
  printf '%s\t%s\n' "$1" "${out}"
}

base_busybox() {
  start_docker
  have_image "${BUSYBOX_IMAGE}" && return 0
  [[ -x /bin/busybox ]] || die "/bin/busybox is missing: apt-get install busybox-static"
  local ctx
  ctx=$(mktemp -d)
  mkdir -p "${ctx}/rootfs/bin" "${ctx}/rootfs/tmp" "${ctx}/rootfs/etc"
  chmod 1777 "${ctx}/rootfs/tmp"
  cp /bin/busybox "${ctx}/rootfs/bin/busybox"
  # One symlink per applet, made here so the image needs no RUN step.
  local applet
  for applet in $(/bin/busybox --list); do
    [[ "${applet}" == busybox ]] || ln -s busybox "${ctx}/rootfs/bin/${applet}"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"${ctx}/rootfs/etc/passwd"
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nCMD ["/bin/sh"]\n' >"${ctx}/Dockerfile"
  build "${BUSYBOX_IMAGE}" "${ctx}"
  rm -rf "${ctx}"
}

base_pause() {
  start_docker
  have_image "${PAUSE_IMAGE}" && return 0
  [[ -x "${PAUSE_BIN}/pause" ]] || bash "${CLUSTER_DIR}/build.sh" pause
  local ctx
  ctx=$(mktemp -d)
  cp "${PAUSE_BIN}/pause" "${ctx}/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"${ctx}/Dockerfile"
  build "${PAUSE_IMAGE}" "${ctx}"
  rm -rf "${ctx}"
}

# The public base images the project's Dockerfile names, made here because this machine
# cannot pull: the same names, so the Dockerfile a user builds is the one the tests build.
# What goes into each: docs/images.md.
base_node() {
  start_docker
  local node version
  node=$(readlink -f "${REPO_DIR}/node_modules/.bin/node" 2>/dev/null) && [[ -x "${node}" ]] ||
    die "the project's Node binary is missing (node_modules/.bin/node): run npm ci"
  version=$("${node}" --version)
  version="${version#v}"
  [[ "${version}" == 24.* ]] || die "node_modules/.bin/node is ${version}, the base images need Node 24"
  # What each base is made of, kept as a label: a change (a Node bump) rebuilds it.
  local extra_ca="" slim_recipe
  if [[ -r "${HOST_CA}" ]]; then
    extra_ca=$(sha256sum <"${HOST_CA}" | cut -c1-12)
  fi
  slim_recipe="node ${version}, npm ${NPM_VERSION}, ${DEBIAN_SUITE}${extra_ca:+, extra CAs ${extra_ca}}"
  if [[ "$(image_label "${NODE_SLIM_IMAGE}" io.hotupgrade.recipe)" != "${slim_recipe}" ]]; then
    rootfs_tar
    base_node_slim "${node}" "${version}" "${slim_recipe}"
  fi
  if [[ "$(image_label "${DISTROLESS_IMAGE}" io.hotupgrade.recipe)" != "node ${version}, ${DEBIAN_SUITE}" ]]; then
    rootfs_tar
    base_distroless "${node}" "${version}" "node ${version}, ${DEBIAN_SUITE}"
  fi
}

# The label's value, or "" when the image or the label is missing.
image_label() {
  docker_ image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null | sed 's/^<no value>$//' || true
}

# Debian ${DEBIAN_SUITE} made by debootstrap, as a tar file cached in ${ROOTFS_CACHE}.
rootfs_tar() {
  [[ -s "${ROOTFS_TAR}" ]] && return 0
  command -v debootstrap >/dev/null || die "debootstrap is missing: run bash test/cluster/prereqs.sh (apt-get install debootstrap)"
  mkdir -p "${ROOTFS_CACHE}"
  local dir="${ROOTFS_CACHE}/rootfs.$$" logfile="${LOG_DIR}/debootstrap.log" t0
  t0=$(date +%s)
  log "debootstrap --variant=minbase ${DEBIAN_SUITE} from ${DEBIAN_MIRROR} (log ${logfile})"
  if ! debootstrap --variant=minbase --include=ca-certificates "${DEBIAN_SUITE}" "${dir}" "${DEBIAN_MIRROR}" \
    >"${logfile}" 2>&1; then
    tail -n 20 "${logfile}" >&2
    remove_rootfs "${dir}"
    die "debootstrap failed; read ${logfile} (is ${DEBIAN_MIRROR} reachable?)"
  fi
  # Slim like debian:bookworm-slim: no docs (copyright files stay), man pages or locales,
  # no apt lists or package files, and none of this host's identity or devices (the
  # container runtime provides /dev, /etc/hosts, /etc/hostname and /etc/resolv.conf).
  find "${dir}/usr/share/doc" -type f ! -name copyright -delete
  find "${dir}/usr/share/doc" -type d -empty -delete
  rm -rf "${dir}"/usr/share/{man,info,locale}/* "${dir}"/var/lib/apt/lists/* "${dir}"/var/cache/apt/* \
    "${dir}"/var/cache/debconf/*-old "${dir}"/var/log/* "${dir}"/dev/* \
    "${dir}"/etc/{hostname,hosts,resolv.conf} "${dir}"/etc/machine-id
  tar --numeric-owner -C "${dir}" -cf "${ROOTFS_TAR}.tmp" .
  mv "${ROOTFS_TAR}.tmp" "${ROOTFS_TAR}"
  remove_rootfs "${dir}"
  log "rootfs ${ROOTFS_TAR} ($(du -m "${ROOTFS_TAR}" | cut -f1) MB) in $(($(date +%s) - t0)) s"
}

# rm -rf of a debootstrap target, after unmounting what a failed run may have left
# mounted there (proc, sys): removing through a mount would delete the host's files.
remove_rootfs() {
  local dir="$1" m
  for m in $(awk -v d="${dir}/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "${m}" || umount -l "${m}"
  done
  if awk -v d="${dir}/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    die "mounts remain under ${dir}: unmount them, then remove it"
  fi
  rm -rf --one-file-system "${dir}"
}

# npm's package tarball, cached (npm pack from the registry).
npm_tarball() {
  local tgz="${HOTUPGRADE_CACHE}/npm/npm-${NPM_VERSION}.tgz"
  if [[ ! -s "${tgz}" ]]; then
    mkdir -p "${HOTUPGRADE_CACHE}/npm"
    log "npm pack npm@${NPM_VERSION}"
    (cd "${HOTUPGRADE_CACHE}/npm" && npm pack --silent "npm@${NPM_VERSION}" >/dev/null) ||
      die "npm pack npm@${NPM_VERSION} failed: is https://registry.npmjs.org reachable?"
  fi
  echo "${tgz}"
}

# node:24-bookworm-slim: the rootfs + /usr/local/bin/node + npm and npx.
base_node_slim() {
  local node="$1" version="$2" recipe="$3" ctx tgz
  tgz=$(npm_tarball)
  ctx=$(mktemp -d -p "${ROOTFS_CACHE}")
  TMP_DIRS+=("${ctx}")
  ln "${ROOTFS_TAR}" "${ctx}/rootfs.tar" 2>/dev/null || cp "${ROOTFS_TAR}" "${ctx}/rootfs.tar"
  mkdir -p "${ctx}/node/usr/local/bin" "${ctx}/node/usr/local/lib/node_modules/npm"
  cp "${node}" "${ctx}/node/usr/local/bin/node"
  tar -xzf "${tgz}" -C "${ctx}/node/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "${ctx}/node/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "${ctx}/node/usr/local/bin/npx"
  cp "${REPO_DIR}/images/node-slim.Dockerfile" "${ctx}/Dockerfile"
  # The stand-in trusts what this machine trusts (NODE_EXTRA_CA_CERTS, else the system
  # bundle, which holds CAs added locally, e.g. those of a proxy that intercepts TLS on the
  # way to the npm registry), so that the Dockerfile's `npm ci` works here whatever the
  # environment of the run. The public image needs no such thing.
  if [[ -r "${HOST_CA}" ]]; then
    mkdir -p "${ctx}/node/usr/local/share/ca-certificates"
    cp "${HOST_CA}" "${ctx}/node/usr/local/share/ca-certificates/host-extra-ca.crt"
    echo 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra-ca.crt' >>"${ctx}/Dockerfile"
  fi
  # A tar that ADD unpacks keeps the links and gives root the files.
  tar --numeric-owner --owner=0 --group=0 -C "${ctx}/node" -cf "${ctx}/node.tar" .
  rm -rf "${ctx}/node"
  build --build-arg "NODE_VERSION=${version}" --build-arg "NPM_VERSION=${NPM_VERSION}" \
    --build-arg "RECIPE=${recipe}" "${NODE_SLIM_IMAGE}" "${ctx}"
  rm -rf "${ctx}"
}

# gcr.io/distroless/nodejs24-debian12:nonroot: no shell, no package manager; glibc,
# libgcc and libstdc++ from the rootfs (every file of their packages, as distroless has),
# CA certificates, users root and nonroot (65532), /tmp, and /nodejs/bin/node.
base_distroless() {
  local node="$1" version="$2" recipe="$3" ctx src dst
  ctx=$(mktemp -d -p "${ROOTFS_CACHE}")
  TMP_DIRS+=("${ctx}")
  src="${ctx}/debian"
  dst="${ctx}/rootfs"
  mkdir -p "${src}" "${dst}"
  tar -C "${src}" -xf "${ROOTFS_TAR}"
  # The same merged /usr layout as Debian 12: /lib and /lib64 are links into /usr.
  mkdir -p "${dst}"/usr/{lib,lib64} "${dst}"/etc/ssl/certs "${dst}/nodejs/bin" "${dst}/tmp" "${dst}/root" \
    "${dst}/home/nonroot"
  ln -s usr/lib "${dst}/lib"
  ln -s usr/lib64 "${dst}/lib64"
  # Files and links of the packages (not their directories, so the /lib links stay links).
  local pkg list=()
  for pkg in libc6 libgcc-s1 libstdc++6; do
    list+=("${src}"/var/lib/dpkg/info/"${pkg}":*.list)
  done
  cat "${list[@]}" | grep -v -e '^/usr/share/doc/' -e '^/usr/share/lintian/' |
    while read -r f; do [[ -d "${src}${f}" && ! -L "${src}${f}" ]] || echo ".${f}"; done >"${ctx}/files"
  tar -C "${src}" -cf - --no-recursion -T "${ctx}/files" | tar -C "${dst}" -xf - --keep-directory-symlink
  cp "${src}/etc/ssl/certs/ca-certificates.crt" "${dst}/etc/ssl/certs/"
  cp "${src}/usr/lib/os-release" "${dst}/etc/os-release"
  cp "${node}" "${dst}/nodejs/bin/node"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"${dst}/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"${dst}/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' 'networks: files' \
    'protocols: files' 'services: files' >"${dst}/etc/nsswitch.conf"
  chmod 1777 "${dst}/tmp"
  chmod 700 "${dst}/root"
  chown 65532:65532 "${dst}/home/nonroot"
  # Node must start from these files alone (every library it links, found without ld.so.cache).
  chroot "${dst}" /nodejs/bin/node -e 0 ||
    die "node does not start in the distroless root filesystem ${dst}: a library is missing"
  tar --numeric-owner -C "${dst}" -cf "${ctx}/rootfs.tar" .
  rm -rf "${src}" "${dst}"
  cp "${REPO_DIR}/images/distroless-nodejs.Dockerfile" "${ctx}/Dockerfile"
  build --build-arg "NODE_VERSION=${version}" --build-arg "RECIPE=${recipe}" "${DISTROLESS_IMAGE}" "${ctx}"
  rm -rf "${ctx}"
}

import() {
  local tags
  IFS=, read -r -a tags <<<"$1"
  [[ -n "${CONTAINERD_SOCK}" ]] || die "import $1: pass --containerd SOCK"
  start_docker
  log "import ${tags[*]} into containerd ${CONTAINERD_SOCK}"
  docker_ save "${tags[@]}" | ctr --address "${CONTAINERD_SOCK}" -n k8s.io images import - >/dev/null
}

save() {
  local tags
  IFS=, read -r -a tags <<<"$1"
  start_docker
  log "save ${tags[*]} to $2"
  docker_ save -o "$2" "${tags[@]}"
}

while (($#)); do
  case "$1" in
  --containerd) CONTAINERD_SOCK="$2" && shift 2 ;;
  --keep-docker) KEEP_DOCKER=1 && shift ;;
  base-busybox) base_busybox && shift ;;
  base-pause) base_pause && shift ;;
  base-node) base_node && shift ;;
  build)
    shift
    build "$@"
    shift "${BUILD_ARGC}"
    ;;
  info) info "$2" && shift 2 ;;
  import) import "$2" && shift 2 ;;
  save) save "$2" "$3" && shift 3 ;;
  docker-stop) stop_docker && shift ;;
  *) die "unknown argument: $1 (see the usage at the top of ${BASH_SOURCE[0]})" ;;
  esac
done
