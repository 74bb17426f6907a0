"""A run of a LifecycleTest, from pod creation to verdict: the I/O around the pure steps.

start_run:   spec -> pod manifest -> pod on a node; status says Running.
on_pod:      a pod event -> judge -> (when ready) finish.
finish:      pod -> logs where needed -> timeline -> verdicts -> status and metrics; pod cleaned up.

Every write is safe to repeat: a pod that exists already is the run's pod (a restarted operator adopts
it), and the final status patch carries the resourceVersion it was computed from, so of two racing
finishers (the pod watch and the timeout) exactly one wins.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from lifecycle_operator import constants as c
from lifecycle_operator import kube
from lifecycle_operator.api import LifecycleTestSpec, PodRetention
from lifecycle_operator.evidence import LogRequest, collect_records, logs_needed
from lifecycle_operator.judging import judge
from lifecycle_operator.metrics import Metrics
from lifecycle_operator.observation import PodObservation, observe_pod
from lifecycle_operator.pod_manifest import Owner, build_pod
from lifecycle_operator.settings import Settings
from lifecycle_operator.status_patch import (
    RunOutcome,
    invalid_spec,
    outcome_reason,
    run_finished,
    run_started,
)
from lifecycle_operator.timeline import build_timeline
from lifecycle_operator.verdicts import evaluate

log = logging.getLogger(__name__)

FINISH_ATTEMPTS = 5


class InvalidSpecError(ValueError):
    """The spec passed admission (or predates it) but cannot be run."""


@dataclass(frozen=True)
class Context:
    settings: Settings
    metrics: Metrics


def parse_spec(raw: dict[str, Any] | None) -> LifecycleTestSpec:
    try:
        return LifecycleTestSpec.model_validate(raw or {})
    except ValidationError as e:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" if err["loc"] else err["msg"]
            for err in e.errors()
        )
        raise InvalidSpecError(problems) from e


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def record_invalid_spec(body: dict[str, Any], error: InvalidSpecError, ctx: Context) -> None:
    meta = body["metadata"]
    patch = invalid_spec(body.get("status") or {}, meta.get("generation"), str(error), _now())
    kube.patch_test_status(meta["namespace"], meta["name"], patch)
    ctx.metrics.last_verdict.labels(meta["namespace"], meta["name"]).set(0)


def start_run(body: dict[str, Any], ctx: Context) -> str:
    """Start the next run of a test and return its pod's name. Raises InvalidSpecError."""
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    spec = parse_spec(body.get("spec"))
    status = body.get("status") or {}
    previous_pod = status.get("podName")
    if status.get("result") == c.RESULT_RUNNING and previous_pod:
        # A new spec supersedes the run in progress.
        kube.delete_pod(namespace, previous_pod)
    run = int(status.get("run") or 0) + 1
    owner = Owner(name=name, namespace=namespace, uid=meta["uid"])
    manifest = build_pod(spec, owner, run, ctx.settings)
    try:
        kube.create_pod(namespace, manifest)
    except kube.Conflict:
        log.info(
            "pod %s/%s exists already; adopting it as run %d", namespace, manifest["metadata"]["name"], run
        )
    now = _now()
    timeout = spec.timeout_seconds or ctx.settings.default_timeout_seconds
    patch = run_started(
        status,
        run,
        manifest["metadata"]["name"],
        meta.get("generation"),
        now,
        now + timedelta(seconds=timeout),
    )
    kube.patch_test_status(namespace, name, patch)
    ctx.metrics.set_interval(namespace, name, spec.interval_seconds)
    pod_name = str(manifest["metadata"]["name"])
    # Events of the pod that arrived before the status named it were ignored; judge it once as it is now.
    with contextlib.suppress(kube.NotFound):
        on_pod(kube.get_pod(namespace, pod_name), None, ctx)
    return pod_name


def owner_of(pod: dict[str, Any]) -> str | None:
    for ref in pod.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == c.KIND and ref.get("apiVersion", "").startswith(f"{c.GROUP}/"):
            return str(ref["name"])
    return None


def _current_run(namespace: str, test_name: str, pod: str) -> dict[str, Any] | None:
    """The test, if `pod` is the pod of its run in progress."""
    try:
        test = kube.get_test(namespace, test_name)
    except kube.NotFound:
        return None
    status = test.get("status") or {}
    if status.get("result") != c.RESULT_RUNNING or status.get("podName") != pod:
        return None
    return test


def on_pod(pod: dict[str, Any], event_type: str | None, ctx: Context) -> None:
    """A watch event of a pod we created: judge the run when its condition is met."""
    meta = pod.get("metadata") or {}
    test_name = owner_of(pod)
    if test_name is None:
        return
    namespace, pod_name_ = meta["namespace"], meta["name"]
    test = _current_run(namespace, test_name, pod_name_)
    if test is None:
        return
    spec = parse_spec(test.get("spec"))
    observed = observe_pod(pod)
    if event_type == "DELETED" or observed.deleting:
        finish(test, spec, observed, ctx, lost="the pod was deleted before the run was judged")
        return
    judgement = judge(spec.judge_when, observed)
    if judgement.ready:
        finish(test, spec, observed, ctx, unreachable=judgement.unreachable)


def on_deadline(namespace: str, test_name: str, ctx: Context) -> None:
    """The scheduler saw a run pass its deadline: judge it as it stands, as TimedOut."""
    try:
        test = kube.get_test(namespace, test_name)
    except kube.NotFound:
        return
    status = test.get("status") or {}
    deadline = parse_time(status.get("deadline"))
    if status.get("result") != c.RESULT_RUNNING or deadline is None or deadline > _now():
        return
    spec = parse_spec(test.get("spec"))
    try:
        pod = observe_pod(kube.get_pod(namespace, status["podName"]))
    except kube.NotFound:
        finish(test, spec, None, ctx, lost="the pod disappeared before the run was judged")
        return
    finish(test, spec, pod, ctx, timed_out=True)


def resume(body: dict[str, Any], ctx: Context) -> None:
    """After an operator restart: restore metrics, and end a run whose pod is gone."""
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    status = body.get("status") or {}
    finished = parse_time(status.get("completionTime"))
    if status.get("result") in {c.RESULT_PASSED, c.RESULT_FAILED, c.RESULT_ERROR} and finished is not None:
        ctx.metrics.restore(namespace, name, status["result"] == c.RESULT_PASSED, finished.timestamp())
    with contextlib.suppress(InvalidSpecError):  # its status already says InvalidSpec
        ctx.metrics.set_interval(namespace, name, parse_spec(body.get("spec")).interval_seconds)
    if status.get("result") != c.RESULT_RUNNING or not status.get("podName"):
        return
    try:
        kube.get_pod(namespace, status["podName"])
    except kube.NotFound:
        test = kube.get_test(namespace, name)
        finish(
            test, parse_spec(test.get("spec")), None, ctx, lost="the pod was gone when the operator resumed"
        )
    # A pod that exists is followed by the pod watch, whose first listing delivers it.


def _read_logs(namespace: str, pod: PodObservation) -> dict[LogRequest, str | None]:
    return {
        request: kube.read_log(namespace, pod.name, request.container, previous=request.previous)
        for request in logs_needed(pod)
    }


def _retain(retention: PodRetention, passed: bool) -> bool:
    return retention == PodRetention.KEEP or (retention == PodRetention.KEEP_ON_FAILURE and not passed)


def finish(
    test: dict[str, Any],
    spec: LifecycleTestSpec,
    pod: PodObservation | None,
    ctx: Context,
    *,
    timed_out: bool = False,
    unreachable: str | None = None,
    lost: str | None = None,
) -> None:
    """Judge the run and write its verdict, unless another finisher got there first."""
    meta = test["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    status = test.get("status") or {}
    run = int(status.get("run") or 0)
    if pod is not None and lost is None:
        logs = _read_logs(namespace, pod)
        records = collect_records(pod, logs)
        timeline = build_timeline(r.text for r in records)
        verdicts = evaluate(spec.expectations, timeline, pod)
        reason, message = outcome_reason(verdicts, unreachable, timed_out)
        evidence = [f"{r.container}: {r.source.value}" for r in records]
        node = pod.node_name
    else:
        timeline, verdicts, evidence, node = build_timeline([]), [], [], None
        reason, message = c.REASON_POD_LOST, lost or "the pod was lost"
    outcome = RunOutcome(run, reason, message, verdicts, timeline, evidence, node)

    for _ in range(FINISH_ATTEMPTS):
        patch = run_finished(status, outcome, status.get("observedGeneration"), _now())
        try:
            kube.patch_test_status(namespace, name, patch, resource_version=meta["resourceVersion"])
            break
        except kube.Conflict:
            # Something else wrote the test since we read it (kopf's annotations, or another finisher).
            current = _current_run(namespace, name, str(status.get("podName")))
            if current is None:
                return  # the run was finished or superseded meanwhile
            meta, status = current["metadata"], current.get("status") or {}
    else:
        raise kube.Transient(f"could not write the verdict of {namespace}/{name} run {run}: kept conflicting")

    started = parse_time(status.get("startTime"))
    finished_at = time.time()
    duration = finished_at - started.timestamp() if started else 0.0
    ctx.metrics.record_run(namespace, name, outcome, duration, finished_at)
    log.info("%s/%s run %d: %s (%s) %s", namespace, name, run, outcome.result, reason, message)
    retention = spec.pod_retention or ctx.settings.default_retention
    pod_to_delete = pod.name if pod is not None else status.get("podName")
    if pod_to_delete and lost is None and not _retain(retention, outcome.passed):
        kube.delete_pod(namespace, pod_to_delete)


def due_rerun(body: dict[str, Any], now: datetime) -> bool:
    """Whether a finished test with an interval is due for its next run (pure)."""
    status = body.get("status") or {}
    interval = (body.get("spec") or {}).get("intervalSeconds")
    finished = parse_time(status.get("completionTime"))
    if not interval or finished is None or status.get("result") in {c.RESULT_RUNNING, c.RESULT_ERROR}:
        return False
    return now >= finished + timedelta(seconds=int(interval))
