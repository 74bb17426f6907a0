# Shared settings of the image scripts (wheelhouse.sh, base.sh, build.sh, check.sh).
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
IMG_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMG_ROOT="$(cd "$IMG_HERE/../.." && pwd)"

# Everything the image build keeps lives outside the work tree, so a fresh clone reuses it and nothing in
# the repository is touched but _out/wheelhouse (ignored by git).
IMG_CACHE="${LCO_IMAGE_CACHE:-/var/cache/lifecycle-operator/image}"
IMG_WHEELHOUSE="${LCO_WHEELHOUSE:-$IMG_ROOT/_out/wheelhouse}"
# buildah (and podman, for check.sh) get storage of their own, so they never share or lock the machine's
# default /var/lib/containers with anything else.
IMG_STORAGE_ROOT="$IMG_CACHE/storage"
IMG_STORAGE_RUNROOT="$IMG_CACHE/run"
IMG_DRIVER_FILE="$IMG_CACHE/storage-driver"

BASE_SUITE="bookworm"
BASE_IMAGE="localhost/lifecycle-operator/base:$BASE_SUITE"
OPERATOR_REPO="localhost/lifecycle-operator/operator"

img_log() { echo "image: $*" >&2; }
img_now() { date +%s.%N; }
img_since() { awk -v a="$1" -v b="$(img_now)" 'BEGIN { printf "%.1f", b - a }'; }

# The storage driver: overlay unless it was found not to work here (base.sh then records vfs).
img_driver() {
  if [[ -s $IMG_DRIVER_FILE ]]; then cat "$IMG_DRIVER_FILE"; else echo overlay; fi
}

bah() {
  buildah --root "$IMG_STORAGE_ROOT" --runroot "$IMG_STORAGE_RUNROOT" --storage-driver "$(img_driver)" "$@"
}

# img_image_id REF: the ID of a local image, or nothing.
img_image_id() {
  { bah images --noheading --no-trunc --format '{{.ID}}' "$1" 2>/dev/null || true; } | head -n1
}

img_need() { # img_need COMMAND PACKAGE...: apt-get install the packages when the command is missing
  local cmd=$1; shift
  command -v "$cmd" >/dev/null && return 0
  if [[ $(id -u) -ne 0 ]]; then
    img_log "$cmd is missing; install (as root): apt-get install $*"
    exit 1
  fi
  img_log "installing $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

# The project's version, from pyproject.toml; the package's __version__ (what `--version` prints) must agree,
# or the image's tag would lie.
img_version() {
  python3 - "$IMG_ROOT/pyproject.toml" "$IMG_ROOT/operator/lifecycle_operator/__init__.py" <<'PY'
import re, sys, tomllib
with open(sys.argv[1], "rb") as f:
    version = tomllib.load(f)["project"]["version"]
with open(sys.argv[2]) as f:
    m = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M)
if not m or m.group(1) != version:
    sys.exit(f"pyproject.toml says {version}, __version__ says {m and m.group(1)}: make them agree")
print(version)
PY
}
