"""LifecycleTests as JUnit XML (pure): one testsuite per test, one testcase per expectation per node.

A case passes only when its test's run passed or its expectation was judged and held. Everything else
says so, with the reason: a failed expectation is a `failure` whose text is what was seen; a run that
timed out or lost its pod makes every case an `error` (nothing was judged); an inconclusive run makes
every case `skipped` (the node's load broke the case's timing, so nothing is known); a test with no
verdict yet, a refused spec or an unreadable status is a single case that is skipped or an error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from lifecycle_operator import constants as c
from lifecycle_operator.api import ExpectationResult
from lifecycle_operator.report.markup import clean, serialize
from lifecycle_operator.report.model import NodeRun, TestReport
from lifecycle_operator.times import parse_time

REPORT_NAME: Final = "lifecycle-operator report"
# The reason of an unreadable status, as a JUnit error type.
UNREADABLE_STATUS: Final = "UnreadableStatus"


class Kind(StrEnum):
    PASSED = "passed"
    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Case:
    name: str
    kind: Kind = Kind.PASSED
    type: str = ""
    message: str = ""
    text: str = ""
    properties: dict[str, str] = field(default_factory=dict)


def _case_name(index: int, result: ExpectationResult, node: str | None) -> str:
    on = f" on {node}" if node else ""
    return f"expectations[{index}]: {result.description}{on}"


def _expectation_case(report: TestReport, run: NodeRun, index: int, result: ExpectationResult) -> Case:
    properties = {"type": result.type, "node": run.node or ""}
    name = _case_name(index, result, run.node)
    seen = f"seen: {result.message}"
    reason = report.reason or ""
    match report.result:
        case c.RESULT_PASSED:
            return Case(name, properties=properties)
        case c.RESULT_INCONCLUSIVE:
            return Case(name, Kind.SKIPPED, reason, f"{reason}: {report.message}", seen, properties)
        case c.RESULT_FAILED if reason == c.REASON_EXPECTATIONS_FAILED:
            if result.passed:
                return Case(name, properties=properties)
            return Case(name, Kind.FAILURE, result.type, result.message, result.message, properties)
    # Timed out, pod lost, or a result this version does not know: the run was not judged as a whole.
    return Case(name, Kind.ERROR, reason or "NotJudged", f"{reason}: {report.message}", seen, properties)


def cases(report: TestReport) -> list[Case]:
    """The cases of one test's current or last run, in spec order, node by node."""
    if report.problem:
        return [Case("status", Kind.ERROR, UNREADABLE_STATUS, report.problem, report.problem)]
    if not report.judged:
        state = report.result or "never ran"
        why = f": {report.message}" if report.message else ""
        return [Case("run", Kind.SKIPPED, state, f"no verdict yet ({state}){why}")]
    if report.result == c.RESULT_ERROR:
        return [
            Case("spec", Kind.ERROR, report.reason or c.REASON_INVALID_SPEC, report.message, report.message)
        ]
    found = [
        _expectation_case(report, run, i, result)
        for run in report.node_runs()
        for i, result in enumerate(run.expectations)
    ]
    if not found:  # a run that lost its pod before anything was judged
        kind = Kind.SKIPPED if report.result == c.RESULT_INCONCLUSIVE else Kind.ERROR
        return [Case("run", kind, report.reason or "NotJudged", report.message, report.message)]
    if not report.passed and all(x.kind == Kind.PASSED for x in found):
        # Every expectation held, yet the run failed: its judging condition can never be met.
        found.append(
            Case("judging condition", Kind.FAILURE, report.reason or "", report.message, report.message)
        )
    return found


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    if not values:
        return
    props = ET.SubElement(parent, "properties")
    for key, value in values.items():
        ET.SubElement(props, "property", name=key, value=clean(value))


def _suite_properties(report: TestReport) -> dict[str, str]:
    s = report.status
    nodes = ",".join(r.node for r in report.node_runs() if r.node)
    values = {
        "run": str(s.run) if s.run is not None else "",
        "attempt": str(s.attempt) if s.attempt is not None else "",
        "node": nodes,
        "result": report.result or ("Unreadable" if report.problem else "none"),
        "reason": report.reason or "",
        "completionTime": s.completion_time or "",
    }
    return {k: v for k, v in values.items() if v}


def _duration(report: TestReport) -> float:
    start, end = parse_time(report.status.start_time), parse_time(report.status.completion_time)
    return max((end - start).total_seconds(), 0.0) if start and end else 0.0


def _counts(found: Sequence[Case]) -> dict[str, str]:
    """The count attributes of a testsuite or testsuites element."""

    def n(kind: Kind) -> str:
        return str(sum(1 for x in found if x.kind == kind))

    return {
        "tests": str(len(found)),
        "failures": n(Kind.FAILURE),
        "errors": n(Kind.ERROR),
        "skipped": n(Kind.SKIPPED),
    }


def _suite(parent: ET.Element, report: TestReport) -> list[Case]:
    found = cases(report)
    suite = ET.SubElement(
        parent,
        "testsuite",
        {"name": report.key, **_counts(found), "time": f"{_duration(report):.3f}"},
    )
    if report.status.start_time:
        suite.set("timestamp", report.status.start_time)
    if report.status.node_name:
        suite.set("hostname", report.status.node_name)
    _properties(suite, _suite_properties(report))
    classname = f"{report.namespace}.{report.name}"
    for case in found:
        element = ET.SubElement(suite, "testcase", classname=classname, name=clean(case.name), time="0")
        _properties(element, case.properties)
        if case.kind != Kind.PASSED:
            outcome = ET.SubElement(element, case.kind.value, message=clean(case.message))
            if case.type:
                outcome.set("type", case.type)
            if case.text:
                outcome.text = clean(case.text)
    return found


def junit_xml(reports: Sequence[TestReport]) -> str:
    """The JUnit XML document for these tests."""
    root = ET.Element("testsuites", name=REPORT_NAME)
    every = [case for report in reports for case in _suite(root, report)]
    for key, value in _counts(every).items():
        root.set(key, value)
    return serialize(root)
