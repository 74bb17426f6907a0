"""The scheduler against an in-memory API: admission, queueing, deadlines, resume, and kube's retries."""

from __future__ import annotations

import asyncio
import copy
import functools
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakeapi import FakeApi
from kubernetes.client.exceptions import ApiException

from lifecycle_operator import constants as c
from lifecycle_operator import kube, runs
from lifecycle_operator import scheduler as scheduler_module
from lifecycle_operator.apiclient import Invalid, NotFound, Transient
from lifecycle_operator.metrics import Metrics
from lifecycle_operator.schedule import TestView
from lifecycle_operator.scheduler import Scheduler
from lifecycle_operator.settings import Settings
from lifecycle_operator.times import format_time

SPEC: dict[str, Any] = {
    "pod": {"containers": [{"name": "a"}]},
    "expectations": [{"type": "Starts", "container": "a"}],
}


def node(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "status": {
            "allocatable": {"cpu": "2", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


async def settle(scheduler: Scheduler, api: FakeApi) -> None:
    """Let every action finish, feeding the view from the API as the watch would."""
    for _ in range(50):
        await asyncio.sleep(0.01)
        if not scheduler._tasks:
            break
    for body in api.tests.values():
        scheduler.seen(body, "MODIFIED")


def in_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test in a fresh event loop (the scheduler lives in kopf's)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


def make(api: FakeApi, per_node: int) -> Scheduler:
    api.nodes = [node("n1")]
    return Scheduler(runs.Context(api, Settings(max_runs_per_node=per_node), Metrics()))


@in_loop
async def test_a_burst_is_admitted_in_order_and_the_rest_queued() -> None:
    api = FakeApi()
    scheduler = make(api, per_node=2)
    await scheduler._refresh_nodes()
    for i in range(5):
        scheduler.seen(api.add_test(f"t{i}", SPEC), "ADDED")
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    results = {name: api.status(name).get("result") for _, name in api.tests}
    assert results == {"t0": "Running", "t1": "Running", "t2": "Queued", "t3": "Queued", "t4": "Queued"}
    assert scheduler.ctx.metrics.queued._value.get() == 3
    # Queued once: a second look writes nothing.
    writes = len(api.writes)
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    assert len(api.writes) == writes
    # A run finishes: the longest queued starts next.
    api.status("t0")["result"] = c.RESULT_PASSED
    api.status("t0")["completionTime"] = format_time(datetime.now(UTC))
    await settle(scheduler, api)
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    assert api.status("t2")["result"] == c.RESULT_RUNNING
    assert api.status("t3")["result"] == c.RESULT_QUEUED


@in_loop
async def test_a_run_being_started_holds_its_slot_until_the_view_shows_it() -> None:
    api = FakeApi()
    scheduler = make(api, per_node=1)
    await scheduler._refresh_nodes()
    stale = [copy.deepcopy(api.add_test(f"t{i}", SPEC)) for i in range(2)]
    for body in stale:
        scheduler.seen(copy.deepcopy(body), "ADDED")
    scheduler.step(datetime.now(UTC))
    for _ in range(20):
        await asyncio.sleep(0.01)
    # The watch has not delivered t0's Running status yet, only an older event: t1 must still wait.
    scheduler.seen(stale[0], "MODIFIED")
    scheduler.seen(copy.deepcopy(api.test("t1")), "MODIFIED")  # queued: first in line
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    assert api.status("t1")["result"] == c.RESULT_QUEUED
    assert len(api.pods) == 1


@in_loop
async def test_an_overdue_run_is_judged_and_a_resumed_one_checked() -> None:
    api = FakeApi()
    scheduler = make(api, per_node=5)
    late = format_time(datetime.now(UTC) - timedelta(seconds=10))
    api.add_test("late", SPEC, {"result": "Running", "run": 1, "podName": "p-late", "deadline": late})
    api.add_test("orphan", SPEC, {"result": "Running", "run": 1, "podName": "p-gone", "deadline": late})
    api.pods[("ns", "p-late")] = {
        "metadata": {"name": "p-late", "namespace": "ns"},
        "spec": {"nodeName": "node-1"},
        "status": {"phase": "Running"},
    }
    for body in list(api.tests.values()):
        scheduler.seen(body, None)  # the first listing after a restart
    await settle(scheduler, api)
    assert api.status("orphan")["conditions"][-1]["reason"] == c.REASON_POD_LOST
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    assert api.status("late")["conditions"][-1]["reason"] == c.REASON_TIMED_OUT


@in_loop
async def test_a_deleted_test_is_forgotten() -> None:
    api = FakeApi()
    scheduler = make(api, per_node=5)
    body = api.add_test("t", SPEC)
    scheduler.seen(body, "ADDED")
    scheduler.ctx.metrics.set_interval("ns", "t", 60)
    scheduler.seen(body, "DELETED")
    assert scheduler.tests == {}
    assert (
        scheduler.ctx.metrics.registry.get_sample_value(
            "lifecycletest_interval_seconds", {"namespace": "ns", "name": "t"}
        )
        is None
    )


async def list_and_queue_one(scheduler: Scheduler, api: FakeApi) -> None:
    """List the nodes, add a test and look: with no slot to be had, it is queued and no pod made."""
    await scheduler._refresh_nodes()
    scheduler.seen(api.add_test("t", SPEC), "ADDED")
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    assert api.pods == {}
    assert api.status("t")["result"] == c.RESULT_QUEUED


@in_loop
async def test_no_nodes_listed_means_nothing_starts() -> None:
    api = FakeApi()
    scheduler = make(api, per_node=5)
    api.fail("list_nodes", Transient("the API server is down"))
    await list_and_queue_one(scheduler, api)


def later(scheduler: Scheduler, seconds: float) -> None:
    """As if the last listing of the nodes (and the API's last answer) were that much longer ago."""
    scheduler._nodes_listed -= seconds
    scheduler._api_ok -= seconds


@in_loop
async def test_nodes_not_ready_after_an_outage_are_listed_again_soon_and_runs_start() -> None:
    # After an API server outage every node is NotReady until its kubelet's next heartbeat: the runs
    # wait, and the nodes are listed again within seconds, not at the next regular refresh.
    api = FakeApi()
    stale = node("n1")
    stale["status"]["conditions"] = [{"type": "Ready", "status": "Unknown"}]
    api.nodes = [stale]
    scheduler = Scheduler(
        runs.Context(api, Settings(max_runs_per_node=2, nodes_refresh_seconds=3600), Metrics())
    )
    await list_and_queue_one(scheduler, api)
    api.nodes = [node("n1")]
    later(scheduler, scheduler_module.FAILED_LIST_RETRY_SECONDS)
    await scheduler._refresh_nodes()
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    assert len(api.pods) == 1
    # Every node Ready: the next listing waits for the regular refresh.
    api.nodes = []
    later(scheduler, scheduler_module.FAILED_LIST_RETRY_SECONDS)
    await scheduler._refresh_nodes()
    assert scheduler.capacity.total == 2


@in_loop
async def test_a_node_not_ready_while_no_run_waits_is_not_listed_for() -> None:
    api = FakeApi()
    down = node("n2")
    down["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    api.nodes = [node("n1"), down]
    scheduler = Scheduler(
        runs.Context(api, Settings(max_runs_per_node=2, nodes_refresh_seconds=3600), Metrics())
    )
    await scheduler._refresh_nodes()
    scheduler.step(datetime.now(UTC))
    api.nodes = []
    later(scheduler, scheduler_module.FAILED_LIST_RETRY_SECONDS)
    await scheduler._refresh_nodes()
    assert scheduler.capacity.total == 2


def api_error(status: int) -> ApiException:
    return ApiException(status=status, reason="x")


@pytest.mark.parametrize("status", [429, 500, 503, 504])
def test_transient_statuses_are_retried(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    monkeypatch.setattr(kube.time, "sleep", lambda _: None)
    calls: list[int] = []

    @kube.retried
    def flaky() -> str:
        calls.append(1)
        if len(calls) < kube.RETRIES:
            raise api_error(status)
        return "ok"

    assert flaky() == "ok"
    assert len(calls) == kube.RETRIES


@pytest.mark.parametrize(("status", "error"), [(404, NotFound), (403, Invalid), (422, Invalid)])
def test_other_statuses_are_not_retried(monkeypatch: pytest.MonkeyPatch, status: int, error: type) -> None:
    monkeypatch.setattr(kube.time, "sleep", lambda _: None)
    calls: list[int] = []

    @kube.retried
    def refused() -> None:
        calls.append(1)
        raise api_error(status)

    with pytest.raises(error):
        refused()
    assert len(calls) == 1


def test_a_dead_connection_is_transient_after_the_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube.time, "sleep", lambda _: None)
    calls: list[int] = []

    @kube.retried
    def down() -> None:
        calls.append(1)
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(Transient):
        down()
    assert len(calls) == kube.RETRIES


def test_every_attempt_of_a_request_is_counted_and_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    """What lifecycle_operator_api_requests_total and _api_request_seconds show: each attempt, by call
    and outcome, a retried failure included."""
    monkeypatch.setattr(kube.time, "sleep", lambda _: None)
    answers: list[Exception | bytes] = [api_error(503), ConnectionResetError("reset"), b'{"kind": "Pod"}']

    class Core:
        def read_namespaced_pod(self, name: str, namespace: str, **_: Any) -> Any:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return type("Response", (), {"data": answer})()

    monkeypatch.setattr(kube, "_core", Core)
    metrics = Metrics()
    assert kube.KubeApi(metrics.record_request).get_pod("ns", "p") == {"kind": "Pod"}

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(f"lifecycle_operator_{name}", labels)

    assert [sample("api_requests_total", call="get_pod", code=code) for code in ("503", "error", "ok")] == [
        1,
        1,
        1,
    ]
    assert sample("api_request_seconds_count", call="get_pod") == 3


@in_loop
async def test_a_pod_whose_deletion_failed_is_deleted_later() -> None:
    """The verdict was written, then the API server went away before the pod's deletion: a terminal pod
    sends no further event, so the scheduler tries again until it is gone."""
    api = FakeApi()
    scheduler = make(api, per_node=2)
    await scheduler._refresh_nodes()
    scheduler.seen(api.add_test("t", SPEC), "ADDED")
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    pod = api.status("t")["podName"]
    done = {
        "phase": "Succeeded",
        "containerStatuses": [
            {
                "name": "a",
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "message": "1764417600 10.00 a Starting\n1764417600 10.01 a Started\n",
                    }
                },
            }
        ],
    }
    api.fail("delete_pod", Transient("connection refused"), Transient("connection refused"))
    runs.on_pod(api.set_pod_status(pod, done), "MODIFIED", scheduler.ctx)
    assert api.status("t")["result"] == c.RESULT_PASSED
    assert ("ns", pod) in api.pods
    assert {key[:2] for key in scheduler.ctx.pending_deletes} == {("ns", pod)}
    scheduler.step(datetime.now(UTC))  # still failing: it stays pending
    await settle(scheduler, api)
    assert {key[:2] for key in scheduler.ctx.pending_deletes} == {("ns", pod)}
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    assert ("ns", pod) not in api.pods
    assert scheduler.ctx.pending_deletes == set()


@in_loop
async def test_a_test_at_rest_is_held_partly_and_read_whole_before_it_is_queued() -> None:
    """10,000 finished tests: the scheduler keeps no raw spec, conditions or history of a test at rest.
    When such a test wants a run and must wait, the Queued patch comes from the test read whole, so the
    conditions it keeps keep their transition times."""
    api = FakeApi()
    scheduler = make(api, per_node=1)
    await scheduler._refresh_nodes()
    since = "2026-01-01T00:00:00Z"
    done = {
        "result": c.RESULT_PASSED,
        "run": 1,
        "observedGeneration": 1,
        "completionTime": format_time(datetime.now(UTC)),
        "conditions": [
            {
                "type": c.CONDITION_RUNNING,
                "status": "False",
                "reason": "RunFinished",
                "lastTransitionTime": since,
            },
            {
                "type": c.CONDITION_SUCCEEDED,
                "status": "True",
                "reason": "ExpectationsMet",
                "lastTransitionTime": since,
            },
        ],
        "history": [{"run": 1, "result": c.RESULT_PASSED}],
    }
    scheduler.seen(api.add_test("busy", SPEC), "ADDED")
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    body = api.add_test("rest", SPEC, done)
    view = TestView.read(body)
    assert view.partial
    assert (view.state.spec, view.state.status.conditions, view.state.status.history) == ({}, [], [])
    api.test("rest")["metadata"]["generation"] = 2  # a new spec: it wants a run, and the slot is taken
    scheduler.seen(copy.deepcopy(api.test("rest")), "MODIFIED")
    scheduler.step(datetime.now(UTC))
    await settle(scheduler, api)
    status = api.status("rest")
    assert status["result"] == c.RESULT_QUEUED
    running = next(x for x in status["conditions"] if x["type"] == c.CONDITION_RUNNING)
    assert running["lastTransitionTime"] == since
    assert status["history"] == done["history"]
