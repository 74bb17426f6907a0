"""From a LifecycleTest's spec to the manifest of its instrumented pod (pure).

The pod passes the Pod Security "restricted" profile and carries memory requests and limits, so a test
can run in a locked-down namespace and cannot starve the node it checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from lifecycle_operator import constants as c
from lifecycle_operator.actions import FINALIZER, deletes_pod
from lifecycle_operator.api import ContainerSpec, LifecycleTestSpec, ProbeSpec
from lifecycle_operator.api.spec import POST_START, PRE_STOP, hook_subject
from lifecycle_operator.instrumentation import container_command, hook_command, probe_command
from lifecycle_operator.settings import Settings

RUN_AS: Final = 65532
MAX_POD_NAME: Final = 63


@dataclass(frozen=True)
class Owner:
    """The LifecycleTest a pod belongs to."""

    name: str
    namespace: str
    uid: str


def pod_name(test_name: str, run: int) -> str:
    """A deterministic name, so a restarted operator finds the pod of a run instead of making another.

    The test's name is a DNS subdomain; so is the pod's, and at most 63 characters long so that it is
    also the pod's hostname. A long test name is cut and made unique with a hash; the cut never ends in
    '.' or '-', which may not stand before the '-' that follows.
    """
    suffix = f"-run{run}"
    if len(test_name) + len(suffix) <= MAX_POD_NAME:
        return test_name + suffix
    digest = hashlib.sha256(test_name.encode()).hexdigest()[:8]
    keep = MAX_POD_NAME - len(suffix) - len(digest) - 1
    return f"{test_name[:keep].rstrip('-.')}-{digest}{suffix}"


def label_value(name: str) -> str:
    """A label value (at most 63 characters) that stands for a resource name of any length."""
    if len(name) <= MAX_POD_NAME:
        return name
    return f"{name[:54].rstrip('-.')}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _probe(p: ProbeSpec) -> dict[str, Any]:
    return {
        "exec": {"command": probe_command(p.check)},
        "initialDelaySeconds": p.initial_delay_seconds,
        "periodSeconds": p.period_seconds,
        "timeoutSeconds": p.timeout_seconds,
        "failureThreshold": p.failure_threshold,
        "successThreshold": p.success_threshold,
    }


def _container(spec: ContainerSpec, settings: Settings) -> dict[str, Any]:
    memory = settings.test_memory
    container: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image or settings.test_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": container_command(spec.name, spec.behavior),
        "resources": {"requests": {"memory": memory}, "limits": {"memory": memory}},
        "volumeMounts": [{"name": c.EVENT_VOLUME, "mountPath": c.EVENT_DIR}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
        },
        "terminationMessagePolicy": "File",
    }
    if spec.restart_policy is not None:
        container["restartPolicy"] = spec.restart_policy.value
    lifecycle: dict[str, Any] = {}
    for hook, behavior, key in (
        (POST_START, spec.post_start, "postStart"),
        (PRE_STOP, spec.pre_stop, "preStop"),
    ):
        if behavior is not None:
            command = hook_command(hook_subject(hook, spec.name), spec.name, behavior)
            lifecycle[key] = {"exec": {"command": command}}
    if lifecycle:
        container["lifecycle"] = lifecycle
    for probe, key in (
        (spec.startup_probe, "startupProbe"),
        (spec.liveness_probe, "livenessProbe"),
        (spec.readiness_probe, "readinessProbe"),
    ):
        if probe is not None:
            container[key] = _probe(probe)
    return container


def build_pod(spec: LifecycleTestSpec, owner: Owner, run: int, settings: Settings) -> dict[str, Any]:
    """The pod manifest of one run of a LifecycleTest."""
    pod = spec.pod
    pod_spec: dict[str, Any] = {
        "restartPolicy": pod.restart_policy.value,
        "initContainers": [_container(x, settings) for x in pod.init_containers],
        "containers": [_container(x, settings) for x in pod.containers],
        "volumes": [{"name": c.EVENT_VOLUME, "emptyDir": {"sizeLimit": "1Mi"}}],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }
    if pod.termination_grace_period_seconds is not None:
        pod_spec["terminationGracePeriodSeconds"] = pod.termination_grace_period_seconds
    if pod.node_name is not None:
        pod_spec["nodeName"] = pod.node_name
    if pod.node_selector:
        pod_spec["nodeSelector"] = dict(pod.node_selector)
    if pod.tolerations:
        pod_spec["tolerations"] = [
            t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in pod.tolerations
        ]
    metadata: dict[str, Any] = {
        "name": pod_name(owner.name, run),
        "namespace": owner.namespace,
        "labels": {
            c.LABEL_TEST: label_value(owner.name),
            c.LABEL_RUN: str(run),
            c.LABEL_MANAGED_BY: c.MANAGED_BY,
        },
        "ownerReferences": [
            {
                "apiVersion": f"{c.GROUP}/{c.VERSION}",
                "kind": c.KIND,
                "name": owner.name,
                "uid": owner.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if deletes_pod(spec):
        metadata["finalizers"] = [FINALIZER]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}
