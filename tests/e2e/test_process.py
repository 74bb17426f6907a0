"""The operator process as its supervisor sees it: start-up problems exit at once with one line, SIGTERM
ends it, and an API server gone for longer than it rides out ends it non-zero instead of leaving it
alive and dead. A real API server, reached through a TCP forwarder this test can cut."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cluster import free_port

from clustertools import ROOT, report

pytestmark = pytest.mark.e2e

STARTUP_LIMIT = 5.0
STOP_LIMIT = 10.0


class Forwarder:
    """127.0.0.1:<port> -> the API server, until cut."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """The API server is gone: every connection drops, and new ones are refused."""
        self.cut = True
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def kubeconfig_through(forwarder: Forwarder, directory: Path) -> Path:
    config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = f"https://127.0.0.1:{forwarder.port}"
    path = directory / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def api_server() -> tuple[str, int]:
    config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    server = config["clusters"][0]["cluster"]["server"].removeprefix("https://")
    host, port = server.rsplit(":", 1)
    return host, int(port)


def operator(kubeconfig: Path | str, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LCO_")}
    env |= {
        "KUBECONFIG": str(kubeconfig),
        "PYTHONPATH": str(ROOT / "operator"),
        "LCO_NAMESPACES": "process-*",
        "LCO_METRICS_PORT": str(free_port()),
        "LCO_HEALTH_PORT": str(free_port()),
    }
    env |= {f"LCO_{k.upper()}": v for k, v in settings.items()}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "lifecycle_operator.cli", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def ended_within(process: subprocess.Popen[bytes], seconds: float, log: Path) -> tuple[int, float]:
    start = time.monotonic()
    try:
        code = process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise AssertionError(
            f"the operator was still alive after {seconds}s; its log ends:\n{tail}"
        ) from None
    return code, time.monotonic() - start


def last_line(log: Path) -> str:
    lines = log.read_text().strip().splitlines()
    return lines[-1] if lines else ""


@pytest.fixture
def forwarder(crd: None) -> Iterator[Forwarder]:
    f = Forwarder(api_server())
    yield f
    f.close()


@pytest.mark.parametrize(
    ("case", "settings", "expected"),
    [
        ("bad setting", {"max_attempts": "many"}, "bad setting: LCO_MAX_ATTEMPTS"),
        ("unknown setting", {"max_runs": "3"}, "unknown setting LCO_MAX_RUNS"),
        ("no credentials", {}, "no cluster credentials"),
        ("port in use", {}, "cannot listen on 127.0.0.1"),
    ],
)
def test_a_startup_problem_exits_at_once_with_one_line(
    case: str, settings: dict[str, str], expected: str, crd: None, tmp_path: Path
) -> None:
    log = tmp_path / "operator.log"
    kubeconfig: Path | str = os.environ["KUBECONFIG"]
    taken = socket.create_server(("127.0.0.1", 0))
    if case == "no credentials":
        kubeconfig = tmp_path / "missing-kubeconfig"
    if case == "port in use":
        settings = {"metrics_port": str(taken.getsockname()[1])}
    try:
        code, took = ended_within(operator(kubeconfig, log, **settings), STARTUP_LIMIT, log)
    finally:
        taken.close()
    report(f"process, {case}: exit {code} in {took:.1f}s: {last_line(log)}")
    assert code == 2
    assert expected in last_line(log)
    assert len(log.read_text().strip().splitlines()) == 1


def test_sigterm_ends_the_operator(forwarder: Forwarder, tmp_path: Path) -> None:
    log = tmp_path / "operator.log"
    process = operator(kubeconfig_through(forwarder, tmp_path), log)
    time.sleep(4)
    assert process.poll() is None, log.read_text()
    process.send_signal(signal.SIGTERM)
    code, took = ended_within(process, STOP_LIMIT, log)
    report(f"process, SIGTERM: exit {code} in {took:.1f}s")
    assert code == 0


def test_an_api_server_gone_too_long_ends_the_operator_non_zero(forwarder: Forwarder, tmp_path: Path) -> None:
    log = tmp_path / "operator.log"
    outage = 6
    process = operator(
        kubeconfig_through(forwarder, tmp_path),
        log,
        api_outage_seconds=str(outage),
        nodes_refresh_seconds="2",
    )
    time.sleep(4)
    assert process.poll() is None, log.read_text()
    forwarder.close()
    code, took = ended_within(process, outage + STOP_LIMIT + 5, log)
    report(f"process, API server gone: exit {code} {took:.1f}s after the cut (rides out {outage}s)")
    assert code == 1
    assert "no answer from the API server" in log.read_text()
