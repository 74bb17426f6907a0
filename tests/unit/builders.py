"""Pods as the API returns them, for tests of the pure steps."""

from typing import Any


def terminated(exit_code: int = 0, message: str | None = None, reason: str | None = None) -> dict[str, Any]:
    t: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": reason or ("Completed" if exit_code == 0 else "Error"),
    }
    if message is not None:
        t["message"] = message
    return {"terminated": t}


def status(
    name: str,
    state: dict[str, Any] | None = None,
    last: dict[str, Any] | None = None,
    restarts: int = 0,
) -> dict[str, Any]:
    return {"name": name, "state": state or {}, "lastState": last or {}, "restartCount": restarts}


def pod(
    phase: str = "Succeeded",
    init: list[dict[str, Any]] | None = None,
    containers: list[dict[str, Any]] | None = None,
    node: str = "node-1",
    name: str = "t-run1",
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"nodeName": node},
        "status": {
            "phase": phase,
            "initContainerStatuses": init or [],
            "containerStatuses": containers or [],
        },
    }
