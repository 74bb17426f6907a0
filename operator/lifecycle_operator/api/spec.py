"""The spec of a LifecycleTest: the pod to run, when to judge it, and what must have happened.

Every cross-field rule is written twice on purpose: once as a pydantic validator (the offline
validator and the operator use it) and once as a CEL rule in `x-kubernetes-validations` (the API
server uses it at admission). tests/unit/test_api.py runs the same bad inputs through both.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

POST_START: Final = "PostStart"
PRE_STOP: Final = "PreStop"

MAX_INIT_CONTAINERS: Final = 10
MAX_CONTAINERS: Final = 10
MAX_EXPECTATIONS: Final = 64
DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

DnsLabel = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN)]
# A subject is what recorded an event: a container, or one of its hooks as "PostStart-<container>".
Subject = Annotated[str, StringConstraints(min_length=1, max_length=72)]


def cel(rule: str, message: str) -> JsonDict:
    """One entry of x-kubernetes-validations."""
    return {"rule": rule, "message": message}


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are errors, as at admission."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, use_enum_values=False
    )


def hook_subject(hook: str, container: str) -> str:
    """The name a hook's events are recorded under, as in the upstream test: PostStart-regular-1."""
    return f"{hook}-{container}"


class Behavior(ApiModel):
    """What an instrumented command does: the upstream test's execCommand, plus a long-running mode."""

    start_delay_seconds: int = Field(
        0, ge=0, le=3600, description="Seconds to sleep between logging Starting and Started."
    )
    delay_seconds: int = Field(
        0, ge=0, le=86400, description="Seconds to sleep between logging Delaying and Exiting."
    )
    exit_code: int = Field(0, ge=0, le=255, description="The exit code the command ends with.")
    run_until_stopped: bool = Field(
        False,
        description="Instead of Delaying and exiting, log Looping and run until SIGTERM (for sidecars).",
    )
    linger_after_term_seconds: int = Field(
        0,
        ge=0,
        le=3600,
        description="On SIGTERM, log Terminating, keep running this many seconds, then log Exiting and exit.",
    )


class ProbeCheck(StrEnum):
    STARTED = "Started"
    SUCCEED = "Succeed"
    FAIL = "Fail"


class ProbeSpec(ApiModel):
    """An exec probe whose outcome is scripted."""

    check: ProbeCheck = Field(
        ProbeCheck.STARTED,
        description="Started: passes once this container instance has logged Started. "
        "Succeed: always passes. Fail: always fails.",
    )
    initial_delay_seconds: int = Field(0, ge=0, le=3600, description="As the probe's initialDelaySeconds.")
    period_seconds: int = Field(1, ge=1, le=3600, description="As the probe's periodSeconds.")
    timeout_seconds: int = Field(1, ge=1, le=3600, description="As the probe's timeoutSeconds.")
    failure_threshold: int = Field(3, ge=1, le=1000, description="As the probe's failureThreshold.")
    success_threshold: int = Field(1, ge=1, le=1000, description="Must be 1 for startup and liveness probes.")


class ContainerSpec(ApiModel):
    name: DnsLabel = Field(description="The container's name; events are recorded under it.")
    image: str | None = Field(
        None,
        min_length=1,
        max_length=512,
        description="Image to run; defaults to the operator's test image. It must provide sh, date, "
        "sleep, cat and touch.",
    )
    restart_policy: str | None = Field(
        None,
        pattern="^Always$",
        description="Only on init containers: Always makes it a restartable init container (a sidecar).",
    )
    behavior: Behavior = Field(default_factory=Behavior, description="What the container's command does.")
    post_start: Behavior | None = Field(
        None, description="A PostStart exec hook; its events are recorded as PostStart-<container>."
    )
    pre_stop: Behavior | None = Field(
        None, description="A PreStop exec hook; its events are recorded as PreStop-<container>."
    )
    startup_probe: ProbeSpec | None = Field(None, description="A startupProbe with a scripted outcome.")
    liveness_probe: ProbeSpec | None = Field(None, description="A livenessProbe with a scripted outcome.")
    readiness_probe: ProbeSpec | None = Field(None, description="A readinessProbe with a scripted outcome.")

    @property
    def subjects(self) -> list[str]:
        names = [self.name]
        if self.post_start is not None:
            names.append(hook_subject(POST_START, self.name))
        if self.pre_stop is not None:
            names.append(hook_subject(PRE_STOP, self.name))
        return names


def _cel_names_subject(subject: str) -> str:
    """CEL: container `c` is `subject`, or has the hook `subject` names. Written with exists() rather than
    by building the list of names, which the API server's cost estimate refuses."""
    return (
        f"c.name == {subject} || (has(c.postStart) && '{POST_START}-' + c.name == {subject}) || "
        f"(has(c.preStop) && '{PRE_STOP}-' + c.name == {subject})"
    )


def _cel_known_subject(subject: str) -> str:
    """CEL, on the spec: `subject` is a container of the pod or one of its hooks."""
    return (
        f"self.pod.containers.exists(c, {_cel_names_subject(subject)}) || "
        f"(has(self.pod.initContainers) && self.pod.initContainers.exists(c, {_cel_names_subject(subject)}))"
    )


class PodTemplate(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "self.containers.all(c, !has(c.restartPolicy))",
                    "restartPolicy may only be set on init containers",
                ),
                cel(
                    "(has(self.initContainers) ? self.initContainers.map(c, c.name) : [])"
                    ".all(n, !self.containers.exists(c, c.name == n))",
                    "container names must be unique across initContainers and containers",
                ),
            ]
        }
    )

    restart_policy: str = Field(
        "Never", pattern="^(Always|OnFailure|Never)$", description="The pod's restartPolicy."
    )
    init_containers: list[ContainerSpec] = Field(
        default_factory=list,
        max_length=MAX_INIT_CONTAINERS,
        description="Init containers, run in order. restartPolicy Always makes one a sidecar.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    containers: list[ContainerSpec] = Field(
        min_length=1,
        max_length=MAX_CONTAINERS,
        description="Regular containers.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    termination_grace_period_seconds: int | None = Field(None, ge=0, le=3600)
    node_name: DnsLabel | None = Field(
        None, description="Run on this node; bypasses the scheduler, as the kubelet e2e tests do."
    )
    node_selector: dict[str, str] = Field(default_factory=dict, description="Schedule onto matching nodes.")

    @model_validator(mode="after")
    def _check_containers(self) -> PodTemplate:
        for c in self.containers:
            if c.restart_policy is not None:
                raise ValueError(f"container {c.name!r}: restartPolicy may only be set on init containers")
        names = [c.name for c in (*self.init_containers, *self.containers)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"container names must be unique across initContainers and containers: {duplicates}"
            )
        return self

    @property
    def all_containers(self) -> list[ContainerSpec]:
        return [*self.init_containers, *self.containers]

    @property
    def subjects(self) -> list[str]:
        return [s for c in self.all_containers for s in c.subjects]


class JudgeType(StrEnum):
    POD_TERMINAL = "PodTerminal"
    POD_FAILED = "PodFailed"
    RESTART_COUNT = "RestartCount"
    CONTAINER_WAITING = "ContainerWaiting"


class JudgeWhen(ApiModel):
    """When the run is judged. Until then the operator only watches; past timeoutSeconds it gives up."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "self.type in ['RestartCount', 'ContainerWaiting'] ? has(self.container) : "
                    "!has(self.container)",
                    "container is required for RestartCount and ContainerWaiting, and only allowed there",
                ),
                cel(
                    "self.type == 'RestartCount' ? has(self.count) : !has(self.count)",
                    "count is required for RestartCount, and only allowed there",
                ),
                cel(
                    "self.type == 'ContainerWaiting' ? has(self.reason) : !has(self.reason)",
                    "reason is required for ContainerWaiting, and only allowed there",
                ),
            ]
        }
    )

    type: JudgeType = Field(
        JudgeType.POD_TERMINAL,
        description="PodTerminal: the pod Succeeded or Failed. PodFailed: the pod Failed (Succeeded is a "
        "failed run). RestartCount: a container's restartCount reached count. ContainerWaiting: a "
        "container is waiting with the given reason (for example ImagePullBackOff).",
    )
    container: DnsLabel | None = Field(
        None, description="The container, for RestartCount and ContainerWaiting."
    )
    count: int | None = Field(None, ge=1, le=1000, description="For RestartCount: the restartCount to reach.")
    reason: str | None = Field(
        None, min_length=1, max_length=128, description="For ContainerWaiting: the waiting reason to see."
    )

    @model_validator(mode="after")
    def _check_fields(self) -> JudgeWhen:
        _require(
            self.type, "container", self.container, {JudgeType.RESTART_COUNT, JudgeType.CONTAINER_WAITING}
        )
        _require(self.type, "count", self.count, {JudgeType.RESTART_COUNT})
        _require(self.type, "reason", self.reason, {JudgeType.CONTAINER_WAITING})
        return self


class ExpectationType(StrEnum):
    STARTS = "Starts"
    DOESNT_START = "DoesntStart"
    EXITS = "Exits"
    STARTS_BEFORE = "StartsBefore"
    EXITS_BEFORE = "ExitsBefore"
    DOESNT_START_AFTER = "DoesntStartAfter"
    RUN_TOGETHER = "RunTogether"
    HAS_RESTARTED = "HasRestarted"
    HAS_NOT_RESTARTED = "HasNotRestarted"
    RESTART_COUNT_AT_LEAST = "RestartCountAtLeast"
    POD_PHASE = "PodPhase"
    WAITING_REASON = "WaitingReason"
    TERMINATED_WITH = "TerminatedWith"


# Which fields each expectation type takes. The rules below, in Python and in CEL, come from this table.
PAIRWISE: Final = frozenset(
    {
        ExpectationType.STARTS_BEFORE,
        ExpectationType.EXITS_BEFORE,
        ExpectationType.DOESNT_START_AFTER,
        ExpectationType.RUN_TOGETHER,
    }
)
ABOUT_POD: Final = frozenset({ExpectationType.POD_PHASE})
# Expectations read from the pod's container statuses, so they name a container, never a hook.
ABOUT_CONTAINER_STATUS: Final = frozenset(
    {ExpectationType.RESTART_COUNT_AT_LEAST, ExpectationType.WAITING_REASON, ExpectationType.TERMINATED_WITH}
)


def _types_cel(types: frozenset[ExpectationType]) -> str:
    return "[" + ", ".join(f"'{t.value}'" for t in sorted(types)) + "]"


_NEEDS_CONTAINER: Final = frozenset(set(ExpectationType) - ABOUT_POD)


class Expectation(ApiModel):
    """Something that must have happened, in the vocabulary of the upstream kubelet e2e test."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.type in {_types_cel(_NEEDS_CONTAINER)} ? "
                    "has(self.container) : !has(self.container)",
                    "container is required, except for PodPhase",
                ),
                cel(
                    f"self.type in {_types_cel(PAIRWISE)} ? has(self.other) : !has(self.other)",
                    "other is required for StartsBefore, ExitsBefore, DoesntStartAfter and RunTogether, "
                    "and only allowed there",
                ),
                cel(
                    "self.type == 'RestartCountAtLeast' ? has(self.count) : !has(self.count)",
                    "count is required for RestartCountAtLeast, and only allowed there",
                ),
                cel(
                    "self.type == 'PodPhase' ? has(self.phase) : !has(self.phase)",
                    "phase is required for PodPhase, and only allowed there",
                ),
                cel(
                    "self.type == 'WaitingReason' ? has(self.reason) : "
                    "(self.type == 'TerminatedWith' || !has(self.reason))",
                    "reason is required for WaitingReason, optional for TerminatedWith, "
                    "not allowed elsewhere",
                ),
                cel(
                    "self.type == 'TerminatedWith' ? (has(self.exitCode) || has(self.reason)) : "
                    "!has(self.exitCode)",
                    "TerminatedWith needs exitCode or reason; exitCode is not allowed elsewhere",
                ),
            ]
        }
    )

    type: ExpectationType = Field(
        description="Starts, DoesntStart, Exits, HasRestarted, HasNotRestarted: about container's events. "
        "StartsBefore, ExitsBefore (container exits before other starts), DoesntStartAfter (container "
        "does not start after other starts), RunTogether (both run and their runs overlap): about two "
        "subjects. RestartCountAtLeast, WaitingReason, TerminatedWith: about a container's status. "
        "PodPhase: about the pod."
    )
    container: Subject | None = Field(
        None, description="A container's name, or a hook's: PostStart-<container>, PreStop-<container>."
    )
    other: Subject | None = Field(None, description="The second subject of a pairwise expectation.")
    count: int | None = Field(
        None, ge=0, le=1000, description="For RestartCountAtLeast: the least restartCount."
    )
    phase: str | None = Field(
        None, pattern="^(Pending|Running|Succeeded|Failed)$", description="For PodPhase: the pod's phase."
    )
    reason: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="For WaitingReason: the waiting reason; for TerminatedWith: the terminated reason "
        "(Completed, Error, ...).",
    )
    exit_code: int | None = Field(None, ge=0, le=255, description="For TerminatedWith: the exit code.")

    @model_validator(mode="after")
    def _check_fields(self) -> Expectation:
        _require(self.type, "container", self.container, _NEEDS_CONTAINER)
        _require(self.type, "other", self.other, PAIRWISE)
        _require(self.type, "count", self.count, {ExpectationType.RESTART_COUNT_AT_LEAST})
        _require(self.type, "phase", self.phase, ABOUT_POD)
        if self.type == ExpectationType.TERMINATED_WITH:
            if self.exit_code is None and self.reason is None:
                raise ValueError("TerminatedWith needs exitCode or reason")
        else:
            _require(self.type, "reason", self.reason, {ExpectationType.WAITING_REASON})
            _require(self.type, "exitCode", self.exit_code, set())
        return self

    @property
    def subjects(self) -> list[str]:
        return [s for s in (self.container, self.other) if s is not None]

    def describe(self) -> str:
        """A one-line, human reading of the expectation, used in status and messages."""
        t, c, o = self.type, self.container, self.other
        match t:
            case ExpectationType.STARTS:
                return f"{c} starts"
            case ExpectationType.DOESNT_START:
                return f"{c} does not start"
            case ExpectationType.EXITS:
                return f"{c} exits"
            case ExpectationType.STARTS_BEFORE:
                return f"{c} starts before {o}"
            case ExpectationType.EXITS_BEFORE:
                return f"{c} exits before {o} starts"
            case ExpectationType.DOESNT_START_AFTER:
                return f"{c} does not start after {o} starts"
            case ExpectationType.RUN_TOGETHER:
                return f"{c} and {o} run together"
            case ExpectationType.HAS_RESTARTED:
                return f"{c} has restarted"
            case ExpectationType.HAS_NOT_RESTARTED:
                return f"{c} has not restarted"
            case ExpectationType.RESTART_COUNT_AT_LEAST:
                return f"{c} restartCount >= {self.count}"
            case ExpectationType.POD_PHASE:
                return f"pod phase is {self.phase}"
            case ExpectationType.WAITING_REASON:
                return f"{c} is waiting with reason {self.reason}"
            case ExpectationType.TERMINATED_WITH:
                wanted = [f"exit code {self.exit_code}"] if self.exit_code is not None else []
                wanted += [f"reason {self.reason}"] if self.reason is not None else []
                return f"{c} terminated with {' and '.join(wanted)}"


class PodRetention(StrEnum):
    DELETE = "Delete"
    KEEP_ON_FAILURE = "KeepOnFailure"
    KEEP = "Keep"


class LifecycleTestSpec(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.expectations.all(e, !has(e.container) || {_cel_known_subject('e.container')})",
                    "every expectation's container must name a container of the pod, or one of its hooks "
                    "(PostStart-<container>, PreStop-<container>)",
                ),
                cel(
                    f"self.expectations.all(e, !has(e.other) || {_cel_known_subject('e.other')})",
                    "every expectation's other must name a container of the pod, or one of its hooks",
                ),
                cel(
                    f"self.expectations.all(e, !(e.type in {_types_cel(ABOUT_CONTAINER_STATUS)}) || "
                    "self.pod.containers.exists(c, c.name == e.container) || "
                    "(has(self.pod.initContainers) && "
                    "self.pod.initContainers.exists(c, c.name == e.container)))",
                    "RestartCountAtLeast, WaitingReason and TerminatedWith must name a container, not a hook",
                ),
                cel(
                    "!has(self.judgeWhen) || !has(self.judgeWhen.container) || "
                    "self.pod.containers.exists(c, c.name == self.judgeWhen.container) || "
                    "(has(self.pod.initContainers) && "
                    "self.pod.initContainers.exists(c, c.name == self.judgeWhen.container))",
                    "judgeWhen.container must name a container of the pod",
                ),
            ]
        }
    )

    pod: PodTemplate = Field(description="The pod to run, with instrumented containers.")
    judge_when: JudgeWhen = Field(default_factory=JudgeWhen, description="When to judge the run.")
    timeout_seconds: int | None = Field(
        None,
        ge=5,
        le=86400,
        description="Give up (reason TimedOut) when the judging condition is not met this many seconds after "
        "the pod was created. Defaults to the operator's setting (300).",
    )
    interval_seconds: int | None = Field(
        None,
        ge=30,
        le=30 * 86400,
        description="Run again this many seconds after each run finishes, so drift is caught. "
        "Unset: run once per change of the spec.",
    )
    pod_retention: PodRetention | None = Field(
        None,
        description="Delete the pod after judging, keep it when the run failed (for debugging), or always "
        "keep it. Defaults to the operator's setting.",
    )
    expectations: list[Expectation] = Field(
        min_length=1, max_length=MAX_EXPECTATIONS, description="What must have happened for the run to pass."
    )

    @model_validator(mode="after")
    def _check_names(self) -> LifecycleTestSpec:
        subjects = set(self.pod.subjects)
        containers = {c.name for c in self.pod.all_containers}
        for i, e in enumerate(self.expectations):
            for s in e.subjects:
                if s not in subjects:
                    raise ValueError(
                        f"expectations[{i}] ({e.type.value}) names {s!r}, which is neither a container "
                        "of the "
                        f"pod nor one of its hooks; known: {sorted(subjects)}"
                    )
            if e.type in ABOUT_CONTAINER_STATUS and e.container not in containers:
                raise ValueError(
                    f"expectations[{i}] ({e.type.value}) reads a container's status, so it must name a "
                    f"container, not {e.container!r}"
                )
        if self.judge_when.container is not None and self.judge_when.container not in containers:
            raise ValueError(
                f"judgeWhen.container {self.judge_when.container!r} is not a container of the pod; "
                f"known: {sorted(containers)}"
            )
        return self


def _require(kind: Any, field: str, value: object, allowed_for: set[Any] | frozenset[Any]) -> None:
    """The field is required for the kinds in allowed_for, and not allowed for the others."""
    if kind in allowed_for and value is None:
        raise ValueError(f"{field} is required for {kind.value}")
    if kind not in allowed_for and value is not None:
        raise ValueError(f"{field} is not allowed for {kind.value}")
