"""Every expectation type, shown passing and failing."""

from typing import Any

import pytest
from builders import pod, status, terminated

from lifecycle_operator.api import Expectation, ExpectationType
from lifecycle_operator.observation import PodObservation, observe_pod
from lifecycle_operator.timeline import Timeline, build_timeline
from lifecycle_operator.verdicts import check, evaluate, normalized_image

# The upstream seed's sample output for its first case, plus a PostStart hook of regular-1.
SERIAL = """\
1682076093 4905.79 init-1 Starting 0
1682076093 4905.80 init-1 Started
1682076093 4905.80 init-1 Delaying 1
1682076094 4906.80 init-1 Exiting
1682076095 4907.70 init-2 Starting 0
1682076095 4907.71 init-2 Started
1682076095 4907.71 init-2 Delaying 1
1682076096 4908.71 init-2 Exiting
1682076099 4911.70 regular-1 Starting 5
1682076104 4916.71 regular-1 Started
1682076104 4916.75 PostStart-regular-1 Starting 0
1682076104 4916.76 PostStart-regular-1 Started
1682076104 4916.80 regular-1 Delaying 1
1682076105 4917.00 PostStart-regular-1 Exiting
1682076105 4917.72 regular-1 Exiting
"""
RESTARTS = """\
1 10.00 r Starting 0
1 10.01 r Started
1 10.02 r Delaying 1
2 11.02 r Exiting
12 21.00 r Starting 0
12 21.01 r Started
12 21.02 r Delaying 1
13 22.02 r Exiting
"""
FIRST_INSTANCE = RESTARTS.split("12 21.00", maxsplit=1)[0]
CRASH_LOOPING_SIDECAR = """\
1 1.00 side Starting 0
1 1.01 side Started
1 2.00 side Exiting
1 3.00 main Starting 0
1 3.01 main Started
1 5.00 side Starting 0
1 5.01 side Started
1 6.00 side Exiting
1 8.00 main Exiting
"""
KILLED_THEN_RESTARTED = """\
1 1.00 side Starting 0
1 1.01 side Started
1 3.00 main Starting 0
1 3.01 main Started
1 4.00 main Exiting
1 5.00 side Starting 0
1 5.01 side Started
1 6.00 side Exiting
"""


def timeline(text: str = SERIAL) -> Timeline:
    return build_timeline([text])


POD: PodObservation = observe_pod(
    pod(
        "Failed",
        init=[status("init-1", terminated(1, reason="Error"))],
        containers=[
            status("r", {"waiting": {"reason": "CrashLoopBackOff"}}, terminated(1), restarts=3),
            status("done", terminated(0, reason="Completed")),
            {**status("up", {"running": {}}), "image": "example.test/box:2"},
        ],
    )
)
UPDATE_IMAGE = "example.test/box:2"


def deleted_pod(grace: int, finished: str, still_running: bool = False) -> PodObservation:
    """A pod deleted at 10:00:00 with this grace period, whose one container finished at `finished`."""
    raw = pod("Failed", containers=[status("c", {"terminated": {"exitCode": 137, "finishedAt": finished}})])
    if still_running:
        raw["status"]["containerStatuses"].append(status("d", {"running": {}}))
    raw["metadata"] |= {
        "deletionTimestamp": f"2026-01-01T10:00:{grace:02d}Z",
        "deletionGracePeriodSeconds": grace,
    }
    return observe_pod(raw)


ADJACENT = "1 1.00 a Starting\n1 1.01 b Started\n"
NEVER_OVERLAPPING = CRASH_LOOPING_SIDECAR.replace("1 8.00 main Exiting", "1 4.00 main Exiting")
CASES: list[tuple[dict[str, Any], str, bool]] = [
    ({"type": "Starts", "container": "init-1"}, SERIAL, True),
    ({"type": "Starts", "container": "regular-2"}, SERIAL, False),
    ({"type": "DoesntStart", "container": "regular-2"}, SERIAL, True),
    ({"type": "DoesntStart", "container": "init-1"}, SERIAL, False),
    ({"type": "Exits", "container": "init-2"}, SERIAL, True),
    ({"type": "Exits", "container": "init-2"}, SERIAL.replace("init-2 Exiting", "init-2 Looping"), False),
    ({"type": "StartsBefore", "container": "init-1", "other": "init-2"}, SERIAL, True),
    ({"type": "StartsBefore", "container": "init-2", "other": "init-1"}, SERIAL, False),
    ({"type": "StartsBefore", "container": "r", "other": "r"}, RESTARTS, True),
    ({"type": "StartsBefore", "container": "r", "other": "r"}, FIRST_INSTANCE, False),
    ({"type": "ExitsBefore", "container": "init-1", "other": "init-2"}, SERIAL, True),
    ({"type": "ExitsBefore", "container": "regular-1", "other": "init-2"}, SERIAL, False),
    ({"type": "ExitsBefore", "container": "PostStart-regular-1", "other": "regular-1"}, SERIAL, False),
    ({"type": "ExitsBefore", "container": "r", "other": "r"}, RESTARTS, True),
    ({"type": "DoesntStartAfter", "container": "init-1", "other": "init-2"}, SERIAL, True),
    ({"type": "DoesntStartAfter", "container": "regular-1", "other": "init-2"}, SERIAL, False),
    ({"type": "DoesntStartAfter", "container": "init-1", "other": "ghost"}, SERIAL, False),
    # Started right after the other's Starting, with nothing between them.
    ({"type": "DoesntStartAfter", "container": "b", "other": "a"}, ADJACENT, False),
    ({"type": "RunTogether", "container": "regular-1", "other": "PostStart-regular-1"}, SERIAL, True),
    ({"type": "RunTogether", "container": "init-1", "other": "init-2"}, SERIAL, False),
    ({"type": "RunTogether", "container": "init-2", "other": "init-1"}, SERIAL, False),
    # As upstream, any run of one against any run of the other: a crash-looping sidecar's first run ended
    # before the main container started, its restart overlaps it.
    ({"type": "RunTogether", "container": "side", "other": "main"}, CRASH_LOOPING_SIDECAR, True),
    ({"type": "RunTogether", "container": "main", "other": "side"}, CRASH_LOOPING_SIDECAR, True),
    # Each run of one ended before each run of the other started.
    ({"type": "RunTogether", "container": "side", "other": "main"}, NEVER_OVERLAPPING, False),
    # A run killed before it logged Exiting is not complete: the next run's Exiting does not end it.
    ({"type": "RunTogether", "container": "side", "other": "main"}, KILLED_THEN_RESTARTED, False),
    ({"type": "ExitsFirst", "container": "init-1", "other": "init-2"}, SERIAL, True),
    ({"type": "ExitsFirst", "container": "init-2", "other": "init-1"}, SERIAL, False),
    # Unlike ExitsBefore, it orders the exits of two containers that ran side by side.
    ({"type": "ExitsFirst", "container": "PostStart-regular-1", "other": "regular-1"}, SERIAL, True),
    ({"type": "ExitsFirst", "container": "regular-1", "other": "PostStart-regular-1"}, SERIAL, False),
    ({"type": "ExitsFirst", "container": "r", "other": "r"}, RESTARTS, True),
    ({"type": "ExitsFirst", "container": "r", "other": "r"}, FIRST_INSTANCE, False),
    ({"type": "HasRestarted", "container": "r"}, RESTARTS, True),
    ({"type": "HasRestarted", "container": "init-1"}, SERIAL, False),
    ({"type": "HasNotRestarted", "container": "init-1"}, SERIAL, True),
    ({"type": "HasNotRestarted", "container": "r"}, RESTARTS, False),
    # A container that never started has not "run once without a restart" either.
    ({"type": "HasNotRestarted", "container": "ghost"}, SERIAL, False),
    ({"type": "RestartCountAtLeast", "container": "r", "count": 3}, "", True),
    ({"type": "RestartCountAtLeast", "container": "r", "count": 4}, "", False),
    ({"type": "RestartCountAtLeast", "container": "ghost", "count": 0}, "", False),
    ({"type": "PodPhase", "phase": "Failed"}, "", True),
    ({"type": "PodPhase", "phase": "Succeeded"}, "", False),
    ({"type": "WaitingReason", "container": "r", "reason": "CrashLoopBackOff"}, "", True),
    ({"type": "WaitingReason", "container": "init-1", "reason": "CrashLoopBackOff"}, "", False),
    ({"type": "TerminatedWith", "container": "init-1", "exitCode": 1, "reason": "Error"}, "", True),
    # As upstream, the current state only: r was restarted and is waiting, its last termination is history.
    ({"type": "TerminatedWith", "container": "r", "exitCode": 1}, "", False),
    ({"type": "TerminatedWith", "container": "done", "exitCode": 0, "reason": "Completed"}, "", True),
    ({"type": "TerminatedWith", "container": "init-1", "exitCode": 0}, "", False),
    ({"type": "TerminatedWith", "container": "init-1", "reason": "Completed"}, "", False),
    ({"type": "IsRunning", "container": "up"}, "", True),
    ({"type": "IsRunning", "container": "done"}, "", False),
    ({"type": "RunsImage", "container": "up", "image": "example.test/box:2"}, "", True),
    ({"type": "RunsImage", "container": "up"}, "", True),  # the update image
    ({"type": "RunsImage", "container": "up", "image": "example.test/box:1"}, "", False),
    ({"type": "RunsImage", "container": "done"}, "", False),
    # The pod of POD was never deleted.
    ({"type": "TerminatesWithin", "seconds": 30}, "", False),
]


@pytest.mark.parametrize(
    ("raw", "text", "passes"), CASES, ids=lambda x: str(x)[:60] if isinstance(x, dict) else ""
)
def test_expectation(raw: dict[str, Any], text: str, passes: bool) -> None:
    passed, message, _ = check(Expectation.model_validate(raw), timeline(text), POD, UPDATE_IMAGE)
    assert passed is passes, message
    assert message


def test_every_type_is_shown_passing_and_failing() -> None:
    outcomes: dict[str, set[bool]] = {}
    for raw, _, passes in CASES:
        outcomes.setdefault(raw["type"], set()).add(passes)
    outcomes["TerminatesWithin"] |= {passes for *_, passes in DELETIONS}
    assert {t.value for t in ExpectationType} == set(outcomes)
    assert all(seen == {True, False} for seen in outcomes.values()), outcomes


@pytest.mark.parametrize(
    ("reported", "named"),
    [
        ("docker.io/library/busybox:1.37", "busybox:1.37"),
        ("docker.io/team/box:1", "team/box:1"),
        ("docker.io/library/busybox:latest", "busybox"),
        ("localhost/lifecycle-operator/testbox:1.35-b", "localhost/lifecycle-operator/testbox:1.35-b"),
        ("127.0.0.1:5999/x/y:1", "127.0.0.1:5999/x/y:1"),
    ],
)
def test_runs_image_compares_references_as_the_runtime_reports_them(reported: str, named: str) -> None:
    assert normalized_image(reported) == normalized_image(named)
    assert normalized_image("busybox:1.36") != normalized_image("busybox:1.37")


DELETIONS = [
    (30, "2026-01-01T10:00:12Z", False, True),  # 12 s after the request
    (30, "2026-01-01T10:00:20Z", False, True),  # exactly the bound
    (30, "2026-01-01T10:00:21Z", False, False),
    (5, "2026-01-01T10:00:02Z", True, False),  # a container still runs
]


@pytest.mark.parametrize(("grace", "finished", "still_running", "passes"), DELETIONS)
def test_terminates_within(grace: int, finished: str, still_running: bool, passes: bool) -> None:
    e = Expectation.model_validate({"type": "TerminatesWithin", "seconds": 20})
    passed, message, _ = check(e, timeline(""), deleted_pod(grace, finished, still_running))
    assert passed is passes, message


def test_failure_messages_say_what_was_seen() -> None:
    e = Expectation.model_validate({"type": "StartsBefore", "container": "init-2", "other": "init-1"})
    _, message, _ = check(e, timeline(), POD)
    assert "init-1 did not log Starting after init-2 Started" in message
    assert "init-1 Starting@4905.79" in message


def test_evaluate_keeps_order() -> None:
    es = [Expectation.model_validate(x) for x, _, _ in CASES[:4]]
    assert [v.expectation for v in evaluate(es, timeline(), POD)] == es


def test_run_together_names_the_missing_event() -> None:
    e = Expectation.model_validate({"type": "RunTogether", "container": "side", "other": "main"})
    unfinished = CRASH_LOOPING_SIDECAR.replace("1 8.00 main Exiting", "")
    passed, message, missing = check(e, timeline(unfinished), POD)
    assert not passed
    assert missing is not None
    assert (missing.subject, missing.verb) == ("main", "Exiting")
    assert "main did not both log Started and Exiting" in message


def test_terminated_with_says_what_the_current_state_is() -> None:
    e = Expectation.model_validate({"type": "TerminatedWith", "container": "r", "exitCode": 1})
    _, message, missing = check(e, timeline(""), POD)
    assert message == (
        "r has not terminated: it is waiting with reason CrashLoopBackOff; "
        "an earlier instance exited with code 1"
    )
    assert missing is None


def test_exits_first_names_the_missing_event() -> None:
    e = Expectation.model_validate({"type": "ExitsFirst", "container": "init-1", "other": "ghost"})
    passed, message, missing = check(e, timeline(), POD)
    assert not passed
    assert missing is not None
    assert (missing.subject, missing.verb) == ("ghost", "Exiting")
    assert "ghost did not log Exiting after init-1 Exiting" in message
