"""`lifecycle-operator report`: read the selected tests, write JUnit and SVG files, print the table.

Exit codes: 0 when every reported test passed, 1 when any did not (or none matched: a report of nothing
must not pass a CI job), 2 for a usage error or when the tests cannot be read or the files written.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, TextIO

from lifecycle_operator.report.junit import junit_xml
from lifecycle_operator.report.model import TestReport, read_tests
from lifecycle_operator.report.read import Cluster, ReadError, Selection
from lifecycle_operator.report.svg import timeline_svg
from lifecycle_operator.report.table import format_table

EXIT_PASSED: Final = 0
EXIT_NOT_PASSED: Final = 1
EXIT_USAGE: Final = 2
PROG: Final = "lifecycle-operator report"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


class UsageError(Exception):
    pass


@dataclass(frozen=True)
class Options:
    namespace: str | None = None
    all_namespaces: bool = False
    selector: str | None = None
    names: tuple[str, ...] = ()
    junit: Path | None = None
    svg: Path | None = None


def svg_name(report: TestReport) -> str:
    """The file a test's picture is written to in an --svg folder: namespace_name_runN.svg."""
    run = f"_run{report.status.run}" if report.status.run is not None else ""
    return _UNSAFE.sub("-", f"{report.namespace}_{report.name}{run}") + ".svg"


def svg_paths(reports: Sequence[TestReport], target: Path) -> dict[Path, TestReport]:
    """Where each picture goes: into the folder `target`, or to the file `target` (a name ending in
    .svg) when exactly one test is reported."""
    if target.suffix.lower() == ".svg" and not target.is_dir():
        if len(reports) != 1:
            raise UsageError(
                f"--svg {target} is a file, for exactly one test, and {len(reports)} matched: give a folder"
            )
        return {target: reports[0]}
    return {target / svg_name(r): r for r in reports}


def write_report(reports: Sequence[TestReport], options: Options, out: TextIO, err: TextIO) -> int:
    """Write the files and the table for tests already read; the exit code."""
    pictures = svg_paths(reports, options.svg) if options.svg is not None else {}
    try:
        if options.junit is not None:
            options.junit.parent.mkdir(parents=True, exist_ok=True)
            options.junit.write_text(junit_xml(reports), encoding="utf-8")
            print(f"wrote {options.junit}", file=err)
        for path, report in pictures.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(timeline_svg(report), encoding="utf-8")
            print(f"wrote {path}", file=err)
    except OSError as e:
        print(f"{PROG}: cannot write {e.filename}: {e.strerror}", file=err)
        return EXIT_USAGE
    out.write(format_table(reports))
    if not reports:
        print(f"{PROG}: no LifecycleTest matched", file=err)
        return EXIT_NOT_PASSED
    return EXIT_PASSED if all(r.passed for r in reports) else EXIT_NOT_PASSED


class TestSource(Protocol):
    """Where the tests are read from: read.Cluster, or an in-memory one in tests."""

    default_namespace: str

    def tests(self, selection: Selection) -> list[dict[str, Any]]: ...


def check_usage(options: Options) -> None:
    """Refuse what cannot be meant, before any request."""
    if options.all_namespaces and options.names:
        raise UsageError("names are looked up in one namespace: give -n, not -A")
    if options.selector and options.names:
        raise UsageError("give names or a label selector (-l), not both")


def selection(options: Options, default_namespace: str) -> Selection:
    namespace = None if options.all_namespaces else options.namespace or default_namespace
    return Selection(namespace, options.selector, options.names)


def run(
    options: Options,
    connect: Callable[[], TestSource] = Cluster,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The whole command: read, then write. `connect` gives the cluster (a fake one in tests)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        check_usage(options)
        cluster = connect()
        bodies = cluster.tests(selection(options, cluster.default_namespace))
        return write_report(read_tests(bodies), options, out, err)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=err)
    except ReadError as e:
        print(f"{PROG}: {e}", file=err)
    return EXIT_USAGE
