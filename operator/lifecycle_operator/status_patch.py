"""From a run's outcome to the status of its LifecycleTest (pure).

Every function returns the body of a JSON merge patch for the status subresource: lists are replaced
whole, and None removes a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifecycle_operator import constants as c
from lifecycle_operator.api import (
    Condition,
    ExpectationResult,
    RunRecord,
    TimelineEvent,
)
from lifecycle_operator.api.status import MAX_HISTORY, MAX_TIMELINE
from lifecycle_operator.timeline import Timeline
from lifecycle_operator.verdicts import Verdict

Patch = dict[str, Any]


def rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RunOutcome:
    """Everything known when a run ends."""

    run: int
    reason: str
    message: str
    verdicts: list[Verdict] = field(default_factory=list)
    timeline: Timeline = field(default_factory=Timeline)
    evidence: list[str] = field(default_factory=list)
    node_name: str | None = None

    @property
    def passed_count(self) -> int:
        return sum(1 for v in self.verdicts if v.passed)

    @property
    def passed(self) -> bool:
        return self.reason == c.REASON_EXPECTATIONS_MET

    @property
    def result(self) -> str:
        if self.passed:
            return c.RESULT_PASSED
        if self.reason in {c.REASON_INVALID_SPEC}:
            return c.RESULT_ERROR
        return c.RESULT_FAILED


def outcome_reason(verdicts: list[Verdict], unreachable: str | None, timed_out: bool) -> tuple[str, str]:
    """The Succeeded condition's reason and message for a judged run."""
    failed = [v for v in verdicts if not v.passed]
    if timed_out:
        return c.REASON_TIMED_OUT, "the judging condition was not met before the timeout"
    if unreachable is not None:
        return c.REASON_EXPECTATIONS_FAILED, unreachable
    if failed:
        names = "; ".join(f"{v.expectation.describe()}: {v.message}" for v in failed[:3])
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        return c.REASON_EXPECTATIONS_FAILED, f"{len(failed)} of {len(verdicts)} failed: {names}{more}"
    return c.REASON_EXPECTATIONS_MET, f"all {len(verdicts)} expectations were met"


def set_condition(
    conditions: list[dict[str, Any]],
    type_: str,
    status: str,
    reason: str,
    message: str,
    generation: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Replace the condition of this type; its lastTransitionTime moves only when its status changes."""
    previous = next((x for x in conditions if x.get("type") == type_), None)
    changed = previous is None or previous.get("status") != status
    condition = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message[:32768],
        observed_generation=generation,
        last_transition_time=rfc3339(now)
        if changed or previous is None
        else str(previous.get("lastTransitionTime")),
    )
    kept = [x for x in conditions if x.get("type") != type_]
    return [*kept, condition.model_dump(by_alias=True, exclude_none=True)]


ConditionState = tuple[str, str, str]  # status, reason, message


def _conditions(
    status: dict[str, Any],
    generation: int | None,
    now: datetime,
    *,
    running: ConditionState,
    succeeded: ConditionState,
) -> list[dict[str, Any]]:
    """Both of our conditions, set together: every status change moves Running and Succeeded at once."""
    conditions = list(status.get("conditions") or [])
    for type_, (state, reason, message) in (
        (c.CONDITION_RUNNING, running),
        (c.CONDITION_SUCCEEDED, succeeded),
    ):
        conditions = set_condition(conditions, type_, state, reason, message, generation, now)
    return conditions


def run_started(
    status: dict[str, Any], run: int, pod_name: str, generation: int | None, now: datetime, deadline: datetime
) -> Patch:
    conditions = _conditions(
        status,
        generation,
        now,
        running=("True", c.REASON_RUN_STARTED, f"run {run} started pod {pod_name}"),
        succeeded=("Unknown", c.REASON_RUN_STARTED, f"run {run} is in progress"),
    )
    return {
        "observedGeneration": generation,
        "result": c.RESULT_RUNNING,
        "summary": None,
        "run": run,
        "podName": pod_name,
        "nodeName": None,
        "startTime": rfc3339(now),
        "completionTime": None,
        "deadline": rfc3339(deadline),
        "expectations": [],
        "timeline": [],
        "timelineTruncated": False,
        "evidence": [],
        "conditions": conditions,
    }


def _timeline(t: Timeline) -> tuple[list[dict[str, Any]], bool]:
    events = t.events[-MAX_TIMELINE:]
    dumped = [
        TimelineEvent(
            subject=e.subject, verb=e.verb, uptime=e.uptime, time=e.time, detail=e.detail
        ).model_dump(by_alias=True, exclude_none=True)
        for e in events
    ]
    return dumped, len(t.events) > MAX_TIMELINE


def run_finished(status: dict[str, Any], outcome: RunOutcome, generation: int | None, now: datetime) -> Patch:
    conditions = _conditions(
        status,
        generation,
        now,
        running=("False", c.REASON_RUN_FINISHED, f"run {outcome.run} finished"),
        succeeded=("True" if outcome.passed else "False", outcome.reason, outcome.message),
    )
    total = len(outcome.verdicts)
    summary = f"{outcome.passed_count}/{total}"
    record = RunRecord(
        run=outcome.run,
        result=outcome.result,
        reason=outcome.reason,
        passed=outcome.passed_count,
        total=total,
        node_name=outcome.node_name,
        start_time=status.get("startTime"),
        completion_time=rfc3339(now),
    ).model_dump(by_alias=True, exclude_none=True)
    history = [h for h in status.get("history") or [] if h.get("run") != outcome.run]
    timeline, truncated = _timeline(outcome.timeline)
    results = [
        ExpectationResult(
            type=v.expectation.type.value,
            description=v.expectation.describe(),
            passed=v.passed,
            message=v.message[:1024],
        ).model_dump(by_alias=True)
        for v in outcome.verdicts
    ]
    return {
        "observedGeneration": generation,
        "result": outcome.result,
        "summary": summary,
        "run": outcome.run,
        "nodeName": outcome.node_name,
        "completionTime": rfc3339(now),
        "deadline": None,
        "expectations": results,
        "timeline": timeline,
        "timelineTruncated": truncated,
        "evidence": outcome.evidence,
        "history": [*history, record][-MAX_HISTORY:],
        "conditions": conditions,
    }


def invalid_spec(status: dict[str, Any], generation: int | None, message: str, now: datetime) -> Patch:
    conditions = _conditions(
        status,
        generation,
        now,
        running=("False", c.REASON_INVALID_SPEC, "no run: the spec is invalid"),
        succeeded=("False", c.REASON_INVALID_SPEC, message),
    )
    return {
        "observedGeneration": generation,
        "result": c.RESULT_ERROR,
        "summary": None,
        "deadline": None,
        "conditions": conditions,
    }
