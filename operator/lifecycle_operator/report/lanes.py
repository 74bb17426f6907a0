"""A run's timeline as lanes to draw (pure): per container and hook, its runs as bars and its other
events as marks, and whether a failed expectation is about it.

A run of a subject goes from its Starting (or its first event, when the timeline was cut) to its
Exiting. A run that never logged Exiting (killed, or still running when the run was judged) ends at its
last event and is drawn as unfinished; a Starting while a run is open begins a new run (a restart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lifecycle_operator.api import TimelineEvent
from lifecycle_operator.api.spec import HOOK_PREFIXES
from lifecycle_operator.instrumentation import Verb
from lifecycle_operator.report.model import TestReport


@dataclass(frozen=True)
class Bar:
    start: float
    end: float
    exited: bool


@dataclass(frozen=True)
class Mark:
    uptime: float
    verb: str
    detail: str | None
    time: str


@dataclass(frozen=True)
class Lane:
    subject: str
    bars: list[Bar]
    marks: list[Mark]
    failing: bool

    @property
    def hook(self) -> bool:
        return self.subject.startswith(HOOK_PREFIXES)


def bars_of(events: Sequence[TimelineEvent]) -> list[Bar]:
    """The runs of one subject, from its events in order."""
    bars: list[Bar] = []
    start: float | None = None
    last = 0.0
    for e in events:
        if e.verb == Verb.EXITING:
            bars.append(Bar(e.uptime if start is None else start, e.uptime, exited=True))
            start = None
        elif start is None:
            start = e.uptime
        elif e.verb == Verb.STARTING:  # restarted without logging Exiting
            bars.append(Bar(start, last, exited=False))
            start = e.uptime
        last = e.uptime
    if start is not None:
        bars.append(Bar(start, last, exited=False))
    return bars


def marks_of(events: Sequence[TimelineEvent]) -> list[Mark]:
    """Every event that is not a bar's edge: Started, Delaying, Looping, Terminating."""
    edges = {Verb.STARTING.value, Verb.EXITING.value}
    return [Mark(e.uptime, e.verb, e.detail, e.time) for e in events if e.verb not in edges]


def failing_subjects(report: TestReport, known: Sequence[str]) -> set[str]:
    return {s for i, result in report.failing() for s in report.subjects_of(i, result, known)}


def lanes(report: TestReport) -> list[Lane]:
    """One lane per subject: the spec's containers and hooks in the pod's order, then any other subject
    the timeline has (the spec may have changed since the run)."""
    events = sorted(report.status.timeline, key=lambda e: e.uptime)
    subjects = list(dict.fromkeys([*report.subjects(), *(e.subject for e in events)]))
    failing = failing_subjects(report, subjects)
    by_subject = {s: [e for e in events if e.subject == s] for s in subjects}
    return [Lane(s, bars_of(by_subject[s]), marks_of(by_subject[s]), s in failing) for s in subjects]
