"""Evaluate expectations against the timeline and the pod: the upstream helper set, as pure functions.

Each check returns what it saw: passed or not, a message that says what was seen in either case, and,
when it failed because a subject never logged an event, which one (margins.py reads that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from lifecycle_operator.api import Expectation, ExpectationType
from lifecycle_operator.instrumentation import Verb
from lifecycle_operator.observation import ContainerObservation, PodObservation
from lifecycle_operator.timeline import Timeline


class Missing(NamedTuple):
    """An event a check needed and did not find: `subject` never logged `verb` (after `after`, if set)."""

    subject: str
    verb: str
    after: int = -1


class Outcome(NamedTuple):
    passed: bool
    message: str
    missing: Missing | None = None


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    passed: bool
    message: str
    missing: Missing | None = None


def _starts(t: Timeline, name: str) -> Outcome:
    if t.find(name, Verb.STARTED) == -1:
        return Outcome(
            False, f"{name} never logged Started; saw {t.render(name)}", Missing(name, Verb.STARTED)
        )
    return Outcome(True, f"{name} started; saw {t.render(name)}")


def _doesnt_start(t: Timeline, name: str) -> Outcome:
    if t.find(name, Verb.STARTED) != -1:
        return Outcome(False, f"{name} logged Started, but was expected not to; saw {t.render(name)}")
    return Outcome(True, f"{name} never logged Started; saw {t.render(name)}")


def _exits(t: Timeline, name: str) -> Outcome:
    if t.find(name, Verb.EXITING) == -1:
        return Outcome(
            False, f"{name} never logged Exiting; saw {t.render(name)}", Missing(name, Verb.EXITING)
        )
    return Outcome(True, f"{name} exited; saw {t.render(name)}")


def _then(t: Timeline, first: str, first_verb: Verb, then: str, then_verb: Verb) -> Outcome:
    """`then` logs then_verb after `first` logged first_verb. StartsBefore (Started, then Starting) and
    ExitsBefore (Exiting, then Starting) as upstream's 2023 helpers; ExitsFirst (Exiting, then Exiting) as
    upstream's current ExitsBefore, which also orders the exits of two containers that ran side by side.
    Searching after `first`'s event makes one name work too: an instance, then a later one."""
    anchor = t.find(first, first_verb)
    if anchor == -1:
        return Outcome(
            False, f"{first} never logged {first_verb}; saw {t.render(first)}", Missing(first, first_verb)
        )
    later = t.find(then, then_verb, anchor + 1)
    if later == -1:
        return Outcome(
            False,
            f"{then} did not log {then_verb} after {first} {first_verb}; saw {t.render()}",
            Missing(then, then_verb, anchor),
        )
    return Outcome(
        True,
        f"{first} {first_verb}@{t.events[anchor].uptime:.2f}, "
        f"{then} {then_verb}@{t.events[later].uptime:.2f}",
    )


def _doesnt_start_after(t: Timeline, name: str, other: str) -> Outcome:
    other_starting = t.find(other, Verb.STARTING)
    if other_starting == -1:
        return Outcome(
            False, f"{other} never logged Starting; saw {t.render(other)}", Missing(other, Verb.STARTING)
        )
    late = t.find(name, Verb.STARTED, other_starting + 1)
    if late != -1:
        return Outcome(
            False,
            f"{name} Started@{t.events[late].uptime:.2f}, after {other} "
            f"Starting@{t.events[other_starting].uptime:.2f}",
        )
    return Outcome(True, f"{name} did not start after {other} Starting@{t.events[other_starting].uptime:.2f}")


def _runs(t: Timeline, name: str) -> list[tuple[int, int]]:
    """Each complete run of `name`: the indices of a Started and of the Exiting that ends it.

    A restarted container (or a hook called again) has several. A run that never logged Exiting (a
    SIGKILL) ends at the next Started and is not complete."""
    runs: list[tuple[int, int]] = []
    started = -1
    for i, e in enumerate(t.events):
        if e.subject != name:
            continue
        if e.verb == Verb.STARTED:
            started = i
        elif e.verb == Verb.EXITING and started != -1:
            runs.append((started, i))
            started = -1
    return runs


def _run_together(t: Timeline, a: str, b: str) -> Outcome:
    # Upstream's first revision looked for a "Finishing" verb nobody writes, so it could never fail on
    # order; like upstream's fix, runs must be complete (Started and Exiting) and must overlap. As
    # upstream, any run of one may overlap any run of the other: a crash-looping sidecar whose first run
    # ended before the main container started still runs together with it when a restart overlaps it.
    runs: dict[str, list[tuple[int, int]]] = {}
    for name in (a, b):
        runs[name] = _runs(t, name)
        if not runs[name]:
            verb = Verb.STARTED if t.find(name, Verb.STARTED) == -1 else Verb.EXITING
            return Outcome(
                False,
                f"{name} did not both log Started and Exiting; saw {t.render(name)}",
                Missing(name, verb),
            )
    ev = t.events
    for a_start, a_exit in runs[a]:
        for b_start, b_exit in runs[b]:
            if b_start < a_exit and a_start < b_exit:
                return Outcome(
                    True,
                    f"{a} ran {ev[a_start].uptime:.2f}-{ev[a_exit].uptime:.2f}, "
                    f"{b} ran {ev[b_start].uptime:.2f}-{ev[b_exit].uptime:.2f}: they overlapped",
                )
    return Outcome(
        False,
        f"no run of {a} ({len(runs[a])}) overlapped a run of {b} ({len(runs[b])}); saw {t.render()}",
    )


def _has_restarted(t: Timeline, name: str) -> Outcome:
    starts = t.count(name, Verb.STARTING)
    if starts < 2:
        return Outcome(False, f"{name} logged Starting {starts} time(s); a restart needs 2 or more")
    return Outcome(True, f"{name} logged Starting {starts} times")


def _has_not_restarted(t: Timeline, name: str) -> Outcome:
    starts = t.count(name, Verb.STARTING)
    if starts != 1:
        return Outcome(False, f"{name} logged Starting {starts} time(s); expected exactly 1")
    return Outcome(True, f"{name} logged Starting once")


def _status(pod: PodObservation, name: str) -> ContainerObservation | None:
    return pod.containers.get(name)


def _restart_count_at_least(pod: PodObservation, name: str, count: int) -> Outcome:
    c = _status(pod, name)
    if c is None:
        return Outcome(False, f"{name} has no container status")
    return Outcome(c.restart_count >= count, f"{name} restartCount is {c.restart_count}")


def _waiting_reason(pod: PodObservation, name: str, reason: str) -> Outcome:
    c = _status(pod, name)
    if c is None:
        return Outcome(False, f"{name} has no container status")
    if c.waiting_reason == reason:
        return Outcome(True, f"{name} is waiting with reason {reason}")
    seen = f"waiting with reason {c.waiting_reason}" if c.waiting_reason else "not waiting"
    return Outcome(False, f"{name} is {seen}")


def _terminated_with(pod: PodObservation, name: str, exit_code: int | None, reason: str | None) -> Outcome:
    c = _status(pod, name)
    if c is None:
        return Outcome(False, f"{name} has no container status")
    # As upstream: the current state, not the last termination of an instance since restarted.
    term = c.terminated
    if term is None:
        now = "running" if c.running else f"waiting with reason {c.waiting_reason or 'none'}"
        last = c.last_terminated
        before = f"; an earlier instance exited with code {last.exit_code}" if last is not None else ""
        return Outcome(False, f"{name} has not terminated: it is {now}{before}")
    seen = f"{name} terminated with exit code {term.exit_code}, reason {term.reason}"
    ok = (exit_code is None or term.exit_code == exit_code) and (reason is None or term.reason == reason)
    return Outcome(ok, seen)


def _pod_phase(pod: PodObservation, phase: str) -> Outcome:
    return Outcome(pod.phase == phase, f"pod phase is {pod.phase}")


def _state(c: ContainerObservation) -> str:
    if c.running:
        return "running"
    if c.terminated is not None:
        return f"terminated with exit code {c.terminated.exit_code}"
    return f"waiting with reason {c.waiting_reason or 'none'}"


def _is_running(pod: PodObservation, name: str) -> Outcome:
    c = _status(pod, name)
    if c is None:
        return Outcome(False, f"{name} has no container status")
    return Outcome(c.running, f"{name} is {_state(c)}")


def normalized_image(ref: str) -> str:
    """An image reference as the runtime reports it: a short Docker Hub name in full, tag latest when none
    (busybox:1.37 -> docker.io/library/busybox:1.37)."""
    name, at, digest = ref.partition("@")
    first, slash, _ = name.partition("/")
    if not slash:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if not at and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + at + digest


def _runs_image(pod: PodObservation, name: str, image: str) -> Outcome:
    c = _status(pod, name)
    if c is None:
        return Outcome(False, f"{name} has no container status")
    same = c.image is not None and normalized_image(c.image) == normalized_image(image)
    return Outcome(same, f"{name} runs image {c.image or '(none reported)'}")


def _terminates_within(pod: PodObservation, seconds: int) -> Outcome:
    """Every container had terminated within `seconds` of the deletion request, by the kubelet's
    finishedAt (to the second) against deletionTimestamp less the grace period (the API server's)."""
    asked = pod.deletion_requested_at
    if asked is None:
        return Outcome(False, "the pod was not deleted")
    running = sorted(n for n, c in pod.containers.items() if c.running)
    if running:
        return Outcome(False, f"still running: {', '.join(running)}")
    ends = [
        c.terminated.finished_at
        for c in pod.containers.values()
        if c.terminated is not None and c.terminated.finished_at is not None
    ]
    if not ends:
        return Outcome(False, "no container reported when it terminated")
    took = (max(ends) - asked).total_seconds()
    return Outcome(took <= seconds, f"the last container terminated {took:.0f}s after the deletion request")


def check(e: Expectation, timeline: Timeline, pod: PodObservation, update_image: str = "") -> Outcome:
    """The verdict on one expectation. `update_image` is what RunsImage compares with when it names no
    image: the operator's update image."""
    name, other = e.container or "", e.other or ""
    by_type: dict[ExpectationType, Callable[[], Outcome]] = {
        ExpectationType.STARTS: lambda: _starts(timeline, name),
        ExpectationType.DOESNT_START: lambda: _doesnt_start(timeline, name),
        ExpectationType.EXITS: lambda: _exits(timeline, name),
        ExpectationType.STARTS_BEFORE: lambda: _then(timeline, name, Verb.STARTED, other, Verb.STARTING),
        ExpectationType.EXITS_BEFORE: lambda: _then(timeline, name, Verb.EXITING, other, Verb.STARTING),
        ExpectationType.EXITS_FIRST: lambda: _then(timeline, name, Verb.EXITING, other, Verb.EXITING),
        ExpectationType.DOESNT_START_AFTER: lambda: _doesnt_start_after(timeline, name, other),
        ExpectationType.RUN_TOGETHER: lambda: _run_together(timeline, name, other),
        ExpectationType.HAS_RESTARTED: lambda: _has_restarted(timeline, name),
        ExpectationType.HAS_NOT_RESTARTED: lambda: _has_not_restarted(timeline, name),
        ExpectationType.RESTART_COUNT_AT_LEAST: lambda: _restart_count_at_least(pod, name, e.count or 0),
        ExpectationType.POD_PHASE: lambda: _pod_phase(pod, e.phase or ""),
        ExpectationType.WAITING_REASON: lambda: _waiting_reason(pod, name, e.reason or ""),
        ExpectationType.TERMINATED_WITH: lambda: _terminated_with(pod, name, e.exit_code, e.reason),
        ExpectationType.IS_RUNNING: lambda: _is_running(pod, name),
        ExpectationType.RUNS_IMAGE: lambda: _runs_image(pod, name, e.image or update_image),
        ExpectationType.TERMINATES_WITHIN: lambda: _terminates_within(pod, e.seconds or 0),
    }
    return by_type[e.type]()


def evaluate(
    expectations: list[Expectation], timeline: Timeline, pod: PodObservation, update_image: str = ""
) -> list[Verdict]:
    return [Verdict(e, *check(e, timeline, pod, update_image)) for e in expectations]
