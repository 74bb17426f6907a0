#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine, as root: the Python environment (.venv,
# from pyproject.toml), Helm (built from its Go module) and promtool (from Debian's prometheus package).
# The local cluster's own dependencies (containerd, runc, CNI plugins, busybox) are installed by
# hack/localcluster/up.sh. Chromium (Debian's package) renders the report's SVG pictures in the `browser`
# tests (tests/render). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS=0
if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
echo "setup: python environment ready in .venv (${SECONDS}s)" >&2
bash hack/install-helm.sh >/dev/null
bash hack/install-promtool.sh >/dev/null
# Chromium, for tests/render: apt-get only when it is missing, as hack/localcluster/install-deps.sh does.
# Every apt-get here and there waits for the lock (the image build may install buildah beside up.sh).
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q '^install ok installed$'; then
    started=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
        apt-get -o DPkg::Lock::Timeout=600 update -qq
    fi
    if ! apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >/dev/null; then
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >/dev/null
    fi
    echo "setup: chromium installed in $((SECONDS - started))s" \
        "($(dpkg-query -W -f='${Installed-Size}' chromium) KiB for the package itself)" >&2
fi
echo "setup: done in ${SECONDS}s" >&2
