"""What a user relies on beyond the verdicts: clean-up, restarts, lost pods, timeouts, admission."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cluster import Operator, condition, pod_exists, pods, verdict

from clustertools import (
    GROUP_PLURAL,
    ROOT,
    apply_test,
    kubectl,
    kubectl_json,
    kubectl_result,
    lifecycle_test,
    wait_for,
)

pytestmark = pytest.mark.e2e

INVALID = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("*.yaml"))


def long_running(name: str, delay: int = 600, timeout: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "pod": {"containers": [{"name": "regular-1", "behavior": {"delaySeconds": delay}}]},
        "expectations": [{"type": "Exits", "container": "regular-1"}],
    }
    if timeout is not None:
        spec["timeoutSeconds"] = timeout
    return lifecycle_test(name, spec)


def running_pod(namespace: str) -> str | None:
    for p in pods(namespace):
        if p.get("status", {}).get("phase") == "Running":
            return str(p["metadata"]["name"])
    return None


def test_deleting_a_test_garbage_collects_its_pod(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    ns = make_namespace("gc")
    apply_test(ns, long_running("gc"))
    wait_for("the pod to run", lambda: running_pod(ns), timeout=120)
    kubectl("delete", "-n", ns, "lifecycletest/gc", "--wait=true", "--timeout=60s")
    wait_for("the pod to be collected", lambda: True if not pods(ns) else None, timeout=120)


def test_an_operator_restart_resumes_the_run_without_a_second_pod(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    ns = make_namespace("restart")
    apply_test(ns, long_running("restart", delay=20))
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
    apply_test(ns, long_running("lost"))
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
    apply_test(ns, long_running("timeout", timeout=15))
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
    apply_test(ns, doc)
    first = wait_for("the first verdict", lambda: verdict(ns, "rerun"), timeout=120)
    assert (first["run"], first["result"]) == (1, "Passed")
    doc["spec"]["pod"]["containers"][0]["behavior"]["exitCode"] = 3
    doc["spec"]["expectations"].append({"type": "TerminatedWith", "container": "regular-1", "exitCode": 3})
    apply_test(ns, doc)
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


def test_keep_on_failure_keeps_a_failed_runs_pod_and_deletes_a_passed_ones(
    operator: Operator, make_namespace: Callable[[str], str]
) -> None:
    """podRetention: KeepOnFailure, for debugging: a failed run's pod stays, a passed run's goes."""
    ns = make_namespace("retention")
    # Both expect regular-1 to exit 0: "kept" exits 3 and fails, "deleted" passes.
    exits_zero = {"type": "TerminatedWith", "container": "regular-1", "exitCode": 0}
    for name, exit_code in (("kept", 3), ("deleted", 0)):
        doc = long_running(name, delay=1)
        doc["spec"]["podRetention"] = "KeepOnFailure"
        doc["spec"]["pod"]["containers"][0]["behavior"]["exitCode"] = exit_code
        doc["spec"]["expectations"].append(exits_zero)
        apply_test(ns, doc)
    failed = wait_for("the failed verdict", lambda: verdict(ns, "kept"), timeout=120)
    passed = wait_for("the passed verdict", lambda: verdict(ns, "deleted"), timeout=120)
    assert failed["result"] == "Failed", condition(failed, "Succeeded")
    assert passed["result"] == "Passed", condition(passed, "Succeeded")
    # The passed run's pod is deleted as usual; by then the failed run's would have been too.
    wait_for(
        "the passed run's pod to be deleted",
        lambda: True if not pod_exists(ns, passed["podName"]) else None,
        timeout=30,
    )
    kept = kubectl_json("pod", failed["podName"], "-n", ns)
    assert "deletionTimestamp" not in kept["metadata"], "the failed run's pod is being deleted"
    assert kept["status"]["phase"] == "Failed"


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
