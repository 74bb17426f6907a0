"""Margins are not drift: which failures the node's load explains, from timelines like the loaded runs'."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from builders import pod, status

from lifecycle_operator.api import parse_spec
from lifecycle_operator.evidence import LogRequest
from lifecycle_operator.margins import (
    cut_short_hooks,
    deleted_too_late,
    inconclusive,
    judged_too_soon,
    silent_instances,
)
from lifecycle_operator.observation import observe_pod
from lifecycle_operator.timeline import build_timeline
from lifecycle_operator.verdicts import Verdict, evaluate

TIMELINES = Path(__file__).resolve().parents[1] / "fixtures" / "timelines"


def timeline_text(name: str) -> str:
    """A recorded timeline: event lines, after comment lines that say where it comes from."""
    lines = (TIMELINES / f"{name}.txt").read_text().splitlines()
    return "".join(f"{line}\n" for line in lines if line and not line.startswith("#"))


# Seed case 05: PostStart blocks the next container. The hook has 1 s of work, regular-1 2 s.
BLOCKS: dict[str, Any] = {
    "pod": {
        "containers": [
            {"name": "regular-1", "behavior": {"delaySeconds": 2}, "postStart": {"delaySeconds": 1}},
            {"name": "regular-2", "behavior": {"delaySeconds": 1}},
        ]
    },
    "expectations": [
        {"type": "StartsBefore", "container": "PostStart-regular-1", "other": "regular-2"},
        {"type": "ExitsBefore", "container": "PostStart-regular-1", "other": "regular-2"},
    ],
}
# Seed case 03: init completes before PostStart.
INIT_FIRST: dict[str, Any] = {
    "pod": {
        "initContainers": [{"name": "init-1", "behavior": {"delaySeconds": 1}}],
        "containers": [
            {"name": "regular-1", "behavior": {"delaySeconds": 2}, "postStart": {"delaySeconds": 1}}
        ],
    },
    "expectations": [
        {"type": "StartsBefore", "container": "init-1", "other": "PostStart-regular-1"},
        {"type": "ExitsBefore", "container": "init-1", "other": "PostStart-regular-1"},
        {"type": "RunTogether", "container": "regular-1", "other": "PostStart-regular-1"},
    ],
}

QUIET = timeline_text("quiet-node")
LATE_HOOK = timeline_text("late-hook")
SILENT_HOOK = timeline_text("silent-hook")
DUE_AFTER_EXIT = timeline_text("hook-due-after-exit")


def judge(raw: dict[str, Any], text: str) -> tuple[str | None, list[bool]]:
    spec = parse_spec(raw)
    timeline = build_timeline([text])
    verdicts = evaluate(spec.expectations, timeline, observe_pod({"status": {"phase": "Succeeded"}}))
    return inconclusive(spec, timeline, verdicts), [v.passed for v in verdicts]


def test_a_quiet_run_passes_and_nothing_was_cut() -> None:
    assert judge(BLOCKS, QUIET) == (None, [True, True])
    assert cut_short_hooks(parse_spec(BLOCKS), build_timeline([QUIET])) == {}


def test_a_hook_started_past_the_margin_and_cut_short_is_inconclusive() -> None:
    why, passed = judge(BLOCKS, LATE_HOOK)
    assert passed == [True, False]
    assert why is not None
    assert (
        "PostStart-regular-1 started 1.30s after its container and could not log Exiting before 102.33; "
        "its container exited at 102.02"
    ) in why


def test_a_hook_that_never_logged_before_its_container_exited_is_inconclusive() -> None:
    why, passed = judge(INIT_FIRST, SILENT_HOOK)
    assert passed == [False, False, False]
    assert why is not None
    assert "never logged before its container exited" in why


def test_a_hook_that_started_in_the_margin_but_was_due_after_the_exit_is_inconclusive() -> None:
    why, passed = judge(INIT_FIRST, DUE_AFTER_EXIT)
    assert passed == [True, True, False]
    assert why is not None
    assert "could not log Exiting before 103.53; its container exited at 103.53" in why


def test_a_hook_that_had_the_time_to_finish_is_a_failure() -> None:
    # Due at 101.31, 0.71 s before its container's exit: more than a loaded node adds to a sleep and a write.
    early = (
        LATE_HOOK.replace("101.31 PostStart-regular-1 Starting", "100.29 PostStart-regular-1 Starting")
        .replace("101.33 PostStart-regular-1 Started", "100.30 PostStart-regular-1 Started")
        .replace("101.33 PostStart-regular-1 Delaying", "100.31 PostStart-regular-1 Delaying")
    )
    why, passed = judge(BLOCKS, early)
    assert passed == [True, False]
    assert why is None
    assert cut_short_hooks(parse_spec(BLOCKS), build_timeline([early])) == {}


def test_a_hook_due_within_the_slack_of_the_exit_is_inconclusive() -> None:
    # Due at 101.62, 0.40 s before the exit: within what a loaded node adds, so the load explains it.
    close = (
        LATE_HOOK.replace("101.31 PostStart-regular-1 Starting", "100.60 PostStart-regular-1 Starting")
        .replace("101.33 PostStart-regular-1 Started", "100.61 PostStart-regular-1 Started")
        .replace("101.33 PostStart-regular-1 Delaying", "100.62 PostStart-regular-1 Delaying")
    )
    assert judge(BLOCKS, close)[0] is not None


def test_reversed_expectations_fail_on_a_quiet_run() -> None:
    reversed_ = {
        **BLOCKS,
        "expectations": [
            {"type": "StartsBefore", "container": "regular-2", "other": "PostStart-regular-1"},
            {"type": "ExitsBefore", "container": "regular-2", "other": "PostStart-regular-1"},
        ],
    }
    why, passed = judge(reversed_, QUIET)
    assert passed == [False, False]
    assert why is None


def test_a_starting_the_hook_already_logged_is_not_explained_by_the_cut() -> None:
    # regular-2 must start before the hook: the hook did log Starting (late), just not after regular-2.
    raw = {
        **BLOCKS,
        "expectations": [{"type": "StartsBefore", "container": "regular-2", "other": "PostStart-regular-1"}],
    }
    why, passed = judge(raw, LATE_HOOK)
    assert passed == [False]
    assert why is None


def test_a_failure_by_presence_is_never_explained() -> None:
    raw = {
        **BLOCKS,
        "expectations": [*BLOCKS["expectations"], {"type": "DoesntStart", "container": "regular-2"}],
    }
    why, passed = judge(raw, LATE_HOOK)
    assert passed == [True, False, False]
    assert why is None


def test_a_case_that_expects_the_hook_to_outlive_its_container_has_no_margin() -> None:
    raw = {
        **BLOCKS,
        "pod": {
            "containers": [
                {"name": "regular-1", "behavior": {"delaySeconds": 1}, "postStart": {"delaySeconds": 5}},
                {"name": "regular-2"},
            ]
        },
    }
    assert judge(raw, LATE_HOOK)[0] is None


def test_a_hook_that_finished_was_not_cut() -> None:
    finished = LATE_HOOK.replace(
        "3 102.02 regular-1 Exiting", "3 102.02 regular-1 Exiting\n3 102.03 PostStart-regular-1 Exiting"
    )
    assert cut_short_hooks(parse_spec(BLOCKS), build_timeline([finished])) == {}


# The catalogue's image-update-during-termination-no-restart-onfailure: the pod is deleted once it runs,
# and regular-1 has 10 s before its scripted exit 1.
DELETES: dict[str, Any] = {
    "pod": {
        "restartPolicy": "OnFailure",
        "terminationGracePeriodSeconds": 120,
        "containers": [
            {
                "name": "regular-1",
                "behavior": {"delaySeconds": 10, "lingerAfterTermSeconds": 60, "exitCode": 1},
            }
        ],
    },
    "actions": [
        {"type": "DeletePod", "when": {"type": "PodRunning"}, "gracePeriodSeconds": 120},
        {"type": "PatchImage", "when": {"type": "PodRunning"}, "container": "regular-1"},
    ],
    "expectations": [
        {"type": "HasNotRestarted", "container": "regular-1"},
        {"type": "TerminatesWithin", "seconds": 110},
    ],
}


def deleted_pod(first_exit: int, first_ended: str, asked: str = "2026-11-30T14:13:26Z") -> dict[str, Any]:
    """The pod as the operator read it at the end: regular-1's instance 2 ended by the deletion (asked for
    at `asked`, grace period 120 s), its instance 1 ended on its own at `first_ended` with `first_exit`."""
    deleting = (datetime.fromisoformat(asked) + timedelta(seconds=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {
            "name": "t-run1",
            "namespace": "ns",
            "deletionTimestamp": deleting,
            "deletionGracePeriodSeconds": 120,
        },
        "spec": {"nodeName": "node-2", "containers": [{"name": "regular-1", "image": "box:2"}]},
        "status": {
            "phase": "Failed",
            "containerStatuses": [
                {
                    "name": "regular-1",
                    "restartCount": 1,
                    "state": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-30T14:14:26Z"}},
                    "lastState": {"terminated": {"exitCode": first_exit, "finishedAt": first_ended}},
                }
            ],
        },
    }


def failed(spec: dict[str, Any], *failing: int) -> list[Verdict]:
    expectations = parse_spec(spec).expectations
    return [Verdict(e, i not in failing, "seen") for i, e in enumerate(expectations)]


def test_a_restart_before_a_late_deletion_is_inconclusive() -> None:
    # As CI saw it on kubelet 1.37 under load: the deletion came 3 s after regular-1's scripted exit 1,
    # and OnFailure had restarted it meanwhile.
    pod = observe_pod(deleted_pod(1, "2026-11-30T14:13:23Z"))
    why = deleted_too_late(parse_spec(DELETES), pod, failed(DELETES, 0))
    assert why == (
        "the operator's deletion came after the case's scripted exit: regular-1 exited with code 1 3.0s "
        "before the pod's deletion was asked for, and restartPolicy OnFailure restarted it"
    )


def test_a_restart_the_kubelet_owes_no_one_stays_a_failure() -> None:
    spec = parse_spec(DELETES)
    # The instance before the last ended after the deletion was asked for: a restart during termination.
    assert (
        deleted_too_late(spec, observe_pod(deleted_pod(1, "2026-11-30T14:13:27Z")), failed(DELETES, 0))
        is None
    )
    # OnFailure after exit 0 restarts nothing, and Never nothing at all.
    assert (
        deleted_too_late(spec, observe_pod(deleted_pod(0, "2026-11-30T14:13:23Z")), failed(DELETES, 0))
        is None
    )
    never = {**DELETES, "pod": {**DELETES["pod"], "restartPolicy": "Never"}}
    pod = observe_pod(deleted_pod(1, "2026-11-30T14:13:23Z"))
    assert deleted_too_late(parse_spec(never), pod, failed(never, 0)) is None
    # Another expectation failed too: that one is not explained.
    assert deleted_too_late(spec, pod, failed(DELETES, 0, 1)) is None
    # Nothing failed, or the case deletes nothing.
    assert deleted_too_late(spec, pod, failed(DELETES)) is None
    keeps = {**DELETES, "actions": [DELETES["actions"][1]]}
    assert deleted_too_late(parse_spec(keeps), pod, failed(keeps, 0)) is None


def test_a_run_judged_before_a_restarted_instance_logged_is_inconclusive() -> None:
    # As CI saw it on kubelet 1.37: the sidecar restarted with its new image and was judged running at
    # once, before its new instance logged Starting; HasRestarted saw one Starting, not two.
    raw = pod(
        "Pending",
        init=[status("restartable-init-1", {"running": {}}, restarts=1), status("init-2", {"running": {}})],
    )
    logs = {
        LogRequest("restartable-init-1", previous=False): "",
        LogRequest("init-2", previous=False): "1764417600 10.00 init-2 Starting\n",
    }
    silent = silent_instances(observe_pod(raw), logs)
    assert silent == {"restartable-init-1"}
    spec = {
        "pod": {
            "initContainers": [{"name": "restartable-init-1", "restartPolicy": "Always"}, {"name": "init-2"}],
            "containers": [{"name": "a"}],
        },
        "expectations": [
            {"type": "HasRestarted", "container": "restartable-init-1"},
            {"type": "Starts", "container": "init-2"},
        ],
    }
    assert judged_too_soon(failed(spec, 0), silent) == (
        "the run was judged before the current instance of restartable-init-1 had logged anything"
    )
    # A failure about a container that had logged is a failure, alone or beside one that had not.
    assert judged_too_soon(failed(spec, 1), silent) is None
    assert judged_too_soon(failed(spec, 0, 1), silent) is None
    # A log not read (its message was used), or a container not running, is never silent.
    assert silent_instances(observe_pod(raw), {}) == set()
    stopped = pod("Failed", init=[status("restartable-init-1", {"terminated": {"exitCode": 0}}, restarts=1)])
    empty = {LogRequest("restartable-init-1", previous=False): ""}
    assert silent_instances(observe_pod(stopped), empty) == set()
