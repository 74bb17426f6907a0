#!/usr/bin/env bash
# Builds the base image localhost/lifecycle-operator/base:bookworm with no registry: Debian 12 (minbase)
# with python3, python3-venv and ca-certificates, made by debootstrap from the Debian mirror this machine's
# apt already uses, then committed with buildah from scratch. Nothing is pulled from a container registry.
#
# Cached by a hash of this script and the package list (kept as a label on the image): a second run only
# checks. Prints the image's ID on stdout; progress and times go to stderr.
#
#   hack/image/base.sh
#
#   LCO_IMAGE_CACHE       where the rootfs and buildah's storage live (default /var/cache/lifecycle-operator/image)
#   LCO_DEBIAN_MIRROR     the mirror for debootstrap (default: the one in /etc/apt/sources*)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
t0=$(img_now)

# python3-venv gives the image `python3 -m venv` with pip (ensurepip); ca-certificates lets the Kubernetes
# client verify anything beyond the in-cluster CA it is handed.
packages=(python3 python3-venv ca-certificates)
arch=$(dpkg --print-architecture)
label="lifecycle.conformance.dev/image-inputs"
inputs=$( { cat "$0"; echo "${packages[*]} $BASE_SUITE $arch"; } | sha256sum | cut -d' ' -f1)

if [[ $(id -u) -ne 0 ]]; then
  img_log "base: must run as root (debootstrap, buildah mount)"
  exit 1
fi
img_need debootstrap debootstrap
img_need buildah buildah
mkdir -p "$IMG_CACHE"

id=$(img_image_id "$BASE_IMAGE")
if [[ -n $id ]] &&
  [[ $(bah inspect --type image --format "{{index .OCIv1.Config.Labels \"$label\"}}" "$BASE_IMAGE") == "$inputs" ]]; then
  img_log "base: $BASE_IMAGE up to date ($(img_since "$t0")s)"
  echo "$id"
  exit 0
fi

# The Debian mirror: from the environment, or the first source of this machine's apt that serves the suite's
# main component (one-line .list or deb822 .sources files). Never written into any file of ours.
mirror="${LCO_DEBIAN_MIRROR:-}"
if [[ -z $mirror ]]; then
  mirror=$(python3 - "$BASE_SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources <<'PY'
import sys
from pathlib import Path

suite, files = sys.argv[1], sys.argv[2:]

def entries(path: Path):
    text = path.read_text()
    if path.suffix == ".sources":  # deb822 stanzas
        for stanza in text.split("\n\n"):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0] in " \t" and key:
                    fields[key] += " " + line.strip()
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                yield (fields.get("types", "").split(), uri, fields.get("suites", "").split(),
                       fields.get("components", "").split())
    else:  # one-line: deb [options] uri suite component...
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) > 1 and words[1].startswith("["):
                while words and not words[1].endswith("]"):
                    del words[1]
                del words[1]
            if len(words) >= 4:
                yield [words[0]], words[1], [words[2]], words[3:]

for name in files:
    path = Path(name)
    if not path.is_file():
        continue
    for types, uri, suites, components in entries(path):
        if "deb" in types and suite in suites and "main" in components:
            print(uri)
            sys.exit(0)
sys.exit(f"no apt source serves {suite} main")
PY
)
fi

# overlay unless this machine cannot do it; the choice is made once, on empty storage.
if [[ ! -s $IMG_DRIVER_FILE ]]; then
  if probe=$(buildah --root "$IMG_STORAGE_ROOT" --runroot "$IMG_STORAGE_RUNROOT" --storage-driver overlay \
      from scratch 2>&1); then
    bah rm "$probe" >/dev/null
    echo overlay >"$IMG_DRIVER_FILE"
  else
    img_log "base: the overlay storage driver fails here ($probe); using vfs"
    rm -rf "$IMG_STORAGE_ROOT" "$IMG_STORAGE_RUNROOT"
    echo vfs >"$IMG_DRIVER_FILE"
  fi
fi

rootfs="$IMG_CACHE/base-rootfs"
cleanup() {
  # debootstrap mounts proc and sys in the target; never leave them behind, nor the rootfs.
  awk '{ print $5 }' /proc/self/mountinfo | grep -F "$rootfs/" | sort -r | xargs -r -n1 umount -l || true
  rm -rf "$rootfs"
  if [[ -n ${ctr:-} ]]; then bah rm "$ctr" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
cleanup

t=$(img_now)
img_log "base: debootstrap --variant=minbase $BASE_SUITE with ${packages[*]}"
debootstrap --variant=minbase --arch="$arch" --include="$(IFS=,; echo "${packages[*]}")" \
  "$BASE_SUITE" "$rootfs" "$mirror" >"$IMG_CACHE/debootstrap.log" 2>&1 || {
  img_log "base: debootstrap failed; last lines of $IMG_CACHE/debootstrap.log:"
  tail -n 20 "$IMG_CACHE/debootstrap.log" >&2
  exit 1
}
chroot "$rootfs" apt-get clean
# What an image does not need: package lists, logs, docs (the copyright files stay), the host's name and
# resolver (the runtime provides both), and the apt sources, which would name this machine's mirror.
r="${rootfs:?}"
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/debconf/*-old "$r"/var/log/*.log \
  "$r"/var/log/apt/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/etc/apt/sources.list \
  "$r"/etc/apt/sources.list.d/* "$r"/etc/hostname "$r"/etc/resolv.conf "${r:?}"/dev/*
find "$rootfs"/usr/share/doc -type f ! -name copyright -delete
find "$rootfs"/usr/share/doc -type d -empty -delete
img_log "base: debootstrap done, $(du -sh "$rootfs" | cut -f1), in $(img_since "$t")s"

t=$(img_now)
ctr=$(bah from scratch)
mnt=$(bah mount "$ctr")
cp -a "$rootfs"/. "$mnt"/
bah umount "$ctr" >/dev/null
bah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
  --cmd '["python3"]' --label "$label=$inputs" \
  --label org.opencontainers.image.title="Debian $BASE_SUITE minbase with python3" "$ctr"
bah commit --quiet --rm "$ctr" "$BASE_IMAGE" >/dev/null
ctr=""
bah rmi --prune >/dev/null 2>&1 || true
id=$(img_image_id "$BASE_IMAGE")
img_log "base: committed $BASE_IMAGE ($id) in $(img_since "$t")s; total $(img_since "$t0")s"
echo "$id"
