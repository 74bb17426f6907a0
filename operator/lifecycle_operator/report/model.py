"""A LifecycleTest as a report reads it: its identity, its typed status, and its spec when it parses (pure).

Each object from the API is read here once. The status is validated with the same pydantic model that
generates the CRD; a status that does not validate (hand-edited, or written by another version) is kept
as a `problem` and reported as such, never as a pass. The spec is only needed to know which lanes a
failing expectation is about, so a spec that does not parse is not a problem of the report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from lifecycle_operator import constants as c
from lifecycle_operator.api import (
    Condition,
    ExpectationResult,
    InvalidSpecError,
    LifecycleTestSpec,
    LifecycleTestStatus,
    parse_spec,
)

# Results that carry a verdict on the kubelet; the others (Queued, Running, none) are runs not judged yet.
VERDICT_RESULTS: Final = frozenset(c.RUN_RESULTS)
_WORD: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


@dataclass(frozen=True)
class NodeRun:
    """What one run saw on one node. A run has one node today (status.nodeName); a test that runs on
    several nodes at once would give one NodeRun per node, and every report reads these, not the status."""

    node: str | None
    expectations: list[ExpectationResult]


@dataclass(frozen=True)
class TestReport:
    __test__ = False  # not a pytest test class, whatever its name

    namespace: str
    name: str
    status: LifecycleTestStatus = field(default_factory=LifecycleTestStatus)
    spec: LifecycleTestSpec | None = None
    problem: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def result(self) -> str | None:
        return None if self.problem else self.status.result

    @property
    def passed(self) -> bool:
        return self.result == c.RESULT_PASSED

    @property
    def judged(self) -> bool:
        """The current or last run has a verdict (or the spec was refused: that is a verdict too)."""
        return self.result in VERDICT_RESULTS

    @property
    def succeeded(self) -> Condition | None:
        return next((x for x in self.status.conditions if x.type == c.CONDITION_SUCCEEDED), None)

    @property
    def reason(self) -> str | None:
        cond = self.succeeded
        return cond.reason if cond else None

    @property
    def message(self) -> str:
        """Why the test stands where it stands, in words: the problem, else the Succeeded condition's."""
        if self.problem:
            return self.problem
        cond = self.succeeded
        return cond.message if cond else ""

    def node_runs(self) -> list[NodeRun]:
        return [NodeRun(self.status.node_name, list(self.status.expectations))]

    def failing(self) -> list[tuple[int, ExpectationResult]]:
        """The failed expectations of the current or last run, with their index in the spec."""
        return [(i, e) for i, e in enumerate(self.status.expectations) if not e.passed]

    def subjects_of(self, index: int, result: ExpectationResult, known: Sequence[str]) -> list[str]:
        """The containers and hooks an expectation is about. From the spec when its expectation at that
        index is still the one judged (the spec may have changed since), else the known subjects that
        the description names."""
        spec = self.spec
        if spec is not None and index < len(spec.expectations):
            expectation = spec.expectations[index]
            if expectation.describe() == result.description:
                return expectation.subjects
        words = set(_WORD.findall(result.description))
        return [s for s in known if s in words]

    def subjects(self) -> list[str]:
        """Every container and hook the spec names, in the pod's order; none when the spec is unknown."""
        return self.spec.pod.subjects if self.spec is not None else []


def _first_error(e: ValidationError) -> str:
    error = e.errors()[0]
    where = ".".join(str(x) for x in error["loc"])
    more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
    return f"status.{where}: {error['msg']}{more}"


def read_test(body: dict[str, Any]) -> TestReport:
    """A LifecycleTest object, as the API returns it, read once."""
    meta = body.get("metadata") or {}
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    try:
        spec: LifecycleTestSpec | None = parse_spec(body.get("spec"))
    except InvalidSpecError:
        spec = None
    try:
        status = LifecycleTestStatus.model_validate(body.get("status") or {})
    except ValidationError as e:
        return TestReport(namespace, name, spec=spec, problem=f"the status cannot be read: {_first_error(e)}")
    return TestReport(namespace, name, status, spec)


def read_tests(bodies: Sequence[dict[str, Any]]) -> list[TestReport]:
    """Every object read, in namespace and name order."""
    return sorted((read_test(b) for b in bodies), key=lambda r: (r.namespace, r.name))
