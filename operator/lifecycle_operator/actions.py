"""What the operator does to a run's pod mid-run, as upstream's cases do: the next action, and its patch.

Pure. An action's progress is read from the pod itself, never remembered elsewhere: a PatchImage is done
when the pod's spec has the new image, a DeletePod when the pod is being deleted. So an operator that
restarts between two actions takes up where the pod stands, and repeats nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from lifecycle_operator import constants as c
from lifecycle_operator.api import Action, ActionType, LifecycleTestSpec
from lifecycle_operator.judging import judge, was_met
from lifecycle_operator.observation import PodObservation

# Held on the pods of tests that delete their pod mid-run, until the run is judged: the pod's final
# statuses are read from the pod itself, as upstream reads them, and an operator down at the time of the
# deletion loses nothing.
FINALIZER: Final = f"{c.GROUP}/verdict"


@dataclass(frozen=True)
class Take:
    """Take this action now."""

    index: int
    action: Action


@dataclass(frozen=True)
class Wait:
    """The next action's condition does not hold yet."""

    index: int
    action: Action


@dataclass(frozen=True)
class Unreachable:
    """The next action's condition can no longer hold: the run is judged as it stands. `late` when the
    pod shows the condition did hold, before the operator saw it: the case was not run as written, which
    says nothing about the kubelet (the run is Inconclusive, and tried again)."""

    message: str
    late: bool = False


@dataclass(frozen=True)
class AllTaken:
    """Every action was taken (or there are none): the run is judged by its judgeWhen."""


Step = Take | Wait | Unreachable | AllTaken


def target_image(action: Action, update_image: str) -> str:
    return action.image or update_image


def is_done(action: Action, pod: PodObservation, update_image: str) -> bool:
    if action.type == ActionType.PATCH_IMAGE:
        return pod.spec_images.get(action.container or "") == target_image(action, update_image)
    return pod.deleting


def next_step(spec: LifecycleTestSpec, pod: PodObservation, update_image: str) -> Step:
    """The first action not yet visible on the pod, and whether to take it now."""
    for i, action in enumerate(spec.actions):
        if is_done(action, pod, update_image):
            continue
        judgement = judge(action.when, pod)
        if judgement.unreachable is not None and was_met(action.when, pod):
            return Unreachable(
                f"action {i + 1} ({action.describe()}) was not taken in time: {action.when.describe()} "
                f"held only before the operator saw the pod, which is now {pod.phase}",
                late=True,
            )
        if judgement.unreachable is not None:
            return Unreachable(
                f"action {i + 1} ({action.describe()}) was never taken: {judgement.unreachable}"
            )
        return Take(i, action) if judgement.ready else Wait(i, action)
    return AllTaken()


def deletes_pod(spec: LifecycleTestSpec) -> bool:
    return any(a.type == ActionType.DELETE_POD for a in spec.actions)


def image_patch(pod: dict[str, Any], container: str, image: str) -> list[dict[str, Any]]:
    """A JSON patch setting one container's image, guarded by a test of its name at that index (so a
    patch computed from a stale pod fails instead of changing another container)."""
    spec = pod.get("spec") or {}
    for field in ("initContainers", "containers"):
        for j, raw in enumerate(spec.get(field) or []):
            if raw.get("name") == container:
                return [
                    {"op": "test", "path": f"/spec/{field}/{j}/name", "value": container},
                    {"op": "replace", "path": f"/spec/{field}/{j}/image", "value": image},
                ]
    raise ValueError(f"the pod has no container {container!r}")


def release_patch(finalizers: Sequence[str]) -> list[dict[str, Any]] | None:
    """A JSON patch removing our finalizer, guarded by a test of it at its index; None when not held."""
    finalizers = list(finalizers)
    if FINALIZER not in finalizers:
        return None
    j = finalizers.index(FINALIZER)
    return [
        {"op": "test", "path": f"/metadata/finalizers/{j}", "value": FINALIZER},
        {"op": "remove", "path": f"/metadata/finalizers/{j}"},
    ]
