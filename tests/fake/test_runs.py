"""The run code's I/O paths against an in-memory API: starts, adoption, superseding, verdicts and their
races, deadlines judged as they stood, resume, leftovers, hostile output and inconclusive retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakeapi import FakeApi

from lifecycle_operator import constants as c
from lifecycle_operator import runs
from lifecycle_operator.apiclient import Conflict, Invalid, KubeError, NotFound, Transient
from lifecycle_operator.metrics import Metrics
from lifecycle_operator.settings import Settings
from lifecycle_operator.state import TestState
from lifecycle_operator.times import format_time

SPEC: dict[str, Any] = {
    "timeoutSeconds": 60,
    "pod": {"containers": [{"name": "a", "behavior": {"delaySeconds": 1}}]},
    "expectations": [{"type": "Starts", "container": "a"}, {"type": "Exits", "container": "a"}],
}
GOOD = (
    "1764417600 10.00 a Starting\n1764417600 10.01 a Started\n"
    "1764417600 10.02 a Delaying\n1764417601 11.02 a Exiting\n"
)
# Upstream's PostStart case: the hook has 1 s of work, its container 2 s.
POST_START_SPEC: dict[str, Any] = {
    "pod": {"containers": [{"name": "r", "behavior": {"delaySeconds": 2}, "postStart": {"delaySeconds": 1}}]},
    "expectations": [{"type": "Exits", "container": "PostStart-r"}, {"type": "Starts", "container": "r"}],
}


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


def context(api: FakeApi, **settings: Any) -> runs.Context:
    events: list[tuple[str, str, str]] = []
    ctx = runs.Context(
        api,
        Settings(**settings),
        Metrics(),
        lambda _, t, reason, message: events.append((t, reason, message)),
    )
    ctx.__dict__["events"] = events  # for the tests to read
    return ctx


def terminated_pod(
    message: str = GOOD, finished: datetime | None = None, container: str = "a"
) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": 0, "reason": "Completed", "message": message}
    if finished is not None:
        state["finishedAt"] = format_time(finished)
    return {
        "phase": "Succeeded",
        "containerStatuses": [{"name": container, "state": {"terminated": state}, "restartCount": 0}],
    }


def start(api: FakeApi, ctx: runs.Context, name: str = "t", spec: dict[str, Any] = SPEC) -> str:
    api.add_test(name, spec)
    pod = runs.start_run("ns", name, ctx, after_run=0)
    assert pod is not None
    return pod


def metric(ctx: runs.Context, series: str, **labels: str) -> float | None:
    return ctx.metrics.registry.get_sample_value(series, labels)


def test_a_run_starts_and_is_judged_with_four_writes(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    status = api.status("t")
    assert (status["result"], status["run"], status["podName"], status["attempt"]) == ("Running", 1, pod, 1)
    assert status["deadline"] > status["startTime"]
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_PASSED
    assert status["summary"] == "2/2"
    assert [verb for verb, _ in api.writes] == ["create", "patch", "patch", "delete"]
    assert metric(ctx, "lifecycletest_last_verdict", namespace="ns", name="t") == 1
    assert ctx.__dict__["events"][-1][:2] == ("Normal", c.REASON_EXPECTATIONS_MET)


def start_despite(api: FakeApi, method: str, error: KubeError) -> tuple[runs.Context, str]:
    """Start a run while `method` fails once with `error`."""
    ctx = context(api)
    api.add_test("t", SPEC)
    api.fail(method, error)
    pod = runs.start_run("ns", "t", ctx, after_run=0)
    assert pod is not None
    return ctx, pod


def test_an_existing_pod_is_adopted(api: FakeApi) -> None:
    _, pod = start_despite(api, "create_pod", Conflict("exists"))
    assert api.status("t")["podName"] == pod
    assert api.status("t")["result"] == c.RESULT_RUNNING


def test_a_stale_view_never_starts_a_run_twice(api: FakeApi) -> None:
    ctx = context(api)
    start(api, ctx)
    assert runs.start_run("ns", "t", ctx, after_run=0) is None
    assert api.status("t")["run"] == 1
    assert [verb for verb, _ in api.writes] == ["create", "patch"]
    # The test is running its current spec: no second run either.
    assert runs.start_run("ns", "t", ctx, after_run=1) is None
    # Nor after its verdict, from a view that still shows no run.
    runs.on_pod(api.set_pod_status(api.status("t")["podName"], terminated_pod()), "MODIFIED", ctx)
    assert runs.start_run("ns", "t", ctx, after_run=0) is None
    assert api.status("t")["run"] == 1


def test_a_new_spec_supersedes_the_run_in_progress(api: FakeApi) -> None:
    ctx = context(api)
    first = start(api, ctx)
    api.test("t")["metadata"]["generation"] = 2
    second = runs.start_run("ns", "t", ctx, after_run=1)
    assert second is not None
    assert second != first
    assert ("ns", first) not in api.pods
    assert api.status("t")["observedGeneration"] == 2
    # An event of the old pod is no longer the run's.
    runs.on_pod({"metadata": {"name": first, "namespace": "ns"}}, "DELETED", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING


def test_a_start_that_loses_a_race_removes_its_pod(api: FakeApi) -> None:
    ctx = context(api)
    api.add_test("t", SPEC)
    api.fail("create_pod", lambda: api.bump("t"))
    assert runs.start_run("ns", "t", ctx, after_run=0) is None
    assert api.pods == {}
    assert "result" not in api.status("t")


def test_the_verdict_survives_a_conflicting_write(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    api.bump("t")  # kopf or a user wrote the test since the pod event's GET... no: before it
    api.fail("patch_test_status", Conflict("modified"))
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED
    assert ("ns", pod) not in api.pods


def test_of_two_finishers_one_writes(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    body = api.set_pod_status(pod, terminated_pod())
    # The other finisher writes its verdict between our read of the test and our patch.
    api.fail("patch_test_status", lambda: runs.on_pod(body, "MODIFIED", ctx))
    runs.on_pod(body, "MODIFIED", ctx)
    assert [verb for verb, _ in api.writes].count("patch") == 2  # Running, then one verdict
    assert metric(ctx, "lifecycletest_runs_total", namespace="ns", name="t", verdict="Passed") == 1


def test_a_verdict_that_keeps_conflicting_is_retried_later(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    api.fail("patch_test_status", *[Conflict("modified")] * runs.FINISH_ATTEMPTS)
    with pytest.raises(Transient):
        runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING
    runs.on_pod(api.get_pod("ns", pod), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED


@pytest.mark.parametrize(
    ("retention", "passes", "kept"),
    [
        ("Delete", False, False),
        ("KeepOnFailure", False, True),
        ("KeepOnFailure", True, False),
        ("Keep", True, True),
    ],
)
def test_pod_retention(api: FakeApi, retention: str, passes: bool, kept: bool) -> None:
    ctx = context(api)
    expectation = {"type": "Starts" if passes else "DoesntStart", "container": "a"}
    pod = start(api, ctx, spec={**SPEC, "podRetention": retention, "expectations": [expectation]})
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    assert api.status("t")["result"] == (c.RESULT_PASSED if passes else c.RESULT_FAILED)
    assert (("ns", pod) in api.pods) is kept


def test_the_keep_failed_pods_setting_is_the_default_retention(api: FakeApi) -> None:
    ctx = context(api, keep_failed_pods=True)
    pod = start(api, ctx, spec={**SPEC, "expectations": [{"type": "DoesntStart", "container": "a"}]})
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    assert ("ns", pod) in api.pods


@pytest.mark.parametrize("how", ["DELETED event", "deletionTimestamp"])
def test_a_pod_deleted_before_its_verdict_loses_the_run(api: FakeApi, how: str) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    if how == "DELETED event":
        body = api.get_pod("ns", pod)
        runs.on_pod(body, "DELETED", ctx)
    else:
        runs.on_pod(api.set_pod_status(pod, {"phase": "Running"}, deletionTimestamp="x"), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_FAILED
    assert status["conditions"][-1]["reason"] == c.REASON_POD_LOST


def test_a_running_pod_is_not_judged_yet(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    runs.on_pod(api.set_pod_status(pod, {"phase": "Running"}), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING


def on_node(api: FakeApi, pod: str, status: dict[str, Any]) -> None:
    api.set_pod_status(pod, status)
    api.pods[("ns", pod)]["spec"]["nodeName"] = "node-1"


def make_overdue(api: FakeApi, name: str = "t", ago: int = 30) -> datetime:
    deadline = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=ago)
    api.status(name)["deadline"] = format_time(deadline)
    return deadline


@pytest.mark.parametrize(("finished", "reason"), [(-5, c.REASON_EXPECTATIONS_MET), (5, c.REASON_TIMED_OUT)])
def test_a_deadline_noticed_late_judges_the_pod_by_its_own_timestamps(
    api: FakeApi, finished: int, reason: str
) -> None:
    """A pod that finished before its deadline passes however late that is noticed; after it, TimedOut."""
    ctx = context(api)
    pod = start(api, ctx)
    deadline = make_overdue(api)
    on_node(api, pod, terminated_pod(finished=deadline + timedelta(seconds=finished)))
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["conditions"][-1]["reason"] == reason


def test_a_pod_still_running_at_its_deadline_timed_out(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    make_overdue(api)
    on_node(api, pod, {"phase": "Running"})
    runs.on_deadline("ns", "t", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_FAILED
    assert status["conditions"][-1]["reason"] == c.REASON_TIMED_OUT
    assert ("ns", pod) not in api.pods


def test_a_pod_not_scheduled_by_its_deadline_is_inconclusive_and_run_again(api: FakeApi) -> None:
    """From a chaos run: a pod created 4 s before the API server went down for 120 s was still not
    bound to a node when the deadline was judged, 13 s after the API server was back. No kubelet had
    it: TimedOut there was a false Failed."""
    ctx = context(api, max_attempts=2)
    pod = start(api, ctx)
    make_overdue(api)
    api.set_pod_status(pod, {"phase": "Pending"})  # no nodeName
    runs.on_deadline("ns", "t", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_RUNNING
    assert status["attempt"] == 2
    make_overdue(api)
    runs.on_deadline("ns", "t", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_INCONCLUSIVE
    assert status["conditions"][-1]["reason"] == c.REASON_INCONCLUSIVE
    assert "not scheduled to a node before the deadline" in status["conditions"][-1]["message"]


def scheduled(api: FakeApi, pod: str, created: datetime, bound: datetime, status: dict[str, Any]) -> None:
    on_node(api, pod, status)
    condition = {"type": "PodScheduled", "status": "True", "lastTransitionTime": format_time(bound)}
    api.pods[("ns", pod)]["status"]["conditions"] = [condition]
    api.pods[("ns", pod)]["metadata"]["creationTimestamp"] = format_time(created)


def test_the_time_a_pod_waited_to_be_scheduled_is_added_to_its_timeout(api: FakeApi) -> None:
    """The timeout bounds the kubelet's part: a pod bound 60 s after its creation (the scheduler could
    not reach the API server) has its deadline 60 s later."""
    ctx = context(api)
    pod = start(api, ctx)
    deadline = make_overdue(api, ago=30)
    created = deadline - timedelta(seconds=300)
    bound = created + timedelta(seconds=60)
    scheduled(api, pod, created, bound, {"phase": "Running"})
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING  # the kubelet's deadline is 30 s away
    # Noticed once both have passed: it finished 20 s after the test's deadline, 40 s before the
    # kubelet's. Judged, not TimedOut.
    deadline = make_overdue(api, ago=90)
    created = deadline - timedelta(seconds=300)
    bound = created + timedelta(seconds=60)
    scheduled(api, pod, created, bound, terminated_pod(finished=deadline + timedelta(seconds=20)))
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["conditions"][-1]["reason"] == c.REASON_EXPECTATIONS_MET


def test_a_pod_scheduled_at_once_keeps_its_deadline(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    deadline = make_overdue(api)
    created = deadline - timedelta(seconds=300)
    scheduled(api, pod, created, created + timedelta(seconds=1), {"phase": "Running"})
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["conditions"][-1]["reason"] == c.REASON_TIMED_OUT


def test_a_deadline_not_yet_passed_does_nothing(api: FakeApi) -> None:
    ctx = context(api)
    start(api, ctx)
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING


def test_a_pod_that_vanished_before_the_deadline_was_lost(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    make_overdue(api)
    del api.pods[("ns", pod)]
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["conditions"][-1]["reason"] == c.REASON_POD_LOST


def test_resume_ends_a_run_whose_pod_is_gone_and_follows_one_that_exists(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    runs.resume("ns", "t", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING
    del api.pods[("ns", pod)]
    runs.resume("ns", "t", ctx)
    assert api.status("t")["conditions"][-1]["reason"] == c.REASON_POD_LOST
    runs.resume("ns", "gone", ctx)  # a test deleted meanwhile is nothing to resume


def test_a_pod_left_behind_by_a_crash_after_the_verdict_is_deleted(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    body = api.set_pod_status(pod, terminated_pod())
    api.fail("delete_pod", Transient("the operator died here"))
    runs.on_pod(body, "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED
    assert ("ns", pod) in api.pods
    # The restarted operator (its pending deletions gone with it) lists the pod again.
    runs.on_pod(api.get_pod("ns", pod), None, context(api))
    assert ("ns", pod) not in api.pods


def test_a_stale_event_of_a_judged_pod_does_not_delete_it_again(api: FakeApi) -> None:
    """The short benchmark counted 1.05 pod DELETEs per run: an event the watch had queued before the
    verdict's delete showed the pod alive, and the leftover clean-up deleted it a second time."""
    ctx = context(api)
    pod = start(api, ctx)
    body = api.set_pod_status(pod, terminated_pod())
    runs.on_pod(body, "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED
    runs.on_pod(body, "MODIFIED", ctx)  # queued before the delete
    assert [w for w in api.writes if w[0] == "delete"] == [("delete", pod)]
    runs.on_pod(body, "DELETED", ctx)
    assert not ctx.deleted
    # A restarted operator still cleans up after a crash between verdict and delete (above).


def test_the_events_of_a_judged_pod_on_its_way_out_read_nothing(api: FakeApi) -> None:
    """The benchmark counted two reads of the test per run after its verdict: the pod's last events
    (marked for deletion, then gone) found the scheduler's view of the finished test partial."""
    ctx = context(api)
    pod = start(api, ctx)
    body = api.set_pod_status(pod, terminated_pod())
    runs.on_pod(body, "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED
    api.fail("get_test", Transient("no read expected"))
    leaving = {**body, "metadata": {**body["metadata"], "deletionTimestamp": format_time(datetime.now(UTC))}}
    runs.on_pod(leaving, "MODIFIED", ctx)
    runs.on_pod(leaving, "DELETED", ctx)
    assert len(api.failures["get_test"]) == 1
    assert not ctx.deleted


def test_a_test_made_again_under_its_name_has_its_first_pod_judged(api: FakeApi) -> None:
    """The first pod of a test deleted and made again has the old one's name. Had the old pod's DELETED
    event been missed (a watch that lists again after an outage sees no deletion), the new pod's events
    must still be judged, not taken for the old pod on its way out."""
    ctx = context(api)
    pod = start(api, ctx)
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    assert len(ctx.deleted) == 1  # its DELETED event never comes
    del api.tests[("ns", "t")]
    assert start(api, ctx) == pod
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED


def test_the_events_of_a_pod_whose_start_is_being_written_read_nothing(api: FakeApi) -> None:
    """A pod's first events come before its run is in the test's status: the start looks at the pod
    once it is, so those events are skipped instead of each reading the test."""
    ctx = context(api)
    api.add_test("t", SPEC)
    stale = TestState.read(api.get_test("ns", "t"))

    def pod_events_meanwhile() -> None:
        created = api.get_pod("ns", "t-run1")
        api.fail("get_test", Transient("no read expected"))
        runs.on_pod(created, "ADDED", ctx, known=stale)
        runs.on_pod(api.set_pod_status("t-run1", terminated_pod()), "MODIFIED", ctx, known=stale)

    api.fail("patch_test_status", pod_events_meanwhile)
    assert runs.start_run("ns", "t", ctx, after_run=0) == "t-run1"
    assert len(api.failures["get_test"]) == 1
    assert not ctx.starting
    # The start's own look judged the pod, terminal by then.
    assert api.status("t")["result"] == c.RESULT_PASSED


def test_a_failed_runs_pod_kept_by_retention_is_not_cleaned_up(api: FakeApi) -> None:
    ctx = context(api)
    spec = {
        **SPEC,
        "podRetention": "KeepOnFailure",
        "expectations": [{"type": "DoesntStart", "container": "a"}],
    }
    pod = start(api, ctx, spec=spec)
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx)
    runs.on_pod(api.get_pod("ns", pod), None, ctx)
    assert ("ns", pod) in api.pods


def test_a_pod_that_vanishes_right_after_its_creation_is_judged_by_its_events(api: FakeApi) -> None:
    ctx, pod = start_despite(api, "get_pod", NotFound("gone"))
    runs.on_pod({**api.get_pod("ns", pod), "status": {"phase": "Pending"}}, "DELETED", ctx)
    assert api.status("t")["conditions"][-1]["reason"] == c.REASON_POD_LOST


def test_a_missing_message_is_read_from_the_log(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    api.logs[(pod, "a", False)] = GOOD
    runs.on_pod(api.set_pod_status(pod, terminated_pod(message="")), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_PASSED
    assert status["evidence"] == ["a: log"]


@pytest.mark.parametrize(
    "line",
    [
        "nan nan a Started",
        "1 inf a Started",
        "1 1e20 a Started",
        "1 -5 a Started",
        "1e20 1.0 a Started",
        "99999999999999999999 1 a x",
    ],
)
def test_hostile_output_is_counted_and_never_wedges_a_run(api: FakeApi, line: str) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    runs.on_pod(api.set_pod_status(pod, terminated_pod(message=f"{line}\n{GOOD}")), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_PASSED
    assert status["malformedLines"] == 1
    assert status["malformedSample"] == [line]


def post_start_pod(hook_late_by: float | None) -> dict[str, Any]:
    lines = ["1764417600 10.00 r Starting", "1764417600 10.01 r Started", "1764417600 10.02 r Delaying"]
    if hook_late_by is not None:
        lines.append(f"1764417601 {10.01 + hook_late_by:.2f} PostStart-r Starting")
    lines.append("1764417602 12.02 r Exiting")
    return terminated_pod(message="\n".join(lines) + "\n", container="r")


@pytest.mark.parametrize("late_by", [1.5, None])
def test_a_hook_cut_short_by_load_is_retried_then_inconclusive(api: FakeApi, late_by: float | None) -> None:
    ctx = context(api, max_attempts=2)
    pod = start(api, ctx, spec=POST_START_SPEC)
    runs.on_pod(api.set_pod_status(pod, post_start_pod(late_by)), "MODIFIED", ctx)
    status = api.status("t")
    assert (status["result"], status["run"], status["attempt"]) == (c.RESULT_RUNNING, 2, 2)
    assert "inconclusive" in status["conditions"][0]["message"]
    retry = status["podName"]
    assert ("ns", pod) not in api.pods
    runs.on_pod(api.set_pod_status(retry, post_start_pod(late_by)), "MODIFIED", ctx)
    status = api.status("t")
    assert status["result"] == c.RESULT_INCONCLUSIVE
    assert status["conditions"][-1]["reason"] == c.REASON_INCONCLUSIVE
    assert "PostStart-r" in status["conditions"][-1]["message"]
    assert metric(ctx, "lifecycletest_inconclusive", namespace="ns", name="t") == 1
    assert metric(ctx, "lifecycletest_last_verdict", namespace="ns", name="t") is None
    assert metric(ctx, "lifecycletest_inconclusive_retries_total", namespace="ns", name="t") == 1


def test_a_hook_late_within_the_cases_margin_is_a_real_failure(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx, spec=POST_START_SPEC)
    runs.on_pod(api.set_pod_status(pod, post_start_pod(0.5)), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_FAILED


def test_a_wrong_expectation_fails_even_when_a_hook_was_cut_short(api: FakeApi) -> None:
    ctx = context(api)
    spec = {
        **POST_START_SPEC,
        "expectations": [*POST_START_SPEC["expectations"], {"type": "DoesntStart", "container": "r"}],
    }
    pod = start(api, ctx, spec=spec)
    runs.on_pod(api.set_pod_status(pod, post_start_pod(1.5)), "MODIFIED", ctx)
    assert api.status("t")["result"] == c.RESULT_FAILED


def test_a_spec_the_api_refuses_ends_as_invalid(api: FakeApi) -> None:
    ctx = context(api)
    api.add_test("t", SPEC)
    api.fail("create_pod", Invalid("403 Forbidden: violates PodSecurity"))
    assert runs.start_run("ns", "t", ctx, after_run=0) is None
    status = api.status("t")
    assert status["result"] == c.RESULT_ERROR
    assert "PodSecurity" in status["conditions"][-1]["message"]
    assert metric(ctx, "lifecycletest_runs_total", namespace="ns", name="t", verdict="Error") == 1


def test_an_invalid_spec_is_recorded_not_run(api: FakeApi) -> None:
    ctx = context(api)
    api.add_test("t", {"pod": {"containers": []}, "expectations": []})
    assert runs.start_run("ns", "t", ctx, after_run=0) is None
    assert api.pods == {}
    assert api.status("t")["conditions"][-1]["reason"] == c.REASON_INVALID_SPEC
    assert api.status("t")["conditions"][0]["reason"] == c.REASON_INVALID_SPEC


def test_a_queued_test_is_written_once(api: FakeApi) -> None:
    ctx = context(api)
    api.add_test("t", SPEC)
    runs.queue_run(TestState.read(api.get_test("ns", "t")), "all 16 slots are taken", ctx)
    runs.queue_run(TestState.read(api.get_test("ns", "t")), "all 16 slots are taken", ctx)
    assert api.writes == [("patch", "t")]
    assert api.status("t")["result"] == c.RESULT_QUEUED
    pod = runs.start_run("ns", "t", ctx, after_run=0)
    assert pod is not None
    assert "queuedTime" not in api.status("t")


def test_a_pod_not_done_at_its_deadline_waits_for_the_kubelet_to_report(api: FakeApi) -> None:
    """After an API server outage the kubelet reconnects in its own time; until it has reported for a
    while after the deadline, a pod that looks unfinished may have finished: no TimedOut yet."""
    ctx = context(api)
    pod = start(api, ctx)
    deadline = make_overdue(api)
    on_node(api, pod, {"phase": "Running"})
    api.renew_lease("node-1", deadline - timedelta(seconds=5))  # silent since before the deadline
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING
    api.renew_lease("node-1", deadline + timedelta(seconds=40))  # back: first renewal after the deadline
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING
    # The kubelet pushes the pod's real status meanwhile: it finished before the deadline.
    on_node(api, pod, terminated_pod(finished=deadline - timedelta(seconds=20)))
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED


def test_a_pod_still_not_done_once_the_kubelet_reported_steadily_timed_out(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    deadline = make_overdue(api)
    on_node(api, pod, {"phase": "Running"})
    api.renew_lease("node-1", deadline + timedelta(seconds=1))
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["result"] == c.RESULT_RUNNING
    api.renew_lease("node-1", deadline + timedelta(seconds=1) + runs.STATUS_SETTLE)
    runs.on_deadline("ns", "t", ctx)
    assert api.status("t")["conditions"][-1]["reason"] == c.REASON_TIMED_OUT


def test_a_node_silent_for_longer_than_an_outage_is_timed_out_saying_so(api: FakeApi) -> None:
    ctx = context(api, api_outage_seconds=10)
    pod = start(api, ctx)
    deadline = make_overdue(api)  # 30 s ago
    on_node(api, pod, {"phase": "Running"})
    api.renew_lease("node-1", deadline - timedelta(seconds=60))
    runs.on_deadline("ns", "t", ctx)
    succeeded = api.status("t")["conditions"][-1]
    assert succeeded["reason"] == c.REASON_TIMED_OUT
    assert "has not reported since" in succeeded["message"]


def test_a_pod_event_is_judged_from_the_watched_view_without_reading_the_test(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx)
    view = TestState.read(api.get_test("ns", "t"))
    api.fail("get_test", Transient("the view knows this run: no read expected"))
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx, known=view)
    assert api.status("t")["result"] == c.RESULT_PASSED
    assert len(api.failures["get_test"]) == 1


def test_a_view_that_has_not_seen_the_run_yet_is_not_trusted(api: FakeApi) -> None:
    ctx = context(api)
    api.add_test("t", SPEC)
    stale = TestState.read(api.get_test("ns", "t"))  # before the run started
    pod = runs.start_run("ns", "t", ctx, after_run=0)
    assert pod is not None
    runs.on_pod(api.set_pod_status(pod, terminated_pod()), "MODIFIED", ctx, known=stale)
    assert api.status("t")["result"] == c.RESULT_PASSED


def test_a_verdict_from_a_stale_view_rereads_and_yields(api: FakeApi) -> None:
    ctx = context(api)
    pod = start(api, ctx, spec={**SPEC, "podRetention": "Keep"})
    view = TestState.read(api.get_test("ns", "t"))
    body = api.set_pod_status(pod, terminated_pod())
    runs.on_pod(body, "MODIFIED", ctx)  # another finisher wrote the verdict since the view was taken
    writes = len(api.writes)
    runs.on_pod(body, "MODIFIED", ctx, known=view)
    assert len(api.writes) == writes
    assert metric(ctx, "lifecycletest_runs_total", namespace="ns", name="t", verdict="Passed") == 1
