#!/usr/bin/env bash
# `npm run e2e:kind`: the same end-to-end suite (test/e2e) on a kind cluster, for people
# with Docker and internet access. It cannot run on the project's CI machine (no registry
# is reachable there to pull kind's node image), so it is written but untested: report
# what breaks.
#
#   1. creates kind cluster "hotupgrade-e2e" (kept if it exists; KIND_KEEP=1 keeps it afterwards)
#   2. routes the cluster's pod and service ranges to the kind node, so the load generator
#      and Prometheus on this host reach ClusterIPs and pod IPs, as they do on the local node
#   3. runs test/e2e with KUBECONFIG_E2E set; the suite builds the images with the
#      repository's Dockerfile (real base images pulled from their registries) and loads
#      them with `kind load image-archive`
#
# Needs: kind, docker, Linux (the routes), root or sudo for `ip route`, helm and kubectl on
# PATH (or the ones test/cluster builds), Debian's prometheus (promtool, prometheus).
set -euo pipefail
cd "$(dirname "$0")/../.."
CLUSTER="${KIND_CLUSTER:-hotupgrade-e2e}"
POD_CIDR=198.18.0.0/16
SVC_CIDR=198.19.0.0/16
command -v kind >/dev/null || { echo "kind is not installed: https://kind.sigs.k8s.io/docs/user/quick-start/" >&2; exit 1; }
command -v docker >/dev/null || { echo "docker is not installed" >&2; exit 1; }

if ! kind get clusters | grep -qx "${CLUSTER}"; then
  cat >"/tmp/${CLUSTER}.yaml" <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  podSubnet: ${POD_CIDR}
  serviceSubnet: ${SVC_CIDR}
EOF
  kind create cluster --name "${CLUSTER}" --config "/tmp/${CLUSTER}.yaml" --wait 120s
fi
KUBECONFIG_FILE="$(mktemp)"
kind get kubeconfig --name "${CLUSTER}" >"${KUBECONFIG_FILE}"
NODE_IP="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "${CLUSTER}-control-plane")"
SUDO=""
[[ $(id -u) == 0 ]] || SUDO=sudo
${SUDO} ip route replace "${POD_CIDR}" via "${NODE_IP}"
${SUDO} ip route replace "${SVC_CIDR}" via "${NODE_IP}"
cleanup() {
  ${SUDO} ip route del "${POD_CIDR}" via "${NODE_IP}" 2>/dev/null || true
  ${SUDO} ip route del "${SVC_CIDR}" via "${NODE_IP}" 2>/dev/null || true
  [[ "${KIND_KEEP:-0}" == 1 ]] || kind delete cluster --name "${CLUSTER}"
  rm -f "${KUBECONFIG_FILE}"
}
trap cleanup EXIT

export KUBECONFIG_E2E="${KUBECONFIG_FILE}"
export HOTUPGRADE_IMAGE_LOADER="kind load image-archive --name ${CLUSTER}"
npx vitest run --project cluster test/e2e/
