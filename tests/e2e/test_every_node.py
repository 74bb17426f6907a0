"""everyNode on the two-node local cluster: a verdict per node, a fault on one node that fails there
alone and is named by the metrics and the drift alert, and a node that leaves taking its series with it.

Needs the cluster with two nodes (hack/localcluster/up.sh --nodes 2; hack/test.sh starts it so). The
node-specific fault is an image that only node 1 has: the test tags the test image under a name of its
own in each node's containerd, then removes that name from node 2 only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Operator, log_dir_for

from clustertools import (
    GROUP_PLURAL,
    ROOT,
    TEST_IMAGE,
    kubectl,
    kubectl_json,
    kubectl_result,
    lifecycle_test,
    metric,
    report,
    run,
    wait_for,
)

pytestmark = pytest.mark.e2e

PREFIX = "pernode-"
STATE = Path(os.environ.get("LOCALCLUSTER_DIR", "/var/tmp/lifecycle-localcluster"))
NODE_1, NODE_2 = "lifecycle-node", "lifecycle-node-2"
SOCKETS = {
    NODE_1: STATE / "containerd" / "containerd.sock",
    NODE_2: STATE / "node-2" / "containerd" / "containerd.sock",
}
FAULT_IMAGE = TEST_IMAGE.rsplit(":", 1)[0] + ":every-node-probe"
NODE_SH = ROOT / "hack" / "localcluster" / "node.sh"
SPEC: dict[str, Any] = {
    "everyNode": True,
    "timeoutSeconds": 20,
    "pod": {"containers": [{"name": "a", "image": FAULT_IMAGE, "behavior": {"delaySeconds": 1}}]},
    "expectations": [{"type": "Starts", "container": "a"}, {"type": "Exits", "container": "a"}],
}


def ctr(node: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "-a", str(SOCKETS[node]), "-n", "k8s.io", *args], capture_output=True, text=True, check=False
    )


def promtool() -> str:
    tools = Path(os.environ.get("LCO_TOOLS_DIR", "/var/cache/lifecycle-operator/bin"))
    for candidate in (os.environ.get("LCO_PROMTOOL"), shutil.which("promtool"), str(tools / "promtool")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AssertionError("promtool is missing: run `bash hack/install-promtool.sh`")


class EveryNode:
    def __init__(self, log_dir: Path) -> None:
        self.operator = Operator(log_dir, namespaces=f"{PREFIX}*", nodes_refresh_seconds="2")
        self.namespace = f"{PREFIX}{os.urandom(3).hex()}"

    def status(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = kubectl_json(GROUP_PLURAL, name, "-n", self.namespace).get("status") or {}
        return status

    def rows(self, name: str) -> dict[str, dict[str, Any]]:
        return {row["node"]: row for row in self.status(name).get("nodes", [])}


@pytest.fixture(scope="module")
def every(crd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EveryNode]:
    nodes = kubectl("get", "nodes", "-o", "jsonpath={.items[*].metadata.name}").split()
    assert sorted(nodes) == [NODE_1, NODE_2], f"this tier needs the two-node local cluster, found {nodes}"
    for node in (NODE_1, NODE_2):
        tagged = ctr(node, "images", "tag", "--force", TEST_IMAGE, FAULT_IMAGE)
        assert tagged.returncode == 0, tagged.stderr
    e = EveryNode(log_dir_for("every-node", tmp_path_factory))
    e.operator.start()
    kubectl("create", "namespace", e.namespace)
    kubectl("label", "namespace", e.namespace, "pod-security.kubernetes.io/enforce=restricted")
    yield e
    e.operator.stop()
    kubectl_result("delete", "namespace", e.namespace, "--wait=false")
    for node in (NODE_1, NODE_2):
        ctr(node, "images", "rm", FAULT_IMAGE)


def apply(every: EveryNode, name: str, spec: dict[str, Any]) -> None:
    kubectl("apply", "-n", every.namespace, "-f", "-", stdin=yaml.safe_dump(lifecycle_test(name, spec)))


def drift_description(namespace: str, name: str) -> str:
    """The drift alert's description for a test, from monitoring/alerts.yaml's template."""
    rules = yaml.safe_load((ROOT / "monitoring" / "alerts.yaml").read_text())["groups"][0]["rules"]
    template = next(r for r in rules if r["alert"] == "LifecycleTestConformanceDrift")
    text: str = template["annotations"]["description"]
    return text.replace("{{ $labels.namespace }}", namespace).replace("{{ $labels.name }}", name)


def alert_labels(every: EveryNode, child: str, history: list[float], info: dict[str, str]) -> list[str]:
    """Evaluate the drift alert with promtool on the series the operator exported: this test's verdicts
    as they were scraped, and its node info as it is. Returns the failures promtool reports (none when the
    alert fires for the child with the node's labels)."""
    selector = f'job="lifecycle-operator", namespace="{every.namespace}", name="{child}"'
    node_labels = ", ".join(f'{k}="{v}"' for k, v in sorted(info.items()))
    values = " ".join(f"{v:.0f}x3" for v in history)
    test_file = {
        "rule_files": [str(ROOT / "monitoring" / "alerts.yaml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "10m",
                "input_series": [
                    {"series": f"lifecycletest_last_verdict{{{selector}}}", "values": values},
                    {"series": f"lifecycletest_node_info{{{selector}, {node_labels}}}", "values": "1x12"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": f"{10 * (4 * len(history) - 2)}m",
                        "alertname": "LifecycleTestConformanceDrift",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "critical",
                                    "job": "lifecycle-operator",
                                    "namespace": every.namespace,
                                    "name": child,
                                    **info,
                                },
                                "exp_annotations": {
                                    "summary": f"LifecycleTest {every.namespace}/{child} passed before and "
                                    f"fails now on node {info['node']} (kubelet {info['kubelet_version']})",
                                    "description": drift_description(every.namespace, child),
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = every.operator.log_dir / "drift-alert-test.yaml"
    path.write_text(yaml.safe_dump(test_file))
    result = subprocess.run(
        [promtool(), "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    return [] if result.returncode == 0 else [result.stdout + result.stderr]


def test_a_verdict_per_node_a_fault_on_one_node_and_a_node_that_leaves(every: EveryNode) -> None:
    name = "probe"
    child_1, child_2 = f"{name}-{NODE_1}", f"{name}-{NODE_2}"
    apply(every, name, SPEC)

    def all_passed() -> dict[str, Any] | None:
        status = every.status(name)
        return status if status.get("result") == "Passed" else None

    status = wait_for("both nodes passed", all_passed, timeout=180, interval=2)
    assert status["summary"] == "2/2 nodes"
    rows = every.rows(name)
    assert sorted(rows) == [NODE_1, NODE_2]
    assert all(row["kubeletVersion"].startswith("v1.") for row in rows.values()), rows
    text = every.operator.metrics()
    assert metric(text, "lifecycletest_last_verdict", namespace=every.namespace, name=child_2) == 1

    # The fault: node 2 loses the image. A new spec makes each node run again.
    removed = ctr(NODE_2, "images", "rm", FAULT_IMAGE)
    assert removed.returncode == 0, removed.stderr
    apply(every, name, {**SPEC, "timeoutSeconds": 21})

    def node_2_failed() -> dict[str, dict[str, Any]] | None:
        rows = every.rows(name)
        done = all(row.get("run") == 2 and row.get("reason") for row in rows.values())
        return rows if done and len(rows) == 2 else None

    rows = wait_for("each node's second verdict", node_2_failed, timeout=240, interval=2)
    assert rows[NODE_1]["result"] == "Passed", rows
    assert rows[NODE_2]["result"] == "Failed", rows
    status = every.status(name)
    assert (status["result"], status["summary"]) == ("Failed", "1/2 nodes")
    succeeded = next(c for c in status["conditions"] if c["type"] == "Succeeded")
    assert NODE_2 in succeeded["message"]
    assert NODE_1 not in succeeded["message"].replace(NODE_2, "")

    text = every.operator.metrics()
    assert metric(text, "lifecycletest_last_verdict", namespace=every.namespace, name=child_2) == 0
    assert metric(text, "lifecycletest_last_verdict", namespace=every.namespace, name=child_1) == 1
    info = {
        "node": NODE_2,
        "kubelet_version": rows[NODE_2]["kubeletVersion"],
        "container_runtime_version": rows[NODE_2]["containerRuntimeVersion"],
    }
    assert metric(text, "lifecycletest_node_info", namespace=every.namespace, name=child_2, **info) == 1
    assert alert_labels(every, child_2, [1.0, 0.0], info) == []
    report(f"every-node: {NODE_2} failed alone ({rows[NODE_2]['reason']}); the drift alert names it")

    # Node 2 leaves: its test, its row and its series go; node 1 alone has passed.
    left = run(["bash", str(NODE_SH), "remove", "2"], timeout=300)
    try:

        def dropped() -> dict[str, Any] | None:
            status = every.status(name)
            found = kubectl(
                "get", GROUP_PLURAL, "-n", every.namespace, child_2, "--ignore-not-found", "-o", "name"
            )
            gone = not found.strip()
            return status if gone and [r["node"] for r in status.get("nodes", [])] == [NODE_1] else None

        status = wait_for("node 2 dropped", dropped, timeout=120, interval=2)
        assert (status["result"], status["summary"]) == ("Passed", "1/1 nodes")
        text = every.operator.metrics()
        assert f'name="{child_2}"' not in text
        report(f"every-node: node 2 removed ({left.strip()}); its test and series dropped")
    finally:
        run(["bash", str(NODE_SH), "add", "2"], timeout=300)
