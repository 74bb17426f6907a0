"""From the lines instrumented commands wrote to an ordered timeline of events.

A line is `<unix seconds> <uptime> <subject> <verb> [detail]`. The same event can reach us twice (a
container replays its history into its termination message and its log), so exact duplicates are
dropped. Events are ordered by uptime, which has hundredths of a second; ties keep the order read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from lifecycle_operator.times import from_unix

# A line's numbers must be plausible: unix seconds before 2100, uptime under ~30 years. Any command can
# print any line (a hostile image, a broken shell), and nan, inf or 1e20 must not get further.
MAX_WALL: Final = 4_102_444_800
MAX_UPTIME: Final = 1e9


@dataclass(frozen=True, order=False)
class Event:
    wall: int
    uptime: float
    subject: str
    verb: str
    detail: str | None = None

    @property
    def time(self) -> str:
        return from_unix(self.wall)


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...] = ()
    malformed: tuple[str, ...] = field(default_factory=tuple)

    def find(self, subject: str, verb: str, start: int = 0) -> int:
        """Index of the first event of subject with verb at or after start, or -1."""
        for i in range(start, len(self.events)):
            e = self.events[i]
            if e.subject == subject and e.verb == verb:
                return i
        return -1

    def count(self, subject: str, verb: str) -> int:
        return sum(1 for e in self.events if e.subject == subject and e.verb == verb)

    def of(self, subject: str) -> list[Event]:
        return [e for e in self.events if e.subject == subject]

    def render(self, subject: str | None = None, limit: int = 12) -> str:
        """A short excerpt for messages: the subject's events, or the whole timeline."""
        events = self.of(subject) if subject else list(self.events)
        if not events:
            return "no events" + (f" from {subject}" if subject else "")
        shown = [f"{e.subject} {e.verb}@{e.uptime:.2f}" for e in events[:limit]]
        more = f", ... ({len(events) - limit} more)" if len(events) > limit else ""
        return ", ".join(shown) + more


def parse_line(line: str) -> Event | None:
    """One event, or None when the line is not one (cut by truncation, or not ours at all)."""
    fields = line.split(maxsplit=4)
    if len(fields) < 4:
        return None
    try:
        wall = int(fields[0])
        uptime = float(fields[1])
    except ValueError:
        return None
    if not (0 <= wall <= MAX_WALL and math.isfinite(uptime) and 0 <= uptime <= MAX_UPTIME):
        return None
    return Event(wall, uptime, fields[2], fields[3], fields[4] if len(fields) > 4 else None)


def build_timeline(texts: Iterable[str]) -> Timeline:
    """Merge every record of every container into one ordered, duplicate-free timeline."""
    seen: set[Event] = set()
    events: list[Event] = []
    malformed: list[str] = []
    for text in texts:
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                continue
            event = parse_line(line)
            if event is None:
                malformed.append(line)
            elif event not in seen:
                seen.add(event)
                events.append(event)
    events.sort(key=lambda e: e.uptime)
    return Timeline(tuple(events), tuple(malformed))
