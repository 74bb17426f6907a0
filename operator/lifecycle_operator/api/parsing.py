"""Reading a LifecycleTest's spec from the raw object the API (or a file) gives (pure)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from lifecycle_operator.api.spec import LifecycleTestSpec


class InvalidSpecError(ValueError):
    """The spec passed admission (or predates it) but cannot be run."""


def parse_spec(raw: dict[str, Any] | None) -> LifecycleTestSpec:
    """The typed spec, or InvalidSpecError naming every field that is wrong."""
    try:
        return LifecycleTestSpec.model_validate(raw or {})
    except ValidationError as e:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" if err["loc"] else err["msg"]
            for err in e.errors()
        )
        raise InvalidSpecError(problems) from e
