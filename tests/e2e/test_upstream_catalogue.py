"""Every case of catalogue/ on the real local cluster: each must reach Succeeded=True, and a copy of each
with one expectation reversed must fail, on that expectation.

The catalogue reproduces the upstream kubelet e2e cases our schema can write faithfully (see
catalogue/README.md). All of them are applied at once into one namespace, watched by an operator of this
module's own (other e2e runs on the same cluster use the e2e- and chaos- namespaces with operators of
their own); the operator queues them to its per-node limit of runs. Prints one line per case and
`catalogue: N passed of N, M reversed copies failed of M`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import MACHINE_RUNS, Operator, log_dir_for, runs_per_node

from clustertools import (
    ROOT,
    TERMINAL_RESULTS,
    kubectl,
    kubectl_result,
    report,
    reversed_copy,
    statuses_in,
    wait_for,
)

pytestmark = pytest.mark.e2e

PREFIX = "catalogue-"
CATALOGUE = ROOT / "catalogue"
# The slowest case waits through three crash-loop back-offs (10 + 20 + 40 s) after three 10 s runs; the
# whole catalogue takes a few minutes. This only bounds a hang.
VERDICT_TIMEOUT = 1200
# The catalogue's runs spend their time asleep: in their scripted delays and the kubelet's crash-loop
# back-offs (at 16 runs at once the slots were 93% busy, the machine's CPU was not). So the machine takes
# twice the runs of the other tiers, which halves the tier's wall time.
CATALOGUE_MACHINE_RUNS = 2 * MACHINE_RUNS


def catalogue_files() -> list[Path]:
    return sorted(CATALOGUE.glob("*/*.yaml"))


def _run_seconds(container: dict[str, Any]) -> int:
    b = container.get("behavior", {})
    return int(b.get("startDelaySeconds", 0)) + min(int(b.get("delaySeconds", 0)), 60)


def estimated_seconds(spec: dict[str, Any]) -> int:
    """A rough length of a case's run, only to apply the long ones first: the operator starts queued runs
    longest-queued first, so that keeps the node's slots busy until the end instead of leaving one long
    case running alone."""
    pod = spec["pod"]
    judge = spec.get("judgeWhen", {})
    everyone = {c["name"]: c for c in [*pod.get("initContainers", []), *pod["containers"]]}
    if judge.get("type") == "RestartCount":
        count = int(judge["count"])
        return 10 * (2**count - 1) + count * _run_seconds(everyone[judge["container"]])
    if judge.get("type") == "ContainerWaiting":
        return 20
    inits = sum(_run_seconds(c) for c in pod.get("initContainers", []) if "restartPolicy" not in c)
    return inits + max(_run_seconds(c) for c in pod["containers"])


class Catalogue:
    """The operator of this module and the namespace it watches."""

    def __init__(self, log_dir: Path) -> None:
        self.operator = Operator(
            log_dir,
            namespaces=f"{PREFIX}*",
            max_runs_per_node=runs_per_node(CATALOGUE_MACHINE_RUNS),
        )
        self.namespace = f"{PREFIX}{random.randrange(16**6):06x}"

    def create_namespace(self) -> None:
        kubectl("create", "namespace", self.namespace)
        kubectl("label", "namespace", self.namespace, "pod-security.kubernetes.io/enforce=restricted")

    def apply(self, docs: list[dict[str, Any]]) -> None:
        kubectl("apply", "-n", self.namespace, "-f", "-", stdin=yaml.safe_dump_all(docs), timeout=300)

    def statuses(self) -> dict[str, dict[str, Any]]:
        return statuses_in(self.namespace)

    def close(self) -> None:
        self.operator.stop()
        kubectl_result("delete", "namespace", self.namespace, "--wait=false")


@pytest.fixture(scope="module")
def catalogue(crd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    cat = Catalogue(log_dir_for("catalogue", tmp_path_factory))
    cat.operator.start()
    cat.create_namespace()
    yield cat
    cat.close()


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions", []) if c["type"] == type_), {})


def _seconds(status: dict[str, Any]) -> str:
    """The judged run's length, from its record."""
    for record in status.get("history", []):
        start, end = record.get("startTime"), record.get("completionTime")
        if record.get("run") == status.get("run") and start and end:
            took = datetime.fromisoformat(end) - datetime.fromisoformat(start)
            return f"{took.total_seconds():.0f}s"
    return "?s"


REVERSED = "-reversed"


def test_every_catalogue_case_passes_and_its_reversed_copy_fails(catalogue: Catalogue) -> None:
    files = catalogue_files()
    docs = {path: yaml.safe_load(path.read_text()) for path in files}
    names = {docs[path]["metadata"]["name"]: path.relative_to(CATALOGUE) for path in files}
    assert len(names) == len(files), "two catalogue files share a name"
    # Each file and its copy with one expectation reversed, the longest runs first.
    reversed_at: dict[str, int] = {}
    runs: list[dict[str, Any]] = []
    for path in files:
        doc = docs[path]
        wrong, index = reversed_copy(doc["spec"])
        name = doc["metadata"]["name"]
        reversed_at[name + REVERSED] = index
        runs += [doc, {**doc, "metadata": {"name": name + REVERSED}, "spec": wrong}]
    runs.sort(key=lambda d: -estimated_seconds(d["spec"]))
    expected = len(runs)

    start = time.monotonic()
    catalogue.apply(runs)

    def all_judged() -> dict[str, dict[str, Any]] | None:
        statuses = catalogue.statuses()
        judged = [s for s in statuses.values() if s.get("result") in TERMINAL_RESULTS]
        return statuses if len(statuses) == expected and len(judged) == expected else None

    try:
        statuses = wait_for("every catalogue verdict", all_judged, timeout=VERDICT_TIMEOUT, interval=3)
    except AssertionError:
        statuses = catalogue.statuses()  # reported below: what has no verdict is a failure
    wall = time.monotonic() - start

    failures: list[str] = []
    caught = 0
    print()
    for name, path in sorted(names.items(), key=lambda item: str(item[1])):
        status = statuses.get(name, {})
        succeeded = _condition(status, "Succeeded")
        line = f"catalogue {path}: {status.get('result', 'no verdict')} {succeeded.get('reason', '')}"
        print(f"{line} ({_seconds(status)})")
        if succeeded.get("status") != "True":
            failures.append(f"{line}: {succeeded.get('message', '')}")
        copy = name + REVERSED
        wrong = statuses.get(copy, {})
        verdict = _condition(wrong, "Succeeded")
        results = wrong.get("expectations", [])
        index = reversed_at[copy]
        on_it = len(results) > index and results[index].get("passed") is False
        if verdict.get("reason") == "ExpectationsFailed" and on_it:
            caught += 1
        else:
            failures.append(
                f"catalogue {path} reversed (expectation {index}): {wrong.get('result', 'no verdict')} "
                f"{verdict.get('reason', '')}: {verdict.get('message', '')}"
            )
    passed = sum(1 for n in names if _condition(statuses.get(n, {}), "Succeeded").get("status") == "True")
    report(
        f"catalogue: {passed} passed of {len(names)}, {caught} reversed copies failed of {len(names)} "
        f"({wall:.0f}s)"
    )
    assert not failures, "\n".join(failures)
