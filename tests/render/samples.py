"""Reports of finished runs, built with the operator's own pydantic models, for the report tests (unit
and browser tiers alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lifecycle_operator import constants as c
from lifecycle_operator.api import (
    Condition,
    ExpectationResult,
    LifecycleTestStatus,
    RunRecord,
    TimelineEvent,
    parse_spec,
)
from lifecycle_operator.report.model import TestReport
from lifecycle_operator.times import from_unix

ROOT = Path(__file__).resolve().parents[2]
TIMELINES = ROOT / "tests" / "fixtures" / "timelines"
# The fixtures count wall-clock seconds from 1; a run's events are put on this day.
EPOCH = 1767323045  # 2026-01-02T03:04:05Z
POST_START_EXAMPLE = ROOT / "examples" / "05-post-start-blocks-next-container.yaml"
REASONS = {
    c.RESULT_PASSED: c.REASON_EXPECTATIONS_MET,
    c.RESULT_FAILED: c.REASON_EXPECTATIONS_FAILED,
    c.RESULT_INCONCLUSIVE: c.REASON_INCONCLUSIVE,
    c.RESULT_ERROR: c.REASON_INVALID_SPEC,
}


def fixture_timeline(name: str) -> list[TimelineEvent]:
    """A timeline fixture (`<unix seconds> <uptime> <subject> <verb> [detail]` lines) as status events."""
    events = []
    for line in (TIMELINES / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        unix, uptime, subject, verb, *detail = line.split()
        events.append(
            TimelineEvent(
                subject=subject,
                verb=verb,
                uptime=float(uptime),
                time=from_unix(EPOCH + int(unix)),
                detail=" ".join(detail) or None,
            )
        )
    return events


def result(
    description: str, passed: bool = True, message: str = "seen", type_: str = "Starts"
) -> ExpectationResult:
    return ExpectationResult(type=type_, description=description, passed=passed, message=message)


def status(
    result_: str | None,
    expectations: list[ExpectationResult] | None = None,
    *,
    reason: str | None = None,
    message: str = "",
    timeline: list[TimelineEvent] | None = None,
    node: str | None = "node-1",
    run: int | None = 1,
    attempt: int = 1,
) -> LifecycleTestStatus:
    """A status as the operator writes it after a run (or before any, with result_ None)."""
    expectations = expectations or []
    passed = sum(1 for e in expectations if e.passed)
    conditions = []
    finished = result_ in REASONS or reason is not None
    if result_ is not None:
        why = reason or REASONS.get(result_, c.REASON_RUN_STARTED)
        state = "True" if result_ == c.RESULT_PASSED else "False" if finished else "Unknown"
        conditions.append(
            Condition(
                type=c.CONDITION_SUCCEEDED,
                status=state,
                reason=why,
                message=message,
                last_transition_time="2026-01-02T03:04:50Z",
            )
        )
    judged = finished and result_ != c.RESULT_ERROR
    return LifecycleTestStatus(
        result=result_,
        summary=f"{passed}/{len(expectations)}" if judged else None,
        run=run if result_ != c.RESULT_ERROR else None,
        attempt=attempt,
        node_name=node if judged else None,
        start_time="2026-01-02T03:04:05Z" if run else None,
        completion_time="2026-01-02T03:04:50Z" if judged else None,
        expectations=expectations,
        timeline=timeline or [],
        history=[
            RunRecord(
                run=run or 1,
                result=result_ or "",
                reason=reason or "",
                passed=passed,
                total=len(expectations),
                node_name=node,
            )
        ]
        if judged
        else [],
        conditions=conditions,
    )


def spec_of(path: Path) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(path.read_text())["spec"]
    return spec


def late_hook(namespace: str = "ns", name: str = "post-start-blocks-next-container") -> TestReport:
    """Seed example 05 on a loaded node (fixture late-hook.txt): the hook was taken down with its
    container before it logged Exiting, so `PostStart-regular-1 exits before regular-2 starts` failed."""
    expectations = [
        result(
            "PostStart-regular-1 starts before regular-2",
            True,
            "started at 101.33, before 102.40",
            "StartsBefore",
        ),
        result(
            "PostStart-regular-1 exits before regular-2 starts",
            False,
            "PostStart-regular-1 never logged Exiting",
            "ExitsBefore",
        ),
    ]
    st = status(
        c.RESULT_FAILED,
        expectations,
        message="1 of 2 failed: PostStart-regular-1 exits before regular-2 starts: "
        "PostStart-regular-1 never logged Exiting",
        timeline=fixture_timeline("late-hook.txt"),
    )
    return TestReport(namespace, name, st, parse_spec(spec_of(POST_START_EXAMPLE)))


def quiet_node(namespace: str = "ns", name: str = "post-start-blocks-next-container") -> TestReport:
    """Seed example 05 on a quiet node: both expectations held."""
    expectations = [
        result("PostStart-regular-1 starts before regular-2", True, "ok", "StartsBefore"),
        result("PostStart-regular-1 exits before regular-2 starts", True, "ok", "ExitsBefore"),
    ]
    st = status(c.RESULT_PASSED, expectations, timeline=fixture_timeline("quiet-node.txt"))
    return TestReport(namespace, name, st, parse_spec(spec_of(POST_START_EXAMPLE)))
