#!/usr/bin/env bash
# `npm run cluster:down`: stops what cluster:up started (by PID) and removes its mounts,
# bridge, network namespaces, iptables chains and cgroups.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NODE="${REPO_DIR}/node_modules/.bin/node"
[[ -x "${NODE}" ]] || NODE=node
exec "${NODE}" "${CLUSTER_DIR}/cli.ts" down "$@"
