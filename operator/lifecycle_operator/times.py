"""Times as the API writes them: RFC 3339 in UTC, to the second. The one place that formats or parses them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

RFC3339: Final = "%Y-%m-%dT%H:%M:%SZ"


def now() -> datetime:
    """The current time, to the second (what a status field can hold)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime(RFC3339)


def parse_time(value: object) -> datetime | None:
    """A time as the API writes it ("...Z", with microseconds for a MicroTime such as a Lease's
    renewTime) or as the kubernetes client re-serialises it ("...+00:00"); None when absent or not a
    time (a hand-edited status must not wedge a run)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def from_unix(seconds: int) -> str:
    return format_time(datetime.fromtimestamp(seconds, UTC))
