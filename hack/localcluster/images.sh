#!/usr/bin/env bash
# Builds our two images as OCI archives (no registry, no Docker) and imports
# them into containerd's k8s.io namespace, unless the same digest is there.
#   testbox: Debian's static busybox with every applet linked, /tmp, user 65532
#   pause:   our own pause program (cmd/pause), the CRI sandbox image
# usage: images.sh LOCALCLUSTER_BIN PAUSE_BIN OUT_DIR CONTAINERD_SOCKET
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lc=$1 pause=$2 out=$3 sock=$4
mkdir -p "$out"
busybox=/bin/busybox
[[ -x $busybox ]] || { echo "images.sh: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

have=$(ctr -a "$sock" -n k8s.io images ls 2>/dev/null | awk 'NR > 1 { print $1, $3 }')
import() { # import REF ARCHIVE DIGEST
  if grep -qxF "$1 $3" <<<"$have"; then return 0; fi
  ctr -a "$sock" -n k8s.io images import "$2" >/dev/null
  # The image must be there now, under its name, with this digest.
  ctr -a "$sock" -n k8s.io images ls | awk -v r="$1" -v d="$3" '$1 == r && $3 == d { f = 1 } END { exit !f }' ||
    { echo "images.sh: import of $1 failed" >&2; exit 1; }
  echo "images.sh: imported $1 ($3)" >&2
}

read -r ref digest < <("$lc" image testbox --busybox "$busybox" --ref "$TESTBOX_IMAGE" --out "$out/testbox.oci.tar")
import "$ref" "$out/testbox.oci.tar" "$digest"
read -r ref digest < <("$lc" image pause --pause "$pause" --ref "$PAUSE_IMAGE" --out "$out/pause.oci.tar")
import "$ref" "$out/pause.oci.tar" "$digest"
