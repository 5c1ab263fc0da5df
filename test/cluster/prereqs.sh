#!/usr/bin/env bash
# Installs what test/cluster needs on Debian 12 (CI and fresh VMs), idempotently, and
# checks Go. Run as root: `bash test/cluster/prereqs.sh`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(
  docker.io                    # dockerd (image builds), containerd 1.6 (CRI for the kubelet), runc
  containernetworking-plugins  # bridge, host-local, loopback, portmap CNI plugins
  iptables conntrack ipset      # kube-proxy (iptables mode)
  nftables                      # nft: teardown removes the empty iptables-nft tables it created
  iproute2 kmod                 # ip, modprobe (br_netfilter)
  openssl                       # cluster certificates
  busybox-static                # base of the smoke-test images
  gcc libc6-dev                 # static pause binary from kubernetes' build/pause/linux/pause.c
  debootstrap                   # Debian rootfs of the local Node 24 base images (images/)
  prometheus                    # e2e: a real Prometheus scrapes the controller and sidecars; promtool
  ca-certificates curl procps util-linux socat
)

[[ $(id -u) == 0 ]] || die "prereqs.sh must run as root (it apt-get installs ${PKGS[*]%%#*})"
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${p}")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages already installed"
fi
require_go
ver=$(go env GOVERSION)
minor=${ver#go1.}
minor=${minor%%.*}
((minor >= 26)) || die "Go ${ver} is too old: kubernetes ${K8S_VERSION} needs Go >= 1.26 (https://go.dev/dl/)"
log "prerequisites ok (Go ${ver})"
