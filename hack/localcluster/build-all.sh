#!/usr/bin/env bash
# Builds (or finds cached) every binary `up.sh --nodes N` needs, side by side
# (lc_prebuild in lib-nodes.sh), for the Kubernetes versions KUBE_VERSION
# names; starts nothing and installs no package. hack/test.sh runs it in the
# background while it sets up Python and lints, so that on a fresh machine the
# Go builds overlap that work.
#   build-all.sh [--nodes N]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
nodes=1
case "${1:-}" in
  "") ;;
  --nodes) nodes=${2:?usage: build-all.sh [--nodes N]} ;;
  *) echo "usage: build-all.sh [--nodes N]" >&2; exit 2 ;;
esac
t=$(lc_now)
lc_prebuild "$nodes"
lc_log "every binary of a $nodes-node cluster (Kubernetes $KUBE_VERSIONS) built or cached ($(lc_since "$t")s)"
