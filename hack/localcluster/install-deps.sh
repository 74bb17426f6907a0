#!/usr/bin/env bash
# Installs the Debian 12 packages the local cluster needs. Idempotent: does
# nothing (not even `apt-get update`) when everything is already installed.
set -euo pipefail

# containerd + runc: the container runtime (CRI v1, cgroup v1 capable)
# containernetworking-plugins: bridge, host-local, loopback in /usr/lib/cni
# busybox-static: the test image's only binary
# iptables, conntrack, ipset: kube-proxy (iptables mode) and the CNI plugins
# iproute2: bridge, policy routing and cleanup; util-linux: nsenter, mountpoint, flock
# socat, ethtool: used by kubelet port-forward / CNI veth handling
# procps: ps; iproute2 also gives ss for check-clean.sh
pkgs=(containerd runc containernetworking-plugins busybox-static iptables conntrack ipset
      iproute2 util-linux socat ethtool procps)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only if there are none, or a first try fails.
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
fi
if ! apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps.sh: done" >&2
