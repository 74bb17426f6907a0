"""What both cluster tiers (tests/e2e, tests/incluster) use to look at the local cluster from outside.

Everything goes through the real kubectl against the real API server; nothing stands in for either.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from prometheus_client.parser import text_string_to_metric_families

from lifecycle_operator.constants import (
    CRD_NAME,
    GROUP,
    KIND,
    RUN_RESULTS,
    VERSION,
)

ROOT = Path(__file__).resolve().parents[1]
KUBECTL = os.environ.get("LCO_KUBECTL", str(ROOT / "hack" / "localcluster" / "kubectl"))
# Imported into the node's containerd by hack/localcluster/up.sh.
TEST_IMAGE = os.environ.get("LCO_E2E_TEST_IMAGE", "localhost/lifecycle-operator/testbox:1.35")
# The same tools with their own digest, for the image-update cases (imported by up.sh too).
UPDATE_IMAGE = os.environ.get("LCO_E2E_UPDATE_IMAGE", "localhost/lifecycle-operator/testbox:1.35-b")
GROUP_PLURAL = CRD_NAME
API_VERSION = f"{GROUP}/{VERSION}"
# A run's verdicts; status.result is Queued or Running (or unset) until one of them.
TERMINAL_RESULTS = frozenset(RUN_RESULTS)
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

T = TypeVar("T")


def run(command: list[str], *, stdin: str | None = None, timeout: float = 120) -> str:
    """Run a command and return its stdout; fail the test with its stderr when it fails."""
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr.strip()}")
    return result.stdout


def kubectl(*args: str, stdin: str | None = None, timeout: float = 120) -> str:
    return run([KUBECTL, *args], stdin=stdin, timeout=timeout)


def kubectl_result(*args: str) -> subprocess.CompletedProcess[str]:
    """kubectl whose failure is the point of the test: the caller reads the exit code and stderr."""
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=120, check=False)


def kubectl_json(*args: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl("get", *args, "-o", "json"))
    return obj


def lifecycle_test(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A LifecycleTest document, to apply with `kubectl apply -f -` (apply_test does)."""
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}


def apply_test(namespace: str, doc: dict[str, Any]) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(doc))


def statuses_in(namespace: str) -> dict[str, dict[str, Any]]:
    """The status of every LifecycleTest in a namespace, by name."""
    items = kubectl_json(GROUP_PLURAL, "-n", namespace)["items"]
    return {t["metadata"]["name"]: t.get("status") or {} for t in items}


def results_in(namespace: str) -> dict[str, str]:
    """The result of every LifecycleTest in a namespace, by name ("" before it has one). It reads the API
    server's table of printer columns, which is what to poll: the objects themselves are ~9 KB each with
    their timelines (4.7 MB for the catalogue's 516), and listing them every few seconds cost the API
    server and kubectl more CPU than the operator under test."""
    lines = kubectl("get", GROUP_PLURAL, "-n", namespace).splitlines()
    if not lines:
        return {}
    header = lines[0]
    start, end = header.index("RESULT"), header.index("PASSED")
    return {line.split()[0]: line[start:end].strip() for line in lines[1:]}


def apply_tests(namespace: str, tests: dict[str, dict[str, Any]]) -> None:
    """Apply many LifecycleTests (name -> spec) in one call."""
    docs = [lifecycle_test(name, spec) for name, spec in tests.items()]
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(docs), timeout=300)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Poll probe until it returns something; the cluster tiers' only clock is this generous deadline."""
    deadline = time.monotonic() + timeout
    last_error: AssertionError | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except AssertionError as e:  # a kubectl call failed; the object may not be there yet
            last_error, value = e, None
        if value is not None:
            return value
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f"; last error: {last_error}" if last_error else "")
    )


def metric(text: str, sample_name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition, or None."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


# The figures the cluster tiers measure (chaos tallies, catalogue totals, process exit times): printed as
# they come, and again together at the end of the run (tests/conftest.py), so that a CI log shows them.
FIGURES: list[str] = []


def report(line: str) -> None:
    FIGURES.append(line)
    print(f"\n{line}")


# Expectation types by how surely their reversal fails: an exact negation first, a time bound last (a
# container that stops at once could still meet a reversed bound of 0 s).
_REVERSIBLE = (
    "Starts",
    "DoesntStart",
    "HasRestarted",
    "HasNotRestarted",
    "StartsBefore",
    "ExitsBefore",
    "ExitsFirst",
    "PodPhase",
    "TerminatedWith",
    "RestartCountAtLeast",
    "WaitingReason",
    "RunsImage",
    "Exits",
    "RunTogether",
    "IsRunning",
    "TerminatesWithin",
)
_OTHER_PHASE = {"Succeeded": "Failed", "Failed": "Succeeded", "Pending": "Running", "Running": "Pending"}


def _runs_once(spec: dict[str, Any], subject: str) -> bool:
    """Whether a container (or hook) can only run once in this spec: then the order of two of them is one
    order, and swapping them reverses it. A restart makes both orders true (a later instance)."""
    name = subject.split("-", 1)[1] if subject.startswith(("PostStart-", "PreStop-")) else subject
    pod = spec["pod"]
    found = [c for c in [*pod.get("initContainers", []), *pod["containers"]] if c["name"] == name]
    if not found or spec.get("actions") or pod.get("restartPolicy", "Never") != "Never":
        return False
    c = found[0]
    return "restartPolicy" not in c and "livenessProbe" not in c and "startupProbe" not in c


def _reverse(spec: dict[str, Any], e: dict[str, Any]) -> dict[str, Any] | None:
    """The expectation turned into one the same run must fail, or None when it has no sure reversal."""
    r = dict(e)
    match e["type"]:
        case "Starts" | "DoesntStart" | "HasRestarted" | "HasNotRestarted":
            r["type"] = {
                "Starts": "DoesntStart",
                "DoesntStart": "Starts",
                "HasRestarted": "HasNotRestarted",
                "HasNotRestarted": "HasRestarted",
            }[e["type"]]
        case "StartsBefore" | "ExitsBefore" | "ExitsFirst" if e["container"] != e["other"] and all(
            _runs_once(spec, s) for s in (e["container"], e["other"])
        ):
            r["container"], r["other"] = e["other"], e["container"]
        case "PodPhase":
            r["phase"] = _OTHER_PHASE[e["phase"]]
        case "TerminatedWith" if "exitCode" in e:
            r["exitCode"] = (e["exitCode"] + 1) % 256
        case "RestartCountAtLeast":
            r["count"] = e["count"] + 100
        case "WaitingReason":
            r["reason"] = e["reason"] + "Never"
        case "RunsImage" if "image" not in e:
            r["image"] = TEST_IMAGE  # the image it had before the update
        case "Exits" | "RunTogether" | "StartsBefore" | "ExitsBefore" | "ExitsFirst":
            # Each needs the container to have started: that it never did must fail.
            r = {"type": "DoesntStart", "container": e["container"]}
        case "IsRunning":
            r = {"type": "TerminatedWith", "container": e["container"], "exitCode": 0}
        case "TerminatesWithin":
            r["seconds"] = 0
        case _:
            return None
    return r


def reversed_copy(spec: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The spec with one expectation reversed (the surest kind there is), and its index: a copy the
    kubelet must make fail every time, on that expectation."""
    expectations = spec["expectations"]
    for kind in _REVERSIBLE:
        for i, e in enumerate(expectations):
            if e["type"] == kind and (r := _reverse(spec, e)) is not None:
                wrong = {**spec, "expectations": [*expectations[:i], r, *expectations[i + 1 :]]}
                return wrong, i
    raise AssertionError(f"no expectation to reverse in {[e['type'] for e in expectations]}")
