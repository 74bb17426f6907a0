"""Times as the API writes them: RFC 3339 in UTC, to the second. The one place that formats or parses them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

RFC3339: Final = "%Y-%m-%dT%H:%M:%SZ"
RFC3339_MICRO: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def now() -> datetime:
    """The current time, to the second (what a status field can hold)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime(RFC3339)


def _parse(value: object, layout: str) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, layout).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_time(value: object) -> datetime | None:
    """A status or pod timestamp; None when absent or not one (a hand-edited status must not wedge a run)."""
    return _parse(value, RFC3339)


def parse_micro_time(value: object) -> datetime | None:
    """A metav1.MicroTime (a Lease's renewTime): RFC 3339 with microseconds."""
    return _parse(value, RFC3339_MICRO)


def from_unix(seconds: int) -> str:
    return format_time(datetime.fromtimestamp(seconds, UTC))
