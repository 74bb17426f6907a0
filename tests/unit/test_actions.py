"""The next action is read from the pod alone: taken when its condition holds, done once its effect shows,
and named when it can no longer be taken."""

from typing import Any

import pytest
from builders import pod, status

from lifecycle_operator.actions import (
    FINALIZER,
    AllTaken,
    Take,
    Unreachable,
    Wait,
    image_patch,
    next_step,
    release_patch,
)
from lifecycle_operator.api import LifecycleTestSpec
from lifecycle_operator.observation import observe_pod

UPDATE = "example.test/box:2"
SPEC = LifecycleTestSpec.model_validate(
    {
        "pod": {
            "initContainers": [{"name": "i", "restartPolicy": "Always"}],
            "containers": [{"name": "a"}],
        },
        "actions": [
            {"type": "PatchImage", "when": {"type": "PodRunning"}, "container": "i"},
            {"type": "DeletePod", "when": {"type": "ContainerRunning", "container": "i", "count": 1}},
        ],
        "expectations": [{"type": "Starts", "container": "a"}],
    }
)


def raw_pod(phase: str, image: str = "box:1", deleting: bool = False, restarts: int = 0) -> dict[str, Any]:
    p = pod(phase, init=[status("i", {"running": {}}, restarts=restarts)])
    p["spec"] |= {
        "initContainers": [{"name": "i", "image": image}],
        "containers": [{"name": "a", "image": "x"}],
    }
    if deleting:
        p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return p


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (raw_pod("Pending"), Wait),
        (raw_pod("Running"), Take),
        # The image is in the spec: action 1 is done, action 2 waits for the restart.
        (raw_pod("Running", image=UPDATE), Wait),
        (raw_pod("Running", image=UPDATE, restarts=1), Take),
        (raw_pod("Running", image=UPDATE, restarts=1, deleting=True), AllTaken),
        # The pod ended before action 1's condition held.
        (raw_pod("Succeeded"), Unreachable),
    ],
)
def test_next_step(raw: dict[str, Any], expected: type) -> None:
    step = next_step(SPEC, observe_pod(raw), UPDATE)
    assert isinstance(step, expected), step
    if isinstance(step, Take):
        assert step.index == (0 if step.action.type == "PatchImage" else 1)


def ended(phase: str, reason: str, restarts: int = 0) -> dict[str, Any]:
    """A pod in `phase` whose regular container `a` ended with `reason`, before any action was taken."""
    p = pod(
        phase, containers=[status("a", {"terminated": {"exitCode": 1, "reason": reason}}, restarts=restarts)]
    )
    p["spec"] |= {
        "initContainers": [{"name": "i", "image": "box:1"}],
        "containers": [{"name": "a", "image": "x"}],
    }
    return p


def test_a_condition_that_held_before_the_operator_saw_it_is_late_not_a_failure() -> None:
    # As the catalogue's image-update-during-termination cases under load: the pod ran for 10 s and
    # failed before the operator acted on its Running.
    step = next_step(SPEC, observe_pod(ended("Failed", "Error")), UPDATE)
    assert isinstance(step, Unreachable)
    assert step.late
    assert "action 1 (set the image of i to the update image) was not taken in time" in step.message
    assert "the pod is Running held only before the operator saw the pod, which is now Failed" in step.message


@pytest.mark.parametrize(
    "raw",
    [
        ended("Failed", "StartError"),  # the runtime could not start it: the pod never ran
        raw_pod("Succeeded"),  # no container ever reported running
    ],
)
def test_a_condition_that_never_held_is_unreachable_for_good(raw: dict[str, Any]) -> None:
    step = next_step(SPEC, observe_pod(raw), UPDATE)
    assert isinstance(step, Unreachable)
    assert not step.late
    assert "was never taken" in step.message


def test_a_container_past_the_instance_an_action_waited_for_is_late() -> None:
    # Action 1 is done (the image is in the spec); action 2 waits for i's instance 1, and i is at 2 now.
    raw = raw_pod("Failed", image=UPDATE, restarts=2)
    raw["status"]["initContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
    step = next_step(SPEC, observe_pod(raw), UPDATE)
    assert isinstance(step, Unreachable)
    assert step.late


def test_no_actions_is_all_taken() -> None:
    spec = SPEC.model_copy(update={"actions": []})
    assert isinstance(next_step(spec, observe_pod(raw_pod("Pending")), UPDATE), AllTaken)


def test_an_image_patch_is_guarded_by_the_name_at_its_index() -> None:
    assert image_patch(raw_pod("Running"), "a", UPDATE) == [
        {"op": "test", "path": "/spec/containers/0/name", "value": "a"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": UPDATE},
    ]
    assert image_patch(raw_pod("Running"), "i", UPDATE)[1]["path"] == "/spec/initContainers/0/image"
    with pytest.raises(ValueError, match="no container 'ghost'"):
        image_patch(raw_pod("Running"), "ghost", UPDATE)


def test_release_removes_only_our_finalizer() -> None:
    assert release_patch(["other"]) is None
    assert release_patch(["other", FINALIZER]) == [
        {"op": "test", "path": "/metadata/finalizers/1", "value": FINALIZER},
        {"op": "remove", "path": "/metadata/finalizers/1"},
    ]
