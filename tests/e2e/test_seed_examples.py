"""The six seed cases reach the upstream verdicts on a real kubelet; wrong expectations are caught."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Operator, condition, pod_exists, verdict

from clustertools import EXAMPLES, kubectl, kubectl_json, metric, wait_for

pytestmark = pytest.mark.e2e


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def reversed_order() -> dict[str, Any]:
    doc = copy.deepcopy(load(EXAMPLES[0]))
    doc["metadata"]["name"] = "wrong-order"
    doc["spec"]["expectations"][0] = {"type": "StartsBefore", "container": "init-2", "other": "init-1"}
    return doc


def never_starts() -> dict[str, Any]:
    doc = copy.deepcopy(load(EXAMPLES[1]))
    doc["metadata"]["name"] = "wrong-starts"
    doc["spec"]["expectations"][2] = {"type": "Starts", "container": "regular-1"}
    return doc


WRONG = {
    "wrong-order": ("init-2 starts before init-1", reversed_order),
    "wrong-starts": ("regular-1 starts", never_starts),
}


@pytest.fixture(scope="module")
def runs(operator: Operator, make_namespace: Callable[[str], str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Apply every case at once, each in its own namespace, and wait for all verdicts."""
    docs = [load(p) for p in EXAMPLES] + [make() for _, make in WRONG.values()]
    placed: dict[str, str] = {}
    for doc in docs:
        namespace = make_namespace(doc["metadata"]["name"])
        kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(doc))
        placed[doc["metadata"]["name"]] = namespace
    results = {}
    for name, namespace in placed.items():
        status = wait_for(
            f"the verdict of {name}", lambda ns=namespace, n=name: verdict(ns, n), timeout=300, interval=2
        )
        results[name] = (namespace, status)
    return results


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_seed_case_passes_on_the_real_kubelet(
    path: Path, runs: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    name = load(path)["metadata"]["name"]
    namespace, status = runs[name]
    failed = [e for e in status["expectations"] if not e["passed"]]
    assert status["result"] == "Passed", f"{name}: {condition(status, 'Succeeded')}; failed: {failed}"
    succeeded = condition(status, "Succeeded")
    assert (succeeded["status"], succeeded["reason"]) == ("True", "ExpectationsMet")
    assert status["summary"] == f"{len(status['expectations'])}/{len(status['expectations'])}"
    assert status["nodeName"]
    assert status["timeline"] or name == "bad-image-init-container"
    # kubectl wait works on the condition, and the pod was cleaned up after a pass.
    kubectl("wait", "-n", namespace, "--for=condition=Succeeded", "--timeout=10s", f"lifecycletest/{name}")
    wait_for(
        f"{name}'s pod to be deleted",
        lambda: True if not kubectl_json("pods", "-n", namespace)["items"] else None,
        timeout=120,
    )


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_expectation_fails_naming_it(name: str, runs: dict[str, tuple[str, dict[str, Any]]]) -> None:
    namespace, status = runs[name]
    description = WRONG[name][0]
    assert status["result"] == "Failed"
    succeeded = condition(status, "Succeeded")
    assert (succeeded["status"], succeeded["reason"]) == ("False", "ExpectationsFailed")
    assert description in succeeded["message"]
    failed = [e["description"] for e in status["expectations"] if not e["passed"]]
    assert failed == [description]
    out = kubectl(
        "wait", "-n", namespace, "--for=condition=Succeeded=False", "--timeout=10s", f"lifecycletest/{name}"
    )
    assert "condition met" in out
    # A failed run's pod is deleted too, by default (LCO_KEEP_FAILED_PODS is off, no podRetention).
    pod = status["podName"]
    wait_for(
        f"{name}'s failed pod {pod} to be deleted",
        lambda: True if not pod_exists(namespace, pod) else None,
        timeout=30,
    )


def test_get_lifecycletests_shows_the_verdicts(runs: dict[str, tuple[str, dict[str, Any]]]) -> None:
    namespace, _ = runs["init-containers-run-serially"]
    out = kubectl("get", "lifecycletests", "-n", namespace)
    header, row = out.splitlines()[:2]
    for column in ("RESULT", "PASSED", "NODE", "LAST RUN", "AGE"):
        assert column in header
    assert "Passed" in row
    assert "6/6" in row
    assert "Passed" in kubectl("get", "lt", "-n", namespace)  # the short name


def test_metrics_show_the_verdicts(operator: Operator, runs: dict[str, tuple[str, dict[str, Any]]]) -> None:
    text = operator.metrics()
    for name, (namespace, status) in runs.items():
        expected = 1.0 if status["result"] == "Passed" else 0.0
        assert metric(text, "lifecycletest_last_verdict", namespace=namespace, name=name) == expected, name
        assert (
            metric(text, "lifecycletest_runs_total", namespace=namespace, name=name, verdict=status["result"])
            == 1
        )
    failures = metric(text, "lifecycletest_expectation_failures_total", kind="StartsBefore")
    assert failures is not None
    assert failures >= 1
