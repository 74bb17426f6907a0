from builders import pod, status, terminated

from lifecycle_operator.evidence import (
    LogRequest,
    Source,
    collect_records,
    is_complete,
    logs_needed,
    message_budget,
)
from lifecycle_operator.observation import observe_pod

GOOD = "1 1.00 a Starting 0\n1 1.01 a Started\n"


def test_a_complete_message_needs_no_log() -> None:
    p = observe_pod(pod(containers=[status("a", terminated(0, GOOD))]))
    assert logs_needed(p) == []
    records = collect_records(p, {})
    assert [(r.container, r.source) for r in records] == [("a", Source.MESSAGE)]


def test_status_unknown_falls_back_to_last_termination_state() -> None:
    raw = status(
        "a", terminated(137, "overwritten", "ContainerStatusUnknown"), terminated(1, GOOD), restarts=1
    )
    p = observe_pod(pod(containers=[raw]))
    assert [(r.source, r.text) for r in collect_records(p, {})] == [(Source.LAST_MESSAGE, GOOD)]


def test_a_running_container_is_read_from_its_logs() -> None:
    # The last message lacks the running instance's events; the log has its replayed history and them.
    p = observe_pod(
        pod("Running", containers=[status("a", {"running": {}}, terminated(1, GOOD), restarts=2)])
    )
    assert logs_needed(p) == [LogRequest("a", previous=False), LogRequest("a", previous=True)]
    bare = observe_pod(pod("Running", containers=[status("a", {"running": {}})]))
    assert logs_needed(bare) == [LogRequest("a", previous=False)]
    records = collect_records(bare, {LogRequest("a", previous=False): GOOD})
    assert [(r.source, r.text) for r in records] == [(Source.LOG, GOOD)]


def test_a_crash_looping_container_is_read_from_its_last_message() -> None:
    waiting = status("a", {"waiting": {"reason": "CrashLoopBackOff"}}, terminated(1, GOOD), restarts=3)
    p = observe_pod(pod("Running", containers=[waiting]))
    assert logs_needed(p) == []
    assert [r.source for r in collect_records(p, {})] == [Source.LAST_MESSAGE]


def test_a_truncated_message_is_replaced_by_current_and_previous_logs() -> None:
    cut = "ing 0\n" + GOOD
    p = observe_pod(pod(containers=[status("a", terminated(1, cut), terminated(1, GOOD), restarts=1)]))
    assert logs_needed(p) == [LogRequest("a", previous=False), LogRequest("a", previous=True)]
    logs = {
        LogRequest("a", previous=False): GOOD + "2 2.00 a Starting 0\n",
        LogRequest("a", previous=True): GOOD,
    }
    assert [r.source for r in collect_records(p, logs)] == [Source.PREVIOUS_LOG, Source.LOG]


def test_a_message_at_its_cap_counts_as_truncated() -> None:
    budget = message_budget(1)
    assert budget == 4096
    assert message_budget(6) == 2048
    long = GOOD * (budget // len(GOOD))
    assert not is_complete(long, budget)
    assert is_complete(GOOD, budget)


def test_without_logs_a_cut_message_is_still_used() -> None:
    cut = "ing 0\n" + GOOD
    p = observe_pod(pod(containers=[status("a", terminated(1, cut))]))
    records = collect_records(p, {LogRequest("a", previous=False): None})
    assert [(r.source, r.text) for r in records] == [(Source.MESSAGE, cut)]


def test_a_container_that_never_ran_has_no_record() -> None:
    p = observe_pod(pod("Pending", init=[status("i", {"waiting": {"reason": "ImagePullBackOff"}})]))
    assert logs_needed(p) == []
    assert collect_records(p, {}) == []
