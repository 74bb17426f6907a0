"""Generated copies stay equal to their sources: the chart's CRDs, and deploy/ rendered from the chart."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

import yaml
from chart_render import CHART, REPO

from lifecycle_operator import constants as c

PROJECT_CRDS = REPO / "crds"
CHART_CRDS = CHART / "crds"
CHART_ONLY_CRDS = {"kopf-peering.yaml"}
DEPLOY = REPO / "deploy"


def differences(expected: Path, actual: Path) -> list[str]:
    """Files that are missing, extra, or different in `actual` compared with `expected` (top level)."""
    compared = filecmp.dircmp(expected, actual)
    return sorted(
        [f"missing: {n}" for n in compared.left_only]
        + [f"extra: {n}" for n in compared.right_only]
        + [
            f"differs: {n}"
            for n in filecmp.cmpfiles(expected, actual, compared.common_files, shallow=False)[1]
        ]
    )


def test_differences_finds_missing_extra_and_changed_files(tmp_path: Path) -> None:
    expected, actual = tmp_path / "expected", tmp_path / "actual"
    expected.mkdir()
    actual.mkdir()
    (expected / "same.yaml").write_text("a")
    (actual / "same.yaml").write_text("a")
    (expected / "changed.yaml").write_text("a")
    (actual / "changed.yaml").write_text("b")
    (expected / "gone.yaml").write_text("a")
    (actual / "new.yaml").write_text("a")
    assert differences(expected, actual) == ["differs: changed.yaml", "extra: new.yaml", "missing: gone.yaml"]


def test_chart_carries_identical_copies_of_the_project_crds(tmp_path: Path) -> None:
    assert sorted(PROJECT_CRDS.glob("*.yaml")), "crds/ has no CRD: generate it first"
    copies = tmp_path / "copies"
    copies.mkdir()
    for crd in CHART_CRDS.glob("*.yaml"):
        if crd.name not in CHART_ONLY_CRDS:
            shutil.copy(crd, copies)
    assert differences(PROJECT_CRDS, copies) == [], "the chart's CRDs are stale: run hack/sync-chart-crds.sh"


def test_chart_crd_is_the_lifecycletest_api() -> None:
    crd = yaml.safe_load((CHART_CRDS / f"{c.CRD_NAME}.yaml").read_text())
    assert crd["metadata"]["name"] == c.CRD_NAME
    assert crd["spec"]["group"] == c.GROUP
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"]["kind"] == c.KIND
    assert crd["spec"]["names"]["shortNames"] == list(c.SHORT_NAMES)
    assert [v["name"] for v in crd["spec"]["versions"]] == [c.VERSION]


def test_kopf_peering_crds_define_both_peering_kinds() -> None:
    crds = list(yaml.safe_load_all((CHART_CRDS / "kopf-peering.yaml").read_text()))
    assert {(d["spec"]["names"]["kind"], d["spec"]["scope"]) for d in crds} == {
        ("KopfPeering", "Namespaced"),
        ("ClusterKopfPeering", "Cluster"),
    }
    for crd in crds:
        assert crd["spec"]["group"] == "kopf.dev"
        assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.kopf.dev"
        assert [(v["name"], v["served"], v["storage"]) for v in crd["spec"]["versions"]] == [
            ("v1", True, True)
        ]


def test_deploy_matches_a_fresh_render(helm: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "deploy"
    result = subprocess.run(
        [str(REPO / "hack" / "render-deploy.sh"), str(fresh)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LCO_HELM": str(helm)},
    )
    assert result.returncode == 0, result.stderr
    assert differences(fresh, DEPLOY) == [], "deploy/ is stale: run hack/render-deploy.sh and commit deploy/"


def test_deploy_applies_namespace_then_crds_then_the_operator() -> None:
    files = sorted(p.name for p in DEPLOY.glob("*.yaml"))
    assert files == ["00-namespace.yaml", "01-crds.yaml", "02-operator.yaml"]
    kinds = {
        name: {d["kind"] for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d} for name in files
    }
    assert kinds["00-namespace.yaml"] == {"Namespace"}
    assert kinds["01-crds.yaml"] == {"CustomResourceDefinition"}
    assert "Deployment" in kinds["02-operator.yaml"]
    for document in yaml.safe_load_all((DEPLOY / "02-operator.yaml").read_text()):
        if document and not document["kind"].startswith("Cluster"):
            assert document["metadata"]["namespace"] == "lifecycle-operator", document["kind"]
