"""kopf wiring: the watches feed the scheduler and the run code; nothing else lives here.

No finalizers and no change handlers: every decision is derived from the objects themselves (a test
with no run, a queued one, a changed spec, a passed deadline), so nothing is lost when the operator
dies between two steps, and kopf writes no bookkeeping into the tests. A LifecycleTest can always be
deleted, even with the operator gone, and its pod goes with it through the owner reference.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any, Final, cast

import kopf

from lifecycle_operator import constants as c
from lifecycle_operator import runs
from lifecycle_operator.apiclient import Invalid, Transient
from lifecycle_operator.scheduler import Scheduler
from lifecycle_operator.state import owner_of

log = logging.getLogger(__name__)

WATCH_SERVER_TIMEOUT: Final = 300
HANDLER_THREADS: Final = 32
# The first listing of each watch comes in pages of this many objects, not in one response: 10,000 tests
# are tens of MB of JSON, parsed at once.
LIST_CHUNK: Final = 500
# kopf's worker for an object holds its last body until it has been idle this long (5 s by default).
WORKER_IDLE_SECONDS: Final = 0.5
# The API server sends only our pods: the pod handler's labels= filter is kopf's, applied to every pod of
# the watched namespaces after it has been received and parsed.
OUR_PODS: Final = f"{c.LABEL_MANAGED_BY}={c.MANAGED_BY},{c.LABEL_TEST}"
# The longest wait between two retries of a failing API request.
MAX_BACKOFF_SECONDS: Final = 15


def api_error_backoffs(outage_seconds: int) -> tuple[float, ...]:
    """kopf retries a failing API request (its watches included) with these delays, then gives up and
    stops; so they add up to the outage the operator rides out (a longer one ends the process, and its
    supervisor restarts it)."""
    delays: list[float] = []
    for step in itertools.chain((1, 2, 5, 10), itertools.repeat(MAX_BACKOFF_SECONDS)):
        if sum(delays) >= outage_seconds:
            return tuple(delays)
        delays.append(min(step, outage_seconds - sum(delays)))
    raise AssertionError("unreachable")


def post_event(body: dict[str, Any], type_: str, reason: str, message: str) -> None:
    """runs.PostEvent through kopf's event poster (it batches, retries, and is safe from any thread)."""
    try:
        kopf.event(cast(kopf.Body, body), type=type_, reason=reason, message=message)
    except LookupError:  # outside a running operator (no poster): nothing to post to
        log.debug("no event poster; not posting %s %s", reason, message)


def _scheduler(memo: kopf.Memo) -> Scheduler:
    scheduler: Scheduler = memo["scheduler"]
    return scheduler


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """kopf's own settings; ours were read and checked before kopf started (cli.py)."""
    settings.posting.level = logging.INFO
    # Sync handlers (the pod events) run in kopf's thread pool: room for every run a node takes at once,
    # twice, so that events that decide nothing never queue ahead of a verdict.
    settings.execution.max_workers = HANDLER_THREADS
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT
    settings.watching.chunk_size = LIST_CHUNK
    # A restart's listing of 10,000 tests would otherwise keep most of their bodies alive at once.
    settings.queueing.idle_timeout = WORKER_IDLE_SECONDS
    settings.watching.label_selectors["v1", "pods"] = OUR_PODS
    scheduler = _scheduler(memo)
    settings.networking.error_backoffs = api_error_backoffs(scheduler.ctx.settings.api_outage_seconds)
    task = asyncio.create_task(scheduler.run(), name="lifecycle scheduler")
    task.add_done_callback(lambda t: _scheduler_stopped(t, memo))
    memo["scheduler_task"] = task


def _scheduler_stopped(task: asyncio.Task[None], memo: kopf.Memo) -> None:
    """The scheduler never ends by itself: if it does, stop the operator, so the process exits non-zero."""
    if task.cancelled() and memo.get("stopping"):
        return
    error = None if task.cancelled() else task.exception()
    log.error("the scheduler stopped (%s); stopping the operator", error or "cancelled")
    memo["failed"] = f"the scheduler stopped: {error}"
    memo["stop"].set()


@kopf.on.cleanup()
async def stop_scheduler(memo: kopf.Memo, **_: Any) -> None:
    memo["stopping"] = True
    task: asyncio.Task[None] | None = memo.get("scheduler_task")
    if task is not None:
        task.cancel()
    await _scheduler(memo).stop()


def watched(namespace: str | None, memo: kopf.Memo, **_: Any) -> bool:
    """kopf's filter: an object in a namespace the settings watch (cluster-wide watches see them all)."""
    return namespace is not None and _scheduler(memo).ctx.settings.watches(namespace)


@kopf.on.event(c.GROUP, c.VERSION, c.PLURAL, when=watched)
async def test_seen(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _scheduler(memo).seen(dict(event["object"]), event["type"])


@kopf.on.event(
    "", "v1", "pods", labels={c.LABEL_MANAGED_BY: c.MANAGED_BY, c.LABEL_TEST: kopf.PRESENT}, when=watched
)
def pod_seen(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    pod: dict[str, Any] = dict(event["object"])
    scheduler = _scheduler(memo)
    ref = owner_of(pod)
    view = scheduler.tests.get((ref.namespace, ref.test)) if ref is not None else None
    known = view.state if view is not None and not view.partial else None
    try:
        runs.on_pod(pod, event["type"], scheduler.ctx, known=known)
    except (Transient, Invalid) as e:
        # The next event of this pod, or the run's deadline, tries again.
        log.warning("could not judge pod %s yet: %s", pod["metadata"]["name"], e)
