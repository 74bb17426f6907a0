"""`lifecycle-operator report` against the real cluster: two seed cases, one with a reversed
expectation, judged by an operator of this module's own, then reported as JUnit, SVG and a table."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Operator, log_dir_for, verdict
from junitparser import JUnitXml

from clustertools import EXAMPLES, ROOT, kubectl, kubectl_result, wait_for

pytestmark = pytest.mark.e2e

# Namespaces only this module's operator watches (the tier's shared one watches e2e-*).
PREFIX = "report-"
RIGHT = "init-containers-run-serially"
WRONG = "report-wrong-order"
WRONG_DESCRIPTION = "init-2 starts before init-1"
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}


def documents() -> list[dict[str, Any]]:
    right: dict[str, Any] = yaml.safe_load(EXAMPLES[0].read_text())
    assert right["metadata"]["name"] == RIGHT
    wrong = copy.deepcopy(right)
    wrong["metadata"] = {"name": WRONG, "labels": {"report": "wrong"}}
    wrong["spec"]["expectations"][0] = {"type": "StartsBefore", "container": "init-2", "other": "init-1"}
    return [right, wrong]


@pytest.fixture(scope="module")
def report_operator(crd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    op = Operator(log_dir_for("report", tmp_path_factory), namespaces=f"{PREFIX}*")
    op.start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def namespace(report_operator: Operator) -> Iterator[str]:
    name = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
    yield name
    kubectl_result("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="module")
def statuses(namespace: str) -> dict[str, dict[str, Any]]:
    """Both tests applied at once, and their verdicts."""
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(documents()))
    return {
        name: wait_for(
            f"the verdict of {name}", lambda n=name: verdict(namespace, n), timeout=300, interval=2
        )
        for name in (RIGHT, WRONG)
    }


def report(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, against the cluster of KUBECONFIG."""
    return subprocess.run(
        [sys.executable, "-m", "lifecycle_operator.cli", "report", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "operator")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_report_writes_junit_svg_and_the_table(
    namespace: str, statuses: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    assert statuses[RIGHT]["result"] == "Passed"
    assert statuses[WRONG]["result"] == "Failed"
    junit, pictures = tmp_path / "junit.xml", tmp_path / "svg"
    done = report("-n", namespace, "--junit", str(junit), "--svg", str(pictures))
    assert done.returncode == 1, done.stderr

    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["TEST", "NAMESPACE", "RESULT"]
    assert lines[-1] == "2 tests: 1 Failed, 1 Passed"

    xml = JUnitXml.fromfile(str(junit))
    suites = {s.name: s for s in xml}
    assert set(suites) == {f"{namespace}/{RIGHT}", f"{namespace}/{WRONG}"}
    failed = [s for s in suites.values() if s.failures]
    assert [s.name for s in failed] == [f"{namespace}/{WRONG}"]
    assert (failed[0].tests, failed[0].failures, failed[0].errors) == (6, 1, 0)
    failing = [case for case in failed[0] if not case.is_passed]
    assert len(failing) == 1
    assert WRONG_DESCRIPTION in failing[0].name
    seen = next(e["message"] for e in statuses[WRONG]["expectations"] if not e["passed"])
    assert failing[0].result[0].text == seen
    props = {p.name: p.value for p in failed[0].properties()}
    assert props["node"] == statuses[WRONG]["nodeName"]
    assert props["run"] == str(statuses[WRONG]["run"])
    assert all(case.is_passed for case in suites[f"{namespace}/{RIGHT}"])

    svg = pictures / f"{namespace}_{WRONG}_run{statuses[WRONG]['run']}.svg"
    assert svg.is_file(), sorted(p.name for p in pictures.iterdir())
    root = ET.parse(svg).getroot()
    lanes = {
        g.get("data-subject"): g.get("data-failing") for g in root.iterfind(".//svg:g[@class='lane']", SVG_NS)
    }
    assert set(lanes) >= {"init-1", "init-2", "init-3", "regular-1"}
    assert lanes["init-2"] == lanes["init-1"] == "true"
    assert lanes["init-3"] == "false"
    assert (pictures / f"{namespace}_{RIGHT}_run{statuses[RIGHT]['run']}.svg").is_file()


def test_report_by_label_selector_to_one_svg_file(
    namespace: str, statuses: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    picture = tmp_path / "wrong.svg"
    done = report("-n", namespace, "-l", "report=wrong", "--svg", str(picture))
    assert done.returncode == 1, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()[1:-1]] == [WRONG]
    assert picture.read_text().startswith("<?xml")
    passed = report("-n", namespace, RIGHT)
    assert passed.returncode == 0, passed.stderr


def test_report_of_a_missing_test_exits_2_with_one_line(namespace: str, statuses: dict[str, Any]) -> None:
    done = report("-n", namespace, "no-such-test")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "404" in done.stderr
