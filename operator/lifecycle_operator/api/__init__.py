"""The LifecycleTest API: pydantic models that are the single source of truth for the CRD."""

from lifecycle_operator.api.parsing import InvalidSpecError, parse_spec
from lifecycle_operator.api.spec import (
    Action,
    ActionType,
    Behavior,
    ContainerSpec,
    Expectation,
    ExpectationType,
    JudgeType,
    JudgeWhen,
    LifecycleTestSpec,
    PodRetention,
    PodTemplate,
    ProbeCheck,
    ProbeSpec,
)
from lifecycle_operator.api.status import (
    Condition,
    ExpectationResult,
    LifecycleTestStatus,
    RunRecord,
    TimelineEvent,
)

__all__ = [
    "Action",
    "ActionType",
    "Behavior",
    "Condition",
    "ContainerSpec",
    "Expectation",
    "ExpectationResult",
    "ExpectationType",
    "InvalidSpecError",
    "JudgeType",
    "JudgeWhen",
    "LifecycleTestSpec",
    "LifecycleTestStatus",
    "PodRetention",
    "PodTemplate",
    "ProbeCheck",
    "ProbeSpec",
    "RunRecord",
    "TimelineEvent",
    "parse_spec",
]
