"""The shell scripts that instrumented containers and hooks run.

Every event is one line, in the upstream test's format:

    <unix seconds> <uptime in seconds, hundredths> <subject> <verb> [detail]

The uptime comes from /proc/uptime, which every container on a node shares, so it orders events across
containers. Each line goes to three places: the container's history file on a shared emptyDir (so it
survives restarts and is replayed when the container starts again), /dev/termination-log (the kubelet
copies it into the container status) and stdout (the container log, our fallback when a termination
message is missing or truncated). A hook writes to its container's stdout through /proc/1/fd/1.

No value from the resource reaches a script unquoted: names are DNS labels and still go through
shlex.quote, numbers are ints.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import StrEnum

from lifecycle_operator.api import Behavior, ProbeCheck
from lifecycle_operator.constants import EVENT_DIR


class Verb(StrEnum):
    STARTING = "Starting"
    STARTED = "Started"
    DELAYING = "Delaying"
    LOOPING = "Looping"
    TERMINATING = "Terminating"
    EXITING = "Exiting"


@dataclass(frozen=True)
class ScriptPaths:
    """Where a script writes. The defaults are the paths inside an instrumented container."""

    event_dir: str = EVENT_DIR
    termination_log: str = "/dev/termination-log"
    # The container's main process; a hook reaches the container log through its stdout.
    main_stdout: str = "/proc/1/fd/1"
    # Marks that this container instance logged Started. It lives in the container's own filesystem, so
    # a restarted container starts without it (the Started probe check relies on that).
    started_marker: str = "/tmp/lifecycle-started"

    def history_file(self, container: str) -> str:
        return f"{self.event_dir}/{container}.log"


IN_CONTAINER = ScriptPaths()


def _emit_function(subject: str, container: str, paths: ScriptPaths, *, in_hook: bool) -> str:
    """Defines `emit VERB [DETAIL]`, which stamps one event and writes it everywhere it must go."""
    history = shlex.quote(paths.history_file(container))
    term = shlex.quote(paths.termination_log)
    # The termination message and the history file are the primary record, so a hook that cannot reach
    # the container log still records its events.
    to_log = (
        f'echo "$line" 2>/dev/null >>{shlex.quote(paths.main_stdout)} || true' if in_hook else 'echo "$line"'
    )
    return (
        "emit() { "
        "read -r up _ </proc/uptime; "
        f'line="$(date +%s) $up {shlex.quote(subject)} $*"; '
        f'echo "$line" >>{history}; '
        f'echo "$line" >>{term}; '
        f"{to_log}; "
        "}"
    )


def _behave(b: Behavior, paths: ScriptPaths, *, in_hook: bool) -> list[str]:
    """What the upstream execCommand does after Starting was logged."""
    steps: list[str] = []
    # `sleep & wait` rather than a foreground sleep, so that a SIGTERM trap runs at once.
    if b.start_delay_seconds:
        steps.append(f"sleep {b.start_delay_seconds} & wait $!")
    if not in_hook:
        steps.append(f"touch {shlex.quote(paths.started_marker)}")
    steps.append(f"emit {Verb.STARTED}")
    if b.run_until_stopped:
        steps.append(f"emit {Verb.LOOPING}")
        steps.append("while true; do sleep 1 & wait $!; done")
    else:
        steps.append(f"emit {Verb.DELAYING} {b.delay_seconds}")
        if b.delay_seconds:
            steps.append(f"sleep {b.delay_seconds} & wait $!")
        steps.append(f"emit {Verb.EXITING}")
        steps.append(f"exit {b.exit_code}")
    return steps


def _term_trap(b: Behavior) -> str:
    linger = f"sleep {b.linger_after_term_seconds} & wait $!; " if b.linger_after_term_seconds else ""
    return f"trap 'emit {Verb.TERMINATING}; {linger}emit {Verb.EXITING}; exit {b.exit_code}' TERM"


def container_script(container: str, behavior: Behavior, paths: ScriptPaths = IN_CONTAINER) -> str:
    """The command of an instrumented container: replay its history, then behave as scripted."""
    history = shlex.quote(paths.history_file(container))
    steps = [
        _emit_function(container, container, paths, in_hook=False),
        _term_trap(behavior),
        f"touch {history}",
        # Earlier instances' events (and their hooks') go first, so the newest record has the whole story.
        f"cat {history} >>{shlex.quote(paths.termination_log)}",
        f"cat {history}",
        f"emit {Verb.STARTING} {behavior.start_delay_seconds}",
        *_behave(behavior, paths, in_hook=False),
    ]
    return "\n".join(steps) + "\n"


def hook_script(subject: str, container: str, behavior: Behavior, paths: ScriptPaths = IN_CONTAINER) -> str:
    """The command of a PostStart or PreStop hook. Its events go into its container's history."""
    steps = [
        _emit_function(subject, container, paths, in_hook=True),
        _term_trap(behavior),
        f"emit {Verb.STARTING} {behavior.start_delay_seconds}",
        *_behave(behavior, paths, in_hook=True),
    ]
    return "\n".join(steps) + "\n"


def probe_command(check: ProbeCheck, paths: ScriptPaths = IN_CONTAINER) -> list[str]:
    match check:
        case ProbeCheck.STARTED:
            return ["test", "-f", paths.started_marker]
        case ProbeCheck.SUCCEED:
            return ["true"]
        case ProbeCheck.FAIL:
            return ["false"]
