"""everyNode, pure: which nodes a test runs on, its children's names and specs, and the parent's verdict
gathered from theirs."""

from datetime import UTC, datetime
from typing import Any

import pytest

from lifecycle_operator import constants as c
from lifecycle_operator.api import LifecycleTestSpec, PodTemplate
from lifecycle_operator.fanout import Child, changes, child_name, child_spec, gathered
from lifecycle_operator.nodes import NodeInfo, Taint, matches
from lifecycle_operator.state import StatusView, TestState

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def pod(**fields: Any) -> PodTemplate:
    return PodTemplate.model_validate({"containers": [{"name": "a"}], **fields})


READY = NodeInfo("n", ready=True, labels={"pool": "a"})


@pytest.mark.parametrize(
    ("template", "node", "expected"),
    [
        (pod(), READY, True),
        (pod(), NodeInfo("n", ready=False), False),
        (pod(nodeSelector={"pool": "a"}), READY, True),
        (pod(nodeSelector={"pool": "b"}), READY, False),
        (pod(), NodeInfo("n", ready=True, taints=(Taint("k", "v", "NoSchedule"),)), False),
        (pod(), NodeInfo("n", ready=True, taints=(Taint("k", "v", "PreferNoSchedule"),)), True),
        (
            pod(tolerations=[{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}]),
            NodeInfo("n", ready=True, taints=(Taint("k", "v", "NoSchedule"),)),
            True,
        ),
        (
            pod(tolerations=[{"key": "k", "value": "w"}]),
            NodeInfo("n", ready=True, taints=(Taint("k", "v", "NoExecute"),)),
            False,
        ),
        (
            pod(tolerations=[{"operator": "Exists"}]),
            NodeInfo("n", ready=True, taints=(Taint("any", None, "NoExecute"),)),
            True,
        ),
    ],
)
def test_which_nodes_match(template: PodTemplate, node: NodeInfo, expected: bool) -> None:
    assert matches(template, node) is expected


def test_a_node_is_read_from_its_object() -> None:
    info = NodeInfo.read(
        {
            "metadata": {"name": "n2", "labels": {"pool": "a"}},
            "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "nodeInfo": {"kubeletVersion": "v1.36.3", "containerRuntimeVersion": "containerd://2.2.0"},
            },
        }
    )
    assert info == NodeInfo(
        "n2", True, {"pool": "a"}, (Taint("k", None, "NoSchedule"),), "v1.36.3", "containerd://2.2.0"
    )


def test_children_names_are_valid_and_bounded() -> None:
    assert child_name("t", "node-1") == "t-node-1"
    long = child_name("t" * 200, "n" * 100)
    assert len(long) == 253
    assert long != child_name("t" * 200, "n" * 99 + "m")


def test_a_childs_spec_is_the_parents_pinned_to_its_node() -> None:
    spec = {"everyNode": True, "pod": {"containers": [{"name": "a"}]}, "expectations": []}
    out = child_spec(spec, "n1")
    assert out == {"pod": {"containers": [{"name": "a"}], "nodeName": "n1"}, "expectations": []}
    assert spec["everyNode"] is True  # the parent's is left alone


def test_every_node_and_node_name_exclude_each_other() -> None:
    with pytest.raises(ValueError, match=r"pod.nodeName: Forbidden: not allowed with everyNode"):
        LifecycleTestSpec.model_validate(
            {
                "everyNode": True,
                "pod": {"nodeName": "n1", "containers": [{"name": "a"}]},
                "expectations": [{"type": "Starts", "container": "a"}],
            }
        )


def child(node: str, result: str | None, failed: tuple[str, ...] = ()) -> Child:
    status: dict[str, Any] = {"result": result, "run": 1}
    if result in {c.RESULT_PASSED, c.RESULT_FAILED, c.RESULT_INCONCLUSIVE}:
        status["completionTime"] = "2026-01-01T00:00:00Z"
        reason = {c.RESULT_PASSED: "ExpectationsMet", c.RESULT_FAILED: "ExpectationsFailed"}.get(result, "X")
        status["conditions"] = [{"type": "Succeeded", "reason": reason}]
    return Child(f"t-{node}", "t", node, {}, StatusView.read(status), "v1.34.4", None, failed)


PARENT = TestState("ns", "t", "uid", 1, "1", {}, StatusView())


@pytest.mark.parametrize(
    ("children", "result", "condition", "summary"),
    [
        ([], c.RESULT_QUEUED, ("False", c.REASON_NO_NODES), "0/0 nodes"),
        (
            [child("a", c.RESULT_PASSED), child("b", c.RESULT_PASSED)],
            "Passed",
            ("True", "AllNodesPassed"),
            "2/2 nodes",
        ),
        (
            [child("a", c.RESULT_PASSED), child("b", "Running")],
            "Running",
            ("Unknown", "NodesPending"),
            "1/2 nodes",
        ),
        (
            [child("a", c.RESULT_FAILED, ("x starts",)), child("b", "Running")],
            "Failed",
            ("False", "NodesFailed"),
            "0/2 nodes",
        ),
        (
            [child("a", c.RESULT_PASSED), child("b", c.RESULT_INCONCLUSIVE)],
            "Inconclusive",
            ("Unknown", "Inconclusive"),
            "1/2 nodes",
        ),
    ],
)
def test_the_parent_passes_only_when_every_node_passed(
    children: list[Child], result: str, condition: tuple[str, str], summary: str
) -> None:
    patch = gathered(PARENT, children, NOW)
    assert (patch["result"], patch["summary"]) == (result, summary)
    succeeded = next(x for x in patch["conditions"] if x["type"] == "Succeeded")
    assert (succeeded["status"], succeeded["reason"]) == condition
    assert [row["node"] for row in patch["nodes"]] == [ch.node for ch in children]


def test_a_failed_node_is_named_with_what_failed() -> None:
    patch = gathered(PARENT, [child("b", c.RESULT_FAILED, ("x starts",))], NOW)
    assert patch["nodes"][0]["failed"] == ["x starts"]
    assert "b (ExpectationsFailed)" in patch["conditions"][0]["message"]


def test_the_same_verdicts_later_change_nothing() -> None:
    first = gathered(PARENT, [child("a", c.RESULT_PASSED)], NOW)
    later = gathered(PARENT, [child("a", c.RESULT_PASSED)], NOW.replace(hour=5))
    assert not changes(first, later)
    assert changes(first, gathered(PARENT, [child("a", c.RESULT_FAILED)], NOW))
