"""The committed CRD is what the models generate, and it is a structural schema."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from lifecycle_operator import constants as c
from lifecycle_operator.api import parse_spec
from lifecycle_operator.crd import build_crd, crd_path, render_crd
from lifecycle_operator.outcome import RunOutcome
from lifecycle_operator.state import StatusView
from lifecycle_operator.status_patch import invalid_spec, run_finished, run_queued, run_started

ROOT = Path(__file__).resolve().parents[2]


def walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.get("properties", {}).items():
            found += walk(value, f"{path}.{key}")
        if "items" in node:
            found += walk(node["items"], f"{path}[]")
    return found


def schema() -> dict[str, Any]:
    crd = build_crd()
    result: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return result


def test_committed_crd_matches_the_models() -> None:
    committed = crd_path(ROOT / "crds").read_text()
    assert committed == render_crd(), "crds/ is stale: run `lifecycle-operator crd --output-dir crds`"


def test_schema_is_structural() -> None:
    for path, node in walk(schema()):
        assert "type" in node, f"{path} has no type"
        for banned in ("$ref", "anyOf", "oneOf", "allOf", "title", "$defs"):
            assert banned not in node, f"{path} has {banned}"
        if node.get("type") == "object" and path not in {"", ".metadata"}:
            assert "properties" in node or "additionalProperties" in node, path


def test_crd_names_status_and_columns() -> None:
    crd = build_crd()
    assert crd["metadata"]["name"] == c.CRD_NAME
    assert crd["spec"]["names"]["shortNames"] == ["lt"]
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = {col["name"] for col in version["additionalPrinterColumns"]}
    assert {"Result", "Passed", "Node", "Last Run", "Age"} <= columns


def test_schema_carries_descriptions_and_cel_rules() -> None:
    spec = schema()["properties"]["spec"]
    assert spec["properties"]["pod"]["properties"]["restartPolicy"]["description"]
    rules = [v["rule"] for v in spec["x-kubernetes-validations"]]
    assert any("PostStart-" in r for r in rules)
    expectation = spec["properties"]["expectations"]["items"]
    assert len(expectation["x-kubernetes-validations"]) >= 5
    # CEL's cost estimate needs bounds on every list and string a rule iterates over.
    assert spec["properties"]["expectations"]["maxItems"] > 0
    assert spec["properties"]["pod"]["properties"]["containers"]["maxItems"] > 0
    assert expectation["properties"]["container"]["maxLength"] > 0


def test_status_patches_fit_the_status_schema() -> None:
    status_schema = schema()["properties"]["status"]["properties"]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for patch in (
        run_queued(StatusView(), 1, 1, now, "no slot"),
        run_started(StatusView(), 1, "p-run1", 1, now, now),
        run_finished(StatusView(), RunOutcome(1, c.REASON_TIMED_OUT, "late"), 1, now),
        invalid_spec(StatusView(), 1, "bad", now),
    ):
        for key in patch:
            assert key in status_schema, f"status.{key} is not in the CRD"


def test_yaml_has_no_aliases() -> None:
    text = render_crd()
    assert "&id" not in text
    assert "*id" not in text
    assert yaml.safe_load(text)["kind"] == "CustomResourceDefinition"


def spec_nodes() -> list[tuple[str, dict[str, Any]]]:
    return walk(schema()["properties"]["spec"], "spec")


def test_every_string_list_and_map_of_the_spec_is_bounded() -> None:
    # Bounds keep the object small (kopf copies the spec into an annotation) and CEL's cost estimate low.
    for path, node in spec_nodes():
        match node.get("type"):
            case "string":
                assert "maxLength" in node or "enum" in node, f"{path} has no maxLength"
            case "array":
                assert node.get("maxItems"), f"{path} has no maxItems"
            case "object" if "additionalProperties" in node:
                assert node.get("maxProperties"), f"{path} has no maxProperties"
                value = node["additionalProperties"]
                assert value.get("maxLength"), f"{path}'s values have no maxLength"


def test_every_cel_refusal_names_its_field() -> None:
    # A rule on a list item is reported at the item's index; a rule further up names the field itself,
    # with fieldPath or in its messageExpression.
    rules = [(path, rule) for path, node in spec_nodes() for rule in node.get("x-kubernetes-validations", [])]
    assert len(rules) >= 30
    for path, rule in rules:
        named = "fieldPath" in rule or "messageExpression" in rule or path.endswith("[]")
        assert named, f"{path}: {rule['rule']} names no field"
        if "fieldPath" not in rule and "messageExpression" in rule and not path.endswith("[]"):
            assert "'spec." in rule["messageExpression"] or path == "spec.pod.nodeSelector", rule


def maximal_spec() -> dict[str, Any]:
    """The largest spec the schema takes: every list full, every string at its longest."""
    behavior = {
        "startDelaySeconds": 3600,
        "delaySeconds": 86400,
        "exitCode": 255,
        "runUntilStopped": False,
        "lingerAfterTermSeconds": 3600,
    }
    probe = {
        "check": "Started",
        "initialDelaySeconds": 3600,
        "periodSeconds": 3600,
        "timeoutSeconds": 3600,
        "failureThreshold": 1000,
        "successThreshold": 1,
    }

    def container(prefix: str, i: int, sidecar: bool) -> dict[str, Any]:
        c: dict[str, Any] = {
            "name": f"{prefix * 60}-{i:02d}",
            "image": "r" * 512,
            "behavior": behavior,
            "postStart": behavior,
            "preStop": behavior,
            "startupProbe": probe,
            "livenessProbe": probe,
            "readinessProbe": {**probe, "successThreshold": 1000},
        }
        if sidecar:
            c["restartPolicy"] = "Always"
        return c

    last = f"{'r' * 60}-09"
    return {
        "timeoutSeconds": 86400,
        "intervalSeconds": 30 * 86400,
        "podRetention": "KeepOnFailure",
        "judgeWhen": {"type": "ContainerWaiting", "container": last, "reason": "W" * 128},
        "pod": {
            "restartPolicy": "OnFailure",
            "terminationGracePeriodSeconds": 3600,
            "nodeName": ".".join(["n" * 63] * 3) + "." + "n" * 61,
            "nodeSelector": {f"{'p' * 253}/{i:02d}{'k' * 61}": "v" * 63 for i in range(32)},
            "initContainers": [container("i", i, sidecar=True) for i in range(10)],
            "containers": [container("r", i, sidecar=False) for i in range(10)],
        },
        "expectations": [
            {"type": "TerminatedWith", "container": last, "exitCode": 255, "reason": "R" * 128}
            if i % 2
            else {"type": "StartsBefore", "container": f"PostStart-{last}", "other": f"PreStop-{last}"}
            for i in range(64)
        ],
    }


def test_the_largest_spec_fits_in_an_annotation_twice() -> None:
    # kopf keeps the last handled spec in an annotation, and `kubectl apply` the whole object in another;
    # all of an object's annotations together may not pass 256 KiB.
    spec = maximal_spec()
    parse_spec(spec)
    size = len(json.dumps(spec, separators=(",", ":")))
    assert 2 * size < 200 * 1024, size
