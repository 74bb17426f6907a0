"""hack/junit_summary.py counts the tiers by directory and fails unless every kubelet-tier test ran."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from chart_render import REPO

SUMMARY = REPO / "hack" / "junit_summary.py"

# Test files on disk, in a repository of their own under tmp_path.
FILES = {
    "tests/e2e/test_pods.py": """
        import pytest

        pytestmark = pytest.mark.e2e


        @pytest.mark.parametrize("case", ["a", "b"])
        def test_runs_a_pod(case):
            pass


        def test_deletes_the_pod():
            pass
    """,
    "tests/incluster/test_chart.py": """
        import pytest

        pytestmark = pytest.mark.e2e


        class TestInstall:
            def test_installs(self):
                pass
    """,
    "tests/packaging/test_dry_run_e2e.py": """
        import pytest

        pytestmark = pytest.mark.e2e


        def test_server_accepts():
            pass
    """,
    "tests/packaging/test_render.py": """
        def test_e2e_in_the_name_alone_is_not_e2e():
            pass
    """,
}

# Each collected test: its node id, and its name and e2e marker as pytest's JUnit report gives them.
TESTS = {
    "tests/e2e/test_pods.py::test_runs_a_pod[a]": ("tests.e2e.test_pods", "test_runs_a_pod[a]", True),
    "tests/e2e/test_pods.py::test_runs_a_pod[b]": ("tests.e2e.test_pods", "test_runs_a_pod[b]", True),
    "tests/e2e/test_pods.py::test_deletes_the_pod": ("tests.e2e.test_pods", "test_deletes_the_pod", True),
    "tests/incluster/test_chart.py::TestInstall::test_installs": (
        "tests.incluster.test_chart.TestInstall",
        "test_installs",
        True,
    ),
    "tests/packaging/test_dry_run_e2e.py::test_server_accepts": (
        "tests.packaging.test_dry_run_e2e",
        "test_server_accepts",
        True,
    ),
    "tests/packaging/test_render.py::test_e2e_in_the_name_alone_is_not_e2e": (
        "tests.packaging.test_render",
        "test_e2e_in_the_name_alone_is_not_e2e",
        False,
    ),
}


def write_files(root: Path) -> None:
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text).lstrip())


def junit_report(outcomes: dict[str, str]) -> str:
    """A JUnit report as pytest writes it: node id -> passed, failure, error or skipped."""
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name="pytest")
    for node_id, outcome in outcomes.items():
        classname, name, marked = TESTS[node_id]
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0.1")
        if marked:
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="marker", value="e2e")
        if outcome != "passed":
            ET.SubElement(case, outcome, message=outcome)
    return ET.tostring(suites, encoding="unicode")


def listing(node_ids: list[str]) -> str:
    """What `pytest --collect-only -q` prints."""
    return "\n".join(node_ids) + f"\n\n{len(node_ids)} tests collected in 0.01s\n"


def summarise(root: Path, report: str | list[str], collected: str) -> subprocess.CompletedProcess[str]:
    """The summary of one report, or of a run's parts (one report each)."""
    reports = []
    for i, text in enumerate([report] if isinstance(report, str) else report):
        reports.append(root / f"junit-{i}.xml")
        reports[-1].write_text(text)
    (root / "collected.txt").write_text(collected)
    return subprocess.run(
        [sys.executable, str(SUMMARY), *map(str, reports), str(root / "collected.txt"), "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


def everything_but(*left_out: str) -> dict[str, str]:
    """Every test passed, but those left out, which have no result."""
    return {node_id: "passed" for node_id in TESTS if node_id not in left_out}


def test_a_full_run_passes_and_counts_each_tier_by_directory(tmp_path: Path) -> None:
    write_files(tmp_path)
    result = summarise(tmp_path, junit_report(everything_but()), listing(list(TESTS)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "kubelet e2e: 4 passed, 0 failed, 0 skipped",
        "API-only e2e: 1 passed, 0 failed, 0 skipped",
        "unit: 1 passed, 0 failed, 0 skipped",
        "total: 6 passed, 0 failed, 0 skipped",
    ]


def test_a_run_in_two_parts_counts_both_reports(tmp_path: Path) -> None:
    """hack/test.sh runs the tiers without a cluster apart from the rest: one report each."""
    write_files(tmp_path)
    unit = {n: "passed" for n, (_, _, marked) in TESTS.items() if not marked}
    e2e = {n: "passed" for n, (_, _, marked) in TESTS.items() if marked}
    result = summarise(tmp_path, [junit_report(unit), junit_report(e2e)], listing(list(TESTS)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "total: 6 passed, 0 failed, 0 skipped"


def test_a_part_with_no_report_of_a_collected_test_fails(tmp_path: Path) -> None:
    """The part without a cluster stopped early: its collected tests have no result in any report."""
    write_files(tmp_path)
    e2e = {n: "passed" for n, (_, _, marked) in TESTS.items() if marked}
    result = summarise(tmp_path, [junit_report(e2e)], listing(list(TESTS)))
    assert result.returncode == 1
    missing = "tests/packaging/test_render.py::test_e2e_in_the_name_alone_is_not_e2e"
    assert f"other tests collected but not run:\n  {missing}" in result.stderr


def test_a_skipped_kubelet_test_fails(tmp_path: Path) -> None:
    write_files(tmp_path)
    outcomes = everything_but() | {"tests/e2e/test_pods.py::test_runs_a_pod[b]": "skipped"}
    result = summarise(tmp_path, junit_report(outcomes), listing(list(TESTS)))
    assert result.returncode == 1
    assert "kubelet e2e: 3 passed, 0 failed, 1 skipped" in result.stdout
    assert "skipped tests are failures here" in result.stderr
    assert "tests.e2e.test_pods::test_runs_a_pod[b]" in result.stderr


def test_a_failed_test_fails(tmp_path: Path) -> None:
    write_files(tmp_path)
    outcomes = everything_but() | {
        "tests/packaging/test_render.py::test_e2e_in_the_name_alone_is_not_e2e": "error"
    }
    result = summarise(tmp_path, junit_report(outcomes), listing(list(TESTS)))
    assert result.returncode == 1
    assert "unit: 0 passed, 1 failed, 0 skipped" in result.stdout


def test_a_test_reported_twice_counts_once_with_its_worse_outcome(tmp_path: Path) -> None:
    """A test that passed and then failed in its teardown."""
    write_files(tmp_path)
    teardown = (
        '<testcase classname="tests.e2e.test_pods" name="test_deletes_the_pod">'
        '<error message="failed on teardown" /></testcase>'
    )
    report = junit_report(everything_but()).replace("</testsuite>", f"{teardown}</testsuite>")
    result = summarise(tmp_path, report, listing(list(TESTS)))
    assert result.returncode == 1
    assert "kubelet e2e: 3 passed, 1 failed, 0 skipped" in result.stdout


def test_a_collected_kubelet_test_with_no_result_fails(tmp_path: Path) -> None:
    """The run stopped before it: collected, but not in the report."""
    write_files(tmp_path)
    missing = "tests/incluster/test_chart.py::TestInstall::test_installs"
    result = summarise(tmp_path, junit_report(everything_but(missing)), listing(list(TESTS)))
    assert result.returncode == 1
    assert "kubelet e2e: 3 passed, 0 failed, 0 skipped" in result.stdout
    assert f"kubelet-tier tests collected but not run:\n  {missing}" in result.stderr


def test_a_kubelet_test_the_arguments_left_out_fails(tmp_path: Path) -> None:
    """Deselected (-k, --deselect): neither collected nor run, but on disk."""
    write_files(tmp_path)
    left_out = "tests/e2e/test_pods.py::test_deletes_the_pod"
    selected = [n for n in TESTS if n != left_out]
    result = summarise(tmp_path, junit_report(everything_but(left_out)), listing(selected))
    assert result.returncode == 1
    assert f"kubelet-tier tests on disk that were not collected:\n  {left_out}" in result.stderr


def test_leaving_out_the_kubelet_tier_fails_though_the_api_only_dry_runs_ran(tmp_path: Path) -> None:
    """--ignore tests/e2e --ignore tests/incluster: the dry runs have "e2e" in their names, but no kubelet."""
    write_files(tmp_path)
    selected = [n for n in TESTS if n.startswith("tests/packaging/")]
    result = summarise(tmp_path, junit_report({n: "passed" for n in selected}), listing(selected))
    assert result.returncode == 1
    assert "kubelet e2e: 0 passed, 0 failed, 0 skipped" in result.stdout
    assert "API-only e2e: 1 passed, 0 failed, 0 skipped" in result.stdout
    assert "no kubelet-tier test ran" in result.stderr
    assert "tests/incluster/test_chart.py::TestInstall::test_installs" in result.stderr


def test_the_summary_reads_what_pytest_writes(tmp_path: Path) -> None:
    """A real pytest run over the files, with the real tests/conftest.py hook that records the marker."""
    write_files(tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    e2e: needs a cluster\n")
    # Only the hook: the real conftest's fixtures are not registered from a module of another name.
    repo_conftest = str(REPO / "tests" / "conftest.py")
    (tmp_path / "tests" / "conftest.py").write_text(
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('repo_conftest', {repo_conftest!r})\n"
        "repo_conftest = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(repo_conftest)\n"
        "pytest_collection_modifyitems = repo_conftest.pytest_collection_modifyitems\n"
    )

    def pytest_then_summary(*args: str) -> subprocess.CompletedProcess[str]:
        pytest = [sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider", *args]
        collected = subprocess.run(
            [*pytest, "--collect-only", "--verbosity=-1"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        report = tmp_path / "pytest-junit.xml"
        run = subprocess.run(
            [*pytest, f"--junitxml={report}"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stdout
        return summarise(tmp_path, report.read_text(), collected)

    result = pytest_then_summary()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "kubelet e2e: 4 passed, 0 failed, 0 skipped",
        "API-only e2e: 1 passed, 0 failed, 0 skipped",
        "unit: 1 passed, 0 failed, 0 skipped",
    ]
    result = pytest_then_summary("-k", "not installs")
    assert result.returncode == 1
    assert "tests/incluster/test_chart.py::TestInstall::test_installs" in result.stderr
