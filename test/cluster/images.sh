#!/usr/bin/env bash
# Builds container images locally (no registry is reachable) and imports them into the
# node's containerd. Reusable by later suites: every image is `docker build` against
# locally made base images, then `docker save | ctr -n k8s.io images import -`.
#
# Usage: images.sh [--containerd SOCK] [--keep-docker] COMMAND...
#   base-busybox            hotupgrade.local/busybox:1 (FROM scratch + Debian's busybox-static)
#   base-pause              hotupgrade.local/pause:<k8s version> (static pause from the k8s module)
#   base-node               hook for a later issue: debootstrap base + Node 24 binary
#   build TAG CONTEXT_DIR   docker build (no network) of CONTEXT_DIR/Dockerfile
#   import TAG              docker save TAG | ctr -n k8s.io images import (needs --containerd)
#   save TAG FILE           docker save TAG to FILE (for other clusters' loaders, e.g. kind)
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

on_exit() { if ((STARTED_DOCKER && !KEEP_DOCKER)); then stop_docker; fi; }
trap on_exit EXIT

have_image() { docker_ image inspect "$1" >/dev/null 2>&1; }

build() {
  local tag="$1" ctx="$2"
  start_docker
  log "docker build ${tag} from ${ctx}"
  # --network=none: a RUN step gets no network (there is no bridge, and nothing to reach).
  DOCKER_BUILDKIT=0 docker_ build --network=none -q -t "${tag}" "${ctx}" >/dev/null
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

# Hook for the Node-based images (sidecar, controller, demo): a later issue builds a
# Debian base with debootstrap plus a Node 24 binary here and tags it
# hotupgrade.local/node-base:<node version>. HOTUPGRADE_NODE_BASE_HOOK may point at a
# script that does it meanwhile; it gets the docker socket as $1.
base_node() {
  start_docker
  if [[ -n "${HOTUPGRADE_NODE_BASE_HOOK:-}" ]]; then
    bash "${HOTUPGRADE_NODE_BASE_HOOK}" "${DOCKER_SOCK}"
  else
    die "base-node is not implemented yet (debootstrap + Node 24 is a later issue); set HOTUPGRADE_NODE_BASE_HOOK"
  fi
}

import() {
  local tag="$1"
  [[ -n "${CONTAINERD_SOCK}" ]] || die "import ${tag}: pass --containerd SOCK"
  start_docker
  log "import ${tag} into containerd ${CONTAINERD_SOCK}"
  docker_ save "${tag}" | ctr --address "${CONTAINERD_SOCK}" -n k8s.io images import - >/dev/null
}

while (($#)); do
  case "$1" in
  --containerd) CONTAINERD_SOCK="$2" && shift 2 ;;
  --keep-docker) KEEP_DOCKER=1 && shift ;;
  base-busybox) base_busybox && shift ;;
  base-pause) base_pause && shift ;;
  base-node) base_node && shift ;;
  build) build "$2" "$3" && shift 3 ;;
  import) import "$2" && shift 2 ;;
  save) start_docker && docker_ save -o "$3" "$2" && shift 3 ;;
  docker-stop) stop_docker && shift ;;
  *) die "unknown argument: $1 (see the usage at the top of ${BASH_SOURCE[0]})" ;;
  esac
done
