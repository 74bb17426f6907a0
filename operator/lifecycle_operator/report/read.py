"""The report's one conversation with the API: list or get LifecycleTests with the kubernetes client.

Credentials come from the kubeconfig (KUBECONFIG, or ~/.kube/config), else from the pod's service
account when the report runs in a cluster. Every failure is one `ReadError` with a line a person can act
on: the CLI prints it and exits 2. Nothing is retried: a report is run again by hand or by CI.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError, MaxRetryError

from lifecycle_operator import constants as c

# Connect and read timeouts of each request, in seconds.
REQUEST_TIMEOUT: Final = (5, 60)
SERVICE_ACCOUNT_NAMESPACE: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
MAX_MESSAGE: Final = 300


class ReadError(Exception):
    """The tests could not be read: no credentials, no answer, or a refusal."""


@dataclass(frozen=True)
class Selection:
    """Which tests to read: in one namespace (None: all), by label selector, or by name."""

    namespace: str | None
    selector: str | None = None
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.names and self.namespace is None:
            raise ValueError("names are looked up in one namespace, not in all of them")
        if self.names and self.selector:
            raise ValueError("give names or a label selector, not both")


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 3] + "..."


class Cluster:
    """The API server of the current kubeconfig context, or of the pod the report runs in."""

    def __init__(self) -> None:
        try:
            # KUBECONFIG as it is now (the client reads it once, at import).
            kubeconfig = os.environ.get("KUBECONFIG") or None
            config.load_kube_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
            _, context = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
            namespace = (context or {}).get("context", {}).get("namespace")
        except (config.ConfigException, OSError) as kubeconfig_error:
            try:
                config.load_incluster_config()  # type: ignore[no-untyped-call]
            except config.ConfigException:
                raise ReadError(
                    f"no credentials for a cluster: {_one_line(str(kubeconfig_error))}, and not in a pod"
                ) from kubeconfig_error
            namespace = SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
        self.default_namespace: str = namespace or "default"
        configuration = client.Configuration.get_default_copy()
        configuration.retries = 0  # urllib3 would retry and log each retry: one try, one line
        self._api = client.CustomObjectsApi(client.ApiClient(configuration))

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], fn(*args, **kwargs, _request_timeout=REQUEST_TIMEOUT))
        except ApiException as e:
            raise ReadError(f"cannot {what}: {e.status} {e.reason}: {_one_line(_api_message(e))}") from e
        except (HTTPError, OSError) as e:
            cause = e.reason if isinstance(e, MaxRetryError) and e.reason is not None else e
            raise ReadError(f"cannot {what}: the API server did not answer: {_one_line(str(cause))}") from e

    def tests(self, selection: Selection) -> list[dict[str, Any]]:
        """The LifecycleTest objects selected, as the API returns them (camelCase dicts)."""
        api, ns = self._api, selection.namespace
        if selection.names and ns is not None:
            return [
                self._call(
                    f"read lifecycletest {name} in namespace {ns}",
                    api.get_namespaced_custom_object,
                    c.GROUP,
                    c.VERSION,
                    ns,
                    c.PLURAL,
                    name,
                )
                for name in selection.names
            ]
        selector = {"label_selector": selection.selector} if selection.selector else {}
        if ns is None:
            listed = self._call(
                "list lifecycletests in all namespaces",
                api.list_cluster_custom_object,
                c.GROUP,
                c.VERSION,
                c.PLURAL,
                **selector,
            )
        else:
            listed = self._call(
                f"list lifecycletests in namespace {ns}",
                api.list_namespaced_custom_object,
                c.GROUP,
                c.VERSION,
                ns,
                c.PLURAL,
                **selector,
            )
        return list(listed.get("items") or [])


def _api_message(e: ApiException) -> str:
    """The API's own message (a Status object's), else the body as it came."""
    body = e.body.decode() if isinstance(e.body, bytes) else str(e.body or "")
    try:
        decoded = json.loads(body)
    except ValueError:
        return body
    return str(decoded.get("message", body)) if isinstance(decoded, dict) else body
