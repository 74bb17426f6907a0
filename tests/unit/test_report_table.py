"""The summary table printed in the terminal."""

from __future__ import annotations

from lifecycle_operator import constants as c
from lifecycle_operator.report.model import TestReport
from lifecycle_operator.report.table import HEADER, format_table
from render.samples import late_hook, quiet_node, status


def test_one_row_per_test_with_result_counts_node_run_and_completion() -> None:
    text = format_table([quiet_node("a", "good"), late_hook("b", "bad")])
    lines = text.splitlines()
    assert lines[0].split() == list(HEADER)
    assert lines[1].split() == ["good", "a", "Passed", "2/2", "node-1", "1", "2026-01-02T03:04:50Z"]
    assert lines[2].split() == ["bad", "b", "Failed", "1/2", "node-1", "1", "2026-01-02T03:04:50Z"]
    assert lines[3] == "2 tests: 1 Failed, 1 Passed"


def test_columns_line_up() -> None:
    lines = format_table(
        [quiet_node("a-long-namespace", "x"), late_hook("b", "a-much-longer-name")]
    ).splitlines()
    starts = {
        line.index(word) for line, word in zip(lines[:3], ["NAMESPACE", "a-long-namespace", "b"], strict=True)
    }
    assert len(starts) == 1


def test_tests_without_a_verdict_show_dashes_and_their_state() -> None:
    lines = format_table(
        [
            TestReport("ns", "new", status(None, run=None)),
            TestReport("ns", "queued", status(c.RESULT_QUEUED, run=None)),
            TestReport("ns", "retried", status(c.RESULT_RUNNING, run=4, attempt=2)),
        ]
    ).splitlines()
    assert lines[1].split() == ["new", "ns", "NotRun", "-", "-", "-", "-"]
    assert lines[2].split() == ["queued", "ns", "Queued", "-", "-", "-", "-"]
    assert lines[3].split() == ["retried", "ns", "Running", "-", "-", "4", "(attempt", "2)", "-"]
    assert lines[4] == "3 tests: 1 NotRun, 1 Queued, 1 Running"


def test_no_tests_is_a_header_and_a_zero() -> None:
    assert format_table([]).splitlines() == ["   ".join(HEADER), "0 tests"]
