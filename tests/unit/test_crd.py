"""The committed CRD is what the models generate, and it is a structural schema."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from lifecycle_operator import constants as c
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
