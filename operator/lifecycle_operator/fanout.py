"""Tests with everyNode (pure): one LifecycleTest per matching node, and their verdicts gathered back.

An everyNode test never runs a pod itself. It keeps one child LifecycleTest per matching node, named
<test>-<node>, owned by it and pinned to that node (spec.pod.nodeName), so each node's runs, queueing,
retries, metrics and alerts are those of an ordinary test. A Ready node that matches gets a child; a node
that is gone, or no longer matches by labels or taints, loses its child (a node that is only NotReady for
a while keeps it). The parent's status lists each child's verdict, and passes only when all of them do.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from lifecycle_operator import constants as c
from lifecycle_operator.api import InvalidSpecError, PodTemplate, parse_spec
from lifecycle_operator.api.status import NodeVerdict
from lifecycle_operator.nodes import NodeInfo, matches
from lifecycle_operator.pod_manifest import label_value
from lifecycle_operator.state import StatusView, TestState
from lifecycle_operator.status_patch import FALSE, TRUE, UNKNOWN, Patch, set_condition
from lifecycle_operator.times import format_time

MAX_NAME: Final = 253  # a DNS subdomain
# How many failing nodes the Succeeded message names before it says "and N more".
NAMED_NODES: Final = 5


def child_name(test: str, node: str) -> str:
    """<test>-<node>, cut and made unique with a hash when longer than a name may be."""
    name = f"{test}-{node}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9].rstrip('-.')}-{digest}"


def child_spec(spec: Mapping[str, Any], node: str) -> dict[str, Any]:
    """The parent's spec for one node: pinned to it, without everyNode."""
    out = copy.deepcopy(dict(spec))
    out.pop("everyNode", None)
    out["pod"] = {**out.get("pod", {}), "nodeName": node}
    return out


def child_body(parent: TestState, node: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{c.GROUP}/{c.VERSION}",
        "kind": c.KIND,
        "metadata": {
            "name": child_name(parent.name, node),
            "namespace": parent.namespace,
            "labels": {
                c.LABEL_PARENT: label_value(parent.name),
                c.LABEL_NODE: label_value(node),
                c.LABEL_MANAGED_BY: c.MANAGED_BY,
            },
            "ownerReferences": [
                {
                    "apiVersion": f"{c.GROUP}/{c.VERSION}",
                    "kind": c.KIND,
                    "name": parent.name,
                    "uid": parent.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": child_spec(parent.spec, node),
    }


@dataclass(frozen=True)
class Child:
    """What the parent needs of one of its children, read from the child's body."""

    name: str
    parent: str
    node: str
    spec: dict[str, Any]
    status: StatusView
    kubelet_version: str | None = None
    container_runtime_version: str | None = None
    failed: tuple[str, ...] = ()

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Child | None:
        """The child of an everyNode test, or None for any other test."""
        meta = body.get("metadata") or {}
        owners = [
            o for o in meta.get("ownerReferences") or [] if o.get("kind") == c.KIND and o.get("controller")
        ]
        spec = body.get("spec") or {}
        node = (spec.get("pod") or {}).get("nodeName")
        if not owners or not isinstance(node, str):
            return None
        raw = body.get("status") or {}
        failed = tuple(
            str(e.get("description"))
            for e in raw.get("expectations") or []
            if isinstance(e, dict) and e.get("passed") is False
        )
        return cls(
            name=str(meta.get("name")),
            parent=str(owners[0].get("name")),
            node=node,
            spec=dict(spec),
            status=StatusView.read(raw),
            kubelet_version=raw.get("kubeletVersion"),
            container_runtime_version=raw.get("containerRuntimeVersion"),
            failed=failed,
        )


@dataclass(frozen=True)
class Plan:
    create: list[str] = field(default_factory=list)  # nodes
    update: list[Child] = field(default_factory=list)  # children whose spec is not the parent's any more
    delete: list[Child] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def plan(parent: TestState, pod: PodTemplate, children: Iterable[Child], nodes: Iterable[NodeInfo]) -> Plan:
    """The children to create, bring up to date and delete, for the nodes as they are now."""
    by_node = {n.name: n for n in nodes}
    have = {child.node: child for child in children}
    result = Plan()
    for name, info in sorted(by_node.items()):
        if name not in have and matches(pod, info):
            result.create.append(name)
    for name, child in sorted(have.items()):
        node = by_node.get(name)
        # A node only NotReady for a while keeps its child: it has not left.
        if node is None or not matches(pod, node, require_ready=False):
            result.delete.append(child)
        elif not same_spec(child.spec, child_spec(parent.spec, name)):
            result.update.append(child)
    return result


def same_spec(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a child's stored spec is the one wanted, as models: the API server fills in the CRD's
    defaults (everyNode: false, ...), so the stored form never equals what was sent field for field."""
    try:
        return parse_spec(dict(stored)) == parse_spec(dict(wanted))
    except InvalidSpecError:
        return False


def _succeeded(status: StatusView) -> tuple[str | None, str]:
    condition = next((x for x in status.conditions if x.get("type") == c.CONDITION_SUCCEEDED), {})
    return condition.get("reason"), str(condition.get("message") or "")


def verdicts(children: Iterable[Child]) -> list[NodeVerdict]:
    out = []
    for child in sorted(children, key=lambda x: x.node):
        finished = child.status.finished or child.status.result == c.RESULT_ERROR
        reason, _ = _succeeded(child.status)
        out.append(
            NodeVerdict(
                node=child.node,
                test=child.name,
                kubelet_version=child.kubelet_version,
                container_runtime_version=child.container_runtime_version,
                result=child.status.result,
                reason=reason if finished else None,
                run=child.status.run or None,
                completion_time=format_time(child.status.completion_time)
                if child.status.completion_time and finished
                else None,
                failed=list(child.failed) if finished else [],
            )
        )
    return out


def gathered(parent: TestState, children: Iterable[Child], now: datetime) -> Patch:
    """The parent's status from its children's: each node's verdict, and Succeeded only when all passed."""
    rows = verdicts(children)
    passed = [r for r in rows if r.result == c.RESULT_PASSED]
    failed = [r for r in rows if r.result in {c.RESULT_FAILED, c.RESULT_ERROR}]
    inconclusive = [r for r in rows if r.result == c.RESULT_INCONCLUSIVE]
    if not rows:
        result, succeeded = c.RESULT_QUEUED, (FALSE, c.REASON_NO_NODES, "no Ready node matches the test")
    elif failed:
        names = ", ".join(f"{r.node} ({r.reason})" for r in failed[:NAMED_NODES])
        more = f" and {len(failed) - NAMED_NODES} more" if len(failed) > NAMED_NODES else ""
        message = f"{len(failed)} of {len(rows)} nodes failed: {names}{more}"
        result, succeeded = c.RESULT_FAILED, (FALSE, c.REASON_NODES_FAILED, message)
    elif len(passed) == len(rows):
        message = f"all {len(rows)} nodes passed"
        result, succeeded = c.RESULT_PASSED, (TRUE, c.REASON_NODES_PASSED, message)
    elif inconclusive and len(passed) + len(inconclusive) == len(rows):
        message = f"{len(inconclusive)} of {len(rows)} nodes inconclusive"
        result, succeeded = c.RESULT_INCONCLUSIVE, (UNKNOWN, c.REASON_INCONCLUSIVE, message)
    else:
        waiting = len(rows) - len(passed) - len(inconclusive)
        message = f"{waiting} of {len(rows)} nodes have no verdict yet"
        result, succeeded = c.RESULT_RUNNING, (UNKNOWN, c.REASON_NODES_PENDING, message)
    conditions = set_condition(
        list(parent.status.conditions), c.CONDITION_SUCCEEDED, succeeded, parent.generation, now
    )
    return {
        "observedGeneration": parent.generation,
        "result": result,
        "summary": f"{len(passed)}/{len(rows)} nodes",
        "nodes": [r.model_dump(by_alias=True, exclude_none=True) for r in rows],
        "conditions": conditions,
    }


def changes(current: Mapping[str, Any], patch: Patch) -> bool:
    """Whether the patch would change the status: the parent is written only when it would."""
    for key, value in patch.items():
        if key == "conditions":
            mine = {x["type"]: {k: v for k, v in x.items() if k != "lastTransitionTime"} for x in value}
            theirs = {
                x.get("type"): {k: v for k, v in x.items() if k != "lastTransitionTime"}
                for x in current.get("conditions") or []
                if isinstance(x, dict)
            }
            if any(theirs.get(t) != cond for t, cond in mine.items()):
                return True
        elif current.get(key) != value:
            return True
    return False
