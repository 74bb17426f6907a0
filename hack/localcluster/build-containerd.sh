#!/usr/bin/env bash
# Builds containerd 2 (the daemon `containerd`, the shim
# `containerd-shim-runc-v2` and the client `ctr`) from its Go module at a
# pinned version, for the second row of the local cluster (Kubernetes 1.36+
# needs containerd 2.x; Debian 12 has 1.6). The runtime stays Debian's runc.
#
# The module is built as released: its own go.mod and go.sum from the module
# cache (the zip is verified against the checksum database), CGO off, so the
# binaries are static and need no C library or header. Build tags as upstream's
# Makefile, minus what needs cgo or is not used here: no_btrfs (cgo),
# no_devmapper, no_zfs (snapshotters we do not use); the shim also gets
# no_grpc like upstream's.
#
# Cached outside the work tree under a key made of everything that decides the
# output (the version, this script, `go version`):
# /var/cache/lifecycle-operator/containerd/<key>/. Prints that directory on
# stdout; progress and timings go to stderr. A second call is instant.
# usage: build-containerd.sh            (CONTAINERD2_VERSION=2.x.y to override the pin)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

CONTAINERD2_VERSION="${CONTAINERD2_VERSION:-2.4.2}"
CONTAINERD2_VERSION="${CONTAINERD2_VERSION#v}"
module=github.com/containerd/containerd/v2
tags="urfave_cli_no_docs osusergo netgo no_btrfs no_devmapper no_zfs"
shim_tags="$tags no_grpc"
cache_root="${CONTAINERD_CACHE:-/var/cache/lifecycle-operator/containerd}"
bins=(containerd containerd-shim-runc-v2 ctr)

command -v go >/dev/null || { echo "build-containerd.sh: go not found in PATH" >&2; exit 1; }
key=$(
  {
    go version
    echo "CONTAINERD2_VERSION=$CONTAINERD2_VERSION"
    sha256sum build-containerd.sh
  } | sha256sum | cut -c1-16
)
out="$cache_root/$key"
built() { local b; for b in "${bins[@]}"; do [[ -x "$out/$b" ]] || return 1; done; }
if built; then
  echo "build-containerd.sh: cached $out" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
if built; then # built while we waited
  echo "$out"
  exit 0
fi

start=$(date +%s.%N)
src=$(go mod download -json "$module@v$CONTAINERD2_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -n $src && -f $src/go.mod ]] || { echo "build-containerd.sh: could not download $module@v$CONTAINERD2_VERSION" >&2; exit 1; }

tmp="$cache_root/.tmp-$key-$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
stamp="-X $module/version.Version=v$CONTAINERD2_VERSION -X $module/version.Revision=module-v$CONTAINERD2_VERSION -X $module/version.Package=$module"
echo "build-containerd.sh: building containerd v$CONTAINERD2_VERSION into $out ..." >&2
# In the module's own folder (read-only in the module cache; go build writes
# only to its build cache and -o): its go.mod decides every dependency.
(
  cd "$src"
  export CGO_ENABLED=0 GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=readonly"
  # No DWARF from the compiler either (-w drops only the linker's): build.sh says why.
  go build -trimpath -tags "$tags" -gcflags=all=-dwarf=false -ldflags "-s -w $stamp" -o "$tmp/" \
    ./cmd/containerd ./cmd/ctr
  go build -trimpath -tags "$shim_tags" -gcflags=all=-dwarf=false -ldflags "-s -w $stamp" -o "$tmp/" \
    ./cmd/containerd-shim-runc-v2
)
echo "$CONTAINERD2_VERSION" > "$tmp/containerd-version"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
end=$(date +%s.%N)
sizes=$(cd "$out" && du -sh "${bins[@]}" | awk '{ printf "%s %s; ", $2, $1 }')
printf 'build-containerd.sh: built in %.1fs (%s)\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "${sizes%; }" >&2
# Keep the cache small: the newest three builds.
ls -1dt "$cache_root"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
echo "$out"
