#!/usr/bin/env bash
# Builds the pinned Helm from its Go module and prints the binary's path on stdout (progress goes to stderr).
#
# Helm is not in Debian and no prebuilt binary can be downloaded here, so it is compiled from the Go module
# proxy. The build is cached outside the work tree, keyed by version, so a second run is instant and a
# bump of HELM_VERSION rebuilds. Tests find the binary through this script's output or through LCO_HELM.
#
#   hack/install-helm.sh           build if needed, print the path
#   hack/install-helm.sh --check   print the path if built, else exit 1 (what the tests use: they never build)
#
#   LCO_TOOLS_DIR   where binaries are cached (default /var/cache/lifecycle-operator/bin)
#   LCO_GO_BUILD_P  parallel compile jobs (default 1: the machine's two cores are shared)
set -euo pipefail

# The newest v3 release when this was written. Its go.mod has no replace directives, so `go install
# pkg@version` works and no go.mod of ours is needed.
HELM_VERSION="v3.22.0"
# Helm's Makefile stamps the Kubernetes version it assumes for `helm template` from the client-go it
# builds against (v0.37.0 -> 1.37); without this `.Capabilities.KubeVersion` would be its fallback 1.20.
K8S_MAJOR="1"
K8S_MINOR="37"

tools_dir="${LCO_TOOLS_DIR:-/var/cache/lifecycle-operator/bin}"
binary="$tools_dir/helm-$HELM_VERSION"

if [[ ${1:-} == --check ]]; then
    [[ -x $binary ]] || { echo "install-helm: helm $HELM_VERSION is not built; run hack/install-helm.sh" >&2; exit 1; }
    echo "$binary"
    exit 0
fi

if [[ ! -x $binary ]]; then
    command -v go >/dev/null || { echo "install-helm: go is not on PATH" >&2; exit 1; }
    mkdir -p "$tools_dir"
    build_dir="$(mktemp -d)"
    trap 'rm -rf "$build_dir"' EXIT
    echo "install-helm: building helm $HELM_VERSION (a few minutes, once)" >&2
    ldflags="-s -w"
    ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        ldflags+=" -X $pkg.k8sVersionMajor=$K8S_MAJOR -X $pkg.k8sVersionMinor=$K8S_MINOR"
    done
    # -dwarf=false: no DWARF from the compiler either, as hack/localcluster/build.sh.
    CGO_ENABLED=0 GOBIN="$build_dir" go install -p "${LCO_GO_BUILD_P:-1}" -trimpath -gcflags=all=-dwarf=false \
        -ldflags "$ldflags" \
        "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    # Move into place only once the build succeeded, so an interrupted build never looks cached.
    mv "$build_dir/helm" "$binary"
fi
ln -sfn "$(basename "$binary")" "$tools_dir/helm"
echo "$binary"
