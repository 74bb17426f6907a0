"""The e2e tier's view of a run, and the operator as a real subprocess.

The e2e tier talks to a real API server and a real kubelet (hack/localcluster); nothing here stands in
for either.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from clustertools import (
    GROUP_PLURAL,
    ROOT,
    TERMINAL_RESULTS,
    TEST_IMAGE,
    UPDATE_IMAGE,
    kubectl,
    kubectl_json,
    wait_for,
)

NAMESPACE_PREFIX = "e2e-"


def verdict(namespace: str, name: str) -> dict[str, Any] | None:
    """The test's status once its run has a verdict, else None."""
    obj = kubectl_json(GROUP_PLURAL, name, "-n", namespace)
    status: dict[str, Any] = obj.get("status") or {}
    if status.get("result") in TERMINAL_RESULTS:
        return status
    return None


def pods(namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl_json("pods", "-n", namespace)["items"]
    return items


def pod_exists(namespace: str, name: str) -> bool:
    """Whether the pod is still there (a pod being deleted is, until the kubelet confirms)."""
    return bool(kubectl("get", "pod", name, "-n", namespace, "--ignore-not-found", "-o", "name").strip())


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in status.get("conditions", []) if c["type"] == type_)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def log_dir_for(tier: str, tmp_path_factory: Any) -> Path:
    """Where a tier's operator logs go: under LCO_E2E_LOG_DIR when set (CI keeps it), else a temp dir."""
    root = os.environ.get("LCO_E2E_LOG_DIR")
    path = (Path(root) if root else tmp_path_factory.mktemp(tier)) / tier
    path.mkdir(parents=True, exist_ok=True)
    return path


# The runs the local cluster's machine takes at once, whatever its node count: its nodes share its cores,
# while each reports them all (so each would derive the whole machine's limit for itself).
MACHINE_RUNS = 16


def runs_per_node(machine_runs: int = MACHINE_RUNS) -> str:
    nodes = kubectl("get", "nodes", "-o", "name").split()
    return str(max(1, machine_runs // max(1, len(nodes))))


class Operator:
    """`lifecycle-operator run` as a subprocess, as a user runs it."""

    def __init__(self, log_dir: Path, namespaces: str = f"{NAMESPACE_PREFIX}*", **settings: str) -> None:
        self.log_dir = log_dir
        self.namespaces = namespaces
        self.settings = settings
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        # The test tiers' own LCO_ variables (LCO_KUBECTL, ...) are not operator settings, which it refuses.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("LCO_")}
        env = {
            **inherited,
            "LCO_TEST_IMAGE": TEST_IMAGE,
            "LCO_UPDATE_IMAGE": UPDATE_IMAGE,
            "LCO_METRICS_PORT": str(self.metrics_port),
            "LCO_HEALTH_PORT": str(self.health_port),
            "LCO_BIND_ADDRESS": "127.0.0.1",
            "LCO_SCHEDULER_TICK_SECONDS": "1",
            "LCO_MAX_RUNS_PER_NODE": runs_per_node(),
            # Only this tier's namespaces: the in-cluster tier runs an operator of its own on the cluster.
            "LCO_NAMESPACES": self.namespaces,
            **{f"LCO_{k.upper()}": v for k, v in self.settings.items()},
        }
        log = (self.log_dir / f"operator-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lifecycle_operator.cli", "run"],
            env={**env, "PYTHONPATH": str(ROOT / "operator")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for("the operator's health endpoint", self._healthy, timeout=60, interval=0.5)

    def _healthy(self) -> bool | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the operator exited with {self.process.returncode}; see {self.log_dir}")
        try:
            with socket.create_connection(("127.0.0.1", self.health_port), timeout=1):
                return True
        except OSError:
            return None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            text: str = r.read().decode()
            return text
