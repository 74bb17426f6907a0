import pytest
from builders import pod, status, terminated

from lifecycle_operator.api import JudgeWhen
from lifecycle_operator.judging import judge
from lifecycle_operator.observation import observe_pod


@pytest.mark.parametrize(
    ("when", "phase", "ready", "unreachable"),
    [
        ({"type": "PodTerminal"}, "Running", False, None),
        ({"type": "PodTerminal"}, "Succeeded", True, None),
        ({"type": "PodTerminal"}, "Failed", True, None),
        ({"type": "PodFailed"}, "Running", False, None),
        ({"type": "PodFailed"}, "Failed", True, None),
        ({"type": "PodFailed"}, "Succeeded", True, "was expected to fail"),
    ],
)
def test_pod_phase_conditions(when: dict[str, str], phase: str, ready: bool, unreachable: str | None) -> None:
    result = judge(JudgeWhen.model_validate(when), observe_pod(pod(phase)))
    assert result.ready is ready
    if unreachable is None:
        assert result.unreachable is None
    else:
        assert result.unreachable is not None
        assert unreachable in result.unreachable


def test_restart_count() -> None:
    when = JudgeWhen.model_validate({"type": "RestartCount", "container": "a", "count": 3})
    assert not judge(when, observe_pod(pod("Running", containers=[status("a", restarts=2)]))).ready
    assert judge(when, observe_pod(pod("Running", containers=[status("a", restarts=3)]))).ready
    ended = judge(when, observe_pod(pod("Failed", containers=[status("a", terminated(1), restarts=1)])))
    assert ended.ready
    assert ended.unreachable is not None
    assert "only 1" in ended.unreachable


def test_container_waiting() -> None:
    when = JudgeWhen.model_validate(
        {"type": "ContainerWaiting", "container": "i", "reason": "ImagePullBackOff"}
    )
    pulling = status("i", {"waiting": {"reason": "ErrImagePull"}})
    backoff = status("i", {"waiting": {"reason": "ImagePullBackOff"}})
    assert not judge(when, observe_pod(pod("Pending", init=[pulling]))).ready
    assert judge(when, observe_pod(pod("Pending", init=[backoff]))).unreachable is None
    assert judge(when, observe_pod(pod("Pending", init=[backoff]))).ready
    gone = judge(when, observe_pod(pod("Running", init=[status("i", terminated(0))])))
    assert gone.ready
    assert gone.unreachable is not None


@pytest.mark.parametrize(
    ("when", "container", "phase", "ready", "unreachable"),
    [
        ({}, {"state": {"running": {}}}, "Running", True, False),
        ({}, {"state": {"waiting": {"reason": "ContainerCreating"}}}, "Pending", False, False),
        ({"count": 1}, {"state": {"running": {}}, "restartCount": 0}, "Running", False, False),
        ({"count": 1}, {"state": {"running": {}}, "restartCount": 1}, "Running", True, False),
        ({"started": True}, {"state": {"running": {}}, "started": False}, "Pending", False, False),
        ({"started": True}, {"state": {"running": {}}, "started": True}, "Pending", True, False),
        ({"started": False}, {"state": {"running": {}}, "started": False}, "Pending", True, False),
        (
            {"started": False},
            {"state": {"running": {}}},
            "Pending",
            True,
            False,
        ),  # no flag yet is not started
        # Nothing runs any more: it never will.
        ({}, {"state": {"terminated": {"exitCode": 0}}}, "Succeeded", True, True),
    ],
)
def test_container_running(
    when: dict[str, object], container: dict[str, object], phase: str, ready: bool, unreachable: bool
) -> None:
    condition = JudgeWhen.model_validate({"type": "ContainerRunning", "container": "a", **when})
    result = judge(condition, observe_pod(pod(phase, containers=[{"name": "a", **container}])))
    assert result.ready is ready
    assert (result.unreachable is not None) is unreachable


def test_pod_running_and_a_pod_being_deleted() -> None:
    when = JudgeWhen.model_validate({"type": "PodRunning"})
    assert not judge(when, observe_pod(pod("Pending"))).ready
    assert judge(when, observe_pod(pod("Running"))).ready
    deleting = pod("Pending", containers=[status("a", terminated(0))])
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    result = judge(when, observe_pod(deleting))
    assert result.ready
    assert result.unreachable is not None
    assert "being deleted" in result.unreachable
