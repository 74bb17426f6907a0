"""Admission and `lifecycle-operator validate` refuse the same manifests, naming the same field.

Each file of tests/fixtures/malformed and tests/fixtures/invalid goes to the real API server, with
`kubectl apply --dry-run=server --validate=strict`, and through the offline validator: both must refuse
it, and both must name the field that its `# field:` line gives. Each file of tests/fixtures/valid and
examples/ must pass both. Those are dry runs; only the last test creates anything: it runs the valid
edge cases that can run here to a verdict.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from clustertools import ROOT, TERMINAL_RESULTS, kubectl, kubectl_result, statuses_in, wait_for
from lifecycle_operator.validation import check_file

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "tests" / "fixtures"
MALFORMED = sorted([*(FIXTURES / "malformed").glob("*.yaml"), *(FIXTURES / "invalid").glob("*.yaml")])
VALID = sorted([*(FIXTURES / "valid").glob("*.yaml"), *(ROOT / "examples").glob("*.yaml")])
# Only for the dry runs; the namespace must exist, and nothing is created in it.
NAMESPACE = "default"


def field_of(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# field: "):
            return line.removeprefix("# field: ")
    raise AssertionError(f"{path.name} has no '# field:' line")


def server_dry_run(path: Path) -> subprocess.CompletedProcess[str]:
    return kubectl_result("apply", "--dry-run=server", "--validate=strict", "-n", NAMESPACE, "-f", str(path))


def offline_problems(path: Path) -> list[str]:
    return [p for verdict in check_file(path) for p in verdict.problems]


def names(text: str, field: str) -> bool:
    """The API server's answer names the field: `<field>: <kind>...`, or `unknown field "<field>"`, or a
    field inside it (strict decoding calls the keys of an object where a list belongs unknown fields)."""
    return re.search(rf"(^|[\s\"(]){re.escape(field)}(: |\"|\.|\[)", text, re.MULTILINE) is not None


def test_names_finds_a_field_only_where_it_is_named() -> None:
    answer = 'The LifecycleTest "x" is invalid: spec.pod.containers[1].name: Invalid value: "A"'
    assert names(answer, "spec.pod.containers[1].name")
    assert not names(answer, "spec.pod.containers[0].name")
    assert not names(answer, "pod.containers[1]")
    assert not names(answer, "spec.pod.containers[1].nam")
    assert names('strict decoding error: unknown field "spec.pod.x"', "spec.pod.x")
    assert names('unknown field "spec.pod.containers.regular-1"', "spec.pod.containers")


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.stem)
def test_malformed_is_refused_by_both_naming_the_same_field(path: Path, crd: None) -> None:
    field = field_of(path)
    offline = offline_problems(path)
    assert any(p.startswith(f"{field}: ") for p in offline), offline
    result = server_dry_run(path)
    assert result.returncode != 0, f"the API server admitted {path.name}"
    assert names(result.stderr, field), f"the API server did not name {field}:\n{result.stderr}"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_is_admitted_by_both(path: Path, crd: None) -> None:
    assert offline_problems(path) == []
    result = server_dry_run(path)
    assert result.returncode == 0, result.stderr


# Plain scalars that PyYAML and go-yaml v2 (kubectl's) read differently; the offline validator reads them
# as kubectl does. As exitCode, each is an integer to both or to neither.
SCALARS = [
    "1e1",
    "0o17",
    "017",
    "0x1F",
    "0b11",
    "1_0",
    "12.0",
    "09",
    "1.5",
    "1:20",
    "2024-01-01",
    "y",
    "true",
]


@pytest.mark.parametrize("scalar", SCALARS)
def test_scalars_are_read_the_same_way_by_both(scalar: str, tmp_path: Path, crd: None) -> None:
    text = (FIXTURES / "valid" / "node-name-with-dots.yaml").read_text()
    path = tmp_path / "scalar.yaml"
    path.write_text(
        text.replace("[{name: regular-1}]", f"[{{name: regular-1, behavior: {{exitCode: {scalar}}}}}]")
    )
    offline = offline_problems(path)
    result = server_dry_run(path)
    assert (result.returncode == 0) == (offline == []), f"offline: {offline}\nserver: {result.stderr}"


# The valid edge cases whose pods can run here (the others name a node, images or node labels that this
# cluster does not have, so their pods would wait until they time out).
RUNNABLE = [
    "dot-at-the-pod-name-cut",
    "nulls-are-pruned",
    "post-start-on-a-63-character-container",
    "sidecar-with-hooks-and-probes",
]


def test_valid_edge_cases_run_to_a_verdict(operator: object, make_namespace: Callable[[str], str]) -> None:
    """Admitted is not enough: the operator must be able to build and run their pods (no InvalidSpec)."""
    ns = make_namespace("valid-edges")
    paths = [FIXTURES / "valid" / f"{name}.yaml" for name in RUNNABLE]
    names_ = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in paths]
    for path in paths:
        kubectl("apply", "-n", ns, "-f", str(path))

    def verdicts() -> dict[str, dict[str, Any]] | None:
        statuses = statuses_in(ns)
        done = {n: s for n, s in statuses.items() if s.get("result") in TERMINAL_RESULTS}
        return done if len(done) == len(names_) else None

    for name, status in wait_for("verdicts of the valid edge cases", verdicts, timeout=240).items():
        succeeded = next(c for c in status["conditions"] if c["type"] == "Succeeded")
        assert succeeded["reason"] not in {"InvalidSpec", "PodLost", "TimedOut"}, (name, succeeded)
        assert status.get("podName"), name
