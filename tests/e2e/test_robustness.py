"""What a user relies on beyond the verdicts: clean-up, restarts, lost pods, timeouts, admission."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Operator, condition, verdict

from clustertools import GROUP_PLURAL, ROOT, kubectl, kubectl_json, kubectl_result, wait_for

pytestmark = pytest.mark.e2e

INVALID = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("*.yaml"))


def long_running(name: str, delay: int = 600, timeout: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "pod": {"containers": [{"name": "regular-1", "behavior": {"delaySeconds": delay}}]},
        "expectations": [{"type": "Exits", "container": "regular-1"}],
    }
    if timeout is not None:
        spec["timeoutSeconds"] = timeout
    return {
        "apiVersion": "lifecycle.conformance.dev/v1alpha1",
        "kind": "LifecycleTest",
        "metadata": {"name": name},
        "spec": spec,
    }


def apply(namespace: str, doc: dict[str, Any]) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(doc))


def pods(namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl_json("pods", "-n", namespace)["items"]
    return items


def running_pod(namespace: str) -> str | None:
    for p in pods(namespace):
        if p.get("status", {}).get("phase") == "Running":
            return str(p["metadata"]["name"])
    return None


def test_deleting_a_test_garbage_collects_its_pod(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    ns = make_namespace("gc")
    apply(ns, long_running("gc"))
    wait_for("the pod to run", lambda: running_pod(ns), timeout=120)
    kubectl("delete", "-n", ns, "lifecycletest/gc", "--wait=true", "--timeout=60s")
    wait_for("the pod to be collected", lambda: True if not pods(ns) else None, timeout=120)


def test_an_operator_restart_resumes_the_run_without_a_second_pod(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    ns = make_namespace("restart")
    apply(ns, long_running("restart", delay=20))
    pod = wait_for("the pod to run", lambda: running_pod(ns), timeout=120)
    operator.stop(signal.SIGKILL)  # a crash, not a clean shutdown
    operator.start()
    status = wait_for("the verdict", lambda: verdict(ns, "restart"), timeout=180)
    assert status["result"] == "Passed", condition(status, "Succeeded")
    assert status["run"] == 1
    assert status["podName"] == pod
    events = kubectl_json("events", "-n", ns, "--field-selector", "involvedObject.kind=Pod")["items"]
    created = {e["involvedObject"]["name"] for e in events if e.get("reason") in {"Scheduled", "Created"}}
    assert created == {pod}, f"expected one pod, saw {created}"


def test_a_pod_deleted_by_someone_else_ends_the_run_as_lost(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    ns = make_namespace("lost")
    apply(ns, long_running("lost"))
    pod = wait_for("the pod to run", lambda: running_pod(ns), timeout=120)
    kubectl("delete", "-n", ns, f"pod/{pod}", "--wait=false")
    status = wait_for("the verdict", lambda: verdict(ns, "lost"), timeout=120)
    succeeded = condition(status, "Succeeded")
    assert (status["result"], succeeded["status"], succeeded["reason"]) == ("Failed", "False", "PodLost")
    assert "deleted" in succeeded["message"]


def test_a_run_past_its_timeout_is_judged_timed_out(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    ns = make_namespace("timeout")
    apply(ns, long_running("timeout", timeout=15))
    status = wait_for("the verdict", lambda: verdict(ns, "timeout"), timeout=120)
    succeeded = condition(status, "Succeeded")
    assert (status["result"], succeeded["reason"]) == ("Failed", "TimedOut")
    # It was judged as it stood: regular-1 had started but not exited.
    (result,) = status["expectations"]
    assert result["passed"] is False
    assert "never logged Exiting" in result["message"]


def test_a_spec_change_starts_a_new_run(operator: Operator, make_namespace: Callable[[str], str]) -> None:
    ns = make_namespace("rerun")
    doc = long_running("rerun", delay=1)
    apply(ns, doc)
    first = wait_for("the first verdict", lambda: verdict(ns, "rerun"), timeout=120)
    assert (first["run"], first["result"]) == (1, "Passed")
    doc["spec"]["pod"]["containers"][0]["behavior"]["exitCode"] = 3
    doc["spec"]["expectations"].append({"type": "TerminatedWith", "container": "regular-1", "exitCode": 3})
    apply(ns, doc)
    second = wait_for(
        "the second verdict",
        lambda: s if (s := verdict(ns, "rerun")) is not None and s["run"] == 2 else None,
        timeout=120,
    )
    assert second["result"] == "Passed", condition(second, "Succeeded")
    assert (
        second["observedGeneration"]
        == kubectl_json(GROUP_PLURAL, "rerun", "-n", ns)["metadata"]["generation"]
    )
    assert [h["run"] for h in second["history"]] == [1, 2]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_admission_rejects_broken_tests_naming_the_problem(
    path: Path, make_namespace: Callable[[str], str]
) -> None:
    # The API server's wording can differ from the offline validator's; a fixture says so when it does.
    header = dict(
        line.removeprefix("# ").split(": ", 1)
        for line in path.read_text().splitlines()
        if line.startswith("# ")
    )
    expected = header.get("admission", header["expect"])
    result = kubectl_result("apply", "--dry-run=server", "-n", "default", "-f", str(path))
    assert result.returncode != 0, f"{path.name} was admitted"
    assert expected in result.stderr, result.stderr
