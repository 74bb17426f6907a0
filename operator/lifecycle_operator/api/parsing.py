"""Reading a LifecycleTest's spec from the raw object the API (or a file) gives (pure).

Every refusal names the field path, with list indexes, and the offending value, in the words the API
server uses for the same field, so a refusal reads the same offline and at admission.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from lifecycle_operator.api.rules import ErrorKind, Problem, RuleViolation, join_path, json_type
from lifecycle_operator.api.spec import LifecycleTestSpec
from lifecycle_operator.api.syntax import MEANINGS

# pydantic's error types for a value of the wrong type, and the JSON type that was wanted.
_TYPE_ERRORS = {
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "string_type": "string",
    "model_type": "object",
    "model_attributes_type": "object",
    "dict_type": "object",
    "list_type": "array",
}


class InvalidSpecError(ValueError):
    """The spec passed admission (or predates it) but cannot be run; or a file's spec is refused."""

    def __init__(self, problems: str | Iterable[Problem]) -> None:
        self.problems = () if isinstance(problems, str) else tuple(problems)
        super().__init__(problems if isinstance(problems, str) else "; ".join(map(str, self.problems)))


def parse_spec(raw: object) -> LifecycleTestSpec:
    """The typed spec, or InvalidSpecError naming every field that is wrong."""
    if raw is None:
        raise InvalidSpecError([Problem("spec", ErrorKind.REQUIRED)])
    if not isinstance(raw, Mapping):
        raise InvalidSpecError([type_problem("spec", "object", raw)])
    try:
        return LifecycleTestSpec.model_validate(dict(raw))
    except ValidationError as e:
        raise InvalidSpecError(problems_of(e, "spec")) from e


def type_problem(path: str, wanted: str, value: object) -> Problem:
    return Problem(path, ErrorKind.INVALID, f"must be of type {wanted}, not {json_type(value)}", value)


def loc_path(loc: Iterable[int | str]) -> str:
    """pydantic's location as a field path: ('pod', 'containers', 0, 'name') -> pod.containers[0].name."""
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else join_path(path, part)
    return path


def problems_of(error: ValidationError, prefix: str = "") -> list[Problem]:
    """Each of pydantic's errors as the refusal of one field, under `prefix` (spec)."""
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        problems += _problems(detail, prefix)
    return problems


def _problems(detail: ErrorDetails, prefix: str) -> list[Problem]:
    loc = list(detail["loc"])
    key_of_map = bool(loc) and loc[-1] == "[key]"
    if key_of_map:  # a map key is refused as a value of the map itself, as the API server does
        loc = loc[:-2]
    path = join_path(prefix, loc_path(loc))
    kind, value, ctx = detail["type"], detail.get("input"), detail.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, RuleViolation):
        return [p.under(path) for p in error.problems]
    if key_of_map and kind == "string_type":
        return [Problem(path, ErrorKind.INVALID, "every key must be a string", value)]
    if kind == "missing":
        return [Problem(path, ErrorKind.REQUIRED)]
    if kind == "extra_forbidden":
        return [Problem(path, ErrorKind.UNKNOWN, "not declared in the schema")]
    if kind in _TYPE_ERRORS:
        return [type_problem(path, _TYPE_ERRORS[kind], value)]
    return [_value_problem(path, kind, value, ctx, detail["msg"])]


def _value_problem(path: str, kind: str, value: Any, ctx: dict[str, Any], message: str) -> Problem:
    match kind:
        case "enum" | "literal_error" if isinstance(value, str):
            expected = str(ctx.get("expected", "")).replace(" or ", ", ").split(", ")
            supported = ", ".join(json.dumps(v.strip("'")) for v in expected)
            return Problem(path, ErrorKind.UNSUPPORTED, f"supported values: {supported}", value)
        case "enum" | "literal_error":
            return type_problem(path, "string", value)
        case "string_pattern_mismatch":
            pattern = ctx["pattern"]
            return Problem(
                path, ErrorKind.INVALID, f"must be {MEANINGS.get(pattern, f'like {pattern}')}", value
            )
        case "string_too_long":
            limit = ctx["max_length"]
            return Problem(
                path, ErrorKind.TOO_LONG, f"may not be more than {limit} characters, has {len(value)}", value
            )
        case "string_too_short":
            return Problem(
                path, ErrorKind.INVALID, f"must have at least {ctx['min_length']} character", value
            )
        case "too_long":
            count = ctx.get("actual_length") or len(value)
            return Problem(path, ErrorKind.TOO_MANY, f"must have at most {ctx['max_length']} items", count)
        case "too_short":
            return Problem(path, ErrorKind.INVALID, f"must have at least {ctx['min_length']} item", value)
        case "greater_than_equal":
            return Problem(path, ErrorKind.INVALID, f"must be greater than or equal to {ctx['ge']}", value)
        case "less_than_equal":
            return Problem(path, ErrorKind.INVALID, f"must be less than or equal to {ctx['le']}", value)
    return Problem(path, ErrorKind.INVALID, message, value)
