"""What the run code needs from the Kubernetes API, as a protocol, and the typed errors it raises (pure).

kube.KubeApi is the real implementation; the fast test tier drives the run code with an in-memory one.
Objects are plain dicts in the API's camelCase JSON shape.
"""

from __future__ import annotations

from typing import Any, Protocol


class KubeError(Exception):
    """A request to the API failed."""


class NotFound(KubeError):
    pass


class Conflict(KubeError):
    """The object exists already, or changed since it was read."""


class Invalid(KubeError):
    """The API refused the request as invalid (400, 403, 422): retrying will not help."""


class Transient(KubeError):
    """The API could not answer now; retrying later may help."""


class Api(Protocol):
    """Every call blocks, retries transient failures itself, and raises the errors above."""

    def create_pod(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]: ...

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]: ...

    def delete_pod(self, namespace: str, name: str, grace_period_seconds: int | None = None) -> None:
        """Delete a pod (with this grace period, else the pod's own); one that is gone already is not an
        error."""

    def patch_pod(self, namespace: str, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply a JSON patch to a pod; a failed `test` op raises Invalid."""

    def read_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> str | None:
        """A container instance's log, or None when that instance has none."""

    def get_test(self, namespace: str, name: str) -> dict[str, Any]: ...

    def patch_test_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str | None = None
    ) -> dict[str, Any]:
        """Merge-patch the status subresource; with resource_version, Conflict if the test changed."""

    def create_test(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a LifecycleTest (an everyNode test's child); Conflict when it exists."""

    def replace_test_spec(self, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Set a LifecycleTest's whole spec (a JSON patch replacing /spec)."""

    def delete_test(self, namespace: str, name: str) -> None:
        """Delete a LifecycleTest; one that is gone already is not an error."""

    def list_nodes(self) -> list[dict[str, Any]]: ...

    def get_node_lease(self, node: str) -> dict[str, Any]:
        """The node's heartbeat Lease (kube-node-lease namespace), which its kubelet renews."""
