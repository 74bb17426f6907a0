#!/usr/bin/env bash
# Builds the operator's image localhost/lifecycle-operator/operator:<version> with no registry and no network:
# the wheelhouse (wheelhouse.sh), the Debian base (base.sh), then `buildah bud --network=none --pull=never`
# of the Dockerfile, exported as an OCI archive that containerd can import. Prints the archive's path on
# stdout; progress and times go to stderr.
#
# Cached by a hash of every input (Dockerfile, .dockerignore, pyproject.toml, README.md, operator/, the
# wheels, the base image's ID, these scripts and slim.py): a second run with the same inputs only checks.
# The last line on stderr is `image: <ref>  size <unpacked> (archive <size>)`, for CI logs.
#
#   hack/image/build.sh            build (if needed) and export
#   hack/image/build.sh --import   also import the archive into the local cluster's containerd (k8s.io
#                                  namespace), unless the same digest is there already
#
#   LCO_IMAGE_CACHE      buildah's storage and the archives (default /var/cache/lifecycle-operator/image)
#   CONTAINERD_ADDRESS   containerd socket for --import (default: every node's that hack/localcluster starts)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
t0=$(img_now)

do_import=false
for arg in "$@"; do
  case "$arg" in
    --import) do_import=true ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) img_log "build: unknown argument $arg (see --help)"; exit 2 ;;
  esac
done

version=$(img_version)
ref="$OPERATOR_REPO:$version"
archive="$IMG_CACHE/operator-$version.tar"
label="lifecycle.conformance.dev/image-inputs"

t=$(img_now)
wheelhouse=$("$IMG_HERE/wheelhouse.sh")
t_wheels=$(img_since "$t")
t=$(img_now)
base_id=$("$IMG_HERE/base.sh")
t_base=$(img_since "$t")

inputs=$(
  cd "$IMG_ROOT"
  {
    find Dockerfile .dockerignore pyproject.toml README.md operator "$IMG_HERE"/{lib.sh,build.sh,slim.py} \
      -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path '*.egg-info/*' -print0 |
      sort -z | xargs -0 sha256sum
    (cd "$wheelhouse" && sha256sum ./*.whl)
    echo "$base_id"
  } | sha256sum | cut -d' ' -f1
)

t=$(img_now)
id=$(img_image_id "$ref")
if [[ -n $id && -s $archive && -s $archive.inputs && $(<"$archive.inputs") == "$inputs" ]] &&
  [[ $(bah inspect --type image --format "{{index .OCIv1.Config.Labels \"$label\"}}" "$ref") == "$inputs" ]]; then
  img_log "build: $ref up to date ($id)"
  t_build=$(img_since "$t")
else
  img_log "build: buildah bud $ref"
  bah bud --quiet --network=none --pull=never --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --label org.opencontainers.image.version="$version" --label "$label=$inputs" \
    --tag "$ref" --file "$IMG_ROOT/Dockerfile" "$IMG_ROOT" >/dev/null
  id=$(img_image_id "$ref")
  bah rmi --prune >/dev/null 2>&1 || true
  t_build=$(img_since "$t")
  t=$(img_now)
  rm -f "$archive.inputs" "$archive.tmp"
  bah push --quiet --digestfile "$archive.digest" "$ref" "oci-archive:$archive.tmp:$ref"
  mv -f "$archive.tmp" "$archive"
  echo "$inputs" >"$archive.inputs"
  img_log "build: exported $archive in $(img_since "$t")s"
fi
img_log "build: $ref ($id); archive at $archive"
img_log "build: times: wheelhouse ${t_wheels}s, base ${t_base}s, image ${t_build}s"

if $do_import; then
  t=$(img_now)
  if [[ -n ${CONTAINERD_ADDRESS:-} ]]; then
    sockets=("$CONTAINERD_ADDRESS")
  else
    # Every node's containerd, as hack/localcluster defines them: the chart's pod may land on any node.
    mapfile -t sockets < <(. "$IMG_ROOT/hack/localcluster/lib.sh" && lc_ctr_socks)
  fi
  digest=$(<"$archive.digest")
  for socket in "${sockets[@]}"; do
    [[ -S $socket ]] || {
      img_log "build: no containerd socket at $socket: is the local cluster up (hack/localcluster/up.sh)?"
      exit 1
    }
    kctr() { ctr -a "$socket" -n k8s.io "$@"; }
    present() { kctr images ls | awk -v r="$ref" -v d="$digest" '$1 == r && $3 == d { f = 1 } END { exit !f }'; }
    if present; then
      img_log "build: $ref ($digest) is already in $socket"
    else
      # buildah names the image in the archive's index (org.opencontainers.image.ref.name); --base-name
      # lets ctr take that name as it is.
      kctr images import --base-name "$OPERATOR_REPO" "$archive" >/dev/null
      present || { img_log "build: after the import, $socket has no $ref with digest $digest"; exit 1; }
      img_log "build: imported $ref ($digest) into $socket"
    fi
  done
  img_log "build: import done in $(img_since "$t")s"
fi
img_log "build: done in $(img_since "$t0")s"
# One line for CI logs: the unpacked size as buildah counts it, and the archive's (compressed layers).
size=$(bah images --noheading --format '{{.Size}}' "$ref" | head -n1)
img_log "$ref  size $size (archive $(stat -c %s "$archive" | awk '{ printf "%.3g MB", $1 / 1e6 }'))"
echo "$archive"
