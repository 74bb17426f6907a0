"""The operator gets exactly the permissions of its contract: nothing more, no wildcards."""

from __future__ import annotations

from typing import Any, Final

import pytest
from chart_render import Manifest, Rendered

Rule = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]

# What the operator does in a watched namespace: its own resources, the pods it runs, their logs, events.
NAMESPACED_RULES: Final[list[Rule]] = [
    # create and delete: the per-node tests of an everyNode test.
    (
        ("lifecycle.conformance.dev",),
        ("lifecycletests",),
        ("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    (("lifecycle.conformance.dev",), ("lifecycletests/status",), ("get", "patch", "update")),
    (("",), ("pods",), ("create", "delete", "get", "list", "patch", "watch")),
    (("",), ("pods/log",), ("get",)),
    (("",), ("events",), ("create", "patch")),
    (("events.k8s.io",), ("events",), ("create", "patch")),
]
CRD_DISCOVERY: Final[list[Rule]] = [
    (("apiextensions.k8s.io",), ("customresourcedefinitions",), ("get", "list", "watch")),
    (("",), ("nodes",), ("list",)),  # the operator's admission: how many runs each node takes
    (("coordination.k8s.io",), ("leases",), ("get",)),  # is a pod's status past its deadline fresh?
]
NAMESPACES: Final[Rule] = (("",), ("namespaces",), ("list", "watch"))
KOPF_PEERINGS: Final[Rule] = (("kopf.dev",), ("kopfpeerings",), ("get", "list", "patch", "watch"))
CLUSTER_KOPF_PEERINGS: Final[Rule] = (
    ("kopf.dev",),
    ("clusterkopfpeerings",),
    ("get", "list", "patch", "watch"),
)


def normalise(rules: list[dict[str, Any]]) -> list[Rule]:
    return [
        (tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(sorted(r.get("verbs", []))))
        for r in rules
    ]


def wildcards(rules: list[dict[str, Any]]) -> list[str]:
    found = []
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            if any("*" in value for value in rule.get(field, [])):
                found.append(f"{field}: {rule[field]}")
    return found


def rbac_objects(rendered: Rendered) -> list[Manifest]:
    return rendered.of_kind("Role") + rendered.of_kind("ClusterRole")


def test_wildcard_check_finds_wildcards() -> None:
    rules = [
        {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods/*"], "verbs": ["*"]},
    ]
    assert wildcards(rules) == ["apiGroups: ['*']", "resources: ['pods/*']", "verbs: ['*']"]


@pytest.mark.parametrize("render", ["default_render", "all_features_render", "namespaced_peering_render"])
def test_no_wildcards_anywhere(render: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(render)
    for role in rbac_objects(rendered):
        assert wildcards(role["rules"]) == [], role["metadata"]["name"]


def test_namespaced_mode_has_a_role_in_the_release_namespace(default_render: Rendered) -> None:
    role = default_render.one("Role")
    assert role["metadata"]["namespace"] == "lifecycle-operator"
    assert normalise(role["rules"]) == NAMESPACED_RULES


@pytest.mark.parametrize("render", ["default_render", "all_features_render", "namespaced_peering_render"])
def test_discovery_is_the_only_cluster_permission_kopf_always_needs(
    render: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(render)
    name = rendered.deployment["metadata"]["name"]
    role = rendered.one("ClusterRole", f"{name}-crd-discovery")
    # kopf lists and watches namespaces even when it watches named ones; cluster-wide, the operator's own
    # ClusterRole grants that.
    namespaced = render != "all_features_render"
    assert normalise(role["rules"]) == ([*CRD_DISCOVERY, NAMESPACES] if namespaced else CRD_DISCOVERY)
    if render != "all_features_render":
        assert [r["metadata"]["name"] for r in rendered.of_kind("ClusterRole")] == [f"{name}-crd-discovery"]


def test_namespaced_peering_adds_kopfpeerings_in_each_watched_namespace(
    namespaced_peering_render: Rendered,
) -> None:
    roles = namespaced_peering_render.of_kind("Role")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["ops", "team-a"]
    for role in roles:
        assert normalise(role["rules"]) == [*NAMESPACED_RULES, KOPF_PEERINGS]


def test_cluster_wide_mode_has_a_cluster_role_instead_of_roles(all_features_render: Rendered) -> None:
    assert not all_features_render.of_kind("Role")
    assert not all_features_render.of_kind("RoleBinding")
    role = all_features_render.one("ClusterRole", "lco-lifecycle-operator")
    assert normalise(role["rules"]) == [*NAMESPACED_RULES, NAMESPACES, CLUSTER_KOPF_PEERINGS]


def test_cluster_wide_without_peering_has_no_peering_permission(cluster_wide_render: Rendered) -> None:
    role = cluster_wide_render.one("ClusterRole", "lifecycle-operator")
    assert normalise(role["rules"]) == [*NAMESPACED_RULES, NAMESPACES]


@pytest.mark.parametrize("render", ["default_render", "all_features_render", "namespaced_peering_render"])
def test_every_binding_grants_its_role_to_the_operators_service_account(
    render: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(render)
    account = rendered.one("ServiceAccount")
    assert rendered.pod_spec["serviceAccountName"] == account["metadata"]["name"]
    subject = {
        "kind": "ServiceAccount",
        "name": account["metadata"]["name"],
        "namespace": account["metadata"]["namespace"],
    }
    roles = {
        (r["kind"], r["metadata"]["name"], r["metadata"].get("namespace")) for r in rbac_objects(rendered)
    }
    bindings = rendered.of_kind("RoleBinding") + rendered.of_kind("ClusterRoleBinding")
    assert len(bindings) == len(roles)
    for binding in bindings:
        assert binding["subjects"] == [subject]
        ref = binding["roleRef"]
        assert ref["apiGroup"] == "rbac.authorization.k8s.io"
        assert (ref["kind"], ref["name"], binding["metadata"].get("namespace")) in roles
