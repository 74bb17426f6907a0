"""Beyond the seed: cases of the upstream catalogue the API already expresses, and periodic re-runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cluster import Operator, condition, verdict

from clustertools import apply_test, lifecycle_test, metric, wait_for

pytestmark = pytest.mark.e2e


def test_a_sidecar_runs_with_the_pod_and_stops_after_it(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    """Restartable init containers: the sidecar starts before the regular container, runs beside it, and
    is stopped (its PreStop hook called) once the regular container has exited."""
    ns = make_namespace("sidecar")
    spec = {
        "timeoutSeconds": 120,
        "pod": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 10,
            "initContainers": [
                {
                    "name": "sidecar",
                    "restartPolicy": "Always",
                    "behavior": {"runUntilStopped": True},
                    "preStop": {"delaySeconds": 1},
                }
            ],
            "containers": [{"name": "regular-1", "behavior": {"delaySeconds": 2}}],
        },
        "expectations": [
            {"type": "StartsBefore", "container": "sidecar", "other": "regular-1"},
            {"type": "RunTogether", "container": "sidecar", "other": "regular-1"},
            {"type": "Starts", "container": "PreStop-sidecar"},
            {"type": "HasNotRestarted", "container": "sidecar"},
            {"type": "PodPhase", "phase": "Succeeded"},
        ],
    }
    apply_test(ns, lifecycle_test("sidecar", spec))
    status = wait_for("the verdict", lambda: verdict(ns, "sidecar"), timeout=180, interval=2)
    failed = [e for e in status["expectations"] if not e["passed"]]
    assert status["result"] == "Passed", f"{condition(status, 'Succeeded')}; failed: {failed}"
    verbs = [(e["subject"], e["verb"]) for e in status["timeline"]]
    assert ("sidecar", "Terminating") in verbs


def test_an_interval_runs_the_test_again(operator: Operator, make_namespace: Callable[[str], str]) -> None:
    ns = make_namespace("interval")
    spec = {
        "intervalSeconds": 30,
        "pod": {"containers": [{"name": "regular-1", "behavior": {"delaySeconds": 1}}]},
        "expectations": [{"type": "Exits", "container": "regular-1"}],
    }
    apply_test(ns, lifecycle_test("interval", spec))

    def second_run() -> dict[str, Any] | None:
        status = verdict(ns, "interval")
        return status if status is not None and status["run"] >= 2 else None

    status = wait_for("the second run's verdict", second_run, timeout=150, interval=2)
    assert status["result"] == "Passed"
    first, second = status["history"][:2]
    assert (first["run"], second["run"]) == (1, 2)
    assert all(h["result"] == "Passed" for h in (first, second))
    assert metric(operator.metrics(), "lifecycletest_interval_seconds", namespace=ns, name="interval") == 30
