#!/usr/bin/env bash
# Node 22 must keep working (the project targets Node 24 LTS). Installs Node 22 from the
# npm registry into a cache outside the repo and runs the unit and protocol suites on it:
# vitest, and every process the suites start (process.execPath), then run on Node 22.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${HOME}/.cache/hotupgrade/node22"
if [[ ! -x "${prefix}/node_modules/.bin/node" ]]; then
  echo "[node22] installing node@22 into ${prefix}"
  npm install --prefix "${prefix}" --no-audit --no-fund --no-save node@22 >/dev/null
fi
node22="${prefix}/node_modules/.bin/node"
echo "[node22] $("${node22}" --version)"
PATH="$(dirname "$(readlink -f "${node22}")"):${PATH}" "${node22}" node_modules/vitest/vitest.mjs run --project unit --project protocol
