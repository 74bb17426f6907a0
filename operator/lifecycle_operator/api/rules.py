"""Refusals that name the field and the offending value, worded as the API server words them.

A rule the schema cannot express is written twice, on purpose: as a CEL rule in `x-kubernetes-validations`
(the API server runs it at admission) and as a Python check (the operator and `lifecycle-operator validate`
run it). Both produce the same text for the same field: `<path>: <kind>: [<value>: ]<detail>`, the format of
apimachinery's field errors. Where a table drives a rule (which fields each type of an object takes), both
twins are generated from that one table. tests/e2e/test_admission.py holds them to the same field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from pydantic.config import JsonDict, JsonValue


class ErrorKind(StrEnum):
    """The kinds of field error, in apimachinery's words (field.ErrorType)."""

    INVALID = "Invalid value"
    REQUIRED = "Required value"
    FORBIDDEN = "Forbidden"
    UNSUPPORTED = "Unsupported value"
    DUPLICATE = "Duplicate value"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"
    UNKNOWN = "Unknown field"


class CelReason(StrEnum):
    """The `reason` of a CEL rule; the API server reports the refusal as that kind of field error."""

    INVALID = "FieldValueInvalid"
    REQUIRED = "FieldValueRequired"
    FORBIDDEN = "FieldValueForbidden"


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Final = _NoValue()
# Long values are cut in messages; a hostile input must not turn into a hostile message.
VALUE_BUDGET: Final = 120
VALUE_DEPTH: Final = 6


def join_path(prefix: str, path: str) -> str:
    """spec + pod.containers[0] -> spec.pod.containers[0]; spec.pod + [0] -> spec.pod[0]."""
    if not prefix or not path:
        return prefix or path
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def render_value(value: object, budget: int = VALUE_BUDGET) -> str:
    """JSON for a value, cut to about `budget` characters and a few levels without walking more of it.

    Bounded on purpose: a YAML file can make a value that is huge when expanded (aliases of aliases).
    """
    out: list[str] = []
    _render(value, out, [budget], VALUE_DEPTH)
    return "".join(out)


def _render(value: object, out: list[str], budget: list[int], depth: int) -> None:
    def put(text: str) -> None:
        out.append(text)
        budget[0] -= len(text)

    if budget[0] <= 0 or depth <= 0:
        put("...")
    elif depth == 1 and isinstance(value, Mapping | list | tuple | set | frozenset):
        put("{...}" if isinstance(value, Mapping) else "[...]")
    elif isinstance(value, str):
        text = json.dumps(value[: budget[0]])
        put(f'{text[:-1]}..." ({len(value)} characters)' if len(value) > budget[0] else text)
    elif isinstance(value, Mapping):
        put("{")
        for i, (key, item) in enumerate(value.items()):
            if budget[0] <= 0:
                put(", ..." if i else "...")
                break
            put(", " if i else "")
            _render(key if isinstance(key, str) else str(key), out, budget, depth - 1)
            put(": ")
            _render(item, out, budget, depth - 1)
        put("}")
    elif isinstance(value, list | tuple | set | frozenset):
        put("[")
        for i, item in enumerate(value):
            if budget[0] <= 0:
                put(", ..." if i else "...")
                break
            put(", " if i else "")
            _render(item, out, budget, depth - 1)
        put("]")
    elif value is None or isinstance(value, bool | int | float):
        put(json.dumps(value)[: max(budget[0], 8)])
    else:
        put(repr(value)[: max(budget[0], 8)])


def json_type(value: object) -> str:
    """The JSON Schema type name of a value, as the API server names it in type errors."""
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case Mapping():
            return "object"
        case list() | tuple():
            return "array"
    return type(value).__name__


@dataclass(frozen=True)
class Problem:
    """One refused field: where, what kind of error, the offending value and what is wrong with it."""

    path: str
    kind: ErrorKind
    detail: str = ""
    value: object = field(default=NO_VALUE, compare=False)

    def under(self, prefix: str) -> Problem:
        return Problem(join_path(prefix, self.path), self.kind, self.detail, self.value)

    def __str__(self) -> str:
        parts = [self.path or "<document>", self.kind.value]
        if self.value is not NO_VALUE:
            parts.append(render_value(self.value))
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts)


class RuleViolation(ValueError):
    """Raised by a model's validator: the problems it found, with paths relative to that model."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise RuleViolation(problems)


def cel(
    rule: str,
    *,
    message: str | None = None,
    message_expression: str | None = None,
    field_path: str | None = None,
    reason: CelReason | None = None,
) -> JsonDict:
    """One entry of x-kubernetes-validations."""
    entry: JsonDict = {"rule": rule}
    if message is not None:
        entry["message"] = message
    if message_expression is not None:
        entry["messageExpression"] = message_expression
    if field_path is not None:
        entry["fieldPath"] = field_path
    if reason is not None:
        entry["reason"] = reason.value
    return entry


def cel_string(text: str) -> str:
    """A CEL string literal of text."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cel_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(cel_string(v) for v in sorted(values)) + "]"


def cel_first_index(items: str, variable: str, condition: str) -> str:
    """CEL: the index of the first item of the list `items` for which `condition` holds.

    indexOf rather than a two-variable comprehension, so that API servers before 1.33 take it."""
    return f"{items}.indexOf({items}.filter({variable}, {condition})[0])"


def cel_index_text(index: str, max_items: int) -> str:
    """CEL: an index as text. A list of constants, since string(int) has no size that the API server's
    cost estimate can bound, and a message built from it would be refused as too expensive."""
    return "[" + ", ".join(f"'{i}'" for i in range(max_items)) + f"][{index}]"


def cel_quoted(expression: str) -> str:
    """CEL that renders a string expression as JSON does, for strings without quotes or backslashes
    (names and reasons, whose syntax the schema has checked)."""
    return f"'\"' + {expression} + '\"'"


@dataclass(frozen=True)
class TypedField:
    """A field that only some values of its object's `type` take: required for some, allowed for some."""

    name: str  # as on the wire
    attribute: str  # as in Python
    required_for: frozenset[str]
    allowed_for: frozenset[str]
    is_string: bool = True

    @classmethod
    def exactly(cls, name: str, *types: str, is_string: bool = True) -> TypedField:
        """A field these types need and no other type takes; its Python name is its wire name."""
        return cls(name, name, frozenset(types), frozenset(types), is_string)


def typed_field_rules(fields: Iterable[TypedField], all_types: Iterable[str]) -> list[JsonValue]:
    """The CEL twin of `typed_field_problems`."""
    every = frozenset(all_types)
    rules: list[JsonValue] = []
    for f in fields:
        if f.required_for:
            rules.append(
                cel(
                    f"!(self.type in {cel_list(f.required_for)}) || has(self.{f.name})",
                    message_expression="'required for type ' + self.type",
                    field_path=f".{f.name}",
                    reason=CelReason.REQUIRED,
                )
            )
        if f.allowed_for != every:
            # A string's value is named; an integer's cannot be, as string(int) has no size that the API
            # server's cost estimate can bound.
            got = f" + ' (got ' + {cel_quoted(f'self.{f.name}')} + ')'" if f.is_string else ""
            rules.append(
                cel(
                    f"self.type in {cel_list(f.allowed_for)} || !has(self.{f.name})",
                    message_expression=f"'not allowed for type ' + self.type{got}",
                    field_path=f".{f.name}",
                    reason=CelReason.FORBIDDEN,
                )
            )
    return rules


def typed_field_problems(model: Any, type_: str, fields: Iterable[TypedField]) -> list[Problem]:
    """The Python twin of `typed_field_rules`."""
    problems: list[Problem] = []
    for f in fields:
        value = getattr(model, f.attribute)
        if type_ in f.required_for and value is None:
            problems.append(Problem(f.name, ErrorKind.REQUIRED, f"required for type {type_}"))
        if type_ not in f.allowed_for and value is not None:
            got = f" (got {json.dumps(str(value))})" if f.is_string else ""
            problems.append(Problem(f.name, ErrorKind.FORBIDDEN, f"not allowed for type {type_}{got}"))
    return problems
