"""The operator's settings, read from environment variables that all start with LCO_."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lifecycle_operator.api import PodRetention
from lifecycle_operator.constants import ENV_PREFIX

# What makes a namespace entry a pattern rather than a name (a name has none of these).
GLOB_CHARS: Final = "*?[!"


class SettingsError(ValueError):
    """A setting has a value the operator cannot use."""


class Settings(BaseModel):
    # A field's docstring is its description (and its line in `run --help`).
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    namespaces: tuple[str, ...] = Field(
        (),
        description="Namespaces to watch, comma-separated, globs allowed (team-*) and !-exclusions "
        "(!team-x); empty watches the whole cluster. Exact names are watched one by one (a Role in each "
        "is enough); any glob makes one cluster-wide watch filtered by these patterns.",
    )
    test_image: str = Field("busybox:1.36", min_length=1, description="Image of instrumented containers.")
    update_image: str = Field(
        "busybox:1.37",
        min_length=1,
        description="Image a PatchImage action sets when it names none, and RunsImage's default; it must "
        "provide what the test image does, under another reference.",
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    test_memory: str = Field("32Mi", description="Memory request and limit of each instrumented container.")
    default_timeout_seconds: int = Field(300, ge=5)
    keep_failed_pods: bool = Field(False, description="Keep a failed run's pod, unless the test says.")
    bind_address: str = Field("127.0.0.1", description="Address of the metrics and health endpoints.")
    metrics_port: int = Field(8080, ge=0, le=65535, description="0 turns the metrics endpoint off.")
    health_port: int = Field(8081, ge=0, le=65535, description="0 turns kopf's liveness endpoint off.")
    peering: str = Field("", description="kopf peering name for several replicas; empty runs standalone.")
    log_format: Literal["plain", "json"] = "plain"
    max_runs_per_node: int = Field(0, ge=0, le=1000)
    """Runs whose pods may be on one node at once; more are queued. 0 derives it from each node: 8 per
    allocatable core, at most half its pod capacity, at most 32."""
    max_attempts: int = Field(3, ge=1, le=10)
    """Attempts at a verdict when a run is inconclusive (the node's load broke the case's own timing)
    before it is reported Inconclusive."""
    nodes_refresh_seconds: float = Field(30.0, gt=0, le=3600)
    """How often the nodes are listed to know how many runs they take."""
    api_outage_seconds: int = Field(600, ge=5, le=86400)
    """How long the operator rides out an unreachable API server before it exits (non-zero) for its
    supervisor to restart it."""
    scheduler_tick_seconds: float = Field(
        2.0, gt=0, le=60, description="How often deadlines and re-run intervals are checked."
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(n.strip() for n in value.split(",") if n.strip())
        return value

    @property
    def by_pattern(self) -> bool:
        """Whether the namespaces are patterns (globs or exclusions), not a list of exact names."""
        return any(any(ch in p for ch in GLOB_CHARS) for p in self.namespaces)

    @property
    def clusterwide(self) -> bool:
        """Whether the watches are cluster-wide: no namespaces named, or patterns to filter by.

        Patterns are not handed to kopf: it would follow them with a namespace watch and one watch per
        matching namespace, and a namespace created while that namespace watch was resuming after an API
        server restart went unseen for ten minutes. One cluster-wide watch has no such step."""
        return not self.namespaces or self.by_pattern

    def watches(self, namespace: str) -> bool:
        """Whether the operator handles objects in this namespace (pure; see `namespaces`)."""
        if not self.namespaces:
            return True
        includes = [p for p in self.namespaces if not p.startswith("!")]
        excludes = [p[1:] for p in self.namespaces if p.startswith("!")]
        included = not includes or any(fnmatch.fnmatchcase(namespace, p) for p in includes)
        return included and not any(fnmatch.fnmatchcase(namespace, p) for p in excludes)

    @property
    def default_retention(self) -> PodRetention:
        return PodRetention.KEEP_ON_FAILURE if self.keep_failed_pods else PodRetention.DELETE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        known = set(cls.model_fields)
        values: dict[str, str] = {}
        for key, value in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            name = key[len(ENV_PREFIX) :].lower()
            if name not in known:
                known_vars = ", ".join(sorted(ENV_PREFIX + n.upper() for n in known))
                raise SettingsError(f"unknown setting {key}; known: {known_vars}")
            values[name] = value
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            problems = "; ".join(
                f"{ENV_PREFIX}{str(err['loc'][0]).upper()}: {err['msg']}" for err in e.errors()
            )
            raise SettingsError(problems) from e


def help_lines() -> list[str]:
    """One line per setting, for --help."""
    lines = []
    for name, info in Settings.model_fields.items():
        default = info.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        described = " ".join((info.description or "").split())
        lines.append(f"{ENV_PREFIX}{name.upper()} (default {shown!r}) {described}".rstrip())
    return lines
