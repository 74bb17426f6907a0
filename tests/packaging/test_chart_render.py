"""The chart renders, lints, and produces the objects and settings the operator contract asks for."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_render import (
    ALL_FEATURES,
    CHART,
    REPO,
    Rendered,
    helm_template,
    notes,
    parse_documents,
)

from lifecycle_operator.settings import Settings


@pytest.mark.parametrize("values", [{}, ALL_FEATURES], ids=["defaults", "all-features"])
def test_helm_lint_strict_passes(helm: Path, values: dict[str, Any], tmp_path: Path) -> None:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    result = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART), "--values", str(values_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_default_render_creates_only_the_core_objects(default_render: Rendered) -> None:
    core = "ClusterRole ClusterRoleBinding Deployment Role RoleBinding Service ServiceAccount"
    assert default_render.kinds() == core.split()


def test_all_features_add_monitoring_dashboard_peering_catalogue(all_features_render: Rendered) -> None:
    kinds = (
        "ClusterKopfPeering ClusterRole ClusterRole ClusterRoleBinding ClusterRoleBinding ConfigMap "
        "Deployment PrometheusRule Service ServiceAccount ServiceMonitor"
    )
    others = [k for k in all_features_render.kinds() if k != "LifecycleTest"]
    assert others == kinds.split()
    cases = len(list((REPO / "catalogue").glob("*/*.yaml")))
    assert all_features_render.kinds().count("LifecycleTest") == cases


def test_default_deployment_is_one_replica_replaced_not_rolled(default_render: Rendered) -> None:
    spec = default_render.deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    container = default_render.container
    assert container["image"] == "lifecycle-operator:0.1.0"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["command"] == ["lifecycle-operator"]
    assert container["args"] == ["run"]


def test_image_values_override_repository_tag_and_pull_policy(helm: Path) -> None:
    values = {"image": {"repository": "lco-dev", "tag": "abc123", "pullPolicy": "Never"}}
    container = Rendered(parse_documents(helm_template(helm, values))).container
    assert container["image"] == "lco-dev:abc123"
    assert container["imagePullPolicy"] == "Never"


def test_default_environment(default_render: Rendered) -> None:
    assert default_render.env == {
        "LCO_NAMESPACES": "lifecycle-operator",
        "LCO_TEST_IMAGE": "busybox:1.36",
        "LCO_UPDATE_IMAGE": "busybox:1.37",
        "LCO_METRICS_PORT": "8080",
        "LCO_HEALTH_PORT": "8081",
        "LCO_BIND_ADDRESS": "0.0.0.0",
        "LCO_KEEP_FAILED_PODS": "false",
        "LCO_DEFAULT_TIMEOUT_SECONDS": "300",
        "LCO_LOG_FORMAT": "plain",
        "LCO_PEERING": "",
    }
    pod_id = next(e for e in default_render.container["env"] if e["name"] == "POD_ID")
    assert pod_id["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


@pytest.mark.parametrize(
    ("render", "namespaces", "peering"),
    [
        ("default_render", ("lifecycle-operator",), ""),
        ("all_features_render", (), "lco-lifecycle-operator"),
        ("namespaced_peering_render", ("ops", "team-a"), "lifecycle-operator"),
    ],
)
def test_operator_settings_accept_the_environment(
    render: str, namespaces: tuple[str, ...], peering: str, request: pytest.FixtureRequest
) -> None:
    """The operator refuses unknown LCO_ variables and bad values at start-up: the chart's must parse."""
    rendered: Rendered = request.getfixturevalue(render)
    settings = Settings.from_env(rendered.env)
    assert settings.namespaces == namespaces
    assert settings.peering == peering
    assert settings.bind_address == "0.0.0.0"
    assert (settings.metrics_port, settings.health_port) == (8080, 8081)


def test_peering_rolls_and_names_one_cluster_peering(all_features_render: Rendered) -> None:
    spec = all_features_render.deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    peering = all_features_render.one("ClusterKopfPeering")
    assert peering["metadata"]["name"] == all_features_render.env["LCO_PEERING"] == "lco-lifecycle-operator"


def test_namespaced_peering_has_a_peering_object_in_each_watched_namespace(
    namespaced_peering_render: Rendered,
) -> None:
    peerings = namespaced_peering_render.of_kind("KopfPeering")
    assert sorted(p["metadata"]["namespace"] for p in peerings) == ["ops", "team-a"]
    assert {p["metadata"]["name"] for p in peerings} == {namespaced_peering_render.env["LCO_PEERING"]}
    assert namespaced_peering_render.env["LCO_NAMESPACES"] == "ops,team-a"
    assert not namespaced_peering_render.of_kind("ClusterKopfPeering")


def test_metrics_service_targets_the_pods_metrics_port(default_render: Rendered) -> None:
    service = default_render.one("Service")
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}
    ]
    pod_labels = default_render.deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    ports = {p["name"]: p["containerPort"] for p in default_render.container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}


def test_service_monitor_scrapes_the_service_as_job_lifecycle_operator(all_features_render: Rendered) -> None:
    """The alert rules select job="lifecycle-operator", whatever the release is called ("lco" here)."""
    monitor = all_features_render.one("ServiceMonitor")
    service = all_features_render.one("Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ops"]}
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    job_label = monitor["spec"]["jobLabel"]
    assert service["metadata"]["labels"][job_label] == "lifecycle-operator"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"


def test_dashboard_configmap_carries_the_dashboard_for_grafanas_sidecar(
    all_features_render: Rendered,
) -> None:
    configmap = all_features_render.one("ConfigMap")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    embedded = json.loads(configmap["data"]["lifecycle-operator.json"])
    assert embedded == json.loads((CHART / "files" / "dashboard.json").read_text())


def test_optional_objects_are_off_by_default(default_render: Rendered) -> None:
    for kind in ("ServiceMonitor", "PrometheusRule", "ConfigMap", "KopfPeering", "ClusterKopfPeering"):
        assert not default_render.of_kind(kind), kind
    assert "hostNetwork" not in default_render.pod_spec


def test_host_network_binds_to_loopback_and_probes_there(helm: Path) -> None:
    rendered = Rendered(parse_documents(helm_template(helm, {"hostNetwork": True})))
    assert rendered.pod_spec["hostNetwork"] is True
    assert rendered.pod_spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert rendered.env["LCO_BIND_ADDRESS"] == "127.0.0.1"
    assert rendered.container["livenessProbe"]["httpGet"]["host"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("release", "override", "expected"),
    [
        ("lifecycle-operator", "", "lifecycle-operator"),
        ("prod", "", "prod-lifecycle-operator"),
        ("lifecycle-operator-canary", "", "lifecycle-operator-canary"),
        ("prod", "lco", "lco"),
    ],
)
def test_object_names(helm: Path, release: str, override: str, expected: str) -> None:
    rendered = Rendered(parse_documents(helm_template(helm, {"fullnameOverride": override}, release=release)))
    assert rendered.deployment["metadata"]["name"] == expected
    assert rendered.one("Service")["metadata"]["name"] == f"{expected}-metrics"


def test_notes_tell_how_to_apply_an_example_and_read_the_verdict(helm: Path) -> None:
    text = notes(helm)
    assert "kubectl -n lifecycle-operator apply -f examples/" in text
    assert "kubectl -n lifecycle-operator get lifecycletests" in text
    assert "kubectl -n lifecycle-operator wait --for=condition=Succeeded lifecycletest/NAME" in text
    assert "hostNetwork" not in text


def test_notes_warn_about_host_network(helm: Path) -> None:
    assert "WARNING: hostNetwork is true" in notes(helm, {"hostNetwork": True})
