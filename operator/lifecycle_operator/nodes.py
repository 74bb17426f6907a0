"""What the operator reads of a node (pure): its name, labels, readiness, taints and versions, and
whether a test's pod belongs on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from lifecycle_operator.api import PodTemplate

# Taints a pod pinned to a node by nodeName still meets: NoExecute evicts it, NoSchedule is the node's
# owner saying "not here", which an everyNode test honours too. PreferNoSchedule is only a preference.
BINDING_EFFECTS: Final = frozenset({"NoSchedule", "NoExecute"})


@dataclass(frozen=True)
class Taint:
    key: str
    value: str | None
    effect: str


@dataclass(frozen=True)
class NodeInfo:
    name: str
    ready: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    kubelet_version: str | None = None
    container_runtime_version: str | None = None

    @classmethod
    def read(cls, node: dict[str, Any]) -> NodeInfo:
        meta = node.get("metadata") or {}
        status = node.get("status") or {}
        info = status.get("nodeInfo") or {}
        conditions = status.get("conditions") or []
        return cls(
            name=str(meta.get("name") or ""),
            ready=any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions),
            labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
            taints=tuple(
                Taint(str(t.get("key") or ""), t.get("value"), str(t.get("effect") or ""))
                for t in (node.get("spec") or {}).get("taints") or []
            ),
            kubelet_version=info.get("kubeletVersion"),
            container_runtime_version=info.get("containerRuntimeVersion"),
        )


def matches(pod: PodTemplate, node: NodeInfo, *, require_ready: bool = True) -> bool:
    """Whether an everyNode test runs on this node: Ready, selected by the pod's nodeSelector, and every
    NoSchedule or NoExecute taint tolerated by the pod's tolerations."""
    if (require_ready and not node.ready) or not node.name:
        return False
    if any(node.labels.get(k) != v for k, v in pod.node_selector.items()):
        return False
    return all(
        any(t.tolerates(taint.key, taint.value, taint.effect) for t in pod.tolerations)
        for taint in node.taints
        if taint.effect in BINDING_EFFECTS
    )
