# shellcheck shell=bash
# The Kubernetes versions of the local cluster, in one place. Sourced by
# gen-gomod.sh (writes go.mod/go.sum for a version), build.sh (version stamps;
# it refuses a go.mod for another version) and lib.sh.
#
# Two rows, chosen by one variable, KUBE_VERSION (a full version or just its
# minor, e.g. KUBE_VERSION=1.37):
#   KUBE_DEFAULT_VERSION  go.mod/go.sum in this folder; Debian's containerd 1.6
#   KUBE_SECOND_VERSION   go.mod/go.sum in k8s-<minor>/ (one go.mod pins one
#                         k8s.io/kubernetes); containerd 2 from build-containerd.sh
# Both are built from the same Go sources (go build -modfile).
# KUBE_VERSION may also list one version per node, comma-separated:
# KUBE_VERSION=1.34,1.37 is a cluster whose node 1 runs kubelet 1.34 on
# Debian's containerd and node 2 kubelet 1.37 on containerd 2, both rows at
# once (a node past the list runs the last version). The control plane runs
# the newest version of the list: a kubelet may be up to three minors older
# than its API server, never newer. KUBE_VERSION=both is both rows, node 1 on
# the first (hack/test.sh and hack/demo.sh run that cluster, with 2 nodes).
# Another patch release: change it here, run `KUBE_VERSION=X.Y.Z gen-gomod.sh`.
KUBE_DEFAULT_VERSION=1.34.4
KUBE_SECOND_VERSION=1.37.2

# kube_full VERSION: the full version of a row given as its minor (1.37 -> 1.37.2).
kube_full() {
  case "$1" in
    "${KUBE_DEFAULT_VERSION%.*}") echo "$KUBE_DEFAULT_VERSION" ;;
    "${KUBE_SECOND_VERSION%.*}") echo "$KUBE_SECOND_VERSION" ;;
    *) echo "$1" ;;
  esac
}

# kube_containerd VERSION: which containerd a kubelet of VERSION needs. Kubernetes
# 1.35 is the last minor that supports containerd 1.x (Debian's 1.6); from 1.36
# on it is containerd 2, built from its Go module by build-containerd.sh (which
# pins it). Prints `debian` or `built`.
kube_containerd() {
  local minor=${1#*.}
  minor=${minor%%.*}
  if ((minor >= 36)); then echo built; else echo debian; fi
}

# KUBE_NODE_VERSIONS: node N's kubelet version is element N-1 (full versions).
KUBE_NODE_VERSIONS=()
_kube_given=${KUBE_VERSION:-$KUBE_DEFAULT_VERSION}
[[ $_kube_given == both ]] && _kube_given="$KUBE_DEFAULT_VERSION,$KUBE_SECOND_VERSION"
IFS=, read -r -a _kube_listed <<<"$_kube_given"
for _v in "${_kube_listed[@]}"; do KUBE_NODE_VERSIONS+=("$(kube_full "${_v// /}")"); done
# KUBE_VERSION: the control plane's, the newest listed (sort -V).
KUBE_VERSION=$(printf '%s\n' "${KUBE_NODE_VERSIONS[@]}" | sort -V | tail -1)
# KUBE_VERSIONS: the list as given, in full versions (recorded by up.sh for
# the scripts that act on the running cluster: node.sh, component.sh).
KUBE_VERSIONS=$(IFS=,; echo "${KUBE_NODE_VERSIONS[*]}")
unset _kube_given _kube_listed _v
KUBE_MINOR="${KUBE_VERSION%.*}"
# Staging modules (k8s.io/api, k8s.io/client-go, ...) are tagged v0.<minor>.<patch>.
KUBE_STAGING_VERSION="v0.${KUBE_VERSION#*.}"
# Folder of the go.mod/go.sum that pins this version (relative to this file).
if [[ $KUBE_MINOR == "${KUBE_DEFAULT_VERSION%.*}" ]]; then
  KUBE_MODDIR=.
else
  KUBE_MODDIR="k8s-$KUBE_MINOR"
fi
KUBE_CONTAINERD=$(kube_containerd "$KUBE_VERSION")

# kube_node_version N: node N's kubelet version (the last listed for a node past the list).
kube_node_version() {
  local i=$(($1 - 1)) last=$((${#KUBE_NODE_VERSIONS[@]} - 1))
  ((i <= last)) || i=$last
  echo "${KUBE_NODE_VERSIONS[$i]}"
}
