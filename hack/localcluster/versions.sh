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
# Another patch release: change it here, run `KUBE_VERSION=X.Y.Z gen-gomod.sh`.
KUBE_DEFAULT_VERSION=1.34.4
KUBE_SECOND_VERSION=1.37.2
KUBE_VERSION="${KUBE_VERSION:-$KUBE_DEFAULT_VERSION}"
case "$KUBE_VERSION" in
  "${KUBE_DEFAULT_VERSION%.*}") KUBE_VERSION=$KUBE_DEFAULT_VERSION ;;
  "${KUBE_SECOND_VERSION%.*}") KUBE_VERSION=$KUBE_SECOND_VERSION ;;
esac
KUBE_MINOR="${KUBE_VERSION%.*}"
# Staging modules (k8s.io/api, k8s.io/client-go, ...) are tagged v0.<minor>.<patch>.
KUBE_STAGING_VERSION="v0.${KUBE_VERSION#*.}"
# Folder of the go.mod/go.sum that pins this version (relative to this file).
if [[ $KUBE_MINOR == "${KUBE_DEFAULT_VERSION%.*}" ]]; then
  KUBE_MODDIR=.
else
  KUBE_MODDIR="k8s-$KUBE_MINOR"
fi
# Which containerd the kubelet of this version needs: Kubernetes 1.35 is the
# last minor that supports containerd 1.x (Debian's 1.6); from 1.36 on it is
# containerd 2, built from its Go module by build-containerd.sh (which pins it).
if (( ${KUBE_MINOR#*.} >= 36 )); then
  KUBE_CONTAINERD=built
else
  KUBE_CONTAINERD=debian
fi
