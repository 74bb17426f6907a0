"""The commands that instrumented containers and hooks run.

Every event is one line, in the upstream test's format:

    <unix seconds> <uptime in seconds, hundredths> <subject> <verb> [detail]

The uptime comes from /proc/uptime, which every container on a node shares, so it orders events across
containers. Each line goes to three places: the container's history file on a shared emptyDir (so it
survives restarts and is replayed when the container starts again), /dev/termination-log (the kubelet
copies it into the container status) and stdout (the container log, our fallback when a termination
message is missing or truncated). A hook writes to its container's stdout through /proc/1/fd/1.

Values reach sh as data, never as code. A script is fixed text: verbs and integers only. Every string
(the subject's name and the paths) is an argument after it, `sh -c SCRIPT sh SUBJECT HISTORY ...`, read
into variables that are only ever expanded inside double quotes and written with printf '%s'. So the
scripts are safe for any name, not only because the schema makes names DNS labels;
tests/unit/test_scripts_hostile.py runs them on hostile ones.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

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
    """Where a script writes. The defaults are the paths inside an instrumented container; tests point
    them into a temporary directory."""

    event_dir: str = EVENT_DIR
    termination_log: str = "/dev/termination-log"
    # The container's main process; a hook reaches the container log through its stdout.
    main_stdout: str = "/proc/1/fd/1"
    # Marks that this container instance logged Started. It lives in the container's own filesystem, so
    # a restarted container starts without it (the Started probe check relies on that).
    started_marker: str = "/tmp/lifecycle-started"

    def __post_init__(self) -> None:
        # Absolute, so that no path reaches a command as an option ("-n") or as stdin ("-").
        for path in (self.event_dir, self.termination_log, self.main_stdout, self.started_marker):
            if not posixpath.isabs(path):
                raise ValueError(f"script paths must be absolute, not {path!r}")

    def history_file(self, container: str) -> str:
        """The container's history file. Percent-encoding leaves a DNS label as it is and keeps any other
        name inside event_dir: no '/' survives it."""
        return f"{self.event_dir}/{quote(container, safe='')}.log"


IN_CONTAINER = ScriptPaths()

# The scripts' arguments, in order; `sh -c SCRIPT sh ARG...` makes them $1, $2, ...
_READ_ARGUMENTS = 'subject="$1" history="$2" term_log="$3" main_log="$4" started="$5"'


def _arguments(subject: str, container: str, paths: ScriptPaths) -> list[str]:
    return [
        "sh",  # $0
        subject,
        paths.history_file(container),
        paths.termination_log,
        paths.main_stdout,
        paths.started_marker,
    ]


# printf '%s', not echo: dash's echo would read backslashes in the line as escapes.
_PRINT_LINE = "printf '%s\\n' \"$line\""


def _emit_function(*, in_hook: bool) -> str:
    """Defines `emit VERB [DETAIL]`, which stamps one event and writes it everywhere it must go."""
    # The termination message and the history file are the primary record, so a hook that cannot reach
    # the container log still records its events.
    to_log = f'{_PRINT_LINE} 2>/dev/null >>"$main_log" || true' if in_hook else _PRINT_LINE
    return (
        "emit() { "
        "read -r up _ </proc/uptime; "
        'line="$(date +%s) $up $subject $*"; '
        f'{_PRINT_LINE} >>"$history"; '
        f'{_PRINT_LINE} >>"$term_log"; '
        f"{to_log}; "
        "}"
    )


def _behave(b: Behavior, *, in_hook: bool) -> list[str]:
    """What the upstream execCommand does after Starting was logged."""
    steps: list[str] = []
    # `sleep & wait` rather than a foreground sleep, so that a SIGTERM trap runs at once.
    if b.start_delay_seconds:
        steps.append(f"sleep {int(b.start_delay_seconds)} & wait $!")
    if not in_hook:
        steps.append('touch "$started"')
    steps.append(f"emit {Verb.STARTED}")
    if b.run_until_stopped:
        steps.append(f"emit {Verb.LOOPING}")
        steps.append("while true; do sleep 1 & wait $!; done")
    else:
        steps.append(f"emit {Verb.DELAYING} {int(b.delay_seconds)}")
        if b.delay_seconds:
            steps.append(f"sleep {int(b.delay_seconds)} & wait $!")
        steps.append(f"emit {Verb.EXITING}")
        steps.append(f"exit {int(b.exit_code)}")
    return steps


def _term_trap(b: Behavior) -> str:
    linger = f"sleep {int(b.linger_after_term_seconds)} & wait $!; " if b.linger_after_term_seconds else ""
    return f"trap 'emit {Verb.TERMINATING}; {linger}emit {Verb.EXITING}; exit {int(b.exit_code)}' TERM"


def container_script(behavior: Behavior) -> str:
    """The script of an instrumented container: replay its history, then behave as scripted."""
    steps = [
        _READ_ARGUMENTS,
        _emit_function(in_hook=False),
        _term_trap(behavior),
        'touch "$history"',
        # Earlier instances' events (and their hooks') go first, so the newest record has the whole story.
        'cat "$history" >>"$term_log"',
        'cat "$history"',
        f"emit {Verb.STARTING} {int(behavior.start_delay_seconds)}",
        *_behave(behavior, in_hook=False),
    ]
    return "\n".join(steps) + "\n"


def hook_script(behavior: Behavior) -> str:
    """The script of a PostStart or PreStop hook. Its events go into its container's history."""
    steps = [
        _READ_ARGUMENTS,
        _emit_function(in_hook=True),
        _term_trap(behavior),
        f"emit {Verb.STARTING} {int(behavior.start_delay_seconds)}",
        *_behave(behavior, in_hook=True),
    ]
    return "\n".join(steps) + "\n"


def container_command(container: str, behavior: Behavior, paths: ScriptPaths = IN_CONTAINER) -> list[str]:
    """The command of an instrumented container, recording its events under its own name."""
    return ["sh", "-c", container_script(behavior), *_arguments(container, container, paths)]


def hook_command(
    subject: str, container: str, behavior: Behavior, paths: ScriptPaths = IN_CONTAINER
) -> list[str]:
    """The command of a hook of `container`, recording its events under `subject` (PostStart-<name>)."""
    return ["sh", "-c", hook_script(behavior), *_arguments(subject, container, paths)]


def probe_command(check: ProbeCheck, paths: ScriptPaths = IN_CONTAINER) -> list[str]:
    match check:
        case ProbeCheck.STARTED:
            return ["test", "-f", paths.started_marker]
        case ProbeCheck.SUCCEED:
            return ["true"]
        case ProbeCheck.FAIL:
            return ["false"]
