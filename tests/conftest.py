"""Shared test set-up: import paths for an uninstalled checkout."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The package's source root, and tests/ itself for the cluster tiers' shared clustertools module.
for path in (ROOT / "operator", ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
