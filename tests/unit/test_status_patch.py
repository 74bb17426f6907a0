from datetime import UTC, datetime, timedelta

from lifecycle_operator import constants as c
from lifecycle_operator.api import Expectation, LifecycleTestStatus
from lifecycle_operator.api.status import MAX_HISTORY, MAX_TIMELINE
from lifecycle_operator.outcome import Judged, Lost, RunOutcome, TimedOut, outcome_reason
from lifecycle_operator.state import StatusView
from lifecycle_operator.status_patch import (
    invalid_spec,
    run_finished,
    run_queued,
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
    status = apply({}, run_started(StatusView(), 1, "t-run1", 3, T0, T0 + timedelta(seconds=60)))
    LifecycleTestStatus.model_validate(status)
    assert status["result"] == c.RESULT_RUNNING
    assert condition(status, c.CONDITION_SUCCEEDED)["status"] == "Unknown"
    assert condition(status, c.CONDITION_RUNNING)["status"] == "True"
    outcome = RunOutcome(1, c.REASON_EXPECTATIONS_MET, "ok", [verdict(True)], node_name="n1")
    later = T0 + timedelta(seconds=30)
    status = apply(status, run_finished(StatusView.read(status), outcome, 3, later))
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
    reason, message = outcome_reason([verdict(True), verdict(False)], Judged())
    assert reason == c.REASON_EXPECTATIONS_FAILED
    assert message.startswith("1 of 2 failed: a starts: seen")
    assert outcome_reason([verdict(True)], TimedOut())[0] == c.REASON_TIMED_OUT
    assert outcome_reason([verdict(True)], Judged("pod Succeeded")) == (
        c.REASON_EXPECTATIONS_FAILED,
        "pod Succeeded",
    )
    assert outcome_reason([], Lost("gone")) == (c.REASON_POD_LOST, "gone")
    assert outcome_reason([verdict(True)], Judged())[0] == c.REASON_EXPECTATIONS_MET
    reason, message = outcome_reason([verdict(False)], Judged(), "the hook was late")
    assert reason == c.REASON_INCONCLUSIVE
    assert message.startswith("the hook was late; 1 of 1 failed")
    # Inconclusive explains failures only: a run that passed is a pass.
    assert outcome_reason([verdict(True)], Judged(), "the hook was late")[0] == c.REASON_EXPECTATIONS_MET
    # An action the operator came too late for: Inconclusive, whatever the expectations say.
    assert outcome_reason([verdict(True)], Judged("action 1 was not taken in time", late=True)) == (
        c.REASON_INCONCLUSIVE,
        "action 1 was not taken in time",
    )


def test_transition_time_moves_only_on_a_change_of_status() -> None:
    first = set_condition([], "Succeeded", ("False", "A", "m"), 1, T0)
    same = set_condition(first, "Succeeded", ("False", "B", "m2"), 2, T0 + timedelta(hours=1))
    assert same[0]["lastTransitionTime"] == first[0]["lastTransitionTime"]
    assert same[0]["reason"] == "B"
    changed = set_condition(same, "Succeeded", ("True", "C", "m3"), 2, T0 + timedelta(hours=2))
    assert changed[0]["lastTransitionTime"] == "2026-11-29T14:00:00Z"
    assert len(changed) == 1


def test_timeline_and_history_are_bounded() -> None:
    text = "".join(f"1 {i}.00 a Looping\n" for i in range(MAX_TIMELINE + 50))
    status: dict[str, object] = {}
    for run in range(1, MAX_HISTORY + 5):
        outcome = RunOutcome(run, c.REASON_TIMED_OUT, "late", [verdict(False)], build_timeline([text]))
        status = apply(status, run_finished(StatusView.read(status), outcome, 1, T0))
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
    status = apply({}, invalid_spec(StatusView(), 2, "spec.pod: bad", T0))
    LifecycleTestStatus.model_validate(status)
    assert status["result"] == c.RESULT_ERROR
    assert condition(status, c.CONDITION_SUCCEEDED)["reason"] == c.REASON_INVALID_SPEC
    assert condition(status, c.CONDITION_SUCCEEDED)["message"] == "spec.pod: bad"
    assert condition(status, c.CONDITION_RUNNING)["reason"] == c.REASON_INVALID_SPEC
    assert condition(status, c.CONDITION_RUNNING)["status"] == "False"


def test_the_running_condition_says_why_at_each_step() -> None:
    status = apply({}, run_queued(StatusView(), 1, 1, T0, "all 8 slots are taken"))
    LifecycleTestStatus.model_validate(status)
    assert status["result"] == c.RESULT_QUEUED
    assert status["queuedTime"] == "2026-11-29T12:00:00Z"
    assert condition(status, c.CONDITION_RUNNING)["reason"] == c.REASON_QUEUED
    assert "all 8 slots are taken" in str(condition(status, c.CONDITION_RUNNING)["message"])
    status = apply(status, run_started(StatusView.read(status), 1, "p", 1, T0, T0 + timedelta(seconds=9)))
    assert condition(status, c.CONDITION_RUNNING)["reason"] == c.REASON_RUN_STARTED
    assert condition(status, c.CONDITION_SUCCEEDED)["reason"] == c.REASON_RUN_STARTED
    assert "queuedTime" not in status
    assert status["attempt"] == 1
    done = RunOutcome(1, c.REASON_EXPECTATIONS_MET, "ok", [verdict(True)])
    status = apply(status, run_finished(StatusView.read(status), done, 1, T0))
    assert condition(status, c.CONDITION_RUNNING)["reason"] == c.REASON_RUN_FINISHED


def test_a_retry_says_which_attempt_and_why() -> None:
    patch = run_started(StatusView(), 2, "p", 1, T0, T0, attempt=2, retry_reason="the hook was late")
    assert patch["attempt"] == 2
    running = condition(apply({}, patch), c.CONDITION_RUNNING)
    assert "attempt 2" in str(running["message"])
    assert "the hook was late" in str(running["message"])


def test_malformed_lines_are_counted_and_shown() -> None:
    lines = "".join(f"junk {i}\n" for i in range(5)) + "1764417600 1.00 a Started\n" + "x" * 1000
    outcome = RunOutcome(1, c.REASON_EXPECTATIONS_MET, "ok", [verdict(True)], build_timeline([lines]))
    status = apply({}, run_finished(StatusView(), outcome, 1, T0))
    LifecycleTestStatus.model_validate(status)
    assert status["malformedLines"] == 6
    assert status["malformedSample"] == ["junk 0", "junk 1", "junk 2"]
    clean = RunOutcome(1, c.REASON_EXPECTATIONS_MET, "ok", [verdict(True)])
    assert "malformedLines" not in apply(status, run_finished(StatusView(), clean, 1, T0))
