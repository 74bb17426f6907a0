"""everyNode tests against an in-memory API: a child per matching node, runs on each, the verdicts gathered
per node, nodes joining and leaving, and nothing written when nothing changed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from fakeapi import FakeApi
from test_scheduler import in_loop, node, settle

from lifecycle_operator import children, runs
from lifecycle_operator import constants as c
from lifecycle_operator.fanout import Plan
from lifecycle_operator.metrics import Metrics
from lifecycle_operator.scheduler import Scheduler
from lifecycle_operator.settings import Settings

SPEC: dict[str, Any] = {
    "everyNode": True,
    "pod": {"containers": [{"name": "a"}]},
    "expectations": [{"type": "Starts", "container": "a"}],
}
GOOD = "1764417600 10.00 a Starting\n1764417600 10.01 a Started\n1764417601 11.00 a Exiting\n"
BAD = "1764417600 10.00 a Starting\n1764417601 11.00 a Exiting\n"


def versioned(name: str, kubelet: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    n = node(name)
    n["metadata"]["labels"] = labels or {}
    n["status"]["nodeInfo"] = {"kubeletVersion": kubelet, "containerRuntimeVersion": "containerd://1.6.20"}
    return n


def finish_pod(api: FakeApi, scheduler: Scheduler, pod: str, log: str) -> None:
    status = {
        "phase": "Succeeded",
        "containerStatuses": [
            {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed", "message": log}}}
        ],
    }
    runs.on_pod(api.set_pod_status(pod, status), "MODIFIED", scheduler.ctx)


async def look(scheduler: Scheduler, api: FakeApi, times: int = 3) -> None:
    for _ in range(times):
        scheduler.step(datetime.now(UTC))
        await settle(scheduler, api)


@in_loop
async def test_one_child_per_node_and_the_verdicts_gathered_per_node() -> None:
    api = FakeApi()
    api.nodes = [versioned("n1", "v1.34.4"), versioned("n2", "v1.36.3")]
    scheduler = Scheduler(runs.Context(api, Settings(), Metrics()))
    await scheduler._refresh_nodes()
    scheduler.seen(api.add_test("t", SPEC), "ADDED")
    await look(scheduler, api)
    assert sorted(name for _, name in api.tests) == ["t", "t-n1", "t-n2"]
    child = api.test("t-n2")
    assert child["spec"]["pod"]["nodeName"] == "n2"
    assert "everyNode" not in child["spec"]
    assert child["metadata"]["ownerReferences"][0]["name"] == "t"
    assert child["metadata"]["labels"][c.LABEL_NODE] == "n2"
    # The parent itself runs no pod; each child runs one on its node.
    assert sorted(pod for _, pod in api.pods) == ["t-n1-run1", "t-n2-run1"]
    assert api.pods[("ns", "t-n2-run1")]["spec"]["nodeName"] == "n2"
    assert api.status("t")["summary"] == "0/2 nodes"
    finish_pod(api, scheduler, "t-n1-run1", GOOD)
    finish_pod(api, scheduler, "t-n2-run1", BAD)
    await look(scheduler, api)
    status = api.status("t")
    assert (status["result"], status["summary"]) == (c.RESULT_FAILED, "1/2 nodes")
    rows = {r["node"]: r for r in status["nodes"]}
    assert rows["n1"]["result"] == c.RESULT_PASSED
    wanted = {"result": c.RESULT_FAILED, "kubeletVersion": "v1.36.3", "failed": ["a starts"]}
    assert {k: rows["n2"].get(k) for k in wanted} == wanted
    succeeded = next(x for x in status["conditions"] if x["type"] == c.CONDITION_SUCCEEDED)
    assert succeeded["status"] == "False"
    assert "n2 (ExpectationsFailed)" in succeeded["message"]
    # The node and its kubelet version are on the metrics, for the alert to name.
    labels = {
        "namespace": "ns",
        "name": "t-n2",
        "node": "n2",
        "kubelet_version": "v1.36.3",
        "container_runtime_version": "containerd://1.6.20",
    }
    assert scheduler.ctx.metrics.registry.get_sample_value("lifecycletest_node_info", labels) == 1
    # The API server fills in the CRD's defaults; a child with them is still up to date.
    api.test("t-n1")["spec"]["everyNode"] = False
    api.test("t-n1")["spec"]["judgeWhen"] = {"type": "PodTerminal"}
    # Nothing changed: another look writes nothing.
    writes = len(api.writes)
    await look(scheduler, api)
    assert len(api.writes) == writes


@in_loop
async def test_a_node_that_joins_gets_a_child_and_one_that_leaves_loses_it() -> None:
    api = FakeApi()
    api.nodes = [versioned("n1", "v1.34.4")]
    scheduler = Scheduler(runs.Context(api, Settings(nodes_refresh_seconds=0.001), Metrics()))
    await scheduler._refresh_nodes()
    scheduler.seen(api.add_test("t", SPEC), "ADDED")
    await look(scheduler, api)
    assert ("ns", "t-n1") in api.tests
    api.nodes = [versioned("n1", "v1.34.4"), versioned("n2", "v1.34.4")]
    await scheduler._refresh_nodes()
    await look(scheduler, api)
    assert ("ns", "t-n2") in api.tests
    # n1 only NotReady: it keeps its child. n2 gone: its child goes, and with it its metrics.
    flaky = versioned("n1", "v1.34.4")
    flaky["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    api.nodes = [flaky]
    await scheduler._refresh_nodes()
    await look(scheduler, api)
    assert ("ns", "t-n1") in api.tests
    assert ("ns", "t-n2") not in api.tests
    scheduler.seen({"metadata": {"namespace": "ns", "name": "t-n2"}}, "DELETED")  # as the watch says
    await look(scheduler, api)
    assert [row["node"] for row in api.status("t")["nodes"]] == ["n1"]


@in_loop
async def test_the_selector_and_taints_choose_the_nodes_and_a_new_spec_reaches_the_children() -> None:
    api = FakeApi()
    tainted = versioned("n3", "v1.34.4", {"pool": "a"})
    tainted["spec"] = {"taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]}
    api.nodes = [
        versioned("n1", "v1.34.4", {"pool": "a"}),
        versioned("n2", "v1.34.4", {"pool": "b"}),
        tainted,
    ]
    scheduler = Scheduler(runs.Context(api, Settings(), Metrics()))
    await scheduler._refresh_nodes()
    spec = copy.deepcopy(SPEC)
    spec["pod"]["nodeSelector"] = {"pool": "a"}
    scheduler.seen(api.add_test("t", spec), "ADDED")
    await look(scheduler, api)
    assert sorted(name for _, name in api.tests) == ["t", "t-n1"]
    spec["pod"]["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    api.test("t")["spec"] = spec
    api.test("t")["metadata"]["generation"] = 2
    scheduler.seen(api.test("t"), "MODIFIED")
    await look(scheduler, api)
    assert sorted(name for _, name in api.tests) == ["t", "t-n1", "t-n3"]
    assert api.test("t-n1")["spec"]["pod"]["tolerations"] == spec["pod"]["tolerations"]
    assert api.test("t-n1")["metadata"]["generation"] == 2


@in_loop
async def test_no_children_before_the_nodes_are_known() -> None:
    api = FakeApi()
    api.nodes = [versioned("n1", "v1.34.4")]
    scheduler = Scheduler(runs.Context(api, Settings(), Metrics()))
    scheduler.seen(api.add_test("t", SPEC), "ADDED")
    await look(scheduler, api)
    assert list(api.tests) == [("ns", "t")]
    assert api.writes == []


def test_a_child_created_by_an_earlier_pass_is_not_reported_as_a_stranger(caplog: Any) -> None:
    # A pass whose view of the children lags asks to create one the pass before created: no warning.
    # A test of that name that is no child of this one is named.
    api = FakeApi()
    api.add_test("t", SPEC)
    api.add_test("t-n2", {"pod": {"containers": [{"name": "a"}]}, "expectations": SPEC["expectations"]})
    ctx = runs.Context(api, Settings(), Metrics())
    plan = Plan(create=["n1", "n2"])
    children.reconcile("ns", "t", plan, ctx)
    children.reconcile("ns", "t", Plan(create=["n1"]), ctx)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warned == ["ns/t: a LifecycleTest named t-n2 exists and is not this test's child for node n2"]
    assert api.test("t-n1")["metadata"]["ownerReferences"][0]["name"] == "t"
