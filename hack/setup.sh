#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine, as root: the Python environment (.venv,
# from pyproject.toml), Helm (built from its Go module) and promtool (from Debian's prometheus package).
# The local cluster's own dependencies (containerd, runc, CNI plugins, busybox) are installed by
# hack/localcluster/up.sh. Idempotent: a second run only checks.
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
echo "setup: done in ${SECONDS}s" >&2
