from datetime import UTC, datetime, timedelta

from lifecycle_operator import constants as c
from lifecycle_operator.api import Expectation, LifecycleTestStatus
from lifecycle_operator.api.status import MAX_HISTORY, MAX_TIMELINE
from lifecycle_operator.status_patch import (
    RunOutcome,
    invalid_spec,
    outcome_reason,
    run_finished,
    run_started,
    set_condition,
)
from lifecycle_operator.timeline import build_timeline
from lifecycle_operator.verdicts import Verdict

T0 = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def apply(status: dict[str, object], patch: dict[str, object]) -> dict[str, object]:
    """A JSON merge patch, one level deep, as the API server applies it to status."""
    merged = {**status, **patch}
    return {k: v for k, v in merged.items() if v is not None}


def verdict(passed: bool) -> Verdict:
    e = Expectation.model_validate({"type": "Starts", "container": "a"})
    return Verdict(e, passed, "seen")


def condition(status: dict[str, object], type_: str) -> dict[str, object]:
    conditions = status["conditions"]
    assert isinstance(conditions, list)
    found: dict[str, object] = next(x for x in conditions if x["type"] == type_)
    return found


def test_a_run_goes_from_running_to_passed() -> None:
    status = apply({}, run_started({}, 1, "t-run1", 3, T0, T0 + timedelta(seconds=60)))
    LifecycleTestStatus.model_validate(status)
    assert status["result"] == c.RESULT_RUNNING
    assert condition(status, c.CONDITION_SUCCEEDED)["status"] == "Unknown"
    assert condition(status, c.CONDITION_RUNNING)["status"] == "True"
    outcome = RunOutcome(1, c.REASON_EXPECTATIONS_MET, "ok", [verdict(True)], node_name="n1")
    later = T0 + timedelta(seconds=30)
    status = apply(status, run_finished(status, outcome, 3, later))
    LifecycleTestStatus.model_validate(status)
    assert status["result"] == c.RESULT_PASSED
    assert status["summary"] == "1/1"
    assert status["observedGeneration"] == 3
    assert "deadline" not in status
    succeeded = condition(status, c.CONDITION_SUCCEEDED)
    assert succeeded["status"] == "True"
    assert succeeded["reason"] == c.REASON_EXPECTATIONS_MET
    assert succeeded["lastTransitionTime"] == "2026-11-29T12:00:30Z"
    assert status["history"] == [
        {
            "run": 1,
            "result": "Passed",
            "reason": "ExpectationsMet",
            "passed": 1,
            "total": 1,
            "nodeName": "n1",
            "startTime": "2026-11-29T12:00:00Z",
            "completionTime": "2026-11-29T12:00:30Z",
        }
    ]


def test_a_failed_run_names_the_failed_expectations() -> None:
    reason, message = outcome_reason([verdict(True), verdict(False)], None, False)
    assert reason == c.REASON_EXPECTATIONS_FAILED
    assert message.startswith("1 of 2 failed: a starts: seen")
    assert outcome_reason([verdict(True)], None, True)[0] == c.REASON_TIMED_OUT
    assert outcome_reason([verdict(True)], "pod Succeeded", False) == (
        c.REASON_EXPECTATIONS_FAILED,
        "pod Succeeded",
    )
    assert outcome_reason([verdict(True)], None, False)[0] == c.REASON_EXPECTATIONS_MET


def test_transition_time_moves_only_on_a_change_of_status() -> None:
    first = set_condition([], "Succeeded", "False", "A", "m", 1, T0)
    same = set_condition(first, "Succeeded", "False", "B", "m2", 2, T0 + timedelta(hours=1))
    assert same[0]["lastTransitionTime"] == first[0]["lastTransitionTime"]
    assert same[0]["reason"] == "B"
    changed = set_condition(same, "Succeeded", "True", "C", "m3", 2, T0 + timedelta(hours=2))
    assert changed[0]["lastTransitionTime"] == "2026-11-29T14:00:00Z"
    assert len(changed) == 1


def test_timeline_and_history_are_bounded() -> None:
    text = "".join(f"1 {i}.00 a Looping\n" for i in range(MAX_TIMELINE + 50))
    status: dict[str, object] = {}
    for run in range(1, MAX_HISTORY + 5):
        outcome = RunOutcome(run, c.REASON_TIMED_OUT, "late", [verdict(False)], build_timeline([text]))
        status = apply(status, run_finished(status, outcome, 1, T0))
    LifecycleTestStatus.model_validate(status)
    timeline = status["timeline"]
    history = status["history"]
    assert isinstance(timeline, list)
    assert isinstance(history, list)
    assert len(timeline) == MAX_TIMELINE
    assert timeline[-1]["uptime"] == MAX_TIMELINE + 49
    assert status["timelineTruncated"] is True
    assert [h["run"] for h in history] == list(range(5, MAX_HISTORY + 5))
    assert status["result"] == c.RESULT_FAILED


def test_invalid_spec() -> None:
    status = apply({}, invalid_spec({}, 2, "spec.pod: bad", T0))
    LifecycleTestStatus.model_validate(status)
    assert status["result"] == c.RESULT_ERROR
    assert condition(status, c.CONDITION_SUCCEEDED)["reason"] == c.REASON_INVALID_SPEC
    assert condition(status, c.CONDITION_SUCCEEDED)["message"] == "spec.pod: bad"
