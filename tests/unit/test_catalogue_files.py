"""catalogue/: every file is a valid LifecycleTest that names the upstream case it reproduces, and the
README's table accounts for every upstream case and every file."""

import re
from pathlib import Path

import pytest
import yaml

from clustertools import reversed_copy
from lifecycle_operator.api import parse_spec
from lifecycle_operator.cli import main
from lifecycle_operator.validation import check_file

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "catalogue"
FILES = sorted(CATALOGUE.glob("*/*.yaml"))
UPSTREAM_CASES = 149
STATUSES = ("shipped", "partial", "not yet", "out of scope")


def table_rows() -> list[list[str]]:
    """The README table's rows, as cells: number, upstream path, status, file or what is missing."""
    rows = []
    for line in (CATALOGUE / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and cells[0].isdigit():
            rows.append(cells)
    return rows


def test_the_catalogue_is_there() -> None:
    assert {p.parent.name for p in FILES} == {"regular", "sidecar"}
    assert len(FILES) >= 80


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CATALOGUE)))
def test_every_file_validates_and_names_its_upstream_case(path: Path) -> None:
    (verdict,) = check_file(path)
    assert verdict.problems == ()
    first = path.read_text().splitlines()[0]
    assert re.match(r"# upstream: \[sig-node\] Containers Lifecycle / .+ / should", first, re.I), first
    assert yaml.safe_load(path.read_text())["metadata"]["name"] == path.stem


def test_the_validate_command_passes_them_all() -> None:
    assert main(["validate", *map(str, FILES)]) == 0


def test_the_readme_counts_every_upstream_case_and_every_file() -> None:
    rows = table_rows()
    assert [int(r[0]) for r in rows] == list(range(1, UPSTREAM_CASES + 1))
    assert all(r[2] in STATUSES for r in rows), [r for r in rows if r[2] not in STATUSES]
    shipped = {r[3].split("](", 1)[1].rstrip(")") for r in rows if r[2] == "shipped"}
    assert shipped == {str(p.relative_to(CATALOGUE)) for p in FILES}
    counts = {s: sum(1 for r in rows if r[2] == s) for s in STATUSES}
    summary = (CATALOGUE / "README.md").read_text()
    for status, n in counts.items():
        assert f"| {status} | {n} |" in summary, f"the summary does not say {n} {status}"
    # Each file's comment names the same upstream case as its row.
    by_file = {r[3].split("](", 1)[1].rstrip(")"): r[1] for r in rows if r[2] == "shipped"}
    for path in FILES:
        first = path.read_text().splitlines()[0]
        assert first.endswith(by_file[str(path.relative_to(CATALOGUE))]), path


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CATALOGUE)))
def test_every_file_has_a_valid_reversed_copy(path: Path) -> None:
    """The e2e tier runs each file with one expectation reversed, which must fail: that copy exists and is
    itself a valid LifecycleTest whose reversed expectation differs from the original."""
    spec = yaml.safe_load(path.read_text())["spec"]
    wrong, index = reversed_copy(spec)
    assert wrong["expectations"][index] != spec["expectations"][index]
    assert parse_spec(wrong) is not None
