"""The status of a LifecycleTest, by the Kubernetes API conventions.

`conditions` carries the machine-readable truth (Succeeded, Running); `result` and `summary` exist only
for printer columns. The timeline and history are bounded so the object stays small.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from lifecycle_operator.api.spec import ApiModel

MAX_TIMELINE: Final = 200
MAX_HISTORY: Final = 10
MAX_CONDITION_MESSAGE: Final = 32768  # metav1.Condition's own cap
MAX_EXPECTATION_MESSAGE: Final = 1024
MAX_MALFORMED_SAMPLE: Final = 3
MAX_MALFORMED_LINE: Final = 256


class Condition(ApiModel):
    """metav1.Condition."""

    type: str = Field(max_length=316)
    status: str = Field(pattern="^(True|False|Unknown)$")
    observed_generation: int | None = Field(None, ge=0)
    last_transition_time: str = Field(description="RFC 3339 time of the last change of status.")
    reason: str = Field(max_length=1024, pattern="^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    message: str = Field("", max_length=32768)


class ExpectationResult(ApiModel):
    type: str
    description: str = Field(description="The expectation in words.")
    passed: bool
    message: str = Field(description="What was seen.")


class TimelineEvent(ApiModel):
    """One line an instrumented command recorded."""

    subject: str = Field(description="The container, or the hook as PostStart-<container>.")
    verb: str = Field(description="Starting, Started, Delaying, Looping, Terminating or Exiting.")
    uptime: float = Field(description="Node uptime in seconds (hundredths); orders the events.")
    time: str = Field(description="Wall-clock time, to the second.")
    detail: str | None = None


class RunRecord(ApiModel):
    run: int
    result: str
    reason: str
    passed: int
    total: int
    node_name: str | None = None
    start_time: str | None = None
    completion_time: str | None = None


class NodeVerdict(ApiModel):
    """The verdict of one node's test, for a test with everyNode."""

    node: str
    test: str = Field(description="The LifecycleTest that runs on this node.")
    kubelet_version: str | None = None
    container_runtime_version: str | None = None
    result: str | None = Field(None, description="As that test's result; unset until it has one.")
    reason: str | None = None
    run: int | None = None
    completion_time: str | None = None
    failed: list[str] = Field(default_factory=list, description="The expectations that failed, in words.")


class LifecycleTestStatus(ApiModel):
    observed_generation: int | None = Field(
        None, description="The metadata.generation of the spec the current or last run used."
    )
    result: str | None = Field(
        None,
        description="Queued, Running, Passed, Failed, Inconclusive or Error (for printer columns); "
        "the Succeeded condition is the machine-readable verdict.",
    )
    summary: str | None = Field(
        None, description="Expectations passed out of total, as 5/6; with everyNode, nodes passed of matched."
    )
    run: int | None = Field(None, ge=0, description="The number of the current or last run, from 1.")
    attempt: int | None = Field(
        None,
        ge=1,
        description="Attempt at the current run's verdict: an inconclusive run is tried again, up to a "
        "limit.",
    )
    queued_time: str | None = Field(
        None, description="When the next run was queued, waiting for a slot on its node."
    )
    pod_name: str | None = None
    node_name: str | None = None
    kubelet_version: str | None = Field(None, description="The kubelet version of the last run's node.")
    container_runtime_version: str | None = Field(
        None, description="The container runtime of the last run's node, as the node reports it."
    )
    nodes: list[NodeVerdict] = Field(
        default_factory=list,
        description="With everyNode: each matching node's verdict.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["node"]},
    )
    start_time: str | None = None
    completion_time: str | None = None
    deadline: str | None = Field(None, description="When the current run times out.")
    expectations: list[ExpectationResult] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list, max_length=MAX_TIMELINE)
    timeline_truncated: bool = Field(False, description="True when the timeline was cut to its last events.")
    malformed_lines: int | None = Field(
        None, ge=0, description="Lines the containers printed that are not events; they were ignored."
    )
    malformed_sample: list[Annotated[str, Field(max_length=MAX_MALFORMED_LINE)]] = Field(
        default_factory=list,
        max_length=MAX_MALFORMED_SAMPLE,
        description="The first few of those lines, cut to 256 characters.",
    )
    evidence: list[str] = Field(
        default_factory=list,
        description="Where each container's events were read from: termination message or log.",
    )
    history: list[RunRecord] = Field(default_factory=list, max_length=MAX_HISTORY)
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
