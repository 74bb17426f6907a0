"""The scheduler's rules (pure): which runs are past their deadline, which tests want a run, and which
of those may start now without putting more runs' pods on a node than it can take at once.

A node busy with too many instrumented pods runs their hooks late and their timers slow: the runs then
time out or break their own timing assumptions, and neither says anything about the kubelet. So the
operator admits at most a node's worth of runs at once and queues the rest, first come first served.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

from lifecycle_operator.api import InvalidSpecError, PodTemplate, parse_spec
from lifecycle_operator.fanout import Child
from lifecycle_operator.state import TestState

Key = tuple[str, str]
# Every node can take at least this many runs at once, and a derived limit no more than this.
MIN_RUNS_PER_NODE: Final = 1
MAX_DERIVED_RUNS_PER_NODE: Final = 32
# A derived limit allows this many runs per allocatable core: a run's containers are mostly asleep, but
# their hooks and probes are execs that compete for the CPU.
RUNS_PER_CORE: Final = 8


@dataclass(frozen=True)
class TestView:
    """What the scheduler keeps of a test between watch events: small, and the spec read once."""

    __test__ = False  # not a pytest test class, whatever its name

    state: TestState
    interval_seconds: int | None
    node_name: str | None  # the node the spec pins its pod to, if any
    invalid: bool = False
    # An everyNode test: the pod its children run (for matching nodes), and its status as it is.
    every_node: PodTemplate | None = None
    raw_status: dict[str, Any] = field(default_factory=dict)
    # The child of an everyNode test.
    child: Child | None = None
    # The state lacks what only a run in progress needs (the raw spec, conditions and history): a test
    # at rest, of which the operator may hold thousands. Whoever needs more reads the test.
    partial: bool = False

    @classmethod
    def read(cls, body: dict[str, Any]) -> TestView:
        state = TestState.read(body)
        try:
            spec = parse_spec(state.spec)
        except InvalidSpecError:
            return cls(state, None, None, invalid=True)
        if spec.every_node:
            raw = body.get("status")
            return cls(
                state, None, None, every_node=spec.pod, raw_status=raw if isinstance(raw, dict) else {}
            )
        child = Child.read(body)
        if child is None and state.status.finished:
            status = replace(state.status, conditions=[], history=[])
            return cls(
                replace(state, spec={}, status=status),
                spec.interval_seconds,
                spec.pod.node_name,
                partial=True,
            )
        return cls(state, spec.interval_seconds, spec.pod.node_name, child=child)


def due_rerun(view: TestView, now: datetime) -> bool:
    """Whether a finished test with an interval is due for its next run."""
    status = view.state.status
    if not view.interval_seconds or not status.finished or status.completion_time is None:
        return False
    return now >= status.completion_time + timedelta(seconds=view.interval_seconds)


def wants_run(view: TestView, now: datetime) -> bool:
    """A run is owed: never run, queued, the spec changed since the last run, or an interval came round."""
    state = view.state
    if view.every_node is not None:
        return False  # its children run, one per node
    if view.invalid and state.status.observed_generation == state.generation:
        return False  # the invalid spec is recorded; a new spec will say more
    return state.needs_run or state.spec_changed or due_rerun(view, now)


def overdue(tests: Mapping[Key, TestView], now: datetime) -> list[Key]:
    """The runs in progress whose deadline has passed."""
    return [
        key
        for key, view in tests.items()
        if view.state.status.running
        and view.state.status.deadline is not None
        and view.state.status.deadline <= now
    ]


def node_capacity(node: dict[str, Any], per_node: int) -> int:
    """How many runs a node takes at once: the setting, else derived from what the node can hold."""
    if per_node > 0:
        return per_node
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    pods = _quantity(allocatable.get("pods"), default=110)
    cores = _quantity(allocatable.get("cpu"), default=1)
    derived = min(int(pods) // 2, int(cores * RUNS_PER_CORE), MAX_DERIVED_RUNS_PER_NODE)
    return max(MIN_RUNS_PER_NODE, derived)


def _quantity(value: object, default: float) -> float:
    """A Kubernetes quantity as pods or cores understand it: "110", "2", "1500m"."""
    if not isinstance(value, str | int):
        return default
    text = str(value)
    try:
        return int(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return default


def schedulable(node: dict[str, Any]) -> bool:
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@dataclass(frozen=True)
class Capacity:
    """Runs each schedulable node takes at once."""

    per_node: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, nodes: Iterable[dict[str, Any]], per_node: int) -> Capacity:
        return cls(
            {
                str(n["metadata"]["name"]): node_capacity(n, per_node)
                for n in nodes
                if schedulable(n) and (n.get("metadata") or {}).get("name")
            }
        )

    @property
    def total(self) -> int:
        return sum(self.per_node.values())


@dataclass(frozen=True)
class Admission:
    start: list[Key]  # may start now, in queue order
    wait: list[Key]  # must wait for a slot, in queue order


def admit(
    tests: Mapping[Key, TestView], active: Iterable[Key], capacity: Capacity, now: datetime
) -> Admission:
    """Which of the tests that want a run may start now.

    `active` are the runs whose pod exists or is being created. A run pinned to a node (spec.pod.nodeName)
    takes a slot of that node; any run takes one of the cluster's. The queue is served in order: the
    longest queued first, then tests not queued yet, by namespace and name.
    """
    active = set(active)
    on_node = Counter(tests[k].node_name for k in active if k in tests and tests[k].node_name)
    in_use = len(active)
    wanting = [k for k, v in tests.items() if k not in active and wants_run(v, now)]
    wanting.sort(
        key=lambda k: (tests[k].state.status.queued_time is None, tests[k].state.status.queued_time or now, k)
    )
    start: list[Key] = []
    wait: list[Key] = []
    for key in wanting:
        node = tests[key].node_name
        free = in_use < capacity.total and (node is None or on_node[node] < capacity.per_node.get(node, 0))
        if free:
            start.append(key)
            in_use += 1
            if node is not None:
                on_node[node] += 1
        else:
            wait.append(key)
    return Admission(start, wait)
