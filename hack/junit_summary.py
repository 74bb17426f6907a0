"""Summarise a pytest JUnit report by tier, and fail unless the kubelet tier ran in full.

Tiers go by directory, never by a test's name:

  kubelet e2e    tests/e2e and tests/incluster: tests that run pods on the local cluster's kubelet
  API-only e2e   tests marked e2e anywhere else (tests/packaging's server-side dry runs): they need an API
                 server, no kubelet
  unit           the rest (tests/unit, tests/fake, tests/packaging): no cluster

The e2e marker is read from the report, where tests/conftest.py records it as a property of each test.

The report is compared with the listing of `pytest --collect-only -q` for the same arguments and with the
kubelet-tier test functions on disk. The summary fails when
  - a kubelet-tier test function on disk was not collected (arguments that deselect it, a collection error),
  - a collected test has no result in the reports (the run, or one of its parts, stopped early),
  - no kubelet-tier test ran,
  - any test failed or was skipped (a skipped test proves nothing).

  python hack/junit_summary.py JUNIT_XML [JUNIT_XML ...] COLLECTED_LISTING [--root REPO]

Several reports are one run's parts (hack/test.sh runs the tiers without a cluster beside the cluster's
start, and the rest after): a test in more than one keeps its worst outcome.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

KUBELET = "kubelet e2e"
API_ONLY = "API-only e2e"
UNIT = "unit"
TIERS = (KUBELET, API_ONLY, UNIT)
KUBELET_DIRS = ("tests/e2e", "tests/incluster")
OUTCOMES = ("passed", "failed", "skipped")
WORSE = {"passed": 0, "skipped": 1, "failed": 2}  # a test reported twice keeps its worse outcome
# A line of `pytest --collect-only -q` that is a test's node id (the rest is the count and any errors).
NODE_ID = re.compile(r"^\S+?\.py::")

Key = tuple[str, str]  # a test as JUnit names it: (classname, name)


@dataclass(frozen=True)
class Result:
    tier: str
    outcome: str  # one of OUTCOMES


def junit_key(node_id: str) -> Key:
    """The (classname, name) pytest's JUnit report gives the test with this node id."""
    path, _, tail = node_id.partition("::")
    names_part, bracket, params = tail.partition("[")
    names = names_part.split("::")
    module = re.sub(r"\.py$", "", path).replace("/", ".")
    return ".".join([module, *names[:-1]]), names[-1] + bracket + params


def function_id(node_id: str) -> str:
    """The node id without its parameters: the test function as it is on disk."""
    path, _, tail = node_id.partition("::")
    return f"{path}::{tail.partition('[')[0]}"


def in_kubelet_tier(key: Key) -> bool:
    # A collection error is reported with an empty classname and the module as its name.
    dotted = ".".join(part for part in key if part)
    return any(dotted.startswith(d.replace("/", ".") + ".") for d in KUBELET_DIRS)


def shown(key: Key) -> str:
    return "::".join(part for part in key if part)


def read_report(*paths: Path) -> dict[Key, Result]:
    """Every test in the reports and its worst outcome (a test can be reported more than once)."""
    results: dict[Key, Result] = {}
    cases = (case for path in paths for case in ET.parse(path).getroot().iter("testcase"))
    for case in cases:
        key = (case.get("classname") or "", case.get("name") or "")
        marked = any(p.get("name") == "marker" and p.get("value") == "e2e" for p in case.iter("property"))
        tier = KUBELET if in_kubelet_tier(key) else API_ONLY if marked else UNIT
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        previous = results.get(key)
        if previous is None or WORSE[outcome] > WORSE[previous.outcome]:
            results[key] = Result(tier, outcome)
    return results


def read_listing(path: Path) -> list[str]:
    """The node ids `pytest --collect-only -q` printed."""
    return [line for line in path.read_text().splitlines() if NODE_ID.match(line)]


def kubelet_tests_on_disk(root: Path) -> list[str]:
    """The test functions of tests/e2e and tests/incluster, as node ids without parameters.

    pytest's default collection rules: files test_*.py or *_test.py, functions test* at module level or in
    classes Test*.
    """
    found: list[str] = []
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for directory in KUBELET_DIRS:
        for file in sorted((root / directory).rglob("*.py")):
            if not (file.name.startswith("test_") or file.stem.endswith("_test")):
                continue
            module = file.relative_to(root).as_posix()
            for node in ast.parse(file.read_text(), filename=str(file)).body:
                if isinstance(node, functions) and node.name.startswith("test"):
                    found.append(f"{module}::{node.name}")
                elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                    found.extend(
                        f"{module}::{node.name}::{method.name}"
                        for method in node.body
                        if isinstance(method, functions) and method.name.startswith("test")
                    )
    return found


def problems(results: dict[Key, Result], listed: list[str], on_disk: list[str]) -> list[str]:
    found = []
    collected = {function_id(n) for n in listed}
    left_out = [t for t in on_disk if t not in collected]
    if left_out:
        found.append("kubelet-tier tests on disk that were not collected:\n  " + "\n  ".join(left_out))
    not_run = [n for n in listed if junit_key(n) not in results]
    for kubelet, heading in ((True, "kubelet-tier tests"), (False, "other tests")):
        names = [n for n in not_run if in_kubelet_tier(junit_key(n)) == kubelet]
        if names:
            found.append(f"{heading} collected but not run:\n  " + "\n  ".join(names))
    if not any(r.tier == KUBELET and r.outcome != "skipped" for r in results.values()):
        found.append("no kubelet-tier test ran: tests/e2e and tests/incluster must run on the local cluster")
    for outcome, heading in (("skipped", "skipped tests are failures here"), ("failed", "failed tests")):
        names = [shown(key) for key, r in results.items() if r.outcome == outcome]
        if names:
            found.append(f"{heading}:\n  " + "\n  ".join(names))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("report", type=Path, nargs="+", help="pytest's --junitxml reports of the run")
    parser.add_argument("collected", type=Path, help="the output of `pytest --collect-only -q`, same args")
    repo = Path(__file__).resolve().parents[1]
    parser.add_argument("--root", type=Path, default=repo, help="the repository (pytest's rootdir)")
    args = parser.parse_args(argv)
    results = read_report(*args.report)
    counts = {tier: dict.fromkeys(OUTCOMES, 0) for tier in TIERS}
    for result in results.values():
        counts[result.tier][result.outcome] += 1
    for tier in TIERS:
        c = counts[tier]
        print(f"{tier}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
    total = {outcome: sum(c[outcome] for c in counts.values()) for outcome in OUTCOMES}
    print(f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    found = problems(results, read_listing(args.collected), kubelet_tests_on_disk(args.root))
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
