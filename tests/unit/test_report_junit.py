"""JUnit XML from LifecycleTest statuses, read back with a real JUnit parser (junitparser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from lifecycle_operator import constants as c
from lifecycle_operator.report.junit import junit_xml
from lifecycle_operator.report.model import NodeRun, TestReport, read_test
from render.samples import late_hook, quiet_node, result, status


def parse(reports: list[TestReport], tmp_path: Path) -> JUnitXml:
    path = tmp_path / "junit.xml"
    path.write_text(junit_xml(reports), encoding="utf-8")
    return JUnitXml.fromfile(str(path))


def suites(xml: JUnitXml) -> dict[str, TestSuite]:
    return {s.name: s for s in xml}


def outcome(case: TestCase) -> str:
    if case.is_passed:
        return "passed"
    kinds = {type(r) for r in case.result}
    return {Failure: "failure", Error: "error", Skipped: "skipped"}[kinds.pop()]


def test_a_failed_expectation_is_a_failure_whose_text_is_what_was_seen(tmp_path: Path) -> None:
    xml = parse([late_hook()], tmp_path)
    suite = suites(xml)["ns/post-start-blocks-next-container"]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (2, 1, 0, 0)
    cases = list(suite)
    assert [outcome(x) for x in cases] == ["passed", "failure"]
    failure = cases[1].result[0]
    assert failure.text == "PostStart-regular-1 never logged Exiting"
    assert failure.message == "PostStart-regular-1 never logged Exiting"
    assert failure.type == "ExitsBefore"
    assert cases[1].name == "expectations[1]: PostStart-regular-1 exits before regular-2 starts on node-1"
    assert cases[1].classname == "ns.post-start-blocks-next-container"


def test_suite_properties_name_the_run_node_result_and_reason(tmp_path: Path) -> None:
    suite = suites(parse([late_hook()], tmp_path))["ns/post-start-blocks-next-container"]
    props = {p.name: p.value for p in suite.properties()}
    assert props["run"] == "1"
    assert props["node"] == "node-1"
    assert props["result"] == "Failed"
    assert props["reason"] == c.REASON_EXPECTATIONS_FAILED
    assert suite.hostname == "node-1"
    assert suite.time == pytest.approx(45.0)


def test_a_passed_run_passes_every_case_and_totals_add_up(tmp_path: Path) -> None:
    xml = parse([quiet_node("a"), late_hook("b")], tmp_path)
    assert suites(xml)["a/post-start-blocks-next-container"].failures == 0
    assert all(x.is_passed for x in suites(xml)["a/post-start-blocks-next-container"])
    xml.update_statistics()
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (4, 1, 0, 0)


def _single(report: TestReport, tmp_path: Path) -> list[TestCase]:
    return list(next(iter(parse([report], tmp_path))))


@pytest.mark.parametrize(
    ("reason", "kind"),
    [(c.REASON_TIMED_OUT, "error"), (c.REASON_POD_LOST, "error")],
)
def test_a_run_that_was_not_judged_is_an_error_never_a_pass(reason: str, kind: str, tmp_path: Path) -> None:
    # The first expectation held before the deadline; the run as a whole still did not pass.
    st = status(
        c.RESULT_FAILED,
        [result("a starts", True, "a started"), result("b starts", False, "b never logged Started")],
        reason=reason,
        message="the judging condition was not met before the deadline",
    )
    cases = _single(TestReport("ns", "t", st), tmp_path)
    assert [outcome(x) for x in cases] == [kind, kind]
    assert cases[0].result[0].type == reason
    assert "the judging condition was not met" in cases[0].result[0].message
    assert cases[1].result[0].text == "seen: b never logged Started"


def test_an_inconclusive_run_is_skipped_with_its_reason(tmp_path: Path) -> None:
    st = status(
        c.RESULT_INCONCLUSIVE,
        [result("a starts", True), result("PostStart-a exits", False, "PostStart-a never logged Exiting")],
        message="the hook started late on every attempt",
    )
    cases = _single(TestReport("ns", "t", st), tmp_path)
    assert [outcome(x) for x in cases] == ["skipped", "skipped"]
    assert cases[1].result[0].message == "Inconclusive: the hook started late on every attempt"


@pytest.mark.parametrize(
    ("result_", "state"), [(None, "never ran"), (c.RESULT_QUEUED, "Queued"), ("Running", "Running")]
)
def test_a_test_without_a_verdict_is_one_skipped_case(
    result_: str | None, state: str, tmp_path: Path
) -> None:
    cases = _single(TestReport("ns", "t", status(result_, run=None)), tmp_path)
    assert [(x.name, outcome(x)) for x in cases] == [("run", "skipped")]
    assert state in cases[0].result[0].message


def test_a_refused_spec_is_one_error(tmp_path: Path) -> None:
    st = status(c.RESULT_ERROR, message="spec.expectations[0].container: Invalid value")
    cases = _single(TestReport("ns", "t", st), tmp_path)
    assert [(x.name, outcome(x)) for x in cases] == [("spec", "error")]
    assert cases[0].result[0].type == c.REASON_INVALID_SPEC


def test_a_failed_run_whose_expectations_all_held_still_fails(tmp_path: Path) -> None:
    st = status(
        c.RESULT_FAILED, [result("a starts")], message="the judging condition can never be met: a exited 0"
    )
    cases = _single(TestReport("ns", "t", st), tmp_path)
    assert [outcome(x) for x in cases] == ["passed", "failure"]
    assert cases[1].name == "judging condition"
    assert cases[1].result[0].text == "the judging condition can never be met: a exited 0"


def test_an_unreadable_status_is_an_error(tmp_path: Path) -> None:
    body = {"metadata": {"namespace": "ns", "name": "t"}, "spec": {}, "status": {"run": "three"}}
    report = read_test(body)
    assert report.problem is not None
    assert not report.passed
    cases = _single(report, tmp_path)
    assert [(x.name, outcome(x)) for x in cases] == [("status", "error")]
    assert "status.run" in cases[0].result[0].message


def test_text_xml_cannot_carry_is_replaced_and_the_document_still_parses(tmp_path: Path) -> None:
    st = status(c.RESULT_FAILED, [result('a <starts> & "quoted"', False, "seen \x00\x1b[31m <b>")])
    cases = _single(TestReport("ns", "t", st), tmp_path)
    assert cases[0].name == 'expectations[0]: a <starts> & "quoted" on node-1'
    assert cases[0].result[0].text == "seen \ufffd\ufffd[31m <b>"


def test_a_per_node_list_gives_a_case_per_expectation_per_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape a later per-node status will have: every report reads NodeRuns."""
    report = late_hook()
    runs = [
        NodeRun("node-a", list(report.status.expectations)),
        NodeRun("node-b", list(report.status.expectations)),
    ]
    monkeypatch.setattr(TestReport, "node_runs", lambda self: runs)
    cases = _single(report, tmp_path)
    assert len(cases) == 4
    assert [x.name.rsplit(" on ", 1)[1] for x in cases] == ["node-a", "node-a", "node-b", "node-b"]
    assert len({x.name for x in cases}) == 4
