"""The generated commands, run for real under sh with short delays, write what the parser reads."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lifecycle_operator.api import Behavior, ProbeCheck
from lifecycle_operator.instrumentation import (
    ScriptPaths,
    container_command,
    container_script,
    hook_command,
    probe_command,
)
from lifecycle_operator.timeline import build_timeline

SHELLS = [s for s in ("/bin/sh", shutil.which("busybox")) if s]


@pytest.fixture
def paths(tmp_path: Path) -> ScriptPaths:
    (tmp_path / "events").mkdir()
    return ScriptPaths(
        event_dir=str(tmp_path / "events"),
        termination_log=str(tmp_path / "termination-log"),
        main_stdout=str(tmp_path / "main-stdout"),
        started_marker=str(tmp_path / "started"),
    )


def with_shell(shell: str, command: list[str]) -> list[str]:
    """The command (["sh", "-c", script, ...]) run by this shell instead of the image's sh."""
    assert command[:2] == ["sh", "-c"]
    return [shell, "sh", *command[1:]] if shell.endswith("busybox") else [shell, *command[1:]]


def run(shell: str, command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(with_shell(shell, command), capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("shell", SHELLS)
def test_container_script_records_the_upstream_sequence(shell: str, paths: ScriptPaths) -> None:
    result = run(shell, container_command("init-1", Behavior(start_delay_seconds=1, exit_code=3), paths))
    assert result.returncode == 3, result.stderr
    assert result.stderr == ""
    timeline = build_timeline([Path(paths.termination_log).read_text()])
    assert [e.verb for e in timeline.events] == ["Starting", "Started", "Delaying", "Exiting"]
    assert {e.subject for e in timeline.events} == {"init-1"}
    assert timeline.events[0].detail == "1"
    assert timeline.events[1].uptime - timeline.events[0].uptime >= 0.9  # the start delay
    assert abs(timeline.events[0].wall - time.time()) < 30
    assert not timeline.malformed
    # stdout (the container log) carries the same events, and the history file keeps them.
    assert build_timeline([result.stdout]).events == timeline.events
    assert build_timeline([Path(paths.history_file("init-1")).read_text()]).events == timeline.events
    assert Path(paths.started_marker).exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_a_restarted_container_replays_its_history(shell: str, paths: ScriptPaths) -> None:
    command = container_command("regular-1", Behavior(exit_code=1), paths)
    run(shell, command)
    first = Path(paths.termination_log).read_text()
    Path(paths.termination_log).unlink()  # each container instance gets a new termination log
    time.sleep(0.02)
    second = run(shell, command)
    timeline = build_timeline([Path(paths.termination_log).read_text()])
    assert timeline.count("regular-1", "Starting") == 2
    assert first.strip() in Path(paths.termination_log).read_text()
    assert build_timeline([second.stdout]).events == timeline.events


@pytest.mark.parametrize("shell", SHELLS)
def test_hook_records_under_its_prefixed_name_into_its_container(shell: str, paths: ScriptPaths) -> None:
    result = run(shell, hook_command("PostStart-regular-1", "regular-1", Behavior(), paths))
    assert result.returncode == 0, result.stderr
    history = build_timeline([Path(paths.history_file("regular-1")).read_text()])
    assert [e.subject for e in history.events] == ["PostStart-regular-1"] * 4
    assert build_timeline([Path(paths.main_stdout).read_text()]).events == history.events
    assert not Path(paths.started_marker).exists(), "a hook must not mark its container Started"


def test_hook_still_records_when_the_container_log_is_unreachable(paths: ScriptPaths) -> None:
    unreachable = ScriptPaths(
        event_dir=paths.event_dir,
        termination_log=paths.termination_log,
        main_stdout="/nonexistent/dir/stdout",
        started_marker=paths.started_marker,
    )
    result = run("/bin/sh", hook_command("PreStop-a", "a", Behavior(exit_code=2), unreachable))
    assert result.returncode == 2
    assert build_timeline([Path(paths.termination_log).read_text()]).count("PreStop-a", "Exiting") == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_sigterm_is_recorded_and_lingered(shell: str, paths: ScriptPaths) -> None:
    behavior = Behavior(run_until_stopped=True, linger_after_term_seconds=1, exit_code=0)
    argv = with_shell(shell, container_command("sidecar", behavior, paths))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    log = Path(paths.termination_log)
    deadline = time.monotonic() + 10
    while "Looping" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - sent >= 0.9  # it lingered
    verbs = [e.verb for e in build_timeline([log.read_text()]).events]
    assert verbs == ["Starting", "Started", "Looping", "Terminating", "Exiting"]
    assert proc.stdout is not None
    proc.stdout.close()


def test_names_are_arguments_not_script(paths: ScriptPaths) -> None:
    # Names are DNS labels by the schema; the script does not rely on it (test_scripts_hostile.py).
    command = container_command("a;touch-x", Behavior(), paths)
    assert "a;touch-x" not in command[2]
    assert command[3:5] == ["sh", "a;touch-x"]
    assert run("/bin/sh", command).returncode == 0


def test_a_dns_label_names_its_history_file_as_it_is(paths: ScriptPaths) -> None:
    assert ScriptPaths().history_file("regular-1") == "/lifecycle-events/regular-1.log"
    assert paths.history_file("../x") == f"{paths.event_dir}/..%2Fx.log"


def test_script_paths_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        ScriptPaths(event_dir="events")


def test_probe_commands(paths: ScriptPaths) -> None:
    assert probe_command(ProbeCheck.STARTED, paths) == ["test", "-f", paths.started_marker]
    assert subprocess.run(probe_command(ProbeCheck.FAIL), check=False).returncode != 0
    assert subprocess.run(probe_command(ProbeCheck.SUCCEED), check=False).returncode == 0


def test_scripts_are_deterministic_and_hold_no_name() -> None:
    assert container_command("a", Behavior(delay_seconds=2)) == container_command(
        "a", Behavior(delay_seconds=2)
    )
    assert (
        container_command("a", Behavior())[2]
        == container_command("b", Behavior())[2]
        == container_script(Behavior())
    )
    assert os.path.isabs(ScriptPaths().history_file("a"))
