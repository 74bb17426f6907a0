#!/usr/bin/env bash
# Puts promtool (from Debian's `prometheus` package) in the tools cache and prints its path on stdout.
#
# Why not `apt-get install prometheus`: that package's maintainer script starts a Prometheus server
# listening on every interface (:9090) on machines without systemd, like CI's. We only need promtool, so
# the package is downloaded with apt and unpacked into the cache; nothing is installed or started.
#
#   LCO_TOOLS_DIR   where binaries are cached (default /var/cache/lifecycle-operator/bin)
set -euo pipefail

tools_dir="${LCO_TOOLS_DIR:-/var/cache/lifecycle-operator/bin}"
unpack_dir="$tools_dir/../prometheus-deb"

if [[ ! -x $tools_dir/promtool ]]; then
    mkdir -p "$tools_dir"
    download_dir="$(mktemp -d)"
    trap 'rm -rf "$download_dir"' EXIT
    echo "install-promtool: downloading Debian's prometheus package" >&2
    if ! (cd "$download_dir" && apt-get -o APT::Sandbox::User=root download prometheus >&2); then
        apt-get update >&2
        (cd "$download_dir" && apt-get -o APT::Sandbox::User=root download prometheus >&2)
    fi
    rm -rf "$unpack_dir"
    dpkg-deb -x "$download_dir"/prometheus_*.deb "$unpack_dir"
    ln -sfn "$(realpath "$unpack_dir/usr/bin/promtool")" "$tools_dir/promtool"
fi
echo "$tools_dir/promtool"
