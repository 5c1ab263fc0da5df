# Shared helpers for the test/cluster scripts (sourced, not executed).
# Why bash: these scripts run before node_modules or any cluster exists (CI prereqs,
# humans on a fresh VM) and mostly drive other binaries.

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${CLUSTER_DIR}/../.." && pwd)"
# shellcheck source=versions.env
source "${CLUSTER_DIR}/versions.env"

HOTUPGRADE_CACHE="${HOTUPGRADE_CACHE:-${HOME}/.cache/hotupgrade}"
BIN_CACHE="${HOTUPGRADE_CACHE}/bin"
LOG_DIR="${HOTUPGRADE_CACHE}/logs"
K8S_BIN="${BIN_CACHE}/kubernetes-${K8S_VERSION}"
ETCD_BIN="${BIN_CACHE}/etcd-${ETCD_VERSION}"
HELM_BIN="${BIN_CACHE}/helm-${HELM_VERSION}"
PAUSE_BIN="${BIN_CACHE}/pause-${K8S_VERSION}"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
# Our own image of the pause container, tagged so it never collides with registry.k8s.io.
PAUSE_IMAGE="hotupgrade.local/pause:${K8S_VERSION}"
mkdir -p "${BIN_CACHE}" "${LOG_DIR}"

_T0="${_T0:-$(date +%s)}"
elapsed() { local s=$(($(date +%s) - _T0)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
log() { printf '[cluster %s] %s\n' "$(elapsed)" "$*" >&2; }
die() { printf '[cluster %s] ERROR: %s\n' "$(elapsed)" "$*" >&2; exit 1; }

# run_step <i/n> <title> <logfile> <command...>: runs a long command with its output in a
# log file, printing a heartbeat every 30 s so CI logs show progress; on failure it names
# the step and the log, and prints the log's tail.
run_step() {
  local idx="$1" title="$2" logfile="$3"
  shift 3
  local start
  start=$(date +%s)
  log "step ${idx}: ${title} (log: ${logfile})"
  "$@" >"${logfile}" 2>&1 &
  local pid=$!
  while kill -0 "${pid}" 2>/dev/null; do
    local waited=0
    while ((waited < 30)) && kill -0 "${pid}" 2>/dev/null; do
      sleep 1
      waited=$((waited + 1))
    done
    if kill -0 "${pid}" 2>/dev/null; then
      log "step ${idx}: ${title}: still running, $(($(date +%s) - start))s in step$(step_progress "${logfile}")"
    fi
  done
  if ! wait "${pid}"; then
    tail -n 30 "${logfile}" >&2 || true
    die "step ${idx} failed: ${title}; read ${logfile}"
  fi
  log "step ${idx}: ${title}: done in $(($(date +%s) - start))s"
}

# ", N/M packages compiled" when the step wrote M to <log>.total and runs `go build -v`
# (which prints each package it compiles; packages already in Go's build cache are not
# printed, so N may end below M).
step_progress() {
  local total
  total=$(cat "$1.total" 2>/dev/null) || return 0
  printf ', %s/%s packages compiled' "$(grep -cv -e '^go: ' -e '^#' "$1" 2>/dev/null || true)" "${total}"
}

require_go() {
  command -v go >/dev/null 2>&1 || [[ -x /usr/local/go/bin/go ]] ||
    die "go is missing: install Go >= 1.26 (https://go.dev/dl/) and put it on PATH"
  command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:${PATH}"
}
