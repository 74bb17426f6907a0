"""How a run ended, and what that makes its result (pure).

A run ends in exactly one way: its judging condition was met and its expectations were judged
(`Judged`), its deadline passed first (`TimedOut`), or its pod went away before it could be judged
(`Lost`). A judged run whose failures the timeline explains by the node's load breaking the case's own
timing, not by the kubelet, is Inconclusive rather than Failed (see margins.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from lifecycle_operator import constants as c
from lifecycle_operator.timeline import Timeline
from lifecycle_operator.verdicts import Verdict

# How many failed expectations a message names before it says "and N more".
NAMED_FAILURES: Final = 3


@dataclass(frozen=True)
class Judged:
    """The judging condition was met; `unreachable` says why it can never be met, when that is so, and
    `late` that it is so because the operator saw the pod too late to act on it (Inconclusive)."""

    unreachable: str | None = None
    late: bool = False


@dataclass(frozen=True)
class TimedOut:
    """The deadline passed before the judging condition was met. `unscheduled`: the pod was still not
    bound to a node then, so no kubelet ever had it and the run says nothing about one (Inconclusive)."""

    detail: str | None = None
    unscheduled: bool = False


@dataclass(frozen=True)
class Lost:
    detail: str


Ending = Judged | TimedOut | Lost


@dataclass(frozen=True)
class RunOutcome:
    """Everything known when a run ends."""

    run: int
    reason: str
    message: str
    verdicts: list[Verdict] = field(default_factory=list)
    timeline: Timeline = field(default_factory=Timeline)
    evidence: list[str] = field(default_factory=list)
    node_name: str | None = None
    kubelet_version: str | None = None
    container_runtime_version: str | None = None

    @property
    def passed_count(self) -> int:
        return sum(1 for v in self.verdicts if v.passed)

    @property
    def passed(self) -> bool:
        return self.reason == c.REASON_EXPECTATIONS_MET

    @property
    def result(self) -> str:
        if self.passed:
            return c.RESULT_PASSED
        if self.reason == c.REASON_INCONCLUSIVE:
            return c.RESULT_INCONCLUSIVE
        return c.RESULT_FAILED


def outcome_reason(
    verdicts: list[Verdict], ending: Ending, inconclusive: str | None = None
) -> tuple[str, str]:
    """The Succeeded condition's reason and message for a run that ended this way."""
    match ending:
        case Lost(detail):
            return c.REASON_POD_LOST, detail
        case TimedOut(unscheduled=True):
            return c.REASON_INCONCLUSIVE, (
                "the pod was not scheduled to a node before the deadline: no kubelet had it, so the run "
                "says nothing about one (the scheduler or the API server was late)"
            )
        case TimedOut(detail):
            message = "the judging condition was not met before the deadline"
            return c.REASON_TIMED_OUT, f"{message}: {detail}" if detail else message
        case Judged(unreachable, late=True) if unreachable is not None:
            return c.REASON_INCONCLUSIVE, unreachable
        case Judged(unreachable) if unreachable is not None:
            return c.REASON_EXPECTATIONS_FAILED, unreachable
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return c.REASON_EXPECTATIONS_MET, f"all {len(verdicts)} expectations were met"
    names = "; ".join(f"{v.expectation.describe()}: {v.message}" for v in failed[:NAMED_FAILURES])
    more = f" (and {len(failed) - NAMED_FAILURES} more)" if len(failed) > NAMED_FAILURES else ""
    summary = f"{len(failed)} of {len(verdicts)} failed: {names}{more}"
    if inconclusive is not None:
        return c.REASON_INCONCLUSIVE, f"{inconclusive}; {summary}"
    return c.REASON_EXPECTATIONS_FAILED, summary
