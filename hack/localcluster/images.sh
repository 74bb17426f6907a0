#!/usr/bin/env bash
# Builds our images as OCI archives (no registry, no Docker) and imports
# them into containerd's k8s.io namespace, unless the same digest is there.
#   testbox: Debian's static busybox with every applet linked, /tmp, user 65532
#   testbox:1.35-b: the same plus /etc/testbox-variant, so its own digest (the
#            image that the operator's image-update cases switch to)
#   pause:   our own pause program (cmd/pause), the CRI sandbox image
# usage: images.sh LOCALCLUSTER_BIN PAUSE_BIN OUT_DIR CONTAINERD_SOCKET [CONTAINERD_SOCKET...]
# (one socket per node: the archives are built once and imported into each).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
(($# >= 4)) || { echo "usage: images.sh LOCALCLUSTER_BIN PAUSE_BIN OUT_DIR CONTAINERD_SOCKET..." >&2; exit 2; }
lc=$1 pause=$2 out=$3
shift 3
mkdir -p "$out"
busybox=/bin/busybox
[[ -x $busybox ]] || { echo "images.sh: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

import() { # import SOCKET REF ARCHIVE DIGEST
  local sock=$1 have
  have=$(ctr -a "$sock" -n k8s.io images ls 2>/dev/null | awk 'NR > 1 { print $1, $3 }')
  if grep -qxF "$2 $4" <<<"$have"; then return 0; fi
  ctr -a "$sock" -n k8s.io images import "$3" >/dev/null
  # The image must be there now, under its name, with this digest.
  ctr -a "$sock" -n k8s.io images ls | awk -v r="$2" -v d="$4" '$1 == r && $3 == d { f = 1 } END { exit !f }' ||
    { echo "images.sh: import of $2 into $sock failed" >&2; exit 1; }
  echo "images.sh: imported $2 ($4) into $sock" >&2
}

read -r tref tdigest < <("$lc" image testbox --busybox "$busybox" --ref "$TESTBOX_IMAGE" --out "$out/testbox.oci.tar")
# The same tools with their own digest: the image that image-update tests switch a container to.
read -r uref udigest < <("$lc" image testbox --busybox "$busybox" --variant b --ref "$TESTBOX_UPDATE_IMAGE" \
  --out "$out/testbox-b.oci.tar")
read -r pref pdigest < <("$lc" image pause --pause "$pause" --ref "$PAUSE_IMAGE" --out "$out/pause.oci.tar")
for sock in "$@"; do
  import "$sock" "$tref" "$out/testbox.oci.tar" "$tdigest"
  import "$sock" "$uref" "$out/testbox-b.oci.tar" "$udigest"
  import "$sock" "$pref" "$out/pause.oci.tar" "$pdigest"
done
