"""The spec of a LifecycleTest: the pod to run, when to judge it, and what must have happened.

One set of rules, enforced the same way offline and at admission. Types, bounds and syntax are schema
keywords, which pydantic checks and the CRD (generated from these models) carries. Every rule across
fields is written twice on purpose, as a Python check and as a CEL rule in `x-kubernetes-validations`,
with the same wording (api/rules.py); both name the field, the expectation or container index and the
offending value. Whatever the Pod API would refuse when the operator creates the run's pod is refused
here, before the test is stored.

The spec models are strict, as the API server is: "60" and true are not integers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from lifecycle_operator.api import syntax
from lifecycle_operator.api.rules import (
    CelReason,
    ErrorKind,
    Problem,
    RuleViolation,
    TypedField,
    cel,
    cel_first_index,
    cel_index_text,
    cel_list,
    cel_quoted,
    cel_string,
    raise_problems,
    typed_field_problems,
    typed_field_rules,
)

POST_START: Final = syntax.POST_START
PRE_STOP: Final = syntax.PRE_STOP
MAX_INIT_CONTAINERS: Final = 10
MAX_CONTAINERS: Final = 10
MAX_EXPECTATIONS: Final = 64
MAX_ACTIONS: Final = 4
MAX_NODE_SELECTOR: Final = 32

DnsLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=syntax.DNS_LABEL_MAX, pattern=syntax.DNS_LABEL_PATTERN),
]
DnsSubdomain = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=syntax.DNS_SUBDOMAIN_MAX, pattern=syntax.DNS_SUBDOMAIN_PATTERN
    ),
]
Subject = Annotated[
    str, StringConstraints(min_length=1, max_length=syntax.SUBJECT_MAX, pattern=syntax.SUBJECT_PATTERN)
]
LabelValue = Annotated[
    str, StringConstraints(max_length=syntax.LABEL_VALUE_MAX, pattern=syntax.LABEL_VALUE_PATTERN)
]
Reason = Annotated[
    str, StringConstraints(min_length=1, max_length=syntax.REASON_MAX, pattern=syntax.REASON_PATTERN)
]
Image = Annotated[
    str, StringConstraints(min_length=1, max_length=syntax.IMAGE_MAX, pattern=syntax.IMAGE_PATTERN)
]


def _label_key(key: str) -> str:
    if not syntax.is_label_key(key):
        raise RuleViolation([Problem("", ErrorKind.INVALID, LABEL_KEY_DETAIL, key)])
    return key


LABEL_KEY_DETAIL: Final = f"not {syntax.LABEL_KEY_MEANING}"
# Checked key by key in Python; a schema cannot constrain map keys, so the CRD has a CEL twin.
LabelKey = Annotated[str, AfterValidator(_label_key)]


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are errors, as at admission."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, use_enum_values=False
    )


class SpecModel(ApiModel):
    """Strict types, as the API server has them. Enum fields opt out (`strict=False`) only so that a
    string in Python selects its member; they still take nothing but one of their values."""

    model_config = ConfigDict(strict=True)


def hook_subject(hook: str, container: str) -> str:
    """The name a hook's events are recorded under, as in the upstream test: PostStart-regular-1."""
    return f"{hook}-{container}"


class Behavior(SpecModel):
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


class ProbeSpec(SpecModel):
    """An exec probe whose outcome is scripted: a startupProbe or a livenessProbe."""

    check: ProbeCheck = Field(
        ProbeCheck.STARTED,
        strict=False,
        description="Started: passes once this container instance has logged Started. "
        "Succeed: always passes. Fail: always fails.",
    )
    initial_delay_seconds: int = Field(0, ge=0, le=3600, description="As the probe's initialDelaySeconds.")
    period_seconds: int = Field(1, ge=1, le=3600, description="As the probe's periodSeconds.")
    timeout_seconds: int = Field(1, ge=1, le=3600, description="As the probe's timeoutSeconds.")
    failure_threshold: int = Field(3, ge=1, le=1000, description="As the probe's failureThreshold.")
    success_threshold: int = Field(
        1, ge=1, le=1, description="Must be 1: the Pod API refuses more on startup and liveness probes."
    )


class ReadinessProbeSpec(ProbeSpec):
    """A readinessProbe with a scripted outcome; unlike the others, it may need several successes."""

    success_threshold: int = Field(1, ge=1, le=1000, description="As the probe's successThreshold.")


class ContainerRestartPolicy(StrEnum):
    ALWAYS = "Always"


class ContainerSpec(SpecModel):
    """A container of the pod; InitContainerSpec and RegularContainerSpec add the rules of each list."""

    name: DnsLabel = Field(description="The container's name; events are recorded under it.")
    image: Image | None = Field(
        None,
        description="Image to run; defaults to the operator's test image. It must provide sh, date, "
        "sleep, cat, touch and printf.",
    )
    restart_policy: ContainerRestartPolicy | None = Field(
        None,
        strict=False,
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
    readiness_probe: ReadinessProbeSpec | None = Field(
        None, description="A readinessProbe with a scripted outcome."
    )

    @property
    def subjects(self) -> list[str]:
        names = [self.name]
        if self.post_start is not None:
            names.append(hook_subject(POST_START, self.name))
        if self.pre_stop is not None:
            names.append(hook_subject(PRE_STOP, self.name))
        return names


# Fields the Pod API refuses on an init container that is not a sidecar.
SIDECAR_ONLY: Final = (
    ("postStart", "post_start"),
    ("preStop", "pre_stop"),
    ("startupProbe", "startup_probe"),
    ("livenessProbe", "liveness_probe"),
    ("readinessProbe", "readiness_probe"),
)
SIDECAR_ONLY_DETAIL: Final = (
    "only allowed on a sidecar (an init container with restartPolicy Always); "
    "the Pod API refuses it on a plain init container"
)
REGULAR_RESTART_POLICY_DETAIL: Final = "only allowed on init containers, where Always makes a sidecar"


class InitContainerSpec(ContainerSpec):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"has(self.restartPolicy) || !has(self.{wire})",
                    message=SIDECAR_ONLY_DETAIL,
                    field_path=f".{wire}",
                    reason=CelReason.FORBIDDEN,
                )
                for wire, _ in SIDECAR_ONLY
            ]
        },
    )

    @model_validator(mode="after")
    def _check_sidecar_only(self) -> InitContainerSpec:
        if self.restart_policy is None:
            raise_problems(
                [
                    Problem(wire, ErrorKind.FORBIDDEN, SIDECAR_ONLY_DETAIL)
                    for wire, attribute in SIDECAR_ONLY
                    if getattr(self, attribute) is not None
                ]
            )
        return self


class RegularContainerSpec(ContainerSpec):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "!has(self.restartPolicy)",
                    message=REGULAR_RESTART_POLICY_DETAIL,
                    field_path=".restartPolicy",
                    reason=CelReason.FORBIDDEN,
                )
            ]
        },
    )

    @model_validator(mode="after")
    def _check_restart_policy(self) -> RegularContainerSpec:
        if self.restart_policy is not None:
            raise_problems([Problem("restartPolicy", ErrorKind.FORBIDDEN, REGULAR_RESTART_POLICY_DETAIL)])
        return self


class PodRestartPolicy(StrEnum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


# A taint's key has a label key's syntax: an optional DNS-subdomain prefix and a name of up to 63.
TaintKey = Annotated[str, StringConstraints(min_length=1, max_length=317), AfterValidator(_label_key)]


class TolerationOperator(StrEnum):
    EXISTS = "Exists"
    EQUAL = "Equal"


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class Toleration(SpecModel):
    """A toleration of the run's pod, as the Pod API's (without tolerationSeconds)."""

    key: TaintKey | None = Field(None, description="The taint key; empty with Exists tolerates every taint.")
    operator: TolerationOperator = Field(TolerationOperator.EQUAL, strict=False)
    value: LabelValue | None = Field(None, description="For Equal: the taint value.")
    effect: TaintEffect | None = Field(
        None, strict=False, description="The taint effect; empty tolerates every effect."
    )

    def tolerates(self, key: str, value: str | None, effect: str) -> bool:
        if self.effect is not None and self.effect.value != effect:
            return False
        if self.key is None:
            return self.operator == TolerationOperator.EXISTS
        if self.key != key:
            return False
        return self.operator == TolerationOperator.EXISTS or (self.value or "") == (value or "")


DUPLICATE_NAME_DETAIL: Final = "also the name of an init container"
# The messages of CEL rules name the first offending item, as the Python twins name each: joining a list
# built in CEL has no size that the API server's cost estimate can bound.
_FIRST_DUPLICATE: Final = cel_first_index(
    "self.containers", "c", "self.initContainers.exists(i, i.name == c.name)"
)
_DUPLICATE_NAMES_MESSAGE: Final = (
    f"{cel_string('spec.pod.containers[')} + {cel_index_text(_FIRST_DUPLICATE, MAX_CONTAINERS)} + "
    f"{cel_string(f'].name: {ErrorKind.DUPLICATE}: ')} + "
    f"{cel_quoted(f'self.containers[{_FIRST_DUPLICATE}].name')} + {cel_string(f': {DUPLICATE_NAME_DETAIL}')}"
)
_FIRST_BAD_KEY: Final = f"self.filter(k, !({syntax.cel_is_label_key('k')}))[0]"
_LABEL_KEY_MESSAGE: Final = f"{cel_quoted(_FIRST_BAD_KEY)} + {cel_string(f': {LABEL_KEY_DETAIL}')}"


class PodTemplate(SpecModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "!has(self.initContainers) || "
                    "self.containers.all(c, !self.initContainers.exists(i, i.name == c.name))",
                    message="container names must be unique across initContainers and containers",
                    message_expression=_DUPLICATE_NAMES_MESSAGE,
                ),
            ]
        }
    )

    restart_policy: PodRestartPolicy = Field(
        PodRestartPolicy.NEVER, strict=False, description="The pod's restartPolicy."
    )
    init_containers: list[InitContainerSpec] = Field(
        default_factory=list,
        max_length=MAX_INIT_CONTAINERS,
        description="Init containers, run in order. restartPolicy Always makes one a sidecar.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    containers: list[RegularContainerSpec] = Field(
        min_length=1,
        max_length=MAX_CONTAINERS,
        description="Regular containers.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    termination_grace_period_seconds: int | None = Field(None, ge=0, le=3600)
    node_name: DnsSubdomain | None = Field(
        None,
        description="Run on this node (a DNS subdomain, like every node name); bypasses the scheduler, "
        "as the kubelet e2e tests do.",
    )
    node_selector: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        max_length=MAX_NODE_SELECTOR,
        description="Schedule onto nodes with these labels. Keys and values follow the syntax of labels.",
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.all(k, {syntax.cel_is_label_key('k')})",
                    message=f"every key must be {syntax.LABEL_KEY_MEANING}",
                    message_expression=_LABEL_KEY_MESSAGE,
                )
            ]
        },
    )

    tolerations: list[Toleration] = Field(
        default_factory=list,
        max_length=MAX_NODE_SELECTOR,
        description="Tolerations of the pod; with everyNode they also decide which tainted nodes get a run.",
    )

    @model_validator(mode="after")
    def _check_names(self) -> PodTemplate:
        problems: list[Problem] = []
        for field, containers in (("initContainers", self.init_containers), ("containers", self.containers)):
            seen: set[str] = set()
            for j, c in enumerate(containers):
                if c.name in seen:  # the API server's check of x-kubernetes-list-map-keys
                    problems.append(Problem(f"{field}[{j}]", ErrorKind.DUPLICATE, value={"name": c.name}))
                seen.add(c.name)
        init_names = {c.name for c in self.init_containers}
        problems += [
            Problem(f"containers[{j}].name", ErrorKind.DUPLICATE, DUPLICATE_NAME_DETAIL, c.name)
            for j, c in enumerate(self.containers)
            if c.name in init_names
        ]
        raise_problems(problems)
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
    POD_RUNNING = "PodRunning"
    RESTART_COUNT = "RestartCount"
    CONTAINER_WAITING = "ContainerWaiting"
    CONTAINER_RUNNING = "ContainerRunning"


# Which fields each condition type takes. The rules of JudgeWhen, in Python and in CEL, come from this table.
JUDGE_FIELDS: Final = (
    TypedField.exactly(
        "container", JudgeType.RESTART_COUNT, JudgeType.CONTAINER_WAITING, JudgeType.CONTAINER_RUNNING
    ),
    TypedField(
        "count",
        "count",
        frozenset({JudgeType.RESTART_COUNT}),
        frozenset({JudgeType.RESTART_COUNT, JudgeType.CONTAINER_RUNNING}),
        is_string=False,
    ),
    TypedField.exactly("reason", JudgeType.CONTAINER_WAITING),
    TypedField("started", "started", frozenset(), frozenset({JudgeType.CONTAINER_RUNNING}), is_string=False),
)


class JudgeWhen(SpecModel):
    """A condition on the pod, as upstream's waits: when the run is judged (until then the operator only
    watches; past timeoutSeconds it gives up), or when an action is taken."""

    model_config = ConfigDict(
        json_schema_extra={"x-kubernetes-validations": typed_field_rules(JUDGE_FIELDS, JudgeType)}
    )

    type: JudgeType = Field(
        JudgeType.POD_TERMINAL,
        strict=False,
        description="PodTerminal: the pod Succeeded or Failed. PodFailed: the pod Failed (Succeeded is a "
        "failed run). PodRunning: the pod's phase is Running. RestartCount: a container's restartCount "
        "reached count. ContainerWaiting: a container is waiting with the given reason (for example "
        "ImagePullBackOff). ContainerRunning: a container is running (with count, after at least that "
        "many restarts; with started, once its started flag is that value).",
    )
    container: DnsLabel | None = Field(
        None, description="The container, for RestartCount, ContainerWaiting and ContainerRunning."
    )
    count: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="For RestartCount: the restartCount to reach; for ContainerRunning: the least "
        "restartCount of the running instance.",
    )
    reason: Reason | None = Field(None, description="For ContainerWaiting: the waiting reason to see.")
    started: bool | None = Field(
        None,
        description="For ContainerRunning: the container's started flag must be this (true once its "
        "startupProbe passed or, without one, once it runs).",
    )

    @model_validator(mode="after")
    def _check_fields(self) -> JudgeWhen:
        raise_problems(typed_field_problems(self, self.type.value, JUDGE_FIELDS))
        return self

    def describe(self) -> str:
        """The condition in words, for messages."""
        match self.type:
            case JudgeType.POD_TERMINAL:
                return "the pod is Succeeded or Failed"
            case JudgeType.POD_FAILED:
                return "the pod Failed"
            case JudgeType.POD_RUNNING:
                return "the pod is Running"
            case JudgeType.RESTART_COUNT:
                return f"{self.container} restartCount >= {self.count}"
            case JudgeType.CONTAINER_WAITING:
                return f"{self.container} is waiting with reason {self.reason}"
            case JudgeType.CONTAINER_RUNNING:
                extra = [f"restartCount >= {self.count}"] if self.count is not None else []
                extra += [f"started={str(self.started).lower()}"] if self.started is not None else []
                return f"{self.container} is running" + (f" ({', '.join(extra)})" if extra else "")


class ActionType(StrEnum):
    PATCH_IMAGE = "PatchImage"
    DELETE_POD = "DeletePod"


ACTION_FIELDS: Final = (
    TypedField.exactly("container", ActionType.PATCH_IMAGE),
    TypedField("image", "image", frozenset(), frozenset({ActionType.PATCH_IMAGE})),
    TypedField(
        "gracePeriodSeconds",
        "grace_period_seconds",
        frozenset(),
        frozenset({ActionType.DELETE_POD}),
        is_string=False,
    ),
)


class Action(SpecModel):
    """Something the operator does to the run's pod once a condition holds, as upstream's cases do
    mid-test: change a container's image, or delete the pod with a grace period. Actions are taken in
    order, each once; the run is judged after the last."""

    model_config = ConfigDict(
        json_schema_extra={"x-kubernetes-validations": typed_field_rules(ACTION_FIELDS, ActionType)}
    )

    type: ActionType = Field(
        strict=False,
        description="PatchImage: set a container's image (the kubelet restarts it with the new image). "
        "DeletePod: delete the pod; the operator holds it with a finalizer until it is judged, so its "
        "final statuses are read, as upstream does.",
    )
    when: JudgeWhen = Field(
        description="Take the action once this holds (and the actions before it were taken)."
    )
    container: DnsLabel | None = Field(None, description="For PatchImage: the container (init or regular).")
    image: Image | None = Field(
        None,
        description="For PatchImage: the new image; defaults to the operator's update image "
        "(LCO_UPDATE_IMAGE), which must provide what the test image does.",
    )
    grace_period_seconds: int | None = Field(
        None,
        ge=0,
        le=3600,
        description="For DeletePod: the deletion's grace period; defaults to the pod's "
        "terminationGracePeriodSeconds.",
    )

    @model_validator(mode="after")
    def _check_fields(self) -> Action:
        raise_problems(typed_field_problems(self, self.type.value, ACTION_FIELDS))
        return self

    def describe(self) -> str:
        if self.type == ActionType.PATCH_IMAGE:
            return f"set the image of {self.container} to {self.image or 'the update image'}"
        grace = (
            f" with a grace period of {self.grace_period_seconds}s"
            if self.grace_period_seconds is not None
            else ""
        )
        return f"delete the pod{grace}"


class ExpectationType(StrEnum):
    STARTS = "Starts"
    DOESNT_START = "DoesntStart"
    EXITS = "Exits"
    STARTS_BEFORE = "StartsBefore"
    EXITS_BEFORE = "ExitsBefore"
    EXITS_FIRST = "ExitsFirst"
    DOESNT_START_AFTER = "DoesntStartAfter"
    RUN_TOGETHER = "RunTogether"
    HAS_RESTARTED = "HasRestarted"
    HAS_NOT_RESTARTED = "HasNotRestarted"
    RESTART_COUNT_AT_LEAST = "RestartCountAtLeast"
    POD_PHASE = "PodPhase"
    WAITING_REASON = "WaitingReason"
    TERMINATED_WITH = "TerminatedWith"
    IS_RUNNING = "IsRunning"
    RUNS_IMAGE = "RunsImage"
    TERMINATES_WITHIN = "TerminatesWithin"


PAIRWISE: Final = frozenset(
    {
        ExpectationType.STARTS_BEFORE,
        ExpectationType.EXITS_BEFORE,
        ExpectationType.EXITS_FIRST,
        ExpectationType.DOESNT_START_AFTER,
        ExpectationType.RUN_TOGETHER,
    }
)
ABOUT_POD: Final = frozenset({ExpectationType.POD_PHASE, ExpectationType.TERMINATES_WITHIN})
# Expectations read from the pod's container statuses, so they name a container, never a hook.
ABOUT_CONTAINER_STATUS: Final = frozenset(
    {
        ExpectationType.RESTART_COUNT_AT_LEAST,
        ExpectationType.WAITING_REASON,
        ExpectationType.TERMINATED_WITH,
        ExpectationType.IS_RUNNING,
        ExpectationType.RUNS_IMAGE,
    }
)
_NEEDS_CONTAINER: Final = frozenset(set(ExpectationType) - ABOUT_POD)

# Which fields each expectation type takes. The rules of Expectation, in Python and in CEL, come from it.
EXPECTATION_FIELDS: Final = (
    TypedField("container", "container", _NEEDS_CONTAINER, _NEEDS_CONTAINER),
    TypedField("other", "other", PAIRWISE, PAIRWISE),
    TypedField.exactly("count", ExpectationType.RESTART_COUNT_AT_LEAST, is_string=False),
    TypedField.exactly("phase", ExpectationType.POD_PHASE),
    TypedField("image", "image", frozenset(), frozenset({ExpectationType.RUNS_IMAGE})),
    TypedField.exactly("seconds", ExpectationType.TERMINATES_WITHIN, is_string=False),
    TypedField(
        "reason",
        "reason",
        frozenset({ExpectationType.WAITING_REASON}),
        frozenset({ExpectationType.WAITING_REASON, ExpectationType.TERMINATED_WITH}),
    ),
    TypedField(
        "exitCode",
        "exit_code",
        frozenset(),
        frozenset({ExpectationType.TERMINATED_WITH}),
        is_string=False,
    ),
)
TERMINATED_WITH_DETAIL: Final = "TerminatedWith needs exitCode or reason, or both"


class PodPhase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class Expectation(SpecModel):
    """Something that must have happened, in the vocabulary of the upstream kubelet e2e test."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                *typed_field_rules(EXPECTATION_FIELDS, ExpectationType),
                cel(
                    "self.type != 'TerminatedWith' || has(self.exitCode) || has(self.reason)",
                    message=TERMINATED_WITH_DETAIL,
                    field_path=".exitCode",
                    reason=CelReason.REQUIRED,
                ),
            ]
        }
    )

    type: ExpectationType = Field(
        strict=False,
        description="Starts, DoesntStart, Exits, HasRestarted, HasNotRestarted: about container's events. "
        "StartsBefore, ExitsBefore (container exits before other starts), ExitsFirst (container exits "
        "before other exits, as upstream's current ExitsBefore), DoesntStartAfter (container "
        "does not start after other starts), RunTogether (both run and their runs overlap): about two "
        "subjects. RestartCountAtLeast, WaitingReason, TerminatedWith, IsRunning (its current state is "
        "running), RunsImage (its status reports the image): about a container's status. PodPhase, "
        "TerminatesWithin (every container had terminated within seconds of the pod's deletion): about "
        "the pod.",
    )
    container: Subject | None = Field(
        None, description="A container's name, or a hook's: PostStart-<container>, PreStop-<container>."
    )
    other: Subject | None = Field(None, description="The second subject of a pairwise expectation.")
    count: int | None = Field(
        None, ge=0, le=1000, description="For RestartCountAtLeast: the least restartCount."
    )
    phase: PodPhase | None = Field(None, strict=False, description="For PodPhase: the pod's phase.")
    reason: Reason | None = Field(
        None,
        description="For WaitingReason: the waiting reason; for TerminatedWith: the terminated reason "
        "(Completed, Error, ...).",
    )
    exit_code: int | None = Field(None, ge=0, le=255, description="For TerminatedWith: the exit code.")
    image: Image | None = Field(
        None,
        description="For RunsImage: the image; defaults to the operator's update image (LCO_UPDATE_IMAGE), "
        "the one a PatchImage action without an image sets.",
    )
    seconds: int | None = Field(
        None, ge=0, le=86400, description="For TerminatesWithin: the most seconds after the deletion request."
    )

    @model_validator(mode="after")
    def _check_fields(self) -> Expectation:
        problems = typed_field_problems(self, self.type.value, EXPECTATION_FIELDS)
        if self.type == ExpectationType.TERMINATED_WITH and self.exit_code is None and self.reason is None:
            problems.append(Problem("exitCode", ErrorKind.REQUIRED, TERMINATED_WITH_DETAIL))
        raise_problems(problems)
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
            case ExpectationType.EXITS_FIRST:
                return f"{c} exits before {o} exits"
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
            case ExpectationType.IS_RUNNING:
                return f"{c} is running"
            case ExpectationType.RUNS_IMAGE:
                return f"{c} runs image {self.image or 'the update image'}"
            case ExpectationType.TERMINATES_WITHIN:
                return f"every container terminated within {self.seconds}s of the pod's deletion"
            case ExpectationType.TERMINATED_WITH:
                wanted = [f"exit code {self.exit_code}"] if self.exit_code is not None else []
                wanted += [f"reason {self.reason}"] if self.reason is not None else []
                return f"{c} terminated with {' and '.join(wanted)}"


class PodRetention(StrEnum):
    DELETE = "Delete"
    KEEP_ON_FAILURE = "KeepOnFailure"
    KEEP = "Keep"


UNKNOWN_SUBJECT_DETAIL: Final = (
    "neither a container of the pod nor one of its hooks (PostStart-<container>, PreStop-<container>)"
)
HOOK_NOT_CONTAINER_DETAIL: Final = "reads a container's status, so it must name a container, not a hook"
NOT_A_CONTAINER_DETAIL: Final = "not a container of the pod"
HOOK_PREFIXES: Final = (f"{POST_START}-", f"{PRE_STOP}-")


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


def _cel_known_container(name: str) -> str:
    return (
        f"self.pod.containers.exists(c, c.name == {name}) || "
        f"(has(self.pod.initContainers) && self.pod.initContainers.exists(c, c.name == {name}))"
    )


def _cel_is_hook(subject: str) -> str:
    return " || ".join(f"{subject}.startsWith('{prefix}')" for prefix in HOOK_PREFIXES)


def _cel_each(items: str, field: str, refused: str, detail: str, max_items: int) -> JsonDict:
    """A rule on the spec refusing every item of the list `items` whose `field` makes `refused` (CEL, in
    terms of x) true. Its message names the first such item's index and value, in the Python twin's words."""
    applies = f"has(x.{field}) && ({refused})"
    first = cel_first_index(f"self.{items}", "x", applies)
    return cel(
        f"!has(self.{items}) || !self.{items}.exists(x, {applies})",
        message=f"every {items} item's {field}: {detail}",
        message_expression=(
            f"{cel_string(f'spec.{items}[')} + {cel_index_text(first, max_items)} + "
            f"{cel_string(f'].{field}: {ErrorKind.INVALID}: ')} + "
            f"{cel_quoted(f'self.{items}[{first}].{field}')} + {cel_string(f': {detail}')}"
        ),
    )


def _cel_each_expectation(field: str, refused: str, detail: str) -> JsonDict:
    return _cel_each("expectations", field, refused, detail, MAX_EXPECTATIONS)


def _cel_each_action(field: str) -> JsonDict:
    return _cel_each(
        "actions", field, f"!({_cel_known_container(f'x.{field}')})", NOT_A_CONTAINER_DETAIL, MAX_ACTIONS
    )


EVERY_NODE_DETAIL: Final = "not allowed with everyNode, which runs the test on each matching node"


class LifecycleTestSpec(SpecModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel_each_expectation(
                    "container", f"!({_cel_known_subject('x.container')})", UNKNOWN_SUBJECT_DETAIL
                ),
                _cel_each_expectation("other", f"!({_cel_known_subject('x.other')})", UNKNOWN_SUBJECT_DETAIL),
                _cel_each_expectation(
                    "container",
                    f"x.type in {cel_list(ABOUT_CONTAINER_STATUS)} && ({_cel_is_hook('x.container')})",
                    HOOK_NOT_CONTAINER_DETAIL,
                ),
                _cel_each_action("container"),
                _cel_each_action("when.container"),
                cel(
                    "!has(self.everyNode) || !self.everyNode || !has(self.pod.nodeName)",
                    message=EVERY_NODE_DETAIL,
                    field_path=".pod.nodeName",
                    reason=CelReason.FORBIDDEN,
                ),
                cel(
                    "!has(self.judgeWhen) || !has(self.judgeWhen.container) || "
                    + _cel_known_container("self.judgeWhen.container"),
                    message=NOT_A_CONTAINER_DETAIL,
                    message_expression=f"{cel_quoted('self.judgeWhen.container')} + "
                    f"{cel_string(f' is {NOT_A_CONTAINER_DETAIL}')}",
                    field_path=".judgeWhen.container",
                ),
            ]
        }
    )

    pod: PodTemplate = Field(description="The pod to run, with instrumented containers.")
    every_node: bool = Field(
        False,
        description="Run on every Ready node that pod.nodeSelector matches and whose NoSchedule and "
        "NoExecute taints pod.tolerations tolerate: the operator keeps one LifecycleTest per node (named "
        "<name>-<node>, owned by this one), and this test's status gathers their verdicts per node.",
    )
    judge_when: JudgeWhen = Field(default_factory=JudgeWhen, description="When to judge the run.")
    timeout_seconds: int | None = Field(
        None,
        ge=5,
        le=86400,
        description="Give up (reason TimedOut) when the judging condition is not met this many seconds after "
        "the pod was created, not counting the time it waited to be scheduled; a pod still unscheduled "
        "then is Inconclusive. Defaults to the operator's setting (300).",
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
        strict=False,
        description="Delete the pod after judging, keep it when the run failed (for debugging), or always "
        "keep it. Defaults to the operator's setting.",
    )
    actions: list[Action] = Field(
        default_factory=list,
        max_length=MAX_ACTIONS,
        description="What the operator does to the pod during the run, in order (upstream's image updates "
        "and deletions mid-test).",
    )
    expectations: list[Expectation] = Field(
        min_length=1, max_length=MAX_EXPECTATIONS, description="What must have happened for the run to pass."
    )

    @model_validator(mode="after")
    def _check_names(self) -> LifecycleTestSpec:
        subjects = set(self.pod.subjects)
        containers = {c.name for c in self.pod.all_containers}
        problems: list[Problem] = []
        for field in ("container", "other"):
            for i, e in enumerate(self.expectations):
                value = getattr(e, field)
                if value is not None and value not in subjects:
                    problems.append(
                        Problem(
                            f"expectations[{i}].{field}", ErrorKind.INVALID, UNKNOWN_SUBJECT_DETAIL, value
                        )
                    )
        problems += [
            Problem(f"expectations[{i}].container", ErrorKind.INVALID, HOOK_NOT_CONTAINER_DETAIL, e.container)
            for i, e in enumerate(self.expectations)
            if e.type in ABOUT_CONTAINER_STATUS
            and e.container is not None
            and e.container.startswith(HOOK_PREFIXES)
        ]
        if self.every_node and self.pod.node_name is not None:
            problems.append(Problem("pod.nodeName", ErrorKind.FORBIDDEN, EVERY_NODE_DETAIL))
        named = [("judgeWhen.container", self.judge_when.container)]
        for i, a in enumerate(self.actions):
            named += [
                (f"actions[{i}].container", a.container),
                (f"actions[{i}].when.container", a.when.container),
            ]
        problems += [
            Problem(path, ErrorKind.INVALID, NOT_A_CONTAINER_DETAIL, value)
            for path, value in named
            if value is not None and value not in containers
        ]
        raise_problems(problems)
        return self
