"""Typed views of the objects the run code reads: a LifecycleTest with its status, and a pod's owner (pure).

A LifecycleTest arrives as a plain dict (from kopf or the API client). It is read here once, into a
`TestState`, and every decision after that reads fields, not dict lookups. The status is ours alone
(kopf keeps its bookkeeping in annotations), but it is read leniently: a field of the wrong type reads as
absent, so a hand-edited status cannot wedge the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifecycle_operator import constants as c
from lifecycle_operator.times import parse_time

# Results after which a run is over.
FINISHED_RESULTS = frozenset({c.RESULT_PASSED, c.RESULT_FAILED, c.RESULT_INCONCLUSIVE})


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dicts(value: object) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


@dataclass(frozen=True)
class StatusView:
    """What the run code needs of `status`; raw lists (conditions, history) pass through to patches."""

    result: str | None = None
    run: int = 0
    attempt: int = 1
    pod_name: str | None = None
    node_name: str | None = None
    kubelet_version: str | None = None
    container_runtime_version: str | None = None
    observed_generation: int | None = None
    start_time: datetime | None = None
    completion_time: datetime | None = None
    deadline: datetime | None = None
    queued_time: datetime | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, raw: object) -> StatusView:
        s: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return cls(
            result=_str(s.get("result")),
            run=_int(s.get("run")) or 0,
            attempt=_int(s.get("attempt")) or 1,
            pod_name=_str(s.get("podName")),
            node_name=_str(s.get("nodeName")),
            kubelet_version=_str(s.get("kubeletVersion")),
            container_runtime_version=_str(s.get("containerRuntimeVersion")),
            observed_generation=_int(s.get("observedGeneration")),
            start_time=parse_time(s.get("startTime")),
            completion_time=parse_time(s.get("completionTime")),
            deadline=parse_time(s.get("deadline")),
            queued_time=parse_time(s.get("queuedTime")),
            conditions=_dicts(s.get("conditions")),
            history=_dicts(s.get("history")),
        )

    @property
    def running(self) -> bool:
        return self.result == c.RESULT_RUNNING and self.pod_name is not None

    @property
    def queued(self) -> bool:
        return self.result == c.RESULT_QUEUED

    @property
    def finished(self) -> bool:
        return self.result in FINISHED_RESULTS and self.completion_time is not None

    def result_of_run(self, run: int) -> str | None:
        """The result recorded for a run: the current one, or one in the history."""
        if run == self.run and self.finished:
            return self.result
        return next((_str(h.get("result")) for h in self.history if h.get("run") == run), None)


@dataclass(frozen=True)
class TestState:
    """A LifecycleTest as read from one body: identity, its raw spec, and its status."""

    __test__ = False  # not a pytest test class, whatever its name

    namespace: str
    name: str
    uid: str
    generation: int | None
    resource_version: str | None
    spec: dict[str, Any]
    status: StatusView

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    @property
    def needs_run(self) -> bool:
        """No run has been judged or started for this test yet, or it waits in the queue."""
        return self.status.result is None or self.status.queued

    @property
    def spec_changed(self) -> bool:
        """The spec changed since the current or last run started: that run is superseded."""
        if self.status.queued:
            return False  # a queued run takes the spec as it is when it starts
        return self.generation is not None and self.status.observed_generation != self.generation

    @classmethod
    def read(cls, body: dict[str, Any]) -> TestState:
        meta = body.get("metadata") or {}
        spec = body.get("spec")
        return cls(
            namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")),
            uid=str(meta.get("uid", "")),
            generation=_int(meta.get("generation")),
            resource_version=_str(meta.get("resourceVersion")),
            spec=spec if isinstance(spec, dict) else {},
            status=StatusView.read(body.get("status")),
        )


@dataclass(frozen=True)
class PodRef:
    """Which test, and which of its runs, a pod we created belongs to."""

    namespace: str
    name: str
    test: str
    run: int | None


def owner_of(pod: dict[str, Any]) -> PodRef | None:
    """The LifecycleTest that owns this pod, from its owner reference; None for anyone else's pod."""
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    run = labels.get(c.LABEL_RUN)
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == c.KIND and str(ref.get("apiVersion", "")).startswith(f"{c.GROUP}/"):
            return PodRef(
                namespace=str(meta.get("namespace", "")),
                name=str(meta.get("name", "")),
                test=str(ref["name"]),
                run=int(run) if isinstance(run, str) and run.isdigit() else None,
            )
    return None
