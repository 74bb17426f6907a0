from datetime import UTC, datetime
from typing import Any

import pytest

from lifecycle_operator.handlers import due
from lifecycle_operator.runs import InvalidSpecError, due_rerun, owner_of, parse_spec

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def body(result: str, interval: int | None = None, **status: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"intervalSeconds": interval} if interval else {}
    return {
        "metadata": {"name": "t", "namespace": "ns"},
        "spec": spec,
        "status": {"result": result, **status},
    }


def test_overdue_and_due_reruns() -> None:
    tests = {
        ("ns", "late"): body("Running", deadline="2026-11-29T11:59:59Z"),
        ("ns", "on-time"): body("Running", deadline="2026-11-29T12:00:01Z"),
        ("ns", "rerun"): body("Passed", 60, completionTime="2026-11-29T11:58:00Z"),
        ("ns", "not-yet"): body("Failed", 3600, completionTime="2026-11-29T11:58:00Z"),
        ("ns", "once"): body("Passed", None, completionTime="2026-11-29T10:00:00Z"),
    }
    overdue, rerun = due(tests, NOW)
    assert overdue == [("ns", "late")]
    assert rerun == [("ns", "rerun")]


def test_an_invalid_spec_is_not_rerun() -> None:
    assert not due_rerun(body("Error", 60, completionTime="2026-11-29T10:00:00Z"), NOW)


def test_owner_of() -> None:
    ref = {"apiVersion": "lifecycle.conformance.dev/v1alpha1", "kind": "LifecycleTest", "name": "t"}
    assert owner_of({"metadata": {"ownerReferences": [ref]}}) == "t"
    assert owner_of({"metadata": {"ownerReferences": [{**ref, "kind": "ReplicaSet"}]}}) is None
    assert owner_of({"metadata": {}}) is None


def test_parse_spec_names_the_field() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec({"pod": {"containers": []}, "expectations": []})
    assert "spec.pod.containers" in str(caught.value)
    assert "spec.expectations" in str(caught.value)
