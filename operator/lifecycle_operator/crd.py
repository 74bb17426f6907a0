"""Generate the LifecycleTest CustomResourceDefinition from the pydantic models.

pydantic's JSON Schema is close to what the API server wants, but not quite: a structural schema has no
$ref, no anyOf for optional fields and no titles. `structural` rewrites one into the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import yaml

from lifecycle_operator import constants as c
from lifecycle_operator.api import LifecycleTestSpec, LifecycleTestStatus

JsonSchema = dict[str, Any]

# Keys of pydantic's output that a structural schema does not use.
_DROPPED: Final = frozenset({"title", "$defs"})

PRINTER_COLUMNS: Final = [
    {
        "name": "Result",
        "type": "string",
        "jsonPath": ".status.result",
        "description": "Verdict of the last run",
    },
    {
        "name": "Passed",
        "type": "string",
        "jsonPath": ".status.summary",
        "description": "Expectations passed / total",
    },
    {"name": "Node", "type": "string", "jsonPath": ".status.nodeName", "description": "Node of the last run"},
    {"name": "Run", "type": "integer", "jsonPath": ".status.run", "priority": 1},
    {
        "name": "Reason",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Succeeded")].reason',
        "priority": 1,
    },
    {"name": "Last Run", "type": "date", "jsonPath": ".status.completionTime"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def structural(schema: JsonSchema) -> JsonSchema:
    """Inline every $ref of a pydantic JSON Schema and drop what a structural schema forbids."""
    definitions: dict[str, JsonSchema] = schema.get("$defs", {})

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        if "$ref" in node:
            target = definitions[node.pop("$ref").rsplit("/", 1)[-1]]
            node = {**target, **node}  # siblings of the $ref (description, default) win
        options = node.get("anyOf")
        if options is not None:
            non_null = [o for o in options if o.get("type") != "null"]
            if len(non_null) != 1:
                raise ValueError(f"cannot express {options} in a structural schema")
            del node["anyOf"]
            node = {**non_null[0], **node}
            node = convert(node)
        if node.get("default", 0) is None:
            del node["default"]
        out: JsonSchema = {}
        for key, value in node.items():
            if key in _DROPPED:
                continue
            if key == "properties":
                out[key] = {name: convert(prop) for name, prop in value.items()}
            elif key in {"items", "additionalProperties"}:
                out[key] = convert(value)
            else:
                out[key] = value
        if out.get("type") == "object" and "properties" in out:
            out.pop("additionalProperties", None)  # extra="forbid": pruning does the same at admission
        return out

    result: JsonSchema = convert(schema)
    return result


def openapi_schema() -> JsonSchema:
    spec = structural(LifecycleTestSpec.model_json_schema(by_alias=True, mode="validation"))
    spec["description"] = "What to run, when to judge it, and what must have happened."
    status = structural(LifecycleTestStatus.model_json_schema(by_alias=True, mode="validation"))
    status["description"] = "The verdict of the current or last run, by the Kubernetes API conventions."
    return {
        "type": "object",
        "description": "A LifecycleTest runs an instrumented pod on a node and checks that the kubelet "
        "started, ordered, restarted, hooked and stopped its containers as expected.",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


def build_crd() -> JsonSchema:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": c.CRD_NAME, "labels": {"app.kubernetes.io/name": c.MANAGED_BY}},
        "spec": {
            "group": c.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": c.KIND,
                "listKind": f"{c.KIND}List",
                "plural": c.PLURAL,
                "singular": c.SINGULAR,
                "shortNames": list(c.SHORT_NAMES),
                "categories": list(c.CATEGORIES),
            },
            "versions": [
                {
                    "name": c.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": openapi_schema()},
                }
            ],
        },
    }


class _PlainDumper(yaml.SafeDumper):
    """Writes shared sub-trees out in full: anchors and aliases would only confuse a reader of the CRD."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_crd() -> str:
    header = "# Generated from the pydantic models by `lifecycle-operator crd`; do not edit by hand.\n"
    return header + yaml.dump(build_crd(), Dumper=_PlainDumper, sort_keys=False, width=100)


def crd_path(directory: Path) -> Path:
    return directory / f"{c.CRD_NAME}.yaml"
