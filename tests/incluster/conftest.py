"""Fixtures of the in-cluster tier: the image in the node's containerd, the chart installed, the examples run.

Needs the local cluster (hack/localcluster/up.sh; KUBECONFIG set), helm (LCO_HELM, or what
`hack/install-helm.sh --check` prints) and root (the image build uses buildah and debootstrap). Without a
cluster these tests fail; they never skip. The `cluster` and `helm` fixtures are tests/conftest.py's.

LCO_INCLUSTER_HOST_NETWORK=1 installs the chart with hostNetwork, for a cluster whose pods cannot reach the
API server through the kubernetes Service (hack/localcluster's pods can: kube-proxy DNATs the Service to the
pod bridge's gateway, where the cluster forwards to the loopback-only API server).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from clustertools import (
    EXAMPLES,
    ROOT,
    TERMINAL_RESULTS,
    TEST_IMAGE,
    UPDATE_IMAGE,
    kubectl,
    kubectl_json,
    run,
    wait_for,
)
from incluster import (
    CHART,
    IMAGE_REPOSITORY,
    OPERATOR_NAMESPACE,
    RELEASE,
    Release,
    exists,
    manifest_objects,
    project_version,
    verdicts,
)

# Lines for the end of the run: how long each step took, and what the cluster showed.
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("in-cluster e2e")
        for line in REPORT:
            terminalreporter.write_line(line)


def timed(what: str, started: float) -> None:
    REPORT.append(f"{what}: {time.monotonic() - started:.1f}s")


@pytest.fixture(scope="session")
def host_network() -> bool:
    return os.environ.get("LCO_INCLUSTER_HOST_NETWORK", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def operator_image(cluster: None) -> str:
    """Build the image (cached by its inputs) and import it into the local cluster's containerd."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(ROOT / "hack" / "image" / "build.sh"), "--import"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    REPORT.extend(line for line in result.stderr.splitlines() if line.startswith("image: "))
    assert result.returncode == 0, f"hack/image/build.sh --import failed:\n{result.stderr}"
    timed("image build and import", started)
    return f"{IMAGE_REPOSITORY}:{project_version()}"


def diagnostics() -> str:
    """What the operator's namespace shows, for a failure message."""
    parts = []
    for args in (
        ("get", "deployment,replicaset,pod", "-n", OPERATOR_NAMESPACE, "-o", "wide"),
        ("get", "events", "-n", OPERATOR_NAMESPACE, "--sort-by=.lastTimestamp"),
        ("logs", "-n", OPERATOR_NAMESPACE, f"deployment/{RELEASE}", "--tail=40", "--all-containers"),
    ):
        try:
            parts.append(f"$ kubectl {' '.join(args)}\n{kubectl(*args)}")
        except AssertionError as e:
            parts.append(str(e))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def watched_namespace(cluster: None) -> Iterator[str]:
    """The namespace the operator watches, at the restricted Pod Security level its test pods must meet."""
    name = f"lco-incluster-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
    yield name
    kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def chart_values(image: str, watched: str, host_network: bool) -> dict[str, object]:
    repository, tag = image.rsplit(":", 1)
    values: dict[str, object] = {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        "testImage": TEST_IMAGE,
        "updateImage": UPDATE_IMAGE,
        "watchNamespaces": [watched],
        "hostNetwork": host_network,
    }
    if host_network:
        # In the node's network namespace the API server is on the loopback address of the kubeconfig.
        server = kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
        host, _, port = server.removeprefix("https://").partition(":")
        values["extraEnv"] = [
            {"name": "KUBERNETES_SERVICE_HOST", "value": host},
            {"name": "KUBERNETES_SERVICE_PORT", "value": port or "443"},
        ]
    return values


@pytest.fixture(scope="module")
def release(
    helm: Path,
    operator_image: str,
    watched_namespace: str,
    host_network: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Release]:
    """The chart installed into lifecycle-system, watching watched_namespace, its Deployment Available."""
    release = Release(RELEASE, OPERATOR_NAMESPACE, operator_image, [], str(helm))
    if release.installed():  # left over from an interrupted run
        release.uninstall()
    made_namespace = not exists("namespace", OPERATOR_NAMESPACE, None)
    if made_namespace:
        kubectl("create", "namespace", OPERATOR_NAMESPACE)
        # The operator's own pod meets the restricted level too; a host-network pod meets none.
        if not host_network:
            kubectl("label", "namespace", OPERATOR_NAMESPACE, "pod-security.kubernetes.io/enforce=restricted")
    try:
        values = tmp_path_factory.mktemp("helm") / "values.yaml"
        values.write_text(yaml.safe_dump(chart_values(operator_image, watched_namespace, host_network)))
        started = time.monotonic()
        run(
            [str(helm), "install", RELEASE, str(CHART), "-n", OPERATOR_NAMESPACE, "-f", str(values)],
            timeout=180,
        )
        timed("helm install", started)
        release.objects = manifest_objects(
            run([str(helm), "get", "manifest", RELEASE, "-n", OPERATOR_NAMESPACE]), OPERATOR_NAMESPACE
        )
        started = time.monotonic()
        try:
            kubectl(
                "wait", "-n", OPERATOR_NAMESPACE, "--for=condition=Available", "--timeout=180s",
                f"deployment/{RELEASE}", timeout=200,
            )  # fmt: skip
        except AssertionError as e:
            raise AssertionError(f"{e}\n{diagnostics()}") from e
        timed("operator Deployment Available after install", started)
        yield release
    finally:
        if release.installed():
            release.uninstall()
        if made_namespace:
            kubectl("delete", "namespace", OPERATOR_NAMESPACE, "--wait=false", "--ignore-not-found")


@pytest.fixture(scope="module")
def example_results(release: Release, watched_namespace: str) -> dict[str, str]:
    """Apply the six examples into the watched namespace and wait for a verdict on each."""
    started = time.monotonic()
    for path in EXAMPLES:
        kubectl("apply", "-n", watched_namespace, "-f", str(path))

    def all_done() -> dict[str, str] | None:
        results = verdicts(watched_namespace)
        return (
            results if len(results) == len(EXAMPLES) and set(results.values()) <= TERMINAL_RESULTS else None
        )

    try:
        results = wait_for("a verdict on every example", all_done, timeout=300, interval=2)
    except AssertionError as e:
        raise AssertionError(f"{e}; results so far: {verdicts(watched_namespace)}\n{diagnostics()}") from e
    timed("six examples to verdicts", started)
    REPORT.append(f"$ kubectl get lifecycletests -n {watched_namespace}")
    REPORT.extend(kubectl("get", "lifecycletests", "-n", watched_namespace).splitlines())
    return results


@pytest.fixture(scope="module")
def read_metrics(release: Release, host_network: bool) -> Callable[[], str]:
    """The operator's /metrics, read through the API server's service proxy (how Prometheus would not, but
    how a person without a network path to the pod can). With hostNetwork the endpoint listens on the
    node's loopback only, which no proxy reaches: then it is read from inside the pod."""
    deployment = kubectl_json("deployment", RELEASE, "-n", release.namespace)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == "metrics")
    services = [o for o in release.objects if o.kind == "Service"]
    assert len(services) == 1, f"the chart should create one Service, the metrics one: {services}"

    def through_service() -> str:
        return kubectl(
            "get",
            "--raw",
            f"/api/v1/namespaces/{release.namespace}/services/{services[0].name}:metrics/proxy/metrics",
        )

    def inside_pod() -> str:
        code = f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics').read().decode())"
        return kubectl("exec", "-n", release.namespace, f"deployment/{RELEASE}", "--", "python3", "-c", code)

    return inside_pod if host_network else through_service


@pytest.fixture(scope="module")
def operator_log(release: Release, example_results: dict[str, str]) -> str:
    """The operator's log once every example has a verdict."""
    return kubectl("logs", "-n", release.namespace, f"deployment/{RELEASE}", "--all-containers")
