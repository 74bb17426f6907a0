"""An in-memory apiclient.Api: tests and pods as dicts, resourceVersions, and failures on demand.

It keeps only what the run code relies on: a create of an existing pod is a Conflict, a status patch
with a stale resourceVersion is a Conflict, reads of missing objects are NotFound, a status merge
patch replaces lists whole and removes None fields. Every write is recorded, so a test can count them.
"""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lifecycle_operator import constants as c
from lifecycle_operator.apiclient import Conflict, Invalid, KubeError, NotFound

Key = tuple[str, str]


@dataclass
class FakeApi:
    tests: dict[Key, dict[str, Any]] = field(default_factory=dict)
    pods: dict[Key, dict[str, Any]] = field(default_factory=dict)
    logs: dict[tuple[str, str, bool], str] = field(default_factory=dict)  # (pod, container, previous)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    leases: dict[str, dict[str, Any]] = field(default_factory=dict)  # by node
    writes: list[tuple[str, str]] = field(default_factory=list)  # (verb, name)
    # Failures to raise, in order, by method name; a callable is called instead (to change the world).
    failures: dict[str, deque[KubeError | Callable[[], None]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- set-up

    def add_test(
        self, name: str, spec: dict[str, Any], status: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {
            "apiVersion": f"{c.GROUP}/{c.VERSION}",
            "kind": c.KIND,
            "metadata": {
                "namespace": "ns",
                "name": name,
                "uid": f"uid-{name}",
                "generation": 1,
                "resourceVersion": str(next(self._versions)),
            },
            "spec": spec,
        }
        if status is not None:
            body["status"] = status
        self.tests[("ns", name)] = body
        return body

    def fail(self, method: str, *errors: KubeError | Callable[[], None]) -> None:
        self.failures[method].extend(errors)

    def _maybe_fail(self, method: str) -> None:
        queue = self.failures.get(method)
        if queue:
            failure = queue.popleft()
            if isinstance(failure, KubeError):
                raise failure
            failure()

    def test(self, name: str) -> dict[str, Any]:
        return self.tests[("ns", name)]

    def status(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = self.test(name).get("status") or {}
        return status

    def set_pod_status(self, name: str, status: dict[str, Any], **meta: Any) -> dict[str, Any]:
        pod = self.pods[("ns", name)]
        pod["status"] = status
        pod["metadata"].update(meta)
        return copy.deepcopy(pod)

    def bump(self, name: str) -> None:
        """Someone else wrote the test (a label, an annotation): its resourceVersion moves on."""
        self.test(name)["metadata"]["resourceVersion"] = str(next(self._versions))

    # -- apiclient.Api

    def create_pod(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        self._maybe_fail("create_pod")
        name = manifest["metadata"]["name"]
        if (namespace, name) in self.pods:
            raise Conflict(f"pods {name!r} already exists")
        self.writes.append(("create", name))
        pod = copy.deepcopy(manifest)
        pod["metadata"]["uid"] = f"pod-uid-{next(self._versions)}"
        pod.setdefault("status", {"phase": "Pending"})
        self.pods[(namespace, name)] = pod
        return copy.deepcopy(pod)

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        self._maybe_fail("get_pod")
        if (namespace, name) not in self.pods:
            raise NotFound(f"pods {name!r} not found")
        return copy.deepcopy(self.pods[(namespace, name)])

    def delete_pod(self, namespace: str, name: str, grace_period_seconds: int | None = None) -> None:
        """As the API server: a pod with finalizers is only marked for deletion, until they are gone."""
        self._maybe_fail("delete_pod")
        self.writes.append(("delete", name))
        pod = self.pods.get((namespace, name))
        if pod is None:
            return
        meta = pod["metadata"]
        if not meta.get("finalizers"):
            del self.pods[(namespace, name)]
        elif "deletionTimestamp" not in meta:
            grace = grace_period_seconds if grace_period_seconds is not None else 30
            at = datetime.now(UTC) + timedelta(seconds=grace)
            meta["deletionTimestamp"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            meta["deletionGracePeriodSeconds"] = grace

    def patch_pod(self, namespace: str, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """A JSON patch of the ops the operator uses (test, replace, remove); a failed test is Invalid."""
        self._maybe_fail("patch_pod")
        if (namespace, name) not in self.pods:
            raise NotFound(f"pods {name!r} not found")
        pod = copy.deepcopy(self.pods[(namespace, name)])
        for op in ops:
            *parents, last = op["path"].strip("/").split("/")
            target: Any = pod
            for part in parents:
                target = target[int(part)] if isinstance(target, list) else target[part]
            key: Any = int(last) if isinstance(target, list) else last
            if op["op"] == "test" and target[key] != op["value"]:
                raise Invalid(f"the test of {op['path']} failed")
            if op["op"] == "replace":
                target[key] = op["value"]
            elif op["op"] == "remove":
                del target[key]
        self.writes.append(("patch-pod", name))
        meta = pod["metadata"]
        if "deletionTimestamp" in meta and not meta.get("finalizers"):
            del self.pods[(namespace, name)]
        else:
            self.pods[(namespace, name)] = pod
        return copy.deepcopy(pod)

    def read_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> str | None:
        self._maybe_fail("read_log")
        return self.logs.get((pod, container, previous))

    def get_test(self, namespace: str, name: str) -> dict[str, Any]:
        self._maybe_fail("get_test")
        if (namespace, name) not in self.tests:
            raise NotFound(f"lifecycletests {name!r} not found")
        return copy.deepcopy(self.tests[(namespace, name)])

    def patch_test_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str | None = None
    ) -> dict[str, Any]:
        self._maybe_fail("patch_test_status")
        if (namespace, name) not in self.tests:
            raise NotFound(f"lifecycletests {name!r} not found")
        test = self.tests[(namespace, name)]
        if resource_version is not None and resource_version != test["metadata"]["resourceVersion"]:
            raise Conflict("the object has been modified")
        merged = {**(test.get("status") or {}), **copy.deepcopy(status)}
        test["status"] = {k: v for k, v in merged.items() if v is not None}
        test["metadata"]["resourceVersion"] = str(next(self._versions))
        self.writes.append(("patch", name))
        return copy.deepcopy(test)

    def create_test(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        self._maybe_fail("create_test")
        name = body["metadata"]["name"]
        if (namespace, name) in self.tests:
            raise Conflict(f"lifecycletests {name!r} already exists")
        self.writes.append(("create-test", name))
        test = copy.deepcopy(body)
        test["metadata"] |= {
            "namespace": namespace,
            "uid": f"uid-{name}",
            "generation": 1,
            "resourceVersion": str(next(self._versions)),
        }
        self.tests[(namespace, name)] = test
        return copy.deepcopy(test)

    def replace_test_spec(self, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        self._maybe_fail("replace_test_spec")
        if (namespace, name) not in self.tests:
            raise NotFound(f"lifecycletests {name!r} not found")
        test = self.tests[(namespace, name)]
        test["spec"] = copy.deepcopy(spec)
        test["metadata"]["generation"] += 1
        test["metadata"]["resourceVersion"] = str(next(self._versions))
        self.writes.append(("replace-spec", name))
        return copy.deepcopy(test)

    def delete_test(self, namespace: str, name: str) -> None:
        self._maybe_fail("delete_test")
        self.writes.append(("delete-test", name))
        self.tests.pop((namespace, name), None)

    def list_nodes(self) -> list[dict[str, Any]]:
        self._maybe_fail("list_nodes")
        return copy.deepcopy(self.nodes)

    def get_node_lease(self, node: str) -> dict[str, Any]:
        self._maybe_fail("get_node_lease")
        if node not in self.leases:
            raise NotFound(f"leases {node!r} not found")
        return copy.deepcopy(self.leases[node])

    def renew_lease(self, node: str, at: datetime) -> None:
        self.leases[node] = {"spec": {"renewTime": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}
