"""Benchmarks of the pure pipeline: they print figures and check results, never a time."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from builders import pod, status, terminated

from lifecycle_operator.api import Expectation, LifecycleTestSpec
from lifecycle_operator.crd import render_crd
from lifecycle_operator.evidence import collect_records
from lifecycle_operator.observation import observe_pod
from lifecycle_operator.pod_manifest import Owner, build_pod
from lifecycle_operator.settings import Settings
from lifecycle_operator.timeline import build_timeline
from lifecycle_operator.verdicts import evaluate

pytestmark = pytest.mark.benchmark


def per_call(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\nbenchmark: {line}")


def test_judging_a_large_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Ten containers that each restarted 50 times: 2,000 lines per container, judged on 64 expectations."""
    names = [f"c-{i}" for i in range(10)]
    texts = {
        n: "".join(
            f"{1000 + r} {r * 10 + i / 100 + j / 1000:.3f} {n} {verb}\n"
            for r in range(50)
            for j, verb in enumerate(("Starting", "Started", "Delaying", "Exiting"))
        )
        for i, n in enumerate(names)
    }
    p = observe_pod(pod("Running", containers=[status(n, {}, terminated(1, texts[n]), 50) for n in names]))
    expectations = [
        Expectation.model_validate(
            {"type": "StartsBefore", "container": names[i % 10], "other": names[(i + 1) % 10]}
        )
        for i in range(64)
    ]

    def judge() -> int:
        timeline = build_timeline(r.text for r in collect_records(p, {}))
        return sum(v.passed for v in evaluate(expectations, timeline, p))

    assert judge() == 64
    seconds = per_call(judge, 5)
    report(capsys, f"judge 20,000 events x 64 expectations: {seconds * 1000:.1f} ms per run")


def test_building_pods_and_the_crd(capsys: pytest.CaptureFixture[str]) -> None:
    spec = LifecycleTestSpec.model_validate(
        {
            "pod": {"containers": [{"name": f"c-{i}", "postStart": {}, "preStop": {}} for i in range(10)]},
            "expectations": [{"type": "Starts", "container": "c-0"}],
        }
    )
    owner, settings = Owner("t", "ns", "uid"), Settings()
    assert len(build_pod(spec, owner, 1, settings)["spec"]["containers"]) == 10
    build_seconds = per_call(lambda: build_pod(spec, owner, 1, settings), 200)
    report(capsys, f"build a 10-container pod manifest: {build_seconds * 1e6:.0f} us")
    report(capsys, f"generate the CRD: {per_call(render_crd, 5) * 1000:.1f} ms")
