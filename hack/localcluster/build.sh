#!/usr/bin/env bash
# Builds the localcluster multi-call binary and the pause program, cached
# outside the work tree under a key made of everything that decides the output
# (the Kubernetes version, its go.mod and go.sum, Go sources, this script,
# `go version`).
# Prints the cache directory holding `localcluster` and `pause` on stdout;
# progress and timings go to stderr. A second call with the same inputs is instant.
# KUBE_VERSION=1.37 (or 1.37.2) builds the second row: the same Go sources
# with k8s-1.37/go.mod (go build -modfile); see versions.sh. One version per
# call: up.sh builds each version a cluster's nodes list (KUBE_VERSION=1.34,1.37).
#
#   build.sh                  the whole multi-call binary (control plane, kubelet, tools)
#   build.sh --kubelet-only   the kubelet and our small tools, no control plane,
#                             kubectl or etcd (build tag kubelet_only): what a
#                             node of an older row than the control plane runs;
#                             about half the compile of a cold build
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
tags=() part=all
case "${1:-}" in
  "") ;;
  --kubelet-only) tags=(-tags kubelet_only) part=kubelet-only ;;
  *) echo "usage: build.sh [--kubelet-only]" >&2; exit 2 ;;
esac
. ./versions.sh
if [[ $KUBE_VERSIONS == *,* ]]; then
  echo "build.sh: one Kubernetes version at a time, not KUBE_VERSION=$KUBE_VERSIONS" >&2
  exit 2
fi

cache_root="${LOCALCLUSTER_CACHE:-/var/cache/lifecycle-operator/localcluster}"
modfile="$KUBE_MODDIR/go.mod" sumfile="$KUBE_MODDIR/go.sum"
modflag=()
if [[ $KUBE_MODDIR != . ]]; then
  modfile="${modfile#./}" sumfile="${sumfile#./}"
  modflag=(-modfile="$modfile")
fi
if ! [[ -f $modfile ]] || ! grep -Eq "^(require )?[[:space:]]*k8s.io/kubernetes v${KUBE_VERSION//./\\.}( |$)" "$modfile"; then
  echo "build.sh: $modfile is not for Kubernetes v$KUBE_VERSION; run KUBE_VERSION=$KUBE_VERSION gen-gomod.sh" >&2
  exit 1
fi
command -v go >/dev/null || { echo "build.sh: go not found in PATH" >&2; exit 1; }

key=$(
  {
    go version
    echo "KUBE_VERSION=$KUBE_VERSION part=$part"
    sha256sum build.sh "$modfile" "$sumfile"
    find . -name '*.go' -not -path './_*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
out="$cache_root/$key"
if [[ -x "$out/localcluster" && -x "$out/pause" ]]; then
  echo "build.sh: cached $out" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$cache_root"
# One lock per build (up.sh builds the versions of a cluster side by side).
exec 9>"$cache_root/.lock-$key"
flock 9
if [[ -x "$out/localcluster" && -x "$out/pause" ]]; then # built while we waited
  echo "$out"
  exit 0
fi

major="${KUBE_VERSION%%.*}"; rest="${KUBE_VERSION#*.}"; minor="${rest%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

tmp="$cache_root/.tmp-$key-$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
echo "build.sh: building localcluster (Kubernetes v$KUBE_VERSION, $part) into $out ..." >&2
# -ldflags=-w only keeps the linker from writing DWARF; -dwarf=false keeps every package's compile from
# making it (the binaries are stripped anyway), a share of the compile saved on a fresh machine.
CGO_ENABLED=0 go build "${modflag[@]}" "${tags[@]}" -trimpath -gcflags=all=-dwarf=false -ldflags="$ldflags" \
  -o "$tmp/localcluster" .
CGO_ENABLED=0 go build "${modflag[@]}" -trimpath -gcflags=all=-dwarf=false -ldflags="-s -w" -o "$tmp/pause" ./cmd/pause
echo "$KUBE_VERSION" > "$tmp/kube-version"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
end=$(date +%s.%N)
printf 'build.sh: built in %.1fs (%s)\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$(du -sh "$out/localcluster" | cut -f1)" >&2
# Keep the cache small: drop other builds, keep the newest three of each
# Kubernetes version (builds older than the kube-version file count as one version).
declare -A kept=()
while IFS= read -r d; do
  v=$(cat "$d/kube-version" 2>/dev/null || echo unknown)
  kept[$v]=$(( ${kept[$v]:-0} + 1 ))
  if (( kept[$v] > 3 )); then rm -rf "$d"; fi
done < <(ls -1dt "$cache_root"/*/ 2>/dev/null)
echo "$out"
