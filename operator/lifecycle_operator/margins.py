"""Margins are not drift: failures the node's load explains, not the kubelet (pure).

Some cases rest on a timing assumption of their own. Upstream's PostStart cases give the hook 1 s of
work and its container 2 s, and assume the hook is done before the container exits. The kubelet
promises to run the hook, not to run it within a second: on a busy node the hook's exec can start late,
and when the container reaches its scripted exit first, the hook is killed with it, before it logs the
events the expectations look for. Nothing the kubelet promised was broken.

The cases that delete their pod mid-run assume the same of the operator: upstream's image-update cases
delete the pod once it runs, and give its container 10 s before its scripted exit. On a busy node the
deletion can come after that exit, and the kubelet then restarts the container as the pod's restartPolicy
tells it to. A run is inconclusive, not failed, when every failed expectation is a HasNotRestarted of a
regular container whose instance before the current one ended before the pod's deletion was asked for,
in a way its restartPolicy restarts (Always, or OnFailure after a non-zero exit). A restart after the
deletion, or one the policy forbids, is still a Failed verdict.

A run is inconclusive, not failed, when every failed expectation failed only for want of an event of
such a hook: one that, by the spec, should have finished inside its container's scripted lifetime, whose
container did reach its scripted exit, and which by its own logged progress could not have logged Exiting
before that exit (or never got to log at all before its container was gone). The hook's progress, not
only its start, is what counts: under load its Starting, Started and Delaying can each come late, and a
hook that started inside the margin can still be due after its container's exit. Any other failure, and
any failure by presence ("X started, but must not"), is a Failed verdict as before: a wrong expectation
still fails every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lifecycle_operator.actions import deletes_pod
from lifecycle_operator.api import ExpectationType, LifecycleTestSpec
from lifecycle_operator.api.spec import POST_START, hook_subject
from lifecycle_operator.evidence import LogRequest
from lifecycle_operator.instrumentation import Verb
from lifecycle_operator.observation import PodObservation
from lifecycle_operator.timeline import Timeline, parse_line
from lifecycle_operator.verdicts import Verdict

# What a loaded node may add between a hook's sleep ending and its Exiting being logged: the sleep's own
# overshoot and the write. A hook due earlier than its container's exit by more than this had the time
# to finish, and a missing Exiting is then the kubelet's doing, not the load's.
SLACK_SECONDS = 0.5


@dataclass(frozen=True)
class CutShort:
    """A hook its own container's scripted exit took down before it could log everything."""

    hook: str
    container: str
    exited: float  # uptime at which its container logged Exiting
    # Both None when the hook logged nothing before its container exited; else how long after its
    # container's Started the hook logged Starting, and the earliest uptime it could have logged Exiting.
    late_by: float | None
    due: float | None

    @property
    def logged_starting(self) -> bool:
        return self.late_by is not None

    def describe(self) -> str:
        if self.late_by is None or self.due is None:
            return f"{self.hook} never logged before its container exited"
        return (
            f"{self.hook} started {self.late_by:.2f}s after its container and could not log Exiting "
            f"before {self.due:.2f}; its container exited at {self.exited:.2f}"
        )


def _due(timeline: Timeline, subject: str, starting: int, start_delay: float, delay: float) -> float:
    """The earliest uptime at which the hook, which logged Starting at index `starting`, could have
    logged Exiting, from the progress it logged since."""
    delaying = timeline.find(subject, Verb.DELAYING, starting)
    if delaying != -1:
        return timeline.events[delaying].uptime + delay
    started = timeline.find(subject, Verb.STARTED, starting)
    if started != -1:
        return timeline.events[started].uptime + delay
    return timeline.events[starting].uptime + start_delay + delay


def cut_short_hooks(spec: LifecycleTestSpec, timeline: Timeline) -> dict[str, CutShort]:
    """The PostStart hooks of this run that their container's scripted exit cut short, by subject."""
    found: dict[str, CutShort] = {}
    for container in spec.pod.all_containers:
        hook, body = container.post_start, container.behavior
        if hook is None or body.run_until_stopped:
            continue
        margin = (body.start_delay_seconds + body.delay_seconds) - (
            hook.start_delay_seconds + hook.delay_seconds
        )
        if margin <= 0:
            continue  # the case itself expects the hook to be cut short
        subject = hook_subject(POST_START, container.name)
        started = timeline.find(container.name, Verb.STARTED)
        exited = timeline.find(container.name, Verb.EXITING, started + 1) if started != -1 else -1
        if exited == -1:
            continue
        if timeline.find(subject, Verb.EXITING) != -1:
            continue  # the hook finished: nothing was cut
        exited_at = timeline.events[exited].uptime
        hook_starting = timeline.find(subject, Verb.STARTING)
        if hook_starting == -1 or hook_starting > exited:
            found[subject] = CutShort(subject, container.name, exited_at, None, None)
            continue
        due = _due(timeline, subject, hook_starting, hook.start_delay_seconds, hook.delay_seconds)
        if due + SLACK_SECONDS > exited_at:
            late_by = timeline.events[hook_starting].uptime - timeline.events[started].uptime
            found[subject] = CutShort(subject, container.name, exited_at, late_by, due)
    return found


def _explained(verdict: Verdict, cut: dict[str, CutShort]) -> bool:
    missing = verdict.missing
    if missing is None or missing.subject not in cut:
        return False
    # A hook that logged Starting cannot log it again later: a Starting it lacks is not the cut's doing.
    return not (cut[missing.subject].logged_starting and missing.verb == Verb.STARTING)


def inconclusive(spec: LifecycleTestSpec, timeline: Timeline, verdicts: list[Verdict]) -> str | None:
    """Why the failures of this run say nothing about the kubelet, or None when they are real failures."""
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return None
    cut = cut_short_hooks(spec, timeline)
    if not cut or not all(_explained(v, cut) for v in failed):
        return None
    return "the node's load broke the case's timing: " + "; ".join(c.describe() for c in cut.values())


def _restarted_before_deletion(spec: LifecycleTestSpec, pod: PodObservation, name: str) -> str | None:
    """How the regular container `name` came to restart before the pod's deletion was asked for, as its
    restartPolicy says it must; None when it did not."""
    c = pod.containers.get(name)
    asked = pod.deletion_requested_at
    if c is None or asked is None or name not in pod.regular or c.restart_count < 1:
        return None
    # The instance before the current one: if it ended before the deletion, so did every earlier one,
    # and each restart came before the deletion too. One that ended after it (restarted during the
    # pod's termination) is none of this.
    before = c.last_terminated
    if before is None or before.finished_at is None or before.finished_at >= asked:
        return None
    policy = spec.pod.restart_policy
    if policy != "Always" and not (policy == "OnFailure" and before.exit_code not in (None, 0)):
        return None
    early = (asked - before.finished_at).total_seconds()
    return (
        f"{name} exited with code {before.exit_code} {early:.1f}s before the pod's deletion was asked "
        f"for, and restartPolicy {policy} restarted it"
    )


def deleted_too_late(spec: LifecycleTestSpec, pod: PodObservation, verdicts: list[Verdict]) -> str | None:
    """Why the failures of a run that deletes its pod say nothing about the kubelet: the deletion came
    after its container's scripted exit (see the module's docstring); None when they are real failures."""
    failed = [v for v in verdicts if not v.passed]
    if not failed or not deletes_pod(spec):
        return None
    found: list[str] = []
    for v in failed:
        e = v.expectation
        why = _restarted_before_deletion(spec, pod, e.container or "")
        if e.type != ExpectationType.HAS_NOT_RESTARTED or why is None:
            return None
        found.append(why)
    return "the operator's deletion came after the case's scripted exit: " + "; ".join(found)


def silent_instances(pod: PodObservation, logs: Mapping[LogRequest, str | None]) -> set[str]:
    """The containers running when the run was judged whose current instance's log held no event yet:
    the kubelet reports an instance running a moment before its command writes its first line."""
    silent: set[str] = set()
    for c in pod.containers.values():
        text = logs.get(LogRequest(c.name, previous=False))
        if c.running and text is not None and not any(parse_line(line) for line in text.splitlines()):
            silent.add(c.name)
    return silent


def judged_too_soon(verdicts: list[Verdict], silent: set[str]) -> str | None:
    """Why the failures of a run say nothing about the kubelet: each is about a container whose current
    instance had not logged yet, so its events were not there to read; None when they are real failures.
    A failure by presence needs events, so it is never one of these."""
    failed = [v for v in verdicts if not v.passed]
    if not failed or not all(v.expectation.container in silent for v in failed):
        return None
    names = ", ".join(sorted({str(v.expectation.container) for v in failed}))
    return f"the run was judged before the current instance of {names} had logged anything"
