#!/usr/bin/env bash
# Builds the localcluster multi-call binary and the pause program, cached
# outside the work tree under a key made of everything that decides the output
# (go.mod, go.sum, Go sources, versions.sh, this script, `go version`).
# Prints the cache directory holding `localcluster` and `pause` on stdout;
# progress and timings go to stderr. A second call with the same inputs is instant.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
. ./versions.sh

cache_root="${LOCALCLUSTER_CACHE:-/var/cache/lifecycle-operator/localcluster}"
if ! grep -Eq "^(require )?[[:space:]]*k8s.io/kubernetes v${KUBE_VERSION//./\\.}( |$)" go.mod; then
  echo "build.sh: go.mod is not for Kubernetes v$KUBE_VERSION; run gen-gomod.sh" >&2
  exit 1
fi
command -v go >/dev/null || { echo "build.sh: go not found in PATH" >&2; exit 1; }

key=$(
  {
    go version
    echo "KUBE_VERSION=$KUBE_VERSION"
    sha256sum build.sh versions.sh go.mod go.sum
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
exec 9>"$cache_root/.lock"
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
echo "build.sh: building localcluster (Kubernetes v$KUBE_VERSION) into $out ..." >&2
CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$tmp/localcluster" .
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$tmp/pause" ./cmd/pause
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
end=$(date +%s.%N)
printf 'build.sh: built in %.1fs (%s)\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$(du -sh "$out/localcluster" | cut -f1)" >&2
# Keep the cache small: drop other builds, keep the newest three.
ls -1dt "$cache_root"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
echo "$out"
