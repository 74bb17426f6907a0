"""Test-side access to the local cluster: kubectl, a client, the operator as a real subprocess.

The e2e tier talks to a real API server and a real kubelet (hack/localcluster); nothing here stands in
for either.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = os.environ.get("LCO_KUBECTL", str(ROOT / "hack" / "localcluster" / "kubectl"))
TEST_IMAGE = os.environ.get("LCO_E2E_TEST_IMAGE", "localhost/lifecycle-operator/testbox:1.35")
GROUP_PLURAL = "lifecycletests.lifecycle.conformance.dev"
NAMESPACE_PREFIX = "e2e-"

T = TypeVar("T")


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [KUBECTL, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def get_json(*args: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl("get", *args, "-o", "json").stdout)
    return obj


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Poll probe until it returns something; the e2e tier's only clock is this generous deadline."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except AssertionError as e:  # kubectl failed; the object may not exist yet
            last_error, value = e, None
        if value is not None:
            return value
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}" + (f": {last_error}" if last_error else "")
    )


def verdict(namespace: str, name: str) -> dict[str, Any] | None:
    """The test's status once its run has a verdict, else None."""
    obj = get_json(GROUP_PLURAL, name, "-n", namespace)
    status: dict[str, Any] = obj.get("status") or {}
    if status.get("result") in {"Passed", "Failed", "Error"}:
        return status
    return None


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in status.get("conditions", []) if c["type"] == type_)
    return found


def metric(text: str, sample_name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition, or None."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Operator:
    """`lifecycle-operator run` as a subprocess, as a user runs it."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
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
            "LCO_METRICS_PORT": str(self.metrics_port),
            "LCO_HEALTH_PORT": str(self.health_port),
            "LCO_BIND_ADDRESS": "127.0.0.1",
            "LCO_SCHEDULER_TICK_SECONDS": "1",
            # Only this tier's namespaces: the in-cluster tier runs an operator of its own on the cluster.
            "LCO_NAMESPACES": f"{NAMESPACE_PREFIX}*",
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
