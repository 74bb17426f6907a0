"""The summary table a person reads in the terminal (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

from lifecycle_operator.report.model import TestReport

HEADER: Final = ("TEST", "NAMESPACE", "RESULT", "PASSED", "NODE", "RUN", "COMPLETED")
NONE: Final = "-"


def row(report: TestReport) -> tuple[str, ...]:
    s = report.status
    nodes = ",".join(r.node for r in report.node_runs() if r.node)
    run = NONE if s.run is None else str(s.run) + (f" (attempt {s.attempt})" if (s.attempt or 1) > 1 else "")
    return (
        report.name,
        report.namespace,
        report.result or ("Unreadable" if report.problem else "NotRun"),
        s.summary or NONE,
        nodes or NONE,
        run,
        s.completion_time or NONE,
    )


def summary_line(reports: Sequence[TestReport]) -> str:
    """One line of totals: `3 tests: 2 Passed, 1 Failed`."""
    counts = Counter(row(r)[2] for r in reports)
    parts = ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))
    noun = "test" if len(reports) == 1 else "tests"
    return f"{len(reports)} {noun}: {parts}" if reports else "0 tests"


def format_table(reports: Sequence[TestReport]) -> str:
    """Aligned columns, a header and one row per test, then the totals."""
    rows = [HEADER, *(row(r) for r in reports)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["   ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join([*lines, summary_line(reports)]) + "\n"
