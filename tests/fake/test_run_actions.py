"""Actions mid-run against the in-memory API: an image patch when its condition holds, a deletion held by
our finalizer until the verdict, each taken once however often the pod is seen, and never a pod left
hanging on our finalizer."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fakeapi import FakeApi
from test_runs import context, start

from lifecycle_operator import constants as c
from lifecycle_operator import runs
from lifecycle_operator.actions import FINALIZER
from lifecycle_operator.apiclient import Invalid

UPDATE = "example.test/box:2"
RUNNING = {
    "phase": "Running",
    "containerStatuses": [{"name": "a", "state": {"running": {}}, "restartCount": 0}],
}
LOG_TWO_RUNS = (
    "1764417600 10.00 a Starting\n1764417600 10.01 a Started\n1764417600 10.02 a Delaying\n"
    "1764417601 11.00 a Terminating\n1764417601 11.01 a Exiting\n"
    "1764417602 12.00 a Starting\n1764417602 12.01 a Started\n1764417602 12.02 a Delaying\n"
)
PATCH_SPEC: dict[str, Any] = {
    "timeoutSeconds": 60,
    "pod": {"restartPolicy": "Never", "containers": [{"name": "a", "behavior": {"delaySeconds": 60}}]},
    "actions": [{"type": "PatchImage", "when": {"type": "PodRunning"}, "container": "a"}],
    "judgeWhen": {"type": "ContainerRunning", "container": "a", "count": 1},
    "expectations": [
        {"type": "HasRestarted", "container": "a"},
        {"type": "RunsImage", "container": "a"},
        {"type": "IsRunning", "container": "a"},
    ],
}
DELETE_SPEC: dict[str, Any] = {
    "timeoutSeconds": 60,
    "pod": {"restartPolicy": "Always", "containers": [{"name": "a", "behavior": {"runUntilStopped": True}}]},
    "actions": [{"type": "DeletePod", "when": {"type": "PodRunning"}, "gracePeriodSeconds": 5}],
    "expectations": [{"type": "TerminatesWithin", "seconds": 20}, {"type": "PodPhase", "phase": "Succeeded"}],
}


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


def verdict(status: dict[str, Any]) -> dict[str, Any]:
    """The Succeeded condition: the verdict's reason and message."""
    return next(x for x in status["conditions"] if x["type"] == c.CONDITION_SUCCEEDED)


def pod_of(api: FakeApi, name: str) -> dict[str, Any]:
    return copy.deepcopy(api.pods[("ns", name)])


def test_an_image_is_patched_once_then_the_run_is_judged_on_the_new_instance(api: FakeApi) -> None:
    ctx = context(api, update_image=UPDATE)
    pod = start(api, ctx, spec=PATCH_SPEC)
    assert pod_of(api, pod)["spec"]["containers"][0]["image"] != UPDATE
    # Pending: the condition does not hold yet.
    runs.on_pod(api.set_pod_status(pod, {"phase": "Pending"}), "MODIFIED", ctx)
    assert [v for v, _ in api.writes] == ["create", "patch"]
    runs.on_pod(api.set_pod_status(pod, RUNNING), "MODIFIED", ctx)
    assert pod_of(api, pod)["spec"]["containers"][0]["image"] == UPDATE
    # Seen again (the patch's own event, a relist after a restart): nothing more is written.
    runs.on_pod(pod_of(api, pod), "MODIFIED", ctx)
    assert [v for v, _ in api.writes] == ["create", "patch", "patch-pod"]
    restarted = {
        "phase": "Running",
        "containerStatuses": [
            {"name": "a", "state": {"running": {}}, "restartCount": 1, "image": UPDATE},
        ],
    }
    api.logs[(pod, "a", False)] = LOG_TWO_RUNS
    runs.on_pod(api.set_pod_status(pod, restarted), "MODIFIED", ctx)
    status = api.status("t")
    assert (status["result"], status["summary"]) == (c.RESULT_PASSED, "3/3"), verdict(status)
    assert ("ns", pod) not in api.pods


def test_a_restart_that_keeps_the_old_image_fails_runs_image(api: FakeApi) -> None:
    ctx = context(api, update_image=UPDATE)
    pod = start(api, ctx, spec=PATCH_SPEC)
    runs.on_pod(api.set_pod_status(pod, RUNNING), "MODIFIED", ctx)
    old = {
        "phase": "Running",
        "containerStatuses": [{"name": "a", "state": {"running": {}}, "restartCount": 1, "image": "old:1"}],
    }
    api.logs[(pod, "a", False)] = LOG_TWO_RUNS
    runs.on_pod(api.set_pod_status(pod, old), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_FAILED
    assert "runs image old:1" in verdict(status)["message"]


def test_a_pod_that_ends_before_the_action_fails_with_why(api: FakeApi) -> None:
    ctx = context(api, update_image=UPDATE)
    pod = start(api, ctx, spec=PATCH_SPEC)
    api.logs[(pod, "a", False)] = LOG_TWO_RUNS
    runs.on_pod(api.set_pod_status(pod, {"phase": "Failed"}), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_FAILED
    assert "action 1 (set the image of a to the update image) was never taken" in verdict(status)["message"]


def test_a_refused_patch_is_an_invalid_spec_not_a_failure(api: FakeApi) -> None:
    ctx = context(api, update_image=UPDATE)
    pod = start(api, ctx, spec=PATCH_SPEC)
    api.fail("patch_pod", Invalid("spec.containers[0].image: Invalid value"))
    runs.on_pod(api.set_pod_status(pod, RUNNING), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_ERROR
    assert "the API refused action 1" in verdict(status)["message"]
    assert ("ns", pod) not in api.pods


def deleted_status(finished: str) -> dict[str, Any]:
    return {
        "phase": "Succeeded",
        "containerStatuses": [
            {
                "name": "a",
                "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": finished}},
                "restartCount": 0,
            }
        ],
    }


def test_a_deleted_pod_is_held_until_its_verdict_then_released(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx, spec=DELETE_SPEC)
    assert pod_of(api, pod)["metadata"]["finalizers"] == [FINALIZER]
    runs.on_pod(api.set_pod_status(pod, RUNNING), "MODIFIED", ctx)
    meta = pod_of(api, pod)["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 5
    # Terminating: still running, not judged yet; the deletion is ours, so the run is not lost.
    runs.on_pod(pod_of(api, pod), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING
    asked = runs.times.parse_time(meta["deletionTimestamp"])
    assert asked is not None
    finished = runs.times.format_time(asked)  # 5 s after the request: the grace period
    runs.on_pod(api.set_pod_status(pod, deleted_status(finished)), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_PASSED, verdict(status)
    assert ("ns", pod) not in api.pods  # released, so its deletion completed
    assert [v for v, _ in api.writes] == ["create", "patch", "delete", "patch", "patch-pod"]


def test_events_queued_before_an_action_took_effect_do_not_take_it_again(api: FakeApi) -> None:
    # As the catalogue's log showed: a DeletePod taken three times and a PatchImage twice within 6 s, by
    # events the watch had queued before each action's effect showed on the pod.
    ctx = context(api, update_image=UPDATE)
    pod = start(api, ctx, spec=DELETE_SPEC)
    running = api.set_pod_status(pod, RUNNING)
    runs.on_pod(running, "MODIFIED", ctx)
    runs.on_pod(copy.deepcopy(running), "MODIFIED", ctx)  # queued before the deletion: not deleting
    runs.on_pod(copy.deepcopy(running), "MODIFIED", ctx)
    assert [v for v, _ in api.writes] == ["create", "patch", "delete"]
    # The pod's DELETED event forgets it; a run's next pod (a new uid) is acted on afresh.
    runs.on_pod(copy.deepcopy(running), "DELETED", ctx)
    assert ctx.taken == set()


def test_a_held_pod_is_released_when_its_test_is_gone_or_its_run_is_over(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx, spec=DELETE_SPEC)
    runs.on_pod(api.set_pod_status(pod, RUNNING), "MODIFIED", ctx)
    # The test is deleted: the garbage collector deletes the pod, which waits on our finalizer.
    del api.tests[("ns", "t")]
    runs.on_pod(pod_of(api, pod), "MODIFIED", ctx)
    assert ("ns", pod) not in api.pods


def test_a_superseded_held_pod_is_released(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx, spec=DELETE_SPEC)
    api.test("t")["spec"] = {**DELETE_SPEC, "timeoutSeconds": 90}
    api.test("t")["metadata"]["generation"] = 2
    new = runs.start_run("ns", "t", ctx, after_run=1)
    assert new is not None
    assert new != pod
    # The old pod is being deleted and held; its next event lets it go.
    runs.on_pod(pod_of(api, pod), "MODIFIED", ctx)
    assert ("ns", pod) not in api.pods


def test_a_deadline_names_the_action_not_taken(api: FakeApi) -> None:
    ctx = context(api, update_image=UPDATE)
    pod = start(api, ctx, spec=PATCH_SPEC)
    api.set_pod_status(pod, {"phase": "Pending"})
    api.pods[("ns", pod)]["spec"]["nodeName"] = "node-1"  # scheduled: the kubelet had it
    api.test("t")["status"]["deadline"] = "2020-01-01T00:00:00Z"
    runs.on_deadline("ns", "t", ctx)
    status = api.status("t")
    assert verdict(status)["reason"] == c.REASON_TIMED_OUT
    assert "action 1 (set the image of a to the update image) was not taken" in verdict(status)["message"]
