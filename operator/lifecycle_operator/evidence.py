"""Which records hold each container's events, and which container logs must be read to complete them.

The termination message is the first choice, as in the upstream test: the current state's, unless the
kubelet overwrote it (reason ContainerStatusUnknown), else the last termination state's. It is missing
while a container runs, and the kubelet keeps only the tail of it (4096 bytes per container, 12 KiB per
pod), so a message that is missing, near its cap, or starts with a cut line is replaced by the
container's logs: the current instance's and, after a restart, the previous one's. A running container
is always read from its log, which holds its history (replayed at start) and the current instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from lifecycle_operator.observation import ContainerObservation, PodObservation
from lifecycle_operator.timeline import parse_line

MAX_MESSAGE_PER_CONTAINER: Final = 4096
MAX_MESSAGE_PER_POD: Final = 12 * 1024
# A message this close to its cap may have lost its head; read the log instead.
TRUNCATION_MARGIN: Final = 128


class Source(StrEnum):
    MESSAGE = "terminationMessage"
    LAST_MESSAGE = "lastTerminationMessage"
    LOG = "log"
    PREVIOUS_LOG = "previousLog"


@dataclass(frozen=True)
class LogRequest:
    container: str
    previous: bool


@dataclass(frozen=True)
class Record:
    container: str
    source: Source
    text: str


def message_budget(containers: int) -> int:
    return min(MAX_MESSAGE_PER_CONTAINER, MAX_MESSAGE_PER_POD // max(containers, 1))


def termination_message(c: ContainerObservation) -> tuple[Source, str] | None:
    if c.terminated is not None and c.terminated.reason != "ContainerStatusUnknown" and c.terminated.message:
        return Source.MESSAGE, c.terminated.message
    if c.last_terminated is not None and c.last_terminated.message:
        return Source.LAST_MESSAGE, c.last_terminated.message
    return None


def is_complete(message: str, budget: int) -> bool:
    if len(message.encode()) >= budget - TRUNCATION_MARGIN:
        return False
    first = next((line for line in message.splitlines() if line.strip()), "")
    return parse_line(first) is not None


def _usable_message(c: ContainerObservation, budget: int) -> tuple[Source, str] | None:
    """The message, if it holds every event: a running instance has more than the last one wrote."""
    if c.running:
        return None
    found = termination_message(c)
    if found is None or not is_complete(found[1], budget):
        return None
    return found


def logs_needed(pod: PodObservation) -> list[LogRequest]:
    """The container logs to read because a termination message is missing or may be truncated."""
    budget = message_budget(len(pod.containers))
    requests: list[LogRequest] = []
    for c in pod.containers.values():
        if not c.has_run or _usable_message(c, budget) is not None:
            continue
        if c.running or c.terminated is not None:
            requests.append(LogRequest(c.name, previous=False))
        if c.restart_count > 0 or c.last_terminated is not None:
            requests.append(LogRequest(c.name, previous=True))
    return requests


def collect_records(pod: PodObservation, logs: Mapping[LogRequest, str | None]) -> list[Record]:
    """Every record to build the timeline from: a usable message, else the logs that could be read."""
    budget = message_budget(len(pod.containers))
    records: list[Record] = []
    for c in pod.containers.values():
        found = _usable_message(c, budget)
        if found is not None:
            records.append(Record(c.name, found[0], found[1]))
            continue
        read_any = False
        for previous, source in ((True, Source.PREVIOUS_LOG), (False, Source.LOG)):
            text = logs.get(LogRequest(c.name, previous))
            if text:
                records.append(Record(c.name, source, text))
                read_any = True
        # Without a log, even a cut message is better than nothing: its tail still holds events.
        if not read_any and (fallback := termination_message(c)) is not None:
            records.append(Record(c.name, fallback[0], fallback[1]))
    return records
