"""`lifecycle-operator run`: check everything it needs, run kopf, and always exit when kopf stops.

Start-up problems (a bad setting, no cluster credentials, no access, a port in use) end the process at
once with one line and exit code 2, instead of a start-up handler that kopf retries forever. Once
running, the process ends when kopf does: 0 after SIGTERM or SIGINT, 1 when anything else stopped it
(its watches gave up after a long API outage, the scheduler died). It exits with os._exit, so a thread
still blocked in an API call cannot keep a dead operator alive with stale metrics.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import sys
from typing import TYPE_CHECKING, Final, NoReturn

from lifecycle_operator.settings import Settings, SettingsError

EXIT_STOPPED: Final = 0
EXIT_FAILED: Final = 1
EXIT_STARTUP: Final = 2

if TYPE_CHECKING:
    import kopf

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Something the operator needs before it can start is missing; the message says what."""


def _check_port(address: str, port: int, what: str) -> None:
    with socket.socket() as s:
        # As the servers themselves do: connections of a previous process in TIME_WAIT don't block it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError as e:
            raise StartupError(f"cannot listen on {address}:{port} for {what}: {e.strerror or e}") from e


def _exit(code: int) -> NoReturn:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(verbose: bool) -> NoReturn:
    import kopf  # noqa: PLC0415 - only `run` needs kopf; `crd` and `validate` stay fast

    try:
        settings = Settings.from_env()
    except SettingsError as e:
        print(f"lifecycle-operator: bad setting: {e}", file=sys.stderr)
        _exit(EXIT_STARTUP)
    kopf.configure(
        verbose=verbose,
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL,
    )
    if not verbose:
        # kopf says "Handler ... succeeded" for every pod event; our own log has a line per run instead.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        # urllib3 warns of every retry of its own; kube.retried logs one line per failed attempt.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    try:
        # An asyncio flag: kopf waits on a threading one in an executor thread that nothing would ever
        # release on SIGTERM, and asyncio.run then waits for that thread forever.
        stop = asyncio.Event()
        memo = _start(settings, stop)
    except StartupError as e:
        print(f"lifecycle-operator: cannot start: {e}", file=sys.stderr)
        _exit(EXIT_STARTUP)

    liveness = (
        f"http://{settings.bind_address}:{settings.health_port}/healthz" if settings.health_port else None
    )
    try:
        kopf.run(
            standalone=not settings.peering,
            peering_name=settings.peering or None,
            # Replicas must not share a priority: kopf pauses every peer when they do.
            priority=random.randint(1, 1_000_000) if settings.peering else None,
            # Patterns are matched by the handlers' filter (handlers.watched), on cluster-wide watches.
            namespaces=[] if settings.clusterwide else list(settings.namespaces),
            clusterwide=settings.clusterwide,
            liveness_endpoint=liveness,
            memo=memo,
            stop_flag=stop,
        )
    except BaseException as e:
        log.error("the operator stopped: %s: %s", type(e).__name__, e)
        _exit(EXIT_FAILED)
    failed = memo.get("failed")
    if failed:
        log.error("the operator stopped: %s", failed)
        _exit(EXIT_FAILED)
    log.info("the operator stopped")
    _exit(EXIT_STOPPED)


def _start(settings: Settings, stop: asyncio.Event) -> kopf.Memo:
    """Everything that can fail before kopf starts; returns kopf's memo."""
    import kopf  # noqa: PLC0415

    from lifecycle_operator import kube  # noqa: PLC0415
    from lifecycle_operator.handlers import post_event  # noqa: PLC0415 - importing registers handlers
    from lifecycle_operator.metrics import Metrics  # noqa: PLC0415
    from lifecycle_operator.runs import Context  # noqa: PLC0415
    from lifecycle_operator.scheduler import Scheduler  # noqa: PLC0415

    try:
        kube.login()
    except Exception as e:
        raise StartupError(f"no cluster credentials (in-cluster or kubeconfig): {e}") from e
    try:
        kube.check_access()
    except kube.KubeError as e:
        raise StartupError(f"the API server refused or did not answer: {e}") from e
    if settings.health_port:
        _check_port(settings.bind_address, settings.health_port, "the health endpoint")
    metrics = Metrics()
    if settings.metrics_port:
        _check_port(settings.bind_address, settings.metrics_port, "metrics")
        metrics.serve(settings.bind_address, settings.metrics_port)
        log.info("metrics on http://%s:%d/metrics", settings.bind_address, settings.metrics_port)
    ctx = Context(kube.KubeApi(metrics.record_request), settings, metrics, post_event)
    return kopf.Memo(scheduler=Scheduler(ctx), stop=stop)
