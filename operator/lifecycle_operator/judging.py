"""When a run is ready to be judged, from the pod alone (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lifecycle_operator.api import JudgeType, JudgeWhen
from lifecycle_operator.observation import PodObservation


@dataclass(frozen=True)
class Judgement:
    ready: bool
    # Set when the condition can no longer be met, e.g. the pod Succeeded while it was to fail.
    unreachable: str | None = None


NOT_YET = Judgement(ready=False)
READY = Judgement(ready=True)


def judge(when: JudgeWhen, pod: PodObservation) -> Judgement:
    match when.type:
        case JudgeType.POD_TERMINAL:
            return READY if pod.terminal else NOT_YET
        case JudgeType.POD_FAILED:
            if pod.phase == "Succeeded":
                return Judgement(True, "the pod Succeeded; it was expected to fail")
            return READY if pod.phase == "Failed" else NOT_YET
        case JudgeType.POD_RUNNING:
            if pod.phase == "Running":
                return READY
            return _unless_over(pod, when)
        case JudgeType.RESTART_COUNT:
            c = pod.containers.get(when.container or "")
            if c is not None and c.restart_count >= (when.count or 0):
                return READY
            if pod.terminal:
                seen = c.restart_count if c else 0
                return Judgement(
                    True, f"the pod is {pod.phase} and {when.container} restarted only {seen} time(s)"
                )
            return NOT_YET
        case JudgeType.CONTAINER_WAITING:
            c = pod.containers.get(when.container or "")
            if c is not None and c.waiting_reason == when.reason:
                return READY
            # As upstream: the container can only be left waiting while the pod is Pending.
            if pod.phase != "Pending":
                return Judgement(
                    True,
                    f"the pod is {pod.phase}; {when.container} was never waiting with reason {when.reason}",
                )
            return NOT_YET
        case JudgeType.CONTAINER_RUNNING:
            c = pod.containers.get(when.container or "")
            if (
                c is not None
                and c.running
                and c.restart_count >= (when.count or 0)
                and (when.started is None or bool(c.started) == when.started)
            ):
                return READY
            return _unless_over(pod, when)


def _unless_over(pod: PodObservation, when: JudgeWhen) -> Judgement:
    """Not yet, unless nothing runs any more: the pod ended, or is being deleted and all has stopped."""
    stopped = pod.deleting and not any(c.running for c in pod.containers.values())
    if pod.terminal or stopped:
        state = pod.phase if pod.terminal else "being deleted"
        return Judgement(True, f"the pod is {state} and never met: {when.describe()}")
    return NOT_YET


def was_met(when: JudgeWhen, pod: PodObservation) -> bool:
    """Whether the pod shows that a condition it no longer meets held at some time: the pod Running
    (a regular container ran), or a container running as its instance `count` (it has restarted past
    that). Only such conditions; any other, and any pod without that evidence, is False."""
    match when.type:
        case JudgeType.POD_RUNNING:
            return any(c.ran for name, c in pod.containers.items() if name in pod.regular)
        case JudgeType.CONTAINER_RUNNING if when.started is None:
            c = pod.containers.get(when.container or "")
            return c is not None and c.restart_count > (when.count or 0)
        case _:
            return False


def met_at(when: JudgeWhen, pod: PodObservation) -> datetime | None:
    """When a met judging condition became true, from the pod's own timestamps; None when they can't say.

    A deadline noticed late (after an API outage) is judged by this, not by the operator's clock: a pod
    that reached its condition in time gets a normal verdict however late it is read.
    """
    match when.type:
        case JudgeType.POD_TERMINAL | JudgeType.POD_FAILED:
            return pod.last_finished_at
        case JudgeType.RESTART_COUNT:
            c = pod.containers.get(when.container or "")
            last = c.last_terminated if c is not None else None
            return last.finished_at if last is not None else None
        case JudgeType.CONTAINER_WAITING | JudgeType.POD_RUNNING | JudgeType.CONTAINER_RUNNING:
            return None
