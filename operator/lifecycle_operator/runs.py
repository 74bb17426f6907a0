"""A run of a LifecycleTest, from pod creation to verdict: the I/O around the pure steps.

queue_run:   a test that must wait for a slot -> status says Queued.
start_run:   spec -> pod manifest -> pod on a node; status says Running.
on_pod:      a pod event -> judge -> (when ready) finish; a pod of a finished run -> cleaned up.
on_deadline: a run past its deadline -> judged as it stood at the deadline.
finish:      pod -> logs where needed -> timeline -> verdicts -> status and metrics; pod cleaned up.

Every write is safe to repeat: a pod that exists already is the run's pod (a restarted operator adopts
it), and status patches carry the resourceVersion they were computed from, so of two racing writers
(the pod watch and the deadline, or two starts) exactly one wins. The API is reached only through
`ctx.api` (apiclient.Api), so these paths run against an in-memory API in the fast test tier.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from lifecycle_operator import constants as c
from lifecycle_operator import times
from lifecycle_operator.actions import (
    FINALIZER,
    AllTaken,
    Take,
    Unreachable,
    Wait,
    deletes_pod,
    image_patch,
    next_step,
    release_patch,
    target_image,
)
from lifecycle_operator.api import (
    Action,
    ActionType,
    InvalidSpecError,
    LifecycleTestSpec,
    PodRetention,
    parse_spec,
)
from lifecycle_operator.apiclient import Api, Conflict, Invalid, KubeError, NotFound, Transient
from lifecycle_operator.evidence import LogRequest, collect_records, logs_needed
from lifecycle_operator.judging import judge, met_at
from lifecycle_operator.margins import deleted_too_late, inconclusive, judged_too_soon, silent_instances
from lifecycle_operator.metrics import Metrics
from lifecycle_operator.nodes import NodeInfo
from lifecycle_operator.observation import PodObservation, observe_pod
from lifecycle_operator.outcome import Ending, Judged, Lost, RunOutcome, TimedOut, outcome_reason
from lifecycle_operator.pod_manifest import Owner, build_pod
from lifecycle_operator.settings import Settings
from lifecycle_operator.state import PodRef, TestState, owner_of
from lifecycle_operator.status_patch import invalid_spec, run_finished, run_queued, run_started
from lifecycle_operator.timeline import build_timeline
from lifecycle_operator.verdicts import evaluate

log = logging.getLogger(__name__)

FINISH_ATTEMPTS: Final = 5
# How long the kubelet must have been reporting after a deadline before a pod not done counts as TimedOut.
STATUS_SETTLE: Final = timedelta(seconds=30)
# Kubernetes Events carry at most this much message.
MAX_EVENT_MESSAGE: Final = 1000

# Posts a Kubernetes Event about a test: (test body, type "Normal" or "Warning", reason, message).
PostEvent = Callable[[dict[str, Any], str, str, str], None]


def _no_events(body: dict[str, Any], type_: str, reason: str, message: str) -> None:
    """For contexts without an event poster (the offline tools)."""


# A pod by namespace, name and uid (a run's pod keeps its name across attempts; its uid is new each time).
PodKey = tuple[str, str, str]
# A test by namespace and name.
Key = tuple[str, str]


@dataclass(frozen=True)
class Context:
    api: Api
    settings: Settings
    metrics: Metrics
    post_event: PostEvent = _no_events
    # Per overdue run, the first renewal of its node's Lease seen after the deadline (see on_deadline).
    fresh_leases: dict[tuple[str, str, int], datetime] = field(default_factory=dict)
    # The nodes as last listed (by the scheduler), by name: their versions go into each verdict.
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    # Pods of judged runs whose deletion failed (the API server went away right then): the scheduler
    # tries again, since a pod that does not change sends no event that would bring it back.
    pending_deletes: set[PodKey] = field(default_factory=set)
    # Actions taken, by (pod, action index): the events the watch had queued before an action's effect
    # show the pod without it, and must not take it again. Dropped with the pod's DELETED event; an
    # operator that restarts reads the effect from the pod itself (actions.is_done).
    taken: set[tuple[PodKey, int]] = field(default_factory=set)
    # Pods of judged runs whose deletion was asked for: their later events decide nothing, and those
    # queued before show them alive and must not delete them again. Dropped with the pod's DELETED event.
    # By uid too: a test deleted and made again names its first pod as before.
    deleted: set[PodKey] = field(default_factory=set)
    # Runs being started, by (namespace, test, run), from before their pod is created until their status
    # names it: the pod's events meanwhile find a test that does not know it yet. The start itself looks
    # at the pod once, after, so they are skipped rather than each paid for with a read of the test.
    starting: set[tuple[str, str, int]] = field(default_factory=set)


def _pod_key(pod: dict[str, Any]) -> PodKey:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace")), str(meta.get("name")), str(meta.get("uid") or "")


def _event(ctx: Context, test: TestState, type_: str, reason: str, message: str) -> None:
    ref = {
        "apiVersion": f"{c.GROUP}/{c.VERSION}",
        "kind": c.KIND,
        "metadata": {"namespace": test.namespace, "name": test.name, "uid": test.uid},
    }
    ctx.post_event(ref, type_, reason, message[:MAX_EVENT_MESSAGE])


def record_invalid_spec(test: TestState, error: InvalidSpecError, ctx: Context) -> None:
    patch = invalid_spec(test.status, test.generation, str(error), times.now())
    ctx.api.patch_test_status(test.namespace, test.name, patch)
    ctx.metrics.record_invalid(test.namespace, test.name)
    _event(ctx, test, "Warning", c.REASON_INVALID_SPEC, str(error))
    log.info("%s/%s: invalid spec: %s", test.namespace, test.name, error)


def queue_run(test: TestState | Key, why: str, ctx: Context) -> None:
    """Say that the test's next run waits for a slot (once: a queued test is not written again). Given
    the test's key, not its state, it reads the test first (the scheduler's view of a test at rest lacks
    the conditions the patch keeps)."""
    if isinstance(test, tuple):
        read = _read_test(*test, ctx)
        if read is None:
            return
        test = read
    if test.status.queued:
        return
    patch = run_queued(test.status, test.status.run + 1, test.generation, times.now(), why)
    with contextlib.suppress(Conflict):  # it changed meanwhile; the scheduler looks again
        ctx.api.patch_test_status(test.namespace, test.name, patch, resource_version=test.resource_version)


def start_run(
    namespace: str, name: str, ctx: Context, *, after_run: int, retry_reason: str | None = None
) -> str | None:
    """Start run `after_run + 1` of a test, with the spec as it is now, and return its pod's name.

    None when there was nothing to start after all: the test is gone, or another run started or ended
    since the caller looked (so a stale view never starts a run twice). A spec that cannot run is
    recorded as InvalidSpec. With retry_reason, the run retries the inconclusive run in progress.
    """
    test = _read_test(namespace, name, ctx)
    if test is None:
        return None
    if test.status.run != after_run:
        return None
    if test.status.running and not (test.spec_changed or retry_reason is not None):
        return None
    status = test.status
    if status.running and status.pod_name:
        # A new spec (or a retry) supersedes the run in progress.
        ctx.api.delete_pod(namespace, status.pod_name)
    try:
        spec = parse_spec(test.spec)
    except InvalidSpecError as e:
        record_invalid_spec(test, e, ctx)
        return None
    run = status.run + 1
    starting = (namespace, name, run)
    ctx.starting.add(starting)
    try:
        written = _create_and_record(test, spec, run, retry_reason, ctx)
    finally:
        ctx.starting.discard(starting)
    if written is None:
        return None
    pod_name = str(written.status.pod_name)
    ctx.metrics.set_interval(namespace, name, spec.interval_seconds)
    log.info("%s/%s run %d started pod %s", namespace, name, run, pod_name)
    # The pod's events that arrived before its run was recorded were skipped, or found a test that did
    # not know the pod yet: judge it once as it is now (later than all of them).
    with contextlib.suppress(NotFound):
        on_pod(ctx.api.get_pod(namespace, pod_name), None, ctx, known=written)
    return pod_name


def _create_and_record(
    test: TestState, spec: LifecycleTestSpec, run: int, retry_reason: str | None, ctx: Context
) -> TestState | None:
    """Create run `run`'s pod and record the run in the test's status; the test as written, or None when
    the pod was refused or the test changed meanwhile."""
    namespace, name, status = test.namespace, test.name, test.status
    attempt = status.attempt + 1 if retry_reason is not None else 1
    manifest = build_pod(spec, Owner(name=name, namespace=namespace, uid=test.uid), run, ctx.settings)
    pod_name = str(manifest["metadata"]["name"])
    try:
        ctx.api.create_pod(namespace, manifest)
    except Conflict:
        log.info("pod %s/%s exists already; adopting it as run %d", namespace, pod_name, run)
    except Invalid as e:
        # Admission refused the pod (Pod Security, quota, a bad image name...): running again won't help.
        record_invalid_spec(test, InvalidSpecError(f"the API refused the run's pod: {e}"), ctx)
        return None
    now = times.now()
    timeout = spec.timeout_seconds or ctx.settings.default_timeout_seconds
    patch = run_started(
        status, run, pod_name, test.generation, now, now + timedelta(seconds=timeout), attempt, retry_reason
    )
    try:
        written = ctx.api.patch_test_status(namespace, name, patch, resource_version=test.resource_version)
    except Conflict:
        # Someone else started or changed this test since we read it; their view wins, this pod goes.
        log.info("%s/%s changed while run %d was starting; leaving it to the next look", namespace, name, run)
        ctx.api.delete_pod(namespace, pod_name)
        return None
    return TestState.read(written)


def _read_test(namespace: str, name: str, ctx: Context) -> TestState | None:
    """The test as it is now, or None when it is gone (its pod goes with it, by the owner reference)."""
    try:
        return TestState.read(ctx.api.get_test(namespace, name))
    except NotFound:
        return None


def _current_run(namespace: str, test_name: str, pod: str, ctx: Context) -> TestState | None:
    """The test, if `pod` is the pod of its run in progress."""
    test = _read_test(namespace, test_name, ctx)
    if test is None:
        return None
    if not test.status.running or test.status.pod_name != pod:
        return None
    return test


def _retain(retention: PodRetention, passed: bool) -> bool:
    return retention == PodRetention.KEEP or (retention == PodRetention.KEEP_ON_FAILURE and not passed)


def _retention(spec: LifecycleTestSpec | None, ctx: Context) -> PodRetention:
    """The spec's pod retention, else the operator's default (also for a spec that no longer parses)."""
    return (spec.pod_retention if spec is not None else None) or ctx.settings.default_retention


def _clean_up_leftover(ref: PodRef, key: PodKey, test: TestState, ctx: Context) -> None:
    """A pod of a run that is over (the operator died between verdict and delete): apply its retention."""
    if ref.run is None or ref.run > test.status.run or (test.status.running and ref.run == test.status.run):
        return  # not ours to judge, or a run whose start is still being written
    result = test.status.result_of_run(ref.run)
    if result is None and ref.run == test.status.run:
        return
    try:
        spec: LifecycleTestSpec | None = parse_spec(test.spec)
    except InvalidSpecError:
        spec = None
    if _retain(_retention(spec, ctx), passed=result == c.RESULT_PASSED):
        return
    log.info("%s/%s: deleting pod %s of finished run %d", ref.namespace, ref.test, ref.name, ref.run)
    ctx.api.delete_pod(ref.namespace, ref.name)
    ctx.deleted.add(key)


def on_pod(pod: dict[str, Any], event_type: str | None, ctx: Context, known: TestState | None = None) -> None:
    """A watch event of a pod we created: take the run's next action, or judge the run when its
    condition is met.

    `known` is the test as the watch last showed it. When it already knows the pod's run, it is used
    as it is: a run's number only grows, and a verdict written from a stale view meets a Conflict and
    re-reads. Only a pod of a run the view has not seen yet costs a GET of the test.
    """
    ref = owner_of(pod)
    if ref is None:
        return
    deleted = event_type == "DELETED"
    pod_key = _pod_key(pod)
    if deleted and ctx.taken:
        ctx.taken.difference_update({key for key in ctx.taken if key[0] == pod_key})
    observed = observe_pod(pod)
    if pod_key in ctx.deleted:
        # A judged run's pod whose deletion was asked for: nothing to decide, and no test to read. An
        # event queued before the deletion showed must not delete it again; one that shows it must let
        # our finalizer, if it holds the pod, go.
        if deleted:
            ctx.deleted.discard(pod_key)
        elif observed.deleting:
            _release(ref.namespace, observed, ctx)
        return
    if ref.run is not None and (ref.namespace, ref.test, ref.run) in ctx.starting:
        return  # its start looks at the pod once its status names it, later than this event
    trusted = known is not None and ref.run is not None and known.status.run >= ref.run
    test = known if trusted else _read_test(ref.namespace, ref.test, ctx)
    if test is None:
        _release(ref.namespace, observed, ctx)  # the pod goes with its test, by the owner reference
        return
    if not test.status.running or test.status.pod_name != ref.name:
        if not deleted and observed.deleting:
            _release(ref.namespace, observed, ctx)
        elif not deleted:
            _clean_up_leftover(ref, pod_key, test, ctx)
        return
    spec = parse_spec(test.spec)
    held = deletes_pod(spec) and FINALIZER in observed.finalizers
    if deleted or (observed.deleting and not held):
        finish(test, spec, observed, Lost("the pod was deleted before the run was judged"), ctx)
        return
    match next_step(spec, observed, ctx.settings.update_image):
        case Take(index, action):
            if (pod_key, index) not in ctx.taken and _take(test, pod, index, action, ctx):
                ctx.taken.add((pod_key, index))
            return
        case Wait():
            return
        case Unreachable(message, late):
            finish(test, spec, observed, Judged(message, late), ctx)
            return
        case AllTaken():
            pass
    judgement = judge(spec.judge_when, observed)
    if judgement.ready:
        finish(test, spec, observed, Judged(judgement.unreachable), ctx)


def _take(test: TestState, pod: dict[str, Any], index: int, action: Action, ctx: Context) -> bool:
    """Take `action`, action `index` of the run's spec, on its pod; whether it was taken."""
    namespace, pod_name = test.namespace, str(test.status.pod_name)
    try:
        if action.type == ActionType.PATCH_IMAGE:
            image = target_image(action, ctx.settings.update_image)
            ctx.api.patch_pod(namespace, pod_name, image_patch(pod, action.container or "", image))
        else:
            ctx.api.delete_pod(namespace, pod_name, action.grace_period_seconds)
    except NotFound:
        return False  # the pod is gone; its DELETED event ends the run
    except Invalid as e:
        # The API refused the change (an image reference it does not take): the test cannot run as written.
        record_invalid_spec(test, InvalidSpecError(f"the API refused action {index + 1}: {e}"), ctx)
        ctx.api.delete_pod(namespace, pod_name)
        return False
    log.info(
        "%s/%s run %d: action %d: %s",
        test.namespace,
        test.name,
        test.status.run,
        index + 1,
        action.describe(),
    )
    return True


def _release(namespace: str, pod: PodObservation, ctx: Context) -> None:
    """Let go of a pod we hold with our finalizer, so that its deletion completes."""
    ops = release_patch(pod.finalizers)
    if ops is None:
        return
    with contextlib.suppress(NotFound, Invalid):  # gone, or released meanwhile
        ctx.api.patch_pod(namespace, pod.name, ops)


def on_deadline(namespace: str, name: str, ctx: Context) -> None:
    """A run passed its deadline: judge the pod as it stood then.

    The deadline may be noticed late (the operator or the API server was down). A pod whose judging
    condition was met by the deadline, by the pod's own timestamps, gets its normal verdict; TimedOut
    means the condition was not met in time. The timeout is the kubelet's: the time the pod waited to be
    scheduled is added to it, and a pod still unscheduled at the deadline ends Inconclusive (no kubelet
    had it: an API server outage or a busy scheduler, not the kubelet's contract).
    """
    test = _read_test(namespace, name, ctx)
    if test is None:
        return
    status = test.status
    if not status.running or status.deadline is None or status.deadline > times.now():
        return
    spec = parse_spec(test.spec)
    try:
        pod = observe_pod(ctx.api.get_pod(namespace, str(status.pod_name)))
    except NotFound:
        finish(test, spec, None, Lost("the pod disappeared before the run was judged"), ctx)
        return
    if pod.node_name is None:
        finish(test, spec, pod, TimedOut(unscheduled=True), ctx)
        return
    deadline = status.deadline + pod.placement_lag
    if deadline > times.now():
        return  # the kubelet has had the pod for less than the timeout: the pod watch may judge it yet
    step = next_step(spec, pod, ctx.settings.update_image)
    if isinstance(step, Unreachable):
        finish(test, spec, pod, Judged(step.message, step.late), ctx)
        return
    waiting = None
    if isinstance(step, AllTaken):
        judgement = judge(spec.judge_when, pod)
        reached = met_at(spec.judge_when, pod)
        if judgement.ready and (reached is None or reached <= deadline):
            finish(test, spec, pod, Judged(judgement.unreachable), ctx)
            return
    else:
        waiting = f"action {step.index + 1} ({step.action.describe()}) was not taken"
    silent = _kubelet_silent_since(test, pod.node_name, deadline, ctx)
    if silent is None:
        finish(test, spec, pod, TimedOut(waiting), ctx)
    elif times.now() - deadline > timedelta(seconds=ctx.settings.api_outage_seconds):
        detail = f"the kubelet of node {pod.node_name} has not reported since {times.format_time(silent)}"
        finish(test, spec, pod, TimedOut(detail), ctx)
    # Else the pod's status may be stale (the kubelet could not reach the API server): wait for it.


def _kubelet_silent_since(test: TestState, node: str, deadline: datetime, ctx: Context) -> datetime | None:
    """None when the kubelet has reported steadily since the deadline, so the pod's status in the API
    is how the kubelet saw it; else the last time it is known to have reported.

    The node's Lease is renewed every 10 s while the kubelet reaches the API server. A renewal seen after
    the deadline, and another STATUS_SETTLE later, mean the kubelet was connected across a window in
    which its status manager (which syncs every 10 s) pushed any change of the pod: a pod still not done
    then was really not done by its deadline. After an outage the kubelet reconnects in its own time
    (up to ~90 s here), and until then the API shows a pod that ended meanwhile as still running.
    """
    try:
        renewed = times.parse_time(ctx.api.get_node_lease(node).get("spec", {}).get("renewTime"))
    except NotFound:
        return None  # a node without a lease (kubelets before 1.17) cannot say more
    if renewed is None or renewed < deadline:
        return renewed or deadline
    key = (test.namespace, test.name, test.status.run)
    first = ctx.fresh_leases.setdefault(key, renewed)
    if renewed - first < STATUS_SETTLE:
        return first
    ctx.fresh_leases.pop(key, None)
    return None


def resume(namespace: str, name: str, ctx: Context) -> None:
    """After an operator restart, for a test whose run was in progress: end it if its pod is gone.

    A pod that exists is followed by the pod watch, whose first listing delivers it.
    """
    test = _read_test(namespace, name, ctx)
    if test is None:
        return
    if not test.status.running:
        return
    try:
        ctx.api.get_pod(namespace, str(test.status.pod_name))
    except NotFound:
        spec = parse_spec(test.spec)
        finish(test, spec, None, Lost("the pod was gone when the operator resumed"), ctx)


def restore_metrics(test: TestState, interval_seconds: int | None, ctx: Context) -> None:
    """After a restart: the last verdict and the interval come back from the test itself."""
    status = test.status
    if status.finished and status.result is not None and status.completion_time is not None:
        ctx.metrics.restore(test.namespace, test.name, status.result, status.completion_time.timestamp())
        ctx.metrics.set_node(
            test.namespace,
            test.name,
            status.node_name,
            status.kubelet_version,
            status.container_runtime_version,
        )
    ctx.metrics.set_interval(test.namespace, test.name, interval_seconds)


def _read_logs(namespace: str, pod: PodObservation, ctx: Context) -> dict[LogRequest, str | None]:
    return {
        request: ctx.api.read_log(namespace, pod.name, request.container, previous=request.previous)
        for request in logs_needed(pod)
    }


def judge_run(
    namespace: str,
    spec: LifecycleTestSpec,
    run: int,
    pod: PodObservation | None,
    ending: Ending,
    ctx: Context,
) -> RunOutcome:
    """Read what the pod's containers recorded and judge the run: the pure pipeline, fed by the API."""
    if pod is None or isinstance(ending, Lost):
        reason, message = outcome_reason([], ending)
        return RunOutcome(run, reason, message, node_name=pod.node_name if pod else None)
    logs = _read_logs(namespace, pod, ctx)
    records = collect_records(pod, logs)
    timeline = build_timeline(r.text for r in records)
    verdicts = evaluate(spec.expectations, timeline, pod, ctx.settings.update_image)
    explained = (
        inconclusive(spec, timeline, verdicts)
        or deleted_too_late(spec, pod, verdicts)
        or judged_too_soon(verdicts, silent_instances(pod, logs))
        if isinstance(ending, Judged)
        else None
    )
    reason, message = outcome_reason(verdicts, ending, explained)
    evidence = [f"{r.container}: {r.source.value}" for r in records]
    node = ctx.nodes.get(pod.node_name or "")
    return RunOutcome(
        run,
        reason,
        message,
        verdicts,
        timeline,
        evidence,
        pod.node_name,
        node.kubelet_version if node else None,
        node.container_runtime_version if node else None,
    )


def finish(
    test: TestState, spec: LifecycleTestSpec, pod: PodObservation | None, ending: Ending, ctx: Context
) -> None:
    """Judge the run and write its verdict, unless another finisher got there first."""
    namespace, name = test.namespace, test.name
    outcome = judge_run(namespace, spec, test.status.run, pod, ending, ctx)
    if outcome.reason == c.REASON_INCONCLUSIVE and test.status.attempt < ctx.settings.max_attempts:
        _retry(test, outcome, ctx)
        return
    current = test
    for _ in range(FINISH_ATTEMPTS):
        patch = run_finished(current.status, outcome, current.status.observed_generation, times.now())
        try:
            ctx.api.patch_test_status(namespace, name, patch, resource_version=current.resource_version)
            break
        except Conflict:
            # Something else wrote the test since we read it (a user's label, or another finisher).
            latest = _current_run(namespace, name, str(test.status.pod_name), ctx)
            if latest is None:
                return  # the run was finished or superseded meanwhile
            current = latest
    else:
        raise Transient(
            f"could not write the verdict of {namespace}/{name} run {outcome.run}: kept conflicting"
        )

    ctx.fresh_leases.pop((namespace, name, outcome.run), None)
    started = current.status.start_time
    finished_at = time.time()
    duration = finished_at - started.timestamp() if started else 0.0
    ctx.metrics.record_run(namespace, name, outcome, duration, finished_at)
    ctx.metrics.set_node(
        namespace, name, outcome.node_name, outcome.kubelet_version, outcome.container_runtime_version
    )
    log.info(
        "%s/%s run %d: %s (%s) %s",
        namespace,
        name,
        outcome.run,
        outcome.result,
        outcome.reason,
        outcome.message,
    )
    event_type = "Normal" if outcome.passed else "Warning"
    _event(ctx, test, event_type, outcome.reason, f"run {outcome.run}: {outcome.message}")
    retained = _retain(_retention(spec, ctx), outcome.passed)
    if pod is not None and not (pod.deleting or isinstance(ending, Lost) or retained):
        key = (namespace, pod.name, pod.uid)
        try:
            ctx.api.delete_pod(namespace, pod.name)
            ctx.deleted.add(key)
        except KubeError as e:
            ctx.pending_deletes.add(key)
            log.warning("%s/%s: could not delete pod %s, will try again: %s", namespace, name, pod.name, e)
    if pod is not None:
        _release(namespace, pod, ctx)


def retry_delete(key: PodKey, ctx: Context) -> None:
    """Delete a judged run's pod whose deletion failed before; it stays pending until this succeeds."""
    namespace, pod, _ = key
    ctx.api.delete_pod(namespace, pod)
    ctx.pending_deletes.discard(key)
    ctx.deleted.add(key)
    log.info("%s: deleted pod %s of a judged run", namespace, pod)


def _retry(test: TestState, outcome: RunOutcome, ctx: Context) -> None:
    """An inconclusive run is run again, as the next run, until the attempts run out."""
    ctx.metrics.retries.labels(test.namespace, test.name).inc()
    log.info(
        "%s/%s run %d (attempt %d) is inconclusive; running it again: %s",
        test.namespace,
        test.name,
        outcome.run,
        test.status.attempt,
        outcome.message,
    )
    start_run(test.namespace, test.name, ctx, after_run=outcome.run, retry_reason=outcome.message)
