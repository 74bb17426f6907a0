from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lifecycle_operator import constants as c
from lifecycle_operator.api import InvalidSpecError, parse_spec
from lifecycle_operator.schedule import Capacity, Key, TestView, admit, due_rerun, node_capacity, overdue
from lifecycle_operator.state import TestState, owner_of
from lifecycle_operator.times import parse_time

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
SPEC = {"pod": {"containers": [{"name": "a"}]}, "expectations": [{"type": "Starts", "container": "a"}]}


def body(
    result: str | None, interval: int | None = None, node: str | None = None, **status: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {**SPEC, "pod": {**SPEC["pod"], **({"nodeName": node} if node else {})}}
    if interval:
        spec["intervalSeconds"] = interval
    return {
        "metadata": {"name": "t", "namespace": "ns", "generation": 1},
        "spec": spec,
        "status": {"result": result, "observedGeneration": 1, **status} if result else {},
    }


def views(**bodies: dict[str, Any]) -> dict[Key, TestView]:
    return {("ns", name): TestView.read(b) for name, b in bodies.items()}


def node(name: str, cpu: str = "2", pods: str = "110", ready: str = "True", **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": spec,
        "status": {
            "allocatable": {"cpu": cpu, "pods": pods},
            "conditions": [{"type": "Ready", "status": ready}],
        },
    }


def test_overdue_runs() -> None:
    tests = views(
        late=body("Running", podName="p", deadline="2026-11-29T11:59:59Z"),
        on_time=body("Running", podName="p", deadline="2026-11-29T12:00:01Z"),
        exactly=body("Running", podName="p", deadline="2026-11-29T12:00:00Z"),
        finished=body("Passed", deadline="2026-11-29T11:00:00Z"),
    )
    assert overdue(tests, NOW) == [("ns", "late"), ("ns", "exactly")]


def test_a_rerun_is_due_exactly_when_its_interval_has_passed() -> None:
    finished = "2026-11-29T11:59:00Z"
    assert due_rerun(TestView.read(body("Passed", 60, completionTime=finished)), NOW)
    assert due_rerun(TestView.read(body("Failed", 60, completionTime=finished)), NOW)
    assert not due_rerun(TestView.read(body("Passed", 61, completionTime=finished)), NOW)
    assert not due_rerun(TestView.read(body("Passed", None, completionTime=finished)), NOW)
    assert not due_rerun(TestView.read(body("Running", 60, podName="p", completionTime=finished)), NOW)


def test_an_invalid_spec_is_not_rerun_or_started_again() -> None:
    b = body("Error", 60, completionTime="2026-11-29T10:00:00Z")
    b["spec"]["pod"]["containers"] = []
    view = TestView.read(b)
    assert view.invalid
    assert not due_rerun(view, NOW)
    assert admit({("ns", "t"): view}, [], Capacity({"n": 5}), NOW).start == []


def test_which_tests_want_a_run() -> None:
    tests = views(
        new=body(None),
        queued=body("Queued", queuedTime="2026-11-29T11:00:00Z"),
        changed={**body("Passed", completionTime="2026-11-29T11:00:00Z"), "metadata": {"generation": 2}},
        passed=body("Passed", completionTime="2026-11-29T11:00:00Z"),
        running=body("Running", podName="p"),
    )
    admission = admit(tests, [], Capacity({"n": 10}), NOW)
    assert sorted(admission.start) == [("ns", "changed"), ("ns", "new"), ("ns", "queued")]


def test_admission_serves_the_queue_in_order_within_capacity() -> None:
    tests = views(
        a=body(None),
        b=body("Queued", queuedTime="2026-11-29T11:00:02Z"),
        c=body("Queued", queuedTime="2026-11-29T11:00:01Z"),
        d=body("Running", podName="p"),
    )
    admission = admit(tests, [("ns", "d")], Capacity({"n1": 2, "n2": 1}), NOW)
    assert admission.start == [("ns", "c"), ("ns", "b")]
    assert admission.wait == [("ns", "a")]
    assert admit(tests, [("ns", "d")], Capacity({"n1": 1}), NOW).start == []


def test_a_pinned_run_takes_a_slot_of_its_node() -> None:
    tests = views(
        x=body(None, node="n1"),
        y=body(None, node="n1"),
        z=body(None, node="n2"),
        gone=body(None, node="n3"),
    )
    admission = admit(tests, [], Capacity({"n1": 1, "n2": 5}), NOW)
    assert admission.start == [("ns", "x"), ("ns", "z")]
    assert admission.wait == [("ns", "gone"), ("ns", "y")]


def test_node_capacity_is_derived_from_what_the_node_holds() -> None:
    assert node_capacity(node("n", cpu="2"), 0) == 16
    assert node_capacity(node("n", cpu="500m"), 0) == 4
    assert node_capacity(node("n", cpu="64"), 0) == 32
    assert node_capacity(node("n", cpu="8", pods="10"), 0) == 5
    assert node_capacity(node("n", cpu="0"), 0) == 1
    assert node_capacity(node("n"), 3) == 3
    capacity = Capacity.of(
        [node("a"), node("b", ready="False"), node("c", unschedulable=True), node("d", cpu="1")], 0
    )
    assert capacity.per_node == {"a": 16, "d": 8}
    assert capacity.total == 24


def test_status_is_read_leniently() -> None:
    state = TestState.read(
        {"metadata": {"name": "t"}, "status": {"run": "3", "deadline": "soon", "podName": 5}}
    )
    assert state.status.run == 0
    assert state.status.deadline is None
    assert state.status.pod_name is None
    assert not state.status.running
    assert state.needs_run is False or state.status.result is None


def test_result_of_a_run_comes_from_the_status_or_its_history() -> None:
    state = TestState.read(
        body(
            "Failed",
            run=3,
            completionTime="2026-11-29T11:00:00Z",
            history=[{"run": 2, "result": "Passed"}, {"run": 3, "result": "Failed"}],
        )
    )
    assert state.status.result_of_run(3) == c.RESULT_FAILED
    assert state.status.result_of_run(2) == c.RESULT_PASSED
    assert state.status.result_of_run(1) is None


def test_owner_of() -> None:
    ref = {"apiVersion": "lifecycle.conformance.dev/v1alpha1", "kind": "LifecycleTest", "name": "t"}
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "ownerReferences": [ref], "labels": {c.LABEL_RUN: "4"}}
    }
    owner = owner_of(pod)
    assert owner is not None
    assert (owner.namespace, owner.name, owner.test, owner.run) == ("ns", "p", "t", 4)
    assert owner_of({"metadata": {"ownerReferences": [{**ref, "kind": "ReplicaSet"}]}}) is None
    assert owner_of({"metadata": {}}) is None


def test_parse_spec_names_the_field() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec({"pod": {"containers": []}, "expectations": []})
    assert "spec.pod.containers" in str(caught.value)
    assert "spec.expectations" in str(caught.value)


def test_a_deadline_a_second_later_is_not_overdue() -> None:
    later = (NOW + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert overdue(views(t=body("Running", podName="p", deadline=later)), NOW) == []


@pytest.mark.parametrize(
    "text",
    ["2026-11-29T12:00:00Z", "2026-11-29T12:00:00+00:00", "2026-11-29T13:00:00+01:00"],
)
def test_times_read_as_the_api_and_the_client_write_them(text: str) -> None:
    assert parse_time(text) == NOW


def test_a_lease_renew_time_keeps_its_microseconds() -> None:
    renewed = parse_time("2026-11-29T12:00:00.250000Z")
    assert renewed is not None
    assert renewed - NOW == timedelta(milliseconds=250)
    assert parse_time("soon") is None
    assert parse_time(None) is None
