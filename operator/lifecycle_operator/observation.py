"""A typed snapshot of what the API says about a pod: phase and per-container state.

Built from the pod as a plain dict (what kopf's watch delivers and what the API client returns after
sanitising), so every step after it is pure and testable with literal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from lifecycle_operator.times import parse_time

# The reasons a container instance ends with when the runtime could not start it: it never ran.
NEVER_STARTED: Final = frozenset({"StartError", "ContainerCannotRun"})


@dataclass(frozen=True)
class Terminated:
    exit_code: int | None
    reason: str | None
    message: str | None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class ContainerObservation:
    name: str
    restart_count: int = 0
    running: bool = False
    waiting_reason: str | None = None
    terminated: Terminated | None = None
    last_terminated: Terminated | None = None
    started: bool | None = None
    image: str | None = None  # as the status reports it: the image the current instance runs

    @property
    def ran(self) -> bool:
        """Whether an instance of this container really ran: running, or ended after it had started
        (an instance the runtime could not start ends too, with a reason of its own)."""
        ended = (self.terminated, self.last_terminated)
        return self.running or any(t is not None and t.reason not in NEVER_STARTED for t in ended)

    @property
    def has_run(self) -> bool:
        """Whether any instance of this container ever ran, so it can have a log."""
        return self.running or self.terminated is not None or self.last_terminated is not None


@dataclass(frozen=True)
class PodObservation:
    name: str
    phase: str
    node_name: str | None
    deleting: bool = False
    containers: dict[str, ContainerObservation] = field(default_factory=dict)
    # The image each container has in the pod's spec (what an image patch changes).
    spec_images: dict[str, str] = field(default_factory=dict)
    # The regular containers' names, in the spec's order (containers, not initContainers).
    regular: tuple[str, ...] = ()
    # When deletion was asked for: deletionTimestamp less the grace period (the API server's clock).
    deletion_requested_at: datetime | None = None
    finalizers: tuple[str, ...] = ()
    created_at: datetime | None = None
    # When the scheduler bound the pod to its node (its PodScheduled condition turned True).
    scheduled_at: datetime | None = None
    # The pod's identity: a run's pod keeps its name if its test is deleted and made again, not its uid.
    uid: str = ""

    @property
    def placement_lag(self) -> timedelta:
        """How long the pod waited for the control plane to give it to a node after it was created:
        time no kubelet had it (seconds normally; an API server outage or a busy scheduler can make it
        most of a run's timeout)."""
        if self.created_at is None or self.scheduled_at is None:
            return timedelta(0)
        return max(timedelta(0), self.scheduled_at - self.created_at)

    @property
    def terminal(self) -> bool:
        return self.phase in {"Succeeded", "Failed"}

    @property
    def last_finished_at(self) -> datetime | None:
        """When the last container instance ended, by the kubelet's own clock."""
        times = [
            t.finished_at
            for c in self.containers.values()
            for t in (c.terminated, c.last_terminated)
            if t is not None and t.finished_at is not None
        ]
        return max(times, default=None)


def _terminated(raw: dict[str, Any] | None) -> Terminated | None:
    if not raw:
        return None
    return Terminated(
        exit_code=raw.get("exitCode"),
        reason=raw.get("reason"),
        message=raw.get("message"),
        finished_at=parse_time(raw.get("finishedAt")),
    )


def _container(raw: dict[str, Any]) -> ContainerObservation:
    state = raw.get("state") or {}
    last = raw.get("lastState") or {}
    waiting = state.get("waiting")
    return ContainerObservation(
        name=raw["name"],
        restart_count=int(raw.get("restartCount") or 0),
        running=state.get("running") is not None,
        waiting_reason=waiting.get("reason") if waiting else None,
        terminated=_terminated(state.get("terminated")),
        last_terminated=_terminated(last.get("terminated")),
        started=raw.get("started"),
        image=raw.get("image"),
    )


def _deletion_requested_at(meta: dict[str, Any]) -> datetime | None:
    deleting = parse_time(meta.get("deletionTimestamp"))
    if deleting is None:
        return None
    return deleting - timedelta(seconds=int(meta.get("deletionGracePeriodSeconds") or 0))


def observe_pod(pod: dict[str, Any]) -> PodObservation:
    """The snapshot of a pod given in the API's camelCase JSON shape."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    containers: dict[str, ContainerObservation] = {}
    spec_images = {
        str(c["name"]): str(c.get("image") or "")
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    }
    for raw in status.get("initContainerStatuses") or []:
        containers[raw["name"]] = _container(raw)
    for raw in status.get("containerStatuses") or []:
        containers[raw["name"]] = _container(raw)
    return PodObservation(
        name=meta.get("name", ""),
        phase=status.get("phase") or "Pending",
        node_name=spec.get("nodeName"),
        deleting=meta.get("deletionTimestamp") is not None,
        containers=containers,
        spec_images=spec_images,
        regular=tuple(str(c["name"]) for c in spec.get("containers") or []),
        deletion_requested_at=_deletion_requested_at(meta),
        finalizers=tuple(meta.get("finalizers") or ()),
        created_at=parse_time(meta.get("creationTimestamp")),
        uid=str(meta.get("uid") or ""),
        scheduled_at=_scheduled_at(status),
    )


def _scheduled_at(status: dict[str, Any]) -> datetime | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None
