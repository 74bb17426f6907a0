#!/usr/bin/env bash
# Builds the wheelhouse the image is built from: a wheel of every runtime dependency of the operator, plus
# the build backend that pyproject.toml names, in _out/wheelhouse/ (ignored by git). The Dockerfile installs
# only from it (--no-index), so nothing inside the image build reaches the network.
#
# pip runs with the machine's own configuration (index, certificates, proxies): nothing here names an index.
# When .venv exists (hack/setup.sh), its versions are the constraints, so the image runs the versions the
# tests ran. The wheels must suit the base image's Python (Debian 12: CPython 3.11 on glibc 2.36), so the
# Python that builds them must be a 3.11 too. Cached: a second run with the same inputs only checks.
#
#   hack/image/wheelhouse.sh      prints the wheelhouse's path on stdout
#
#   LCO_WHEEL_PYTHON   the Python whose pip builds the wheels (default: python3)
#   LCO_WHEELHOUSE     where the wheels go (default: _out/wheelhouse)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
t0=$(img_now)
py="${LCO_WHEEL_PYTHON:-python3}"
want_python="3.11" # the python3 of Debian 12, the base image

have_python=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [[ $have_python != "$want_python" ]]; then
  img_log "wheelhouse: $py is Python $have_python; the base image has $want_python (set LCO_WHEEL_PYTHON)"
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Constraints: the versions installed in .venv, less the project itself.
constraints="$work/constraints.txt"
if [[ -x $IMG_ROOT/.venv/bin/python ]]; then
  "$IMG_ROOT/.venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check |
    grep -viE '^lifecycle[-_]operator([=@ ]|$)' >"$constraints" || true
else
  img_log "wheelhouse: no .venv; taking the newest versions pyproject.toml allows"
  : >"$constraints"
fi
# The build backend's requirement, for the image's own `pip wheel` of the project.
mapfile -t build_requires < <("$py" - "$IMG_ROOT/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["build-system"]["requires"]))
PY
)

inputs=$( {
  cat "$0" "$IMG_HERE/lib.sh" "$IMG_ROOT/pyproject.toml" "$constraints"
  echo "$have_python $(uname -m)"
} | sha256sum | cut -d' ' -f1)
stamp="$IMG_WHEELHOUSE.inputs"
if [[ -s $stamp && $(<"$stamp") == "$inputs" ]] && compgen -G "$IMG_WHEELHOUSE/*.whl" >/dev/null; then
  wheels=("$IMG_WHEELHOUSE"/*.whl)
  img_log "wheelhouse: up to date, ${#wheels[@]} wheels ($(img_since "$t0")s)"
  echo "$IMG_WHEELHOUSE"
  exit 0
fi

img_log "wheelhouse: building with $("$py" -m pip --version | cut -d' ' -f1-2) on Python $have_python"
mkdir -p "$work/wheels"
"$py" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$work/wheels" \
  --constraint "$constraints" "$IMG_ROOT" "${build_requires[@]}" >&2
# The image builds the project's wheel itself, from the sources in its build context.
rm -f "$work"/wheels/lifecycle_operator-*.whl

# No wheel may be tied to another Python or platform than the base image's.
for w in "$work"/wheels/*.whl; do
  case "$(basename "$w")" in
    *-py3-none-any.whl | *-py2.py3-none-any.whl | *-cp311-*linux*_"$(uname -m)".whl | *-abi3-*linux*_"$(uname -m)".whl) ;;
    *) img_log "wheelhouse: $(basename "$w") does not fit CPython $want_python on $(uname -m) Linux"; exit 1 ;;
  esac
done

mkdir -p "$(dirname "$IMG_WHEELHOUSE")"
rm -rf "$IMG_WHEELHOUSE.old"
[[ -d $IMG_WHEELHOUSE ]] && mv "$IMG_WHEELHOUSE" "$IMG_WHEELHOUSE.old"
mv "$work/wheels" "$IMG_WHEELHOUSE"
rm -rf "$IMG_WHEELHOUSE.old"
echo "$inputs" >"$stamp"
wheels=("$IMG_WHEELHOUSE"/*.whl)
img_log "wheelhouse: ${#wheels[@]} wheels, $(du -sh "$IMG_WHEELHOUSE" | cut -f1), in $(img_since "$t0")s"
echo "$IMG_WHEELHOUSE"
