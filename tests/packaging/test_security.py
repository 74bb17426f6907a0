"""The operator pod meets the restricted Pod Security Standard and has probes and resource bounds."""

from __future__ import annotations

from typing import Any

import pytest
from chart_render import Manifest, Rendered, walk

RENDERS = ["default_render", "all_features_render", "namespaced_peering_render"]


def restricted_violations(pod_spec: Manifest) -> list[str]:
    """What in a pod spec breaks the restricted Pod Security Standard (the parts this chart can get wrong)."""
    problems: list[str] = []
    pod_context = pod_spec.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(flag):
            problems.append(f"pod sets {flag}")
    if any(".hostPath" in path for path, _ in walk(pod_spec.get("volumes", []))):
        problems.append("pod mounts a hostPath volume")
    for container in pod_spec["containers"]:
        name = container["name"]
        context = container.get("securityContext", {})

        def setting(key: str, context: dict[str, Any] = context) -> Any:
            return context.get(key, pod_context.get(key))

        if setting("runAsNonRoot") is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if setting("runAsUser") == 0:
            problems.append(f"{name}: runs as root")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{name}: capabilities do not drop ALL")
        if context.get("capabilities", {}).get("add"):
            problems.append(f"{name}: adds capabilities")
        if (setting("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: no RuntimeDefault seccomp profile")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            problems.append(f"{name}: uses a hostPort")
    return problems


def test_the_check_finds_each_violation() -> None:
    bad: Manifest = {
        "hostNetwork": True,
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "containers": [
            {
                "name": "c",
                "ports": [{"containerPort": 80, "hostPort": 80}],
                "securityContext": {
                    "runAsUser": 0,
                    "privileged": True,
                    "capabilities": {"add": ["NET_ADMIN"]},
                },
            }
        ],
    }
    assert restricted_violations(bad) == [
        "pod sets hostNetwork",
        "pod mounts a hostPath volume",
        "c: runAsNonRoot is not true",
        "c: runs as root",
        "c: allowPrivilegeEscalation is not false",
        "c: privileged",
        "c: capabilities do not drop ALL",
        "c: adds capabilities",
        "c: no RuntimeDefault seccomp profile",
        "c: uses a hostPort",
    ]


@pytest.mark.parametrize("render", RENDERS)
def test_pod_meets_the_restricted_standard(render: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(render)
    assert restricted_violations(rendered.pod_spec) == []


@pytest.mark.parametrize("render", RENDERS)
def test_security_context_is_the_restricted_one(render: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(render)
    assert rendered.pod_spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert rendered.container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_read_only_root_has_a_writable_tmp(default_render: Rendered) -> None:
    mounts = {m["name"]: m["mountPath"] for m in default_render.container["volumeMounts"]}
    volumes = {v["name"]: v for v in default_render.pod_spec["volumes"]}
    assert mounts == {"tmp": "/tmp"}
    assert "emptyDir" in volumes["tmp"]


def test_liveness_probe_is_kopfs_health_endpoint(default_render: Rendered) -> None:
    probe = default_render.container["livenessProbe"]
    assert probe["httpGet"] == {"path": "/healthz", "port": "health"}
    health = next(p for p in default_render.container["ports"] if p["name"] == "health")
    assert health["containerPort"] == 8081
    assert int(default_render.env["LCO_HEALTH_PORT"]) == health["containerPort"]


def test_resources_have_requests_and_limits(default_render: Rendered) -> None:
    resources = default_render.container["resources"]
    for bound in ("requests", "limits"):
        assert set(resources[bound]) == {"cpu", "memory"}, bound


def test_host_network_is_the_one_documented_exception(host_network_render: Rendered) -> None:
    assert restricted_violations(host_network_render.pod_spec) == ["pod sets hostNetwork"]
