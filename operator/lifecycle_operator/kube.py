"""The one place that talks to the Kubernetes API (kopf's own watching aside): apiclient.Api, for real.

It speaks plain dicts in the API's camelCase JSON shape, turns HTTP failures into the typed errors of
apiclient, and retries transient failures with backoff. Every call blocks; call them from sync kopf
handlers (kopf runs those in threads) or through asyncio.to_thread.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Concatenate, Final, ParamSpec, TypeVar, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from lifecycle_operator import constants as c
from lifecycle_operator.apiclient import Conflict, Invalid, KubeError, NotFound, Transient

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A", bound="KubeApi")

# Told of every request KubeApi makes: (its call, e.g. "patch_test_status"; its outcome, "ok", the HTTP
# status of a failure, or "error" when none came back; the seconds it took).
RequestObserver = Callable[[str, str, float], None]

RETRIES: Final = 4
BACKOFF_SECONDS: Final = 0.5
TRANSIENT_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
STARTUP_TIMEOUT_SECONDS: Final = 4
NODE_LEASE_NAMESPACE: Final = "kube-node-lease"


__all__ = ["Conflict", "Invalid", "KubeApi", "KubeError", "NotFound", "Transient", "login", "retried"]
# How much of a response body that is not JSON goes into an error message.
MAX_ERROR_BODY: Final = 500


def _typed(e: ApiException) -> KubeError:
    status = int(e.status or 0)
    message = f"{e.status} {e.reason}: {_api_message(e)}"
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Conflict(message)
    if status in TRANSIENT_STATUSES or status == 0:
        return Transient(message)
    return Invalid(message)


def _api_message(e: ApiException) -> str:
    body = e.body.decode() if isinstance(e.body, bytes) else str(e.body or "")
    try:
        decoded = json.loads(body)
        return str(decoded.get("message", body))
    except ValueError:
        return body[:MAX_ERROR_BODY]


def retried(fn: Callable[P, T]) -> Callable[P, T]:
    """Retry transient failures with jittered exponential backoff, then raise Transient."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(RETRIES):
            try:
                return fn(*args, **kwargs)
            except ApiException as e:
                error = _typed(e)
            except (HTTPError, OSError) as e:
                error = Transient(f"{type(e).__name__}: {e}")
            if not isinstance(error, Transient) or attempt == RETRIES - 1:
                raise error
            delay = BACKOFF_SECONDS * 2**attempt * (0.5 + random.random())
            log.warning("%s failed (%s); retrying in %.1fs", fn.__name__, error, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    return wrapper


@functools.cache
def _api() -> client.ApiClient:
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return client.ApiClient()


def login() -> None:
    """Load credentials once, early, so a missing kubeconfig is reported at start-up."""
    _api()


def check_access() -> None:
    """One quick request, no retries: the API server answers and lets us list nodes (for capacity)."""
    try:
        _core().list_node(limit=1, _request_timeout=STARTUP_TIMEOUT_SECONDS)
    except ApiException as e:
        raise _typed(e) from e
    except (HTTPError, OSError) as e:
        raise Transient(f"{type(e).__name__}: {e}") from e


def _core() -> client.CoreV1Api:
    return client.CoreV1Api(_api())


def _custom() -> client.CustomObjectsApi:
    return client.CustomObjectsApi(_api())


def _json(response: Any) -> dict[str, Any]:
    """The body of a call made with _preload_content=False, as the API's JSON. The client's typed models
    are skipped: building a V1Pod and turning it back into a dict costs more CPU than the request."""
    result: dict[str, Any] = json.loads(response.data)
    return result


def _unobserved(call: str, code: str, seconds: float) -> None:
    """For a KubeApi whose requests nobody counts (the CLI's offline tools)."""


def _observed(fn: Callable[Concatenate[A, P], T]) -> Callable[Concatenate[A, P], T]:
    """Tell the KubeApi's observer of each attempt of a request: what it was, how it ended, how long."""

    @functools.wraps(fn)
    def wrapper(api: A, /, *args: P.args, **kwargs: P.kwargs) -> T:
        started = time.monotonic()
        code = "error"
        try:
            result = fn(api, *args, **kwargs)
            code = "ok"
            return result
        except ApiException as e:
            code = str(e.status or "error")
            raise
        finally:
            api.observe(fn.__name__, code, time.monotonic() - started)

    return wrapper


class KubeApi:
    """apiclient.Api over the kubernetes client."""

    def __init__(self, observe: RequestObserver = _unobserved) -> None:
        self.observe = observe

    @retried
    @_observed
    def create_pod(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        pod = client.V1Pod.model_validate(manifest)
        return _json(_core().create_namespaced_pod(namespace, pod, _preload_content=False))

    @retried
    @_observed
    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return _json(_core().read_namespaced_pod(name, namespace, _preload_content=False))

    @retried
    @_observed
    def delete_pod(self, namespace: str, name: str, grace_period_seconds: int | None = None) -> None:
        try:
            _core().delete_namespaced_pod(
                name,
                namespace,
                propagation_policy="Background",
                grace_period_seconds=grace_period_seconds,
                _preload_content=False,
            )
        except ApiException as e:
            if e.status != 404:
                raise

    @retried
    @_observed
    def patch_pod(self, namespace: str, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        return _json(
            _core().patch_namespaced_pod(
                name, namespace, ops, _content_type="application/json-patch+json", _preload_content=False
            )
        )

    @retried
    @_observed
    def read_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> str | None:
        """A container instance's log, or None when that instance has none (never ran, or was removed)."""
        try:
            text: str = _core().read_namespaced_pod_log(
                pod, namespace, container=container, previous=previous
            )
            return text
        except ApiException as e:
            if e.status in {400, 404}:
                return None
            raise

    @retried
    @_observed
    def get_test(self, namespace: str, name: str) -> dict[str, Any]:
        obj = _custom().get_namespaced_custom_object(c.GROUP, c.VERSION, namespace, c.PLURAL, name)
        return cast(dict[str, Any], obj)

    @retried
    @_observed
    def patch_test_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str | None = None
    ) -> dict[str, Any]:
        """Merge-patch the status subresource; with resource_version, fail with Conflict if it changed."""
        body: dict[str, Any] = {"status": status}
        if resource_version is not None:
            body["metadata"] = {"resourceVersion": resource_version}
        obj = _custom().patch_namespaced_custom_object_status(
            c.GROUP, c.VERSION, namespace, c.PLURAL, name, body, _content_type="application/merge-patch+json"
        )
        return cast(dict[str, Any], obj)

    @retried
    @_observed
    def create_test(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        obj = _custom().create_namespaced_custom_object(c.GROUP, c.VERSION, namespace, c.PLURAL, body)
        return cast(dict[str, Any], obj)

    @retried
    @_observed
    def replace_test_spec(self, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        obj = _custom().patch_namespaced_custom_object(
            c.GROUP,
            c.VERSION,
            namespace,
            c.PLURAL,
            name,
            [{"op": "replace", "path": "/spec", "value": spec}],
            _content_type="application/json-patch+json",
        )
        return cast(dict[str, Any], obj)

    @retried
    @_observed
    def delete_test(self, namespace: str, name: str) -> None:
        try:
            _custom().delete_namespaced_custom_object(
                c.GROUP, c.VERSION, namespace, c.PLURAL, name, propagation_policy="Background"
            )
        except ApiException as e:
            if e.status != 404:
                raise

    @retried
    @_observed
    def list_nodes(self) -> list[dict[str, Any]]:
        nodes = _json(_core().list_node(_preload_content=False))
        return list(nodes.get("items") or [])

    @retried
    @_observed
    def get_node_lease(self, node: str) -> dict[str, Any]:
        leases = client.CoordinationV1Api(_api())
        return _json(leases.read_namespaced_lease(node, NODE_LEASE_NAMESPACE, _preload_content=False))
