"""The operator as a user installs it: its image in the node's containerd, the Helm chart, the six examples.

Everything is checked from outside, through the API server: the Deployment, the verdicts, the metrics
through the Service, the log (no request the chart's RBAC does not allow), and an uninstall that leaves no
object of the release behind.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clustertools import EXAMPLES, GROUP_PLURAL, kubectl_json, wait_for
from incluster import ObjectRef, Release, example_names, exists, metric_samples

pytestmark = pytest.mark.e2e

# What the chart creates in namespaced mode; each must go with `helm uninstall`.
OPERATOR_KINDS = {
    "Deployment",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "Service",
}


def test_the_operator_runs_the_built_image_as_the_chart_says(release: Release) -> None:
    pods = kubectl_json("pods", "-n", release.namespace, "-l", f"app.kubernetes.io/instance={release.name}")[
        "items"
    ]
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    pod = pods[0]
    (status,) = pod["status"]["containerStatuses"]
    assert status["ready"], status
    assert status["image"] == release.image, status["image"]
    assert status["restartCount"] == 0, f"the operator restarted: {status.get('lastState')}"
    assert pod["spec"]["securityContext"]["runAsUser"] == 65532


def test_every_example_passes_in_the_cluster(example_results: dict[str, str]) -> None:
    assert len(EXAMPLES) == 6
    assert example_results == dict.fromkeys(example_names(), "Passed")


def test_metrics_through_the_service_report_each_verdict(
    example_results: dict[str, str], watched_namespace: str, read_metrics: Callable[[], str]
) -> None:
    expected = dict.fromkeys(((watched_namespace, name) for name in example_names()), 1.0)

    def all_reported() -> dict[tuple[str, str], float] | None:
        samples = metric_samples(read_metrics(), "lifecycletest_last_verdict")
        return samples if samples.keys() >= expected.keys() else None

    samples = wait_for("lifecycletest_last_verdict of every example", all_reported, timeout=30)
    assert {k: v for k, v in samples.items() if k in expected} == expected


def test_the_chart_grants_every_permission_the_operator_uses(operator_log: str) -> None:
    forbidden = [line for line in operator_log.splitlines() if "forbidden" in line.lower() or " 403" in line]
    assert not forbidden, "the operator was refused by RBAC:\n" + "\n".join(forbidden[:10])


def test_helm_uninstall_removes_every_operator_object(release: Release) -> None:
    objects = release.objects
    assert {o.kind for o in objects} >= OPERATOR_KINDS, sorted({o.kind for o in objects})
    assert all(exists(o.kind, o.name, o.namespace) for o in objects)

    release.uninstall()

    def remaining() -> list[ObjectRef]:
        return [o for o in objects if exists(o.kind, o.name, o.namespace)]

    wait_for("every object of the release to go", lambda: True if not remaining() else None, timeout=60)

    def pods_gone() -> bool | None:
        selector = f"app.kubernetes.io/instance={release.name}"
        return True if not kubectl_json("pods", "-n", release.namespace, "-l", selector)["items"] else None

    wait_for("the operator's pod to go", pods_gone, timeout=120)
    # CRDs stay, by Helm's design (charts/lifecycle-operator/crds): deleting one would delete every test.
    assert exists("crd", GROUP_PLURAL, None)
