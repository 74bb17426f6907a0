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
