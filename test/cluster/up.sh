#!/usr/bin/env bash
# `npm run cluster:up [-- --control-plane] [-- name]`: builds what is missing, starts the
# single node cluster (or just a control plane) and prints the kubeconfig path.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "${CLUSTER_DIR}/build.sh"
NODE="${REPO_DIR}/node_modules/.bin/node"
[[ -x "${NODE}" ]] || NODE=node
exec "${NODE}" "${CLUSTER_DIR}/cli.ts" up "$@"
