"""The generated commands are safe for any string, not only for the DNS labels the schema allows.

Hostile strings go into every string that reaches a script: the subject, the container (its history file)
and every path. The commands run for real under sh (and busybox sh where installed), in a temporary
directory, with no delays. No payload runs, and each string is recorded exactly as it is: as data.
"""

import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lifecycle_operator.api import Behavior, ProbeCheck
from lifecycle_operator.instrumentation import ScriptPaths, container_command, hook_command, probe_command

SHELLS = [s for s in ("/bin/sh", shutil.which("busybox")) if s]
CANARY = "pwned"
# Each would create ./pwned if the string it is in were read as code anywhere in the script.
PAYLOADS = [
    f"$(touch {CANARY})",
    f"`touch {CANARY}`",
    f"'; touch {CANARY}; '",
    f'"; touch {CANARY}; "',
    f'\\"$(touch {CANARY})\\"',
    f"${{x:=$(touch {CANARY})}}",
    f"\ntouch {CANARY}\n",
    f"; touch {CANARY}",
    f"| touch {CANARY}",
    f"&& touch {CANARY} #",
    f"$(IFS=_;c=touch_{CANARY};$c)",
    f"'\"`touch {CANARY}`\"'",
    f"\\\ntouch {CANARY}",
    "%s%n%d\\c\\n",
    "-n",
    "-e \\x41",
    "*",
    "~root",
    "$0 $1 $* $@ $$",
    "\x1b]0;title\x07\r",
]
# Any text an argument can carry: UTF-8 (as every Kubernetes string), but no NUL, which no argv can hold.
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
HOSTILE = st.one_of(
    st.builds(lambda a, p, b: a + p + b, ANY_TEXT, st.sampled_from(PAYLOADS), ANY_TEXT),
    ANY_TEXT,
)
# A file name: no '/', not '.' or '..', short enough for the file system once encoded.
FILE_NAME = HOSTILE.filter(lambda n: "/" not in n and n not in {"", ".", ".."} and len(n.encode()) <= 100)
# The history file is named after the container, percent-encoded: it must fit in a file name.
CONTAINER = HOSTILE.filter(lambda n: len(quote(n, safe="")) <= 200)
RUNS = settings(database=None, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def with_shell(shell: str, command: list[str]) -> list[str]:
    assert command[:2] == ["sh", "-c"]
    return [shell, "sh", *command[1:]] if shell.endswith("busybox") else [shell, *command[1:]]


def run(shell: str, command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Bytes, decoded by hand: text mode would turn a "\r" in a name into "\n".
    done = subprocess.run(with_shell(shell, command), cwd=cwd, capture_output=True, timeout=30, check=False)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def text(path: str | Path) -> str:
    return Path(path).read_bytes().decode()


def events(subject: str, *verbs: str) -> re.Pattern[str]:
    """The exact lines `<unix seconds> <uptime> <subject> <verb>` for these verbs, in order."""
    stamp = r"\d+ \d+\.\d\d "
    return re.compile("".join(f"{stamp}{re.escape(subject)} {verb}\n" for verb in verbs))


UPSTREAM = ("Starting 0", "Started", "Delaying 0", "Exiting")


def tmp_paths(
    root: Path, names: tuple[str, str, str, str] = ("events", "term", "out", "started")
) -> ScriptPaths:
    (root / names[0]).mkdir()
    return ScriptPaths(
        event_dir=str(root / names[0]),
        termination_log=str(root / names[1]),
        main_stdout=str(root / names[2]),
        started_marker=str(root / names[3]),
    )


def no_payload_ran(root: Path) -> None:
    found = [p for p in root.rglob("*") if p.name == CANARY]
    assert not found, f"a payload ran: {found}"


@pytest.mark.parametrize("shell", SHELLS)
@RUNS
@given(name=CONTAINER)
def test_a_container_named_anything_records_its_name_as_data(shell: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = tmp_paths(root)
        result = run(shell, container_command(name, Behavior(), paths), root)
        no_payload_ran(root)
        assert (result.returncode, result.stderr) == (0, "")
        expected = events(name, *UPSTREAM)
        assert expected.fullmatch(text(paths.termination_log))
        assert expected.fullmatch(text(paths.history_file(name)))
        assert expected.fullmatch(result.stdout)
        assert [p.name for p in Path(paths.event_dir).iterdir()] == [Path(paths.history_file(name)).name]


@pytest.mark.parametrize("shell", SHELLS)
@RUNS
@given(subject=HOSTILE, container=CONTAINER)
def test_a_hook_named_anything_records_its_name_as_data(shell: str, subject: str, container: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = tmp_paths(root)
        result = run(shell, hook_command(subject, container, Behavior(exit_code=3), paths), root)
        no_payload_ran(root)
        assert (result.returncode, result.stderr, result.stdout) == (3, "", "")
        expected = events(subject, *UPSTREAM)
        assert expected.fullmatch(text(paths.history_file(container)))
        assert expected.fullmatch(text(paths.main_stdout))
        assert not Path(paths.started_marker).exists()


@pytest.mark.parametrize("shell", SHELLS)
@RUNS
@given(names=st.tuples(FILE_NAME, FILE_NAME, FILE_NAME, FILE_NAME).filter(lambda t: len(set(t)) == 4))
def test_paths_named_anything_are_written_as_data(shell: str, names: tuple[str, str, str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = tmp_paths(root, names)
        result = run(shell, container_command("regular-1", Behavior(), paths), root)
        no_payload_ran(root)
        assert (result.returncode, result.stderr) == (0, "")
        assert events("regular-1", *UPSTREAM).fullmatch(text(paths.termination_log))
        assert Path(paths.started_marker).exists()
        probe = subprocess.run(probe_command(ProbeCheck.STARTED, paths), cwd=root, check=False)
        assert probe.returncode == 0


@pytest.mark.parametrize("shell", SHELLS)
def test_a_hostile_sidecar_is_stopped_and_records_its_name(shell: str, tmp_path: Path) -> None:
    name = f"$(touch {CANARY})`touch {CANARY}`'\""
    paths = tmp_paths(tmp_path)
    command = container_command(name, Behavior(run_until_stopped=True, exit_code=0), paths)
    proc = subprocess.Popen(with_shell(shell, command), cwd=tmp_path, stdout=subprocess.DEVNULL)
    log = Path(paths.termination_log)
    deadline = time.monotonic() + 10
    while "Looping" not in (text(log) if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    no_payload_ran(tmp_path)
    assert events(name, "Starting 0", "Started", "Looping", "Terminating", "Exiting").fullmatch(
        log.read_text()
    )


def test_numbers_are_the_only_values_in_a_script() -> None:
    # Behavior's fields are strict integers and booleans; no string can stand in for one.
    for field in ("delaySeconds", "startDelaySeconds", "exitCode", "lingerAfterTermSeconds"):
        with pytest.raises(ValidationError):
            Behavior.model_validate({field: f"1; touch {CANARY}"})
    hostile = f"$(touch {CANARY})"
    paths = ScriptPaths(
        event_dir=f"/{hostile}", termination_log=f"/{hostile}/t", main_stdout="/o", started_marker="/s"
    )
    for command in (
        container_command(hostile, Behavior(), paths),
        hook_command(hostile, hostile, Behavior(), paths),
    ):
        assert hostile not in command[2]
        assert "touch" not in command[2].replace('touch "$history"', "").replace('touch "$started"', "")
