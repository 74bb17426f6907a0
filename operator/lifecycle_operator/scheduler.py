"""The scheduler: one task that starts, queues, times out and resumes runs, from a watch-fed view.

The view holds one small TestView per LifecycleTest, kept current by the test watch (`seen`). Every
decision is made by the pure rules of schedule.py on that view; every action re-reads the test from the
API before it writes, so a stale view can delay an action but never make a wrong one. A change to the
view wakes the loop at once; otherwise it looks again every tick (deadlines, re-run intervals).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from lifecycle_operator import children, runs
from lifecycle_operator.api import InvalidSpecError
from lifecycle_operator.apiclient import KubeError
from lifecycle_operator.fanout import Child, changes, gathered, plan
from lifecycle_operator.nodes import NodeInfo
from lifecycle_operator.schedule import Capacity, Key, TestView, admit, overdue

log = logging.getLogger(__name__)

# A started run whose Running status has not reached the view after this long no longer holds its slot.
STARTING_GRACE_SECONDS: Final = 60.0
# How long the loop lets watch events gather before it looks again: one look per burst, not per event.
COALESCE_SECONDS: Final = 0.05
# After a failed listing of the nodes, or one with a node not Ready while runs wait, list again this soon:
# the API server may be back, the node Ready again (after an API server outage every node is NotReady
# until its kubelet's next heartbeat).
FAILED_LIST_RETRY_SECONDS: Final = 5.0


class ApiGone(Exception):
    """The API server has not answered for longer than the operator rides out; it stops, to be restarted."""


class Scheduler:
    def __init__(self, ctx: runs.Context) -> None:
        self.ctx = ctx
        self.tests: dict[Key, TestView] = {}
        self.capacity = Capacity()
        self._wake = asyncio.Event()
        self._busy: set[Key] = set()
        self._starting: dict[Key, tuple[int, float]] = {}  # run started, monotonic time it started
        self._seen_once: set[Key] = set()
        self._queue_sent: set[Key] = set()  # a Queued patch was sent; the view has not shown it yet
        self._tasks: set[asyncio.Task[None]] = set()
        self._nodes_listed = float("-inf")
        self._nodes: list[NodeInfo] | None = None  # None until the first listing
        self._waiting = 0  # runs that waited for a slot at the last look
        self._api_ok = time.monotonic()  # the start-up checks have just reached the API server

    # -- the view, fed by the test watch (in the event loop's thread)

    def seen(self, body: dict[str, Any], event_type: str | None) -> None:
        meta = body.get("metadata") or {}
        key: Key = (str(meta.get("namespace")), str(meta.get("name")))
        if event_type == "DELETED":
            self.tests.pop(key, None)
            self._starting.pop(key, None)
            self._seen_once.discard(key)
            self._queue_sent.discard(key)
            self.ctx.metrics.forget(*key)
            return
        view = TestView.read(body)
        self.tests[key] = view
        # A newer version of the test: whatever our Queued patch did, the view now says (or it conflicted).
        self._queue_sent.discard(key)
        started = self._starting.get(key)
        if started is not None and view.state.status.run >= started[0]:
            del self._starting[key]
        if key not in self._seen_once:
            # First sight since the operator started: restore metrics, and end a run whose pod is gone.
            self._seen_once.add(key)
            runs.restore_metrics(view.state, view.interval_seconds, self.ctx)
            if view.state.status.running:
                self._act(key, runs.resume, *key, self.ctx)
        self._wake.set()

    # -- the loop

    async def run(self) -> None:
        settings = self.ctx.settings
        while True:
            await self._refresh_nodes()
            started = time.monotonic()
            self.step(datetime.now(UTC))
            spent = time.monotonic() - started
            self._wake.clear()
            # Let a burst of watch events (a restart lists every test) land before the next look. A look
            # goes over every test (10,000 take tens of ms): the pause grows with it, so that looking
            # never takes more than a fifth of the event loop while the events stream in.
            await asyncio.sleep(max(COALESCE_SECONDS, 4 * spent))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=settings.scheduler_tick_seconds)

    def step(self, now: datetime) -> None:
        """Act once on the view as it is now."""
        for key in overdue(self.tests, now):
            self._act(key, runs.on_deadline, *key, self.ctx)
        clock = time.monotonic()
        for key, (_, since) in list(self._starting.items()):
            if clock - since > STARTING_GRACE_SECONDS:
                del self._starting[key]
        active = {
            k for k, v in self.tests.items() if v.state.status.running and not v.state.spec_changed
        } | set(self._starting)
        admission = admit(self.tests, active, self.capacity, now)
        for key in admission.start:
            after = self.tests[key].state.status.run
            if self._act(key, self._start, key, after):
                self._starting[key] = (after + 1, clock)
        why = f"{len(active) + len(admission.start)} runs hold all {self.capacity.total} slots"
        for key in admission.wait:
            view = self.tests[key]
            unsaid = not view.state.status.queued and key not in self._queue_sent
            test = key if view.partial else view.state
            if unsaid and self._act(key, runs.queue_run, test, why, self.ctx):
                self._queue_sent.add(key)
        self._waiting = len(admission.wait)
        self.ctx.metrics.queued.set(self._waiting)
        self.ctx.metrics.active.set(len(active) + len(admission.start))
        self._every_node(now)
        for pod in list(self.ctx.pending_deletes):
            self._act((pod[0], f"pod {pod[1]}"), runs.retry_delete, pod, self.ctx)

    def _every_node(self, now: datetime) -> None:
        """Keep each everyNode test's children in step with the nodes, and its status with theirs."""
        if self._nodes is None:
            return  # never decide which nodes a test runs on before the nodes are known
        by_parent: dict[Key, list[Child]] = {}
        for view in self.tests.values():
            if view.child is not None:
                by_parent.setdefault((view.state.namespace, view.child.parent), []).append(view.child)
        for key, view in self.tests.items():
            if view.every_node is None:
                continue
            mine = by_parent.get(key, [])
            todo = plan(view.state, view.every_node, mine, self._nodes)
            if not todo.empty:
                self._act(key, children.reconcile, *key, todo, self.ctx)
                continue
            patch = gathered(view.state, mine, now)
            if changes(view.raw_status, patch):
                self._act(key, children.write_gathered, *key, patch, view.state.resource_version, self.ctx)

    def _start(self, key: Key, after: int) -> None:
        if runs.start_run(*key, self.ctx, after_run=after) is None:
            self._starting.pop(key, None)

    def _act(self, key: Key, fn: Callable[..., Any], *args: Any) -> bool:
        """Run one blocking action for a test in a thread, unless one is in flight for it already."""
        if key in self._busy:
            return False
        self._busy.add(key)
        task = asyncio.create_task(self._do(key, fn, *args), name=f"{fn.__name__} {key[0]}/{key[1]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _do(self, key: Key, fn: Callable[..., Any], *args: Any) -> None:
        try:
            await asyncio.to_thread(fn, *args)
        except (KubeError, InvalidSpecError) as e:
            log.warning("%s on %s/%s failed, will retry: %s", fn.__name__, *key, e)
        except Exception:
            # A bug must not stop the scheduler for every other test; it is logged with its traceback.
            log.exception("%s on %s/%s failed", fn.__name__, *key)
        finally:
            self._busy.discard(key)
            self._wake.set()

    async def _refresh_nodes(self) -> None:
        """List the nodes now and then; it is also the operator's heartbeat with the API server."""
        settings = self.ctx.settings
        now = time.monotonic()
        # A node not Ready matters while runs wait for slots; a node down for good is not listed for.
        degraded = self._waiting > 0 and not all(n.ready for n in self._nodes or ())
        settled = self._api_ok == self._nodes_listed and not degraded
        wait = settings.nodes_refresh_seconds if settled else FAILED_LIST_RETRY_SECONDS
        if now - self._nodes_listed < wait:
            return
        self._nodes_listed = now
        try:
            nodes = await asyncio.to_thread(self.ctx.api.list_nodes)
        except KubeError as e:
            silent = time.monotonic() - self._api_ok
            if silent > settings.api_outage_seconds:
                raise ApiGone(f"no answer from the API server for {silent:.0f}s: {e}") from e
            log.warning("could not list the nodes, keeping the last capacity: %s", e)
            return
        self._api_ok = self._nodes_listed
        infos = [NodeInfo.read(n) for n in nodes]
        self._nodes = infos
        self.ctx.nodes.clear()
        self.ctx.nodes.update({n.name: n for n in infos})
        capacity = Capacity.of(nodes, self.ctx.settings.max_runs_per_node)
        if capacity != self.capacity:
            log.info(
                "capacity: %s", ", ".join(f"{n} {k} runs" for n, k in capacity.per_node.items()) or "no nodes"
            )
        self.capacity = capacity

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
