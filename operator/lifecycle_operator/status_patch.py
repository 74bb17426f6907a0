"""From a run's start, queueing and outcome to the status of its LifecycleTest (pure).

Every function returns the body of a JSON merge patch for the status subresource: lists are replaced
whole, and None removes a field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from lifecycle_operator import constants as c
from lifecycle_operator.api import Condition, ExpectationResult, RunRecord, TimelineEvent
from lifecycle_operator.api.status import (
    MAX_CONDITION_MESSAGE,
    MAX_EXPECTATION_MESSAGE,
    MAX_HISTORY,
    MAX_MALFORMED_LINE,
    MAX_MALFORMED_SAMPLE,
    MAX_TIMELINE,
)
from lifecycle_operator.outcome import RunOutcome
from lifecycle_operator.state import StatusView
from lifecycle_operator.timeline import Timeline
from lifecycle_operator.times import format_time

Patch = dict[str, Any]
ConditionState = tuple[str, str, str]  # status, reason, message

TRUE: Final = "True"
FALSE: Final = "False"
UNKNOWN: Final = "Unknown"


def set_condition(
    conditions: list[dict[str, Any]],
    type_: str,
    state: ConditionState,
    generation: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Replace the condition of this type; its lastTransitionTime moves only when its status changes."""
    status, reason, message = state
    previous = next((x for x in conditions if x.get("type") == type_), None)
    unchanged = previous is not None and previous.get("status") == status
    condition = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message[:MAX_CONDITION_MESSAGE],
        observed_generation=generation,
        last_transition_time=str(previous.get("lastTransitionTime"))
        if unchanged and previous is not None
        else format_time(now),
    )
    kept = [x for x in conditions if x.get("type") != type_]
    return [*kept, condition.model_dump(by_alias=True, exclude_none=True)]


def _conditions(
    status: StatusView,
    generation: int | None,
    now: datetime,
    *,
    running: ConditionState,
    succeeded: ConditionState,
) -> list[dict[str, Any]]:
    """Both of our conditions, set together: every status change moves Running and Succeeded at once."""
    conditions = list(status.conditions)
    conditions = set_condition(conditions, c.CONDITION_RUNNING, running, generation, now)
    return set_condition(conditions, c.CONDITION_SUCCEEDED, succeeded, generation, now)


def run_queued(status: StatusView, run: int, generation: int | None, now: datetime, why: str) -> Patch:
    """The run waits for a slot on its node; no pod exists yet, so no deadline runs yet."""
    conditions = _conditions(
        status,
        generation,
        now,
        running=(FALSE, c.REASON_QUEUED, f"run {run} is queued: {why}"),
        succeeded=(UNKNOWN, c.REASON_QUEUED, f"run {run} is queued"),
    )
    return {
        "observedGeneration": generation,
        "result": c.RESULT_QUEUED,
        "summary": None,
        "queuedTime": format_time(now),
        "deadline": None,
        "conditions": conditions,
    }


def run_started(
    status: StatusView,
    run: int,
    pod_name: str,
    generation: int | None,
    now: datetime,
    deadline: datetime,
    attempt: int = 1,
    retry_reason: str | None = None,
) -> Patch:
    started = f"run {run} started pod {pod_name}"
    if attempt > 1:
        started += f" (attempt {attempt}; the last was inconclusive: {retry_reason})"
    conditions = _conditions(
        status,
        generation,
        now,
        running=(TRUE, c.REASON_RUN_STARTED, started),
        succeeded=(UNKNOWN, c.REASON_RUN_STARTED, f"run {run} is in progress"),
    )
    return {
        "observedGeneration": generation,
        "result": c.RESULT_RUNNING,
        "summary": None,
        "run": run,
        "attempt": attempt,
        "podName": pod_name,
        "nodeName": None,
        "startTime": format_time(now),
        "queuedTime": None,
        "completionTime": None,
        "deadline": format_time(deadline),
        "expectations": [],
        "timeline": [],
        "timelineTruncated": False,
        "malformedLines": None,
        "malformedSample": None,
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


def run_finished(status: StatusView, outcome: RunOutcome, generation: int | None, now: datetime) -> Patch:
    conditions = _conditions(
        status,
        generation,
        now,
        running=(FALSE, c.REASON_RUN_FINISHED, f"run {outcome.run} finished"),
        succeeded=(TRUE if outcome.passed else FALSE, outcome.reason, outcome.message),
    )
    total = len(outcome.verdicts)
    start_time = format_time(status.start_time) if status.start_time else None
    record = RunRecord(
        run=outcome.run,
        result=outcome.result,
        reason=outcome.reason,
        passed=outcome.passed_count,
        total=total,
        node_name=outcome.node_name,
        start_time=start_time,
        completion_time=format_time(now),
    ).model_dump(by_alias=True, exclude_none=True)
    history = [h for h in status.history if h.get("run") != outcome.run]
    timeline, truncated = _timeline(outcome.timeline)
    results = [
        ExpectationResult(
            type=v.expectation.type.value,
            description=v.expectation.describe(),
            passed=v.passed,
            message=v.message[:MAX_EXPECTATION_MESSAGE],
        ).model_dump(by_alias=True)
        for v in outcome.verdicts
    ]
    malformed = outcome.timeline.malformed
    return {
        "observedGeneration": generation,
        "result": outcome.result,
        "summary": f"{outcome.passed_count}/{total}",
        "run": outcome.run,
        "nodeName": outcome.node_name,
        "kubeletVersion": outcome.kubelet_version,
        "containerRuntimeVersion": outcome.container_runtime_version,
        "completionTime": format_time(now),
        "deadline": None,
        "expectations": results,
        "timeline": timeline,
        "timelineTruncated": truncated,
        "malformedLines": len(malformed) or None,
        "malformedSample": [line[:MAX_MALFORMED_LINE] for line in malformed[:MAX_MALFORMED_SAMPLE]] or None,
        "evidence": outcome.evidence,
        "history": [*history, record][-MAX_HISTORY:],
        "conditions": conditions,
    }


def invalid_spec(status: StatusView, generation: int | None, message: str, now: datetime) -> Patch:
    conditions = _conditions(
        status,
        generation,
        now,
        running=(FALSE, c.REASON_INVALID_SPEC, "no run: the spec is invalid"),
        succeeded=(FALSE, c.REASON_INVALID_SPEC, message),
    )
    return {
        "observedGeneration": generation,
        "result": c.RESULT_ERROR,
        "summary": None,
        "queuedTime": None,
        "deadline": None,
        "conditions": conditions,
    }
