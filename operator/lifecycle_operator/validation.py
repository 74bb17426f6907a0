"""`lifecycle-operator validate`: LifecycleTest files checked offline, by the rules admission applies.

A file is read as kubectl reads it before sending it (lifecycle_operator.manifest_files). Each document
is checked as the API server checks it: null fields pruned as a structural schema prunes them, then the
strict models of lifecycle_operator.api; every problem names its field. Each file gets its verdict, a
file that cannot be read or parsed never stops the others, and the exit code says whether all passed.

It imports neither kopf, the kubernetes client nor prometheus_client: validating needs no cluster.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, TextIO

from lifecycle_operator import constants as c
from lifecycle_operator.api import InvalidSpecError, parse_spec
from lifecycle_operator.api import syntax as s
from lifecycle_operator.api.parsing import type_problem
from lifecycle_operator.api.rules import ErrorKind, Problem
from lifecycle_operator.crd import openapi_schema
from lifecycle_operator.manifest_files import UnreadableFile, read_documents

API_VERSION: Final = f"{c.GROUP}/{c.VERSION}"
# The Kubernetes cap on all of an object's annotations together.
MAX_ANNOTATIONS_BYTES: Final = 256 * 1024
_TOP_LEVEL: Final = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_OBJECT_META: Final = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)


def prune_nulls(
    value: object, schema: Mapping[str, Any] | None, _done: dict[tuple[int, int], object] | None = None
) -> object:
    """Drop what a structural schema drops before validating: a null field that is not nullable and has
    no default (apiextensions' PruneNonNullableNullsWithoutDefaults). The input is left as it is; a value
    shared through YAML aliases is pruned once."""
    if schema is None or not isinstance(value, dict | list):
        return value
    done = {} if _done is None else _done
    key = (id(value), id(schema))
    if key in done:
        return done[key]
    result: object
    if isinstance(value, dict):
        pruned: dict[Any, object] = {}
        for k, v in value.items():
            sub = _field_schema(schema, k)
            if v is None and sub is not None and not sub.get("nullable") and "default" not in sub:
                continue
            pruned[k] = prune_nulls(v, sub, done)
        result = pruned
    else:
        result = [prune_nulls(item, schema.get("items"), done) for item in value]
    done[key] = result
    return result


def _field_schema(schema: Mapping[str, Any], key: object) -> Mapping[str, Any] | None:
    properties = schema.get("properties", {})
    if isinstance(key, str) and key in properties:
        sub: Mapping[str, Any] = properties[key]
        return sub
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, Mapping) else None


def check_document(doc: object) -> list[Problem]:
    """Every problem of one document, each naming its field; none for a valid LifecycleTest."""
    if not isinstance(doc, dict):
        return [type_problem("", "object", doc)]
    problems = [
        *_expect(doc, "apiVersion", API_VERSION),
        *_expect(doc, "kind", c.KIND),
    ]
    if problems:
        return problems  # another kind of object: its other fields mean something else
    problems += [
        Problem(str(k), ErrorKind.UNKNOWN, "not declared in the schema") for k in doc if k not in _TOP_LEVEL
    ]
    problems += _metadata_problems(doc.get("metadata"))
    spec = prune_nulls(doc.get("spec"), _spec_schema())
    try:
        parse_spec(spec)
    except InvalidSpecError as e:
        problems += e.problems
    return problems


@cache
def _spec_schema() -> Mapping[str, Any]:
    schema: Mapping[str, Any] = openapi_schema()["properties"]["spec"]
    return schema


def _expect(doc: Mapping[str, Any], field: str, wanted: str) -> list[Problem]:
    value = doc.get(field)
    if value is None:
        return [Problem(field, ErrorKind.REQUIRED, f"must be {wanted}")]
    if value != wanted:
        return [Problem(field, ErrorKind.UNSUPPORTED, f'supported values: "{wanted}"', value)]
    return []


def _metadata_problems(meta: object) -> list[Problem]:
    if meta is None:
        return [Problem("metadata.name", ErrorKind.REQUIRED, "a LifecycleTest needs a name")]
    if not isinstance(meta, dict):
        return [type_problem("metadata", "object", meta)]
    problems = [
        Problem(f"metadata.{k}", ErrorKind.UNKNOWN, "not declared in ObjectMeta")
        for k in meta
        if k not in _OBJECT_META
    ]
    name = meta.get("name")
    if name is None:
        problems.append(Problem("metadata.name", ErrorKind.REQUIRED, "a LifecycleTest needs a name"))
    else:
        problems += _syntax("metadata.name", name, s.is_dns_subdomain, s.DNS_SUBDOMAIN_MEANING)
    if meta.get("namespace") is not None:
        problems += _syntax("metadata.namespace", meta["namespace"], s.is_dns_label, s.DNS_LABEL_MEANING)
    labels = meta.get("labels")
    if labels is not None:
        problems += _map_problems("metadata.labels", labels, s.is_label_value, s.LABEL_VALUE_MEANING)
    annotations = meta.get("annotations")
    if annotations is not None:
        problems += _map_problems("metadata.annotations", annotations, None, "")
        if isinstance(annotations, dict):
            size = sum(len(str(k)) + len(str(v)) for k, v in annotations.items())
            if size > MAX_ANNOTATIONS_BYTES:
                problems.append(
                    Problem(
                        "metadata.annotations",
                        ErrorKind.TOO_LONG,
                        f"may not be more than {MAX_ANNOTATIONS_BYTES} bytes together, has {size}",
                    )
                )
    return problems


def _syntax(path: str, value: object, check: Callable[[str], bool], meaning: str) -> list[Problem]:
    if not isinstance(value, str):
        return [type_problem(path, "string", value)]
    return [] if check(value) else [Problem(path, ErrorKind.INVALID, f"must be {meaning}", value)]


def _map_problems(
    path: str, value: object, check_value: Callable[[str], bool] | None, meaning: str
) -> list[Problem]:
    """A map of labels or annotations: label keys, and string values (of label syntax for labels)."""
    if not isinstance(value, dict):
        return [type_problem(path, "object", value)]
    problems: list[Problem] = []
    for k, v in value.items():
        if not isinstance(k, str) or not s.is_label_key(k):
            problems.append(Problem(path, ErrorKind.INVALID, f"every key must be {s.LABEL_KEY_MEANING}", k))
        elif check_value is None:
            problems += [] if isinstance(v, str) else [type_problem(f"{path}.{k}", "string", v)]
        else:
            problems += _syntax(f"{path}.{k}", v, check_value, meaning)
    return problems


@dataclass(frozen=True)
class Verdict:
    """What one document (or an unreadable file) comes to: its name, if any, and its problems."""

    source: str
    name: str | None
    problems: tuple[str, ...]

    def lines(self) -> list[str]:
        named = f" ({self.name})" if self.name else ""
        if not self.problems:
            return [f"{self.source}: ok{named}"]
        if len(self.problems) == 1:
            return [f"{self.source}: invalid{named}: {self.problems[0]}"]
        return [
            f"{self.source}: invalid{named}: {len(self.problems)} problems",
            *(f"  {p}" for p in self.problems),
        ]


def check_file(path: Path) -> list[Verdict]:
    """A verdict for each document of the file, or one for the file when it has none to check."""
    try:
        docs = read_documents(path)
    except UnreadableFile as e:
        return [Verdict(str(path), None, (str(e),))]
    if not docs:
        return [Verdict(str(path), None, ("no documents",))]
    verdicts = []
    for i, doc in enumerate(docs):
        source = f"{path}[{i}]" if len(docs) > 1 else str(path)
        verdicts.append(Verdict(source, _name_of(doc), tuple(str(p) for p in check_document(doc))))
    return verdicts


def _name_of(doc: object) -> str | None:
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and s.is_dns_subdomain(name) else None


def validate_files(files: Iterable[str], out: TextIO | None = None) -> int:
    """Print each file's verdict; 0 when every document of every file is a valid LifecycleTest, else 1."""
    stream = sys.stdout if out is None else out
    failed = False
    for file in files:
        for verdict in check_file(Path(file)):
            failed |= bool(verdict.problems)
            for line in verdict.lines():
                print(line, file=stream)
    return 1 if failed else 0
