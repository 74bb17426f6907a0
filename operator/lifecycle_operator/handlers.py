"""kopf handlers: unpack kopf's arguments, call lifecycle_operator.runs, map errors to kopf's.

No finalizers are added (no delete handler, no timers): a LifecycleTest can always be deleted, even with
the operator gone, and its pod goes with it through the owner reference. Deadlines and re-run intervals
are kept by one scheduler task over an in-memory view of the tests that the watch keeps current.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Final

import kopf

from lifecycle_operator import constants as c
from lifecycle_operator import kube, runs
from lifecycle_operator.metrics import Metrics
from lifecycle_operator.settings import Settings

log = logging.getLogger(__name__)

TRANSIENT_RETRY_SECONDS: Final = 5
Key = tuple[str, str]


def _ctx(memo: kopf.Memo) -> runs.Context:
    ctx: runs.Context = memo["ctx"]
    return ctx


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    ours = Settings.from_env()
    # kopf's bookkeeping goes into annotations under our group; status is ours alone.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=c.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=c.GROUP, key="last-handled-configuration"
    )
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    await asyncio.to_thread(kube.login)
    metrics = Metrics()
    if ours.metrics_port:
        metrics.serve(ours.bind_address, ours.metrics_port)
        log.info("metrics on http://%s:%d/metrics", ours.bind_address, ours.metrics_port)
    memo["ctx"] = runs.Context(ours, metrics)
    memo["tests"] = {}
    memo["scheduler"] = asyncio.create_task(schedule(memo))


@kopf.on.cleanup()
async def stop_scheduler(memo: kopf.Memo, **_: Any) -> None:
    task: asyncio.Task[None] | None = memo.get("scheduler")
    if task is not None:
        task.cancel()


def _start(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger) -> None:
    raw = dict(body)
    try:
        pod = runs.start_run(raw, _ctx(memo))
    except runs.InvalidSpecError as e:
        runs.record_invalid_spec(raw, e, _ctx(memo))
        kopf.warn(body, reason=c.REASON_INVALID_SPEC, message=str(e)[:1000])
        raise kopf.PermanentError(f"invalid spec: {e}") from e
    except kube.Invalid as e:
        # Admission refused the pod (Pod Security, quota, a bad image name...): running again won't help.
        error = runs.InvalidSpecError(f"the API refused the run's pod: {e}")
        runs.record_invalid_spec(raw, error, _ctx(memo))
        kopf.warn(body, reason=c.REASON_INVALID_SPEC, message=str(error)[:1000])
        raise kopf.PermanentError(str(error)) from e
    except kube.Transient as e:
        raise kopf.TemporaryError(str(e), delay=TRANSIENT_RETRY_SECONDS) from e
    kopf.info(body, reason=c.REASON_RUN_STARTED, message=f"started pod {pod}")
    logger.info("started pod %s", pod)


@kopf.on.create(c.GROUP, c.VERSION, c.PLURAL)
def created(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    _start(body, memo, logger)


@kopf.on.update(c.GROUP, c.VERSION, c.PLURAL, field="spec")
def spec_changed(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    _start(body, memo, logger)


@kopf.on.resume(c.GROUP, c.VERSION, c.PLURAL)
def resumed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    try:
        runs.resume(dict(body), _ctx(memo))
    except kube.Transient as e:
        raise kopf.TemporaryError(str(e), delay=TRANSIENT_RETRY_SECONDS) from e


@kopf.on.event(c.GROUP, c.VERSION, c.PLURAL)
async def test_seen(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    """Keep the scheduler's view of the tests current, and forget deleted tests' metrics."""
    body: dict[str, Any] = dict(event["object"])
    key = (body["metadata"]["namespace"], body["metadata"]["name"])
    tests: dict[Key, dict[str, Any]] = memo["tests"]
    if event["type"] == "DELETED":
        tests.pop(key, None)
        _ctx(memo).metrics.forget(*key)
    else:
        tests[key] = body


@kopf.on.event("", "v1", "pods", labels={c.LABEL_MANAGED_BY: c.MANAGED_BY, c.LABEL_TEST: kopf.PRESENT})
def pod_seen(event: kopf.RawEvent, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    pod: dict[str, Any] = dict(event["object"])
    try:
        runs.on_pod(pod, event["type"], _ctx(memo))
    except (kube.Transient, kube.Invalid) as e:
        # The next event of this pod, or the run's deadline, tries again.
        logger.warning("could not judge pod %s yet: %s", pod["metadata"]["name"], e)


def due(tests: dict[Key, dict[str, Any]], now: datetime) -> tuple[list[Key], list[Key]]:
    """The runs past their deadline, and the tests due for a re-run (pure)."""
    overdue, rerun = [], []
    for key, body in tests.items():
        status = body.get("status") or {}
        deadline = runs.parse_time(status.get("deadline"))
        if status.get("result") == c.RESULT_RUNNING and deadline is not None and deadline <= now:
            overdue.append(key)
        elif runs.due_rerun(body, now):
            rerun.append(key)
    return overdue, rerun


async def schedule(memo: kopf.Memo) -> None:
    """Act on deadlines and re-run intervals. It reads only the watch-fed view; each action re-reads."""
    ctx = _ctx(memo)
    busy: set[Key] = set()
    tasks: set[asyncio.Task[None]] = set()

    async def act(key: Key, overdue: bool) -> None:
        try:
            if overdue:
                await asyncio.to_thread(runs.on_deadline, *key, ctx)
            else:
                body = await asyncio.to_thread(kube.get_test, *key)
                if runs.due_rerun(body, datetime.now(UTC)):
                    await asyncio.to_thread(runs.start_run, body, ctx)
        except (kube.KubeError, runs.InvalidSpecError) as e:
            log.warning("scheduled work on %s/%s failed, will retry: %s", *key, e)
        finally:
            busy.discard(key)

    while True:
        overdue, rerun = due(memo["tests"], datetime.now(UTC))
        for key, is_overdue in [(k, True) for k in overdue] + [(k, False) for k in rerun]:
            if key not in busy:
                busy.add(key)
                task = asyncio.create_task(act(key, is_overdue))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        await asyncio.sleep(ctx.settings.scheduler_tick_seconds)
