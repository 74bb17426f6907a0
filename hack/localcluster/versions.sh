# shellcheck shell=bash
# The Kubernetes version of the local cluster, in one place. Sourced by
# gen-gomod.sh (writes go.mod/go.sum for it), build.sh (version stamps; it
# refuses a go.mod for another version) and lib.sh.
# Another version: change KUBE_VERSION here (or export it), run gen-gomod.sh,
# rebuild. Two versions side by side would need a second module directory
# generated the same way, since one go.mod pins one k8s.io/kubernetes.
KUBE_VERSION="${KUBE_VERSION:-1.34.4}"
# Staging modules (k8s.io/api, k8s.io/client-go, ...) are tagged v0.<minor>.<patch>.
KUBE_STAGING_VERSION="v0.${KUBE_VERSION#*.}"
