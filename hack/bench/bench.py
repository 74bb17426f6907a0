"""Issue 14's benchmark: verdict latency, API writes per run, memory and resume time of the operator.

It runs its own operator (tests/e2e/cluster.py's Operator, watching bench-* namespaces) against the local
cluster and prints one table. It measures; it asserts nothing about the figures. It fails (exit 1) only
when something breaks: a run gets no verdict, or a verdict other than Passed for a case that must pass,
or the restored metrics never reach the number of tests.

Latency is measured from outside, as a user sees it: this process watches the run pods and the tests
(two watches on the API server, one clock) and takes, for every run, the time from the watch event that
shows its pod terminal (the case is judged on PodTerminal) to the watch event that shows the test's
verdict. The baseline column models the upstream e2e framework, which GETs the pod every 2 s from its
creation: its detection delay is the time from the terminal phase to the next 2 s tick, computed from
the same observed times (a model, not a second implementation).

API writes come from the API server's own counters (apiserver_request_total), read before and after a
scenario. They have no client label, so the table says which client makes each kind of write (by what
the API allows: only the kubelet writes pods/status, only the scheduler pods/binding); Events are also
listed per reporting component from the scenario's namespace. Other clients on the cluster (other test
tiers' operators) add to the counters: the table says whether the cluster was quiet. The operator's own
requests, by call, come from its own metrics (lifecycle_operator_api_requests_total): nothing stands
between it and the API server, so the latency measured is the operator's as deployed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "operator", ROOT / "tests", ROOT / "tests" / "e2e"):
    sys.path.insert(0, str(_path))
CLUSTER_KUBECONFIG = os.environ.get("KUBECONFIG") or "/var/tmp/lifecycle-localcluster/kubeconfig"

from cluster import Operator  # noqa: E402
from kubernetes import client, config  # noqa: E402
from kubernetes import watch as k8s_watch  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from clustertools import API_VERSION, KIND, TERMINAL_RESULTS, kubectl  # noqa: E402
from lifecycle_operator import constants as c  # noqa: E402

BENCH_LABEL = "lifecycle-bench/id"
POLL_PERIOD = 2.0  # the upstream e2e framework's framework.Poll
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY")
COUNTED = frozenset({"pods", "events", "lifecycletests"})
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# A short case: one container that sleeps 1 s and exits; judged when the pod is terminal.
QUICK_SPEC: dict[str, Any] = {
    "timeoutSeconds": 120,
    "pod": {"restartPolicy": "Never", "containers": [{"name": "main", "behavior": {"delaySeconds": 1}}]},
    "expectations": [{"type": "Exits", "container": "main"}],
}

# Who makes each kind of write, by what the API lets each client do.
WRITERS: dict[tuple[str, str], str] = {
    ("pods", "POST"): "operator (the run's pod)",
    ("pods", "DELETE"): "operator (after the verdict; a terminal pod goes at once)",
    ("pods/binding", "POST"): "kube-scheduler",
    ("pods/status", "PATCH"): "kubelet",
    ("pods/status", "PUT"): "kubelet",
    ("lifecycletests", "POST"): "bench (creates the tests)",
    ("lifecycletests", "PATCH"): "operator (kopf)",
    ("lifecycletests/status", "PATCH"): "operator (Queued, Running, verdict)",
    ("events", "POST"): "see events by component",
    ("events", "PATCH"): "see events by component",
}


class BenchError(Exception):
    """Something broke: the benchmark cannot give a figure."""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# -- the cluster, seen from outside


@dataclass
class RunSeen:
    """One run as the bench's watches saw it, in time.time() seconds."""

    pod_added: float | None = None
    pod_terminal: float | None = None
    pod_gone: float | None = None
    verdict: float | None = None
    result: str | None = None


@dataclass
class Observed:
    """What the watches saw: per (namespace, test) the run, plus pod events outside the bench."""

    prefix: str
    runs: dict[tuple[str, str], RunSeen] = field(default_factory=lambda: defaultdict(RunSeen))
    last_status: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    foreign_pod_events: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pod_event(self, t: float, type_: str, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        namespace = str(meta.get("namespace", ""))
        if not namespace.startswith(self.prefix):
            with self.lock:
                self.foreign_pod_events += 1
            return
        owners = [o["name"] for o in meta.get("ownerReferences") or [] if o.get("kind") == KIND]
        if not owners:
            return
        with self.lock:
            run = self.runs[(namespace, owners[0])]
            if run.pod_added is None:
                run.pod_added = t
            phase = (pod.get("status") or {}).get("phase")
            if run.pod_terminal is None and phase in TERMINAL_PHASES:
                run.pod_terminal = t
            if type_ == "DELETED":
                run.pod_gone = t

    def test_event(self, t: float, type_: str, test: dict[str, Any]) -> None:
        meta = test.get("metadata") or {}
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        status = test.get("status") or {}
        with self.lock:
            run = self.runs[key]
            if run.verdict is None and status.get("result") in TERMINAL_RESULTS:
                run.verdict, run.result = t, status["result"]
                self.last_status[key] = status


class Watch(threading.Thread):
    """Lists, then watches, one kind in all namespaces; hands (receive time, type, object) on."""

    def __init__(
        self,
        what: str,
        handle: Callable[[float, str, dict[str, Any]], None],
        list_fn: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"watch {what}", daemon=True)
        self.what, self.handle, self.list_fn, self.args, self.kwargs = what, handle, list_fn, args, kwargs
        self.ready = threading.Event()
        self.stopping = False

    def run(self) -> None:
        failing = False
        while not self.stopping:
            try:
                response = self.list_fn(*self.args, _preload_content=False, **self.kwargs)
                listing = json.loads(response.data)
                now = time.time()
                for item in listing.get("items") or []:
                    self.handle(now, "ADDED", item)
                version = listing["metadata"]["resourceVersion"]
                self.ready.set()
                failing = False
                while not self.stopping:
                    w = k8s_watch.Watch()
                    for event in w.stream(
                        self.list_fn,
                        *self.args,
                        resource_version=version,
                        timeout_seconds=240,
                        allow_watch_bookmarks=True,
                        deserialize=False,
                        **self.kwargs,
                    ):
                        now = time.time()
                        obj = event.get("object") or {}
                        if event.get("type") == "ERROR":
                            raise BenchError(f"watch of {self.what} ended: {obj.get('message')}")
                        version = (obj.get("metadata") or {}).get("resourceVersion", version)
                        if event["type"] != "BOOKMARK":
                            self.handle(now, event["type"], obj)
                        if self.stopping:
                            w.stop()
            except Exception as e:
                if not self.stopping:
                    if not failing:
                        log(f"watch of {self.what} restarts (quietly from now) after {type(e).__name__}: {e}")
                    failing = True
                    time.sleep(1)


def samples(text: str, *names: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of the samples named `names` in a Prometheus text exposition. Only their lines
    are parsed: the API server's exposition is large, and the bench reads it twice per scenario."""
    prefixes = tuple(f"{name}{{" for name in names)
    wanted = "\n".join(line for line in text.splitlines() if line.startswith(prefixes))
    for family in text_string_to_metric_families(wanted):
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value


@dataclass
class ApiServerMetrics:
    """What the bench reads of the API server's own metrics, at one moment."""

    # apiserver_request_total for pods, events and LifecycleTests, by resource[/subresource] and verb.
    counts: Counter[tuple[str, str]]
    # apiserver_request_duration_seconds of the LifecycleTest status PATCHes (Queued, Running, verdict):
    # the cumulative count per bucket's upper bound, in seconds, and the sum.
    patch_buckets: dict[float, float]
    patch_sum: float

    @classmethod
    def read(cls) -> ApiServerMetrics:
        counts: Counter[tuple[str, str]] = Counter()
        buckets: Counter[float] = Counter()
        total = 0.0
        text = kubectl("get", "--raw", "/metrics", timeout=60)
        for name, labels, value in samples(text, "apiserver_request_total", *PATCH_DURATION):
            if labels.get("resource") not in COUNTED:
                continue
            resource = labels["resource"] + (f"/{labels['subresource']}" if labels.get("subresource") else "")
            if labels["resource"] == "events" and labels.get("group"):
                resource = f"events.{labels['group']}"
            verb = labels.get("verb", "")
            if name == "apiserver_request_total":
                counts[(resource, verb)] += int(value)
            elif (resource, verb) == ("lifecycletests/status", "PATCH"):
                if name.endswith("_bucket"):
                    buckets[float(labels["le"])] += value
                elif name.endswith("_sum"):
                    total += value
        return cls(counts, dict(buckets), total)

    def patch_times_since(self, before: ApiServerMetrics) -> dict[str, float]:
        """The status PATCHes' mean, and p50 and p99 as the bucket bounds that hold them, in ms."""
        bounds = sorted(self.patch_buckets)
        done = {b: self.patch_buckets[b] - before.patch_buckets.get(b, 0.0) for b in bounds}
        n = done[bounds[-1]] if bounds else 0.0
        if not n:
            return {}

        def bound(q: float) -> float:
            return 1000 * next(b for b in bounds if done[b] >= q * n)

        return {"mean": 1000 * (self.patch_sum - before.patch_sum) / n, "p50": bound(0.5), "p99": bound(0.99)}


PATCH_DURATION = tuple(f"apiserver_request_duration_seconds_{part}" for part in ("bucket", "sum"))


def cpu_busy() -> tuple[float, float]:
    """The machine's busy and total CPU time so far (/proc/stat), in clock ticks."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def events_by_component(namespace: str) -> Counter[str]:
    """Event writes in a namespace by reporting component: each Event is a create, each repeat a patch."""
    listing = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))
    writes: Counter[str] = Counter()
    for e in listing["items"]:
        who = e.get("reportingComponent") or (e.get("source") or {}).get("component") or "?"
        kind = (e.get("involvedObject") or {}).get("kind", "?")
        writes[f"{who} (on {kind})"] += max(1, int(e.get("count") or 1))
    return writes


# -- the operator process


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15)


def pid_of(op: Operator) -> int:
    if op.process is None:
        raise BenchError("the operator is not running")
    return op.process.pid


class Profiler:
    """py-spy record on the operator for one scenario, when asked for and installed (to investigate)."""

    def __init__(self, out_dir: Path | None) -> None:
        self.out_dir = out_dir
        self.exe = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, pid: int, name: str) -> None:
        if self.out_dir is None:
            return
        if not Path(self.exe).exists():
            log("py-spy is not installed; no profile")
            self.out_dir = None
            return
        out = self.out_dir / f"{name}.txt"
        self.process = subprocess.Popen(
            [
                self.exe,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "250",
                "--idle",
                "--threads",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # py-spy attaches

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
            self.process = None


@dataclass
class OperatorRequests:
    """The operator's own count of its requests (lifecycle_operator_api_requests_total, by call and
    outcome) and the time its status patches took (lifecycle_operator_api_request_seconds), at one moment.
    kopf's own requests (watches, Events) are not in it: the Events are counted per component."""

    counts: Counter[tuple[str, str]]
    patch_seconds: float
    patches: float

    @classmethod
    def read(cls, op: Operator) -> OperatorRequests:
        counts: Counter[tuple[str, str]] = Counter()
        seconds = patches = 0.0
        requests, timed = "lifecycle_operator_api_requests_total", "lifecycle_operator_api_request_seconds"
        for name, labels, value in samples(op.metrics(), requests, f"{timed}_sum", f"{timed}_count"):
            if name == requests:
                counts[(labels["call"], labels["code"])] += value
            elif labels["call"] == "patch_test_status":
                if name == f"{timed}_sum":
                    seconds = value
                else:
                    patches = value
        return cls(counts, seconds, patches)

    def since(self, before: OperatorRequests) -> tuple[Counter[tuple[str, str]], float]:
        """The requests made since `before`, and their status patches' mean time in ms."""
        n = self.patches - before.patches
        mean = 1000 * (self.patch_seconds - before.patch_seconds) / n if n else float("nan")
        return self.counts - before.counts, mean


# Which of the operator's calls write, and to what (the issue's target counts pods and LifecycleTests).
WRITE_CALLS: dict[str, str] = {
    "create_pod": "pods POST",
    "delete_pod": "pods DELETE",
    "patch_pod": "pods PATCH",
    "patch_test_status": "lifecycletests/status PATCH",
    "create_test": "lifecycletests POST",
    "replace_test_spec": "lifecycletests PATCH",
    "delete_test": "lifecycletests DELETE",
}


# -- scenarios


def test_doc(name: str, spec: dict[str, Any], bench_id: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "labels": {BENCH_LABEL: bench_id}},
        "spec": spec,
    }


def create_tests(namespace: str, docs: list[dict[str, Any]]) -> None:
    kubectl(
        "create",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}),
    )


def wait_until(what: str, done: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - start


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": ordered[-1]}


def poll_model(run: RunSeen) -> float:
    """Upstream-style detection: GET every 2 s from the pod's creation; the delay to the next tick."""
    if run.pod_added is None or run.pod_terminal is None:
        raise BenchError("a run's pod was never seen terminal by the watch")
    since = run.pod_terminal - run.pod_added
    return math.ceil(since / POLL_PERIOD) * POLL_PERIOD - since


LOG_LINE = re.compile(r"^\[(\S+ \S+)\] .*?\] (\S+)/(\S+) run (\d+): (\w+) ")


def verdict_log_times(log_file: Path) -> dict[tuple[str, str], float]:
    """When the operator logged each verdict (after its status patch returned), from its log."""
    found: dict[tuple[str, str], float] = {}
    for line in log_file.read_text(errors="replace").splitlines():
        m = LOG_LINE.match(line)
        if m and m.group(5) in TERMINAL_RESULTS:
            t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            found.setdefault((m.group(2), m.group(3)), t)
    return found


@dataclass
class LatencyResult:
    runs: int
    latency_ms: dict[str, float]
    baseline_ms: dict[str, float]
    operator_ms: float  # median: pod terminal seen -> operator logged the verdict
    delivery_ms: float  # median: operator logged the verdict -> verdict seen by the watch
    wall_s: float
    writes: dict[tuple[str, str], float]
    reads: dict[tuple[str, str], float]
    events: dict[str, float]
    foreign_pod_events: int
    operator_requests: dict[tuple[str, str], float]  # (call, outcome) per run
    operator_patch_ms: float  # the mean time the operator waited for a status PATCH
    results: Counter[str]
    status_patch_ms: dict[str, float]  # the API server's own time for a LifecycleTest status PATCH
    machine_busy: float  # the share of the machine's CPU time that was busy, from start to clean-up


def latency_scenario(
    n: int,
    namespace: str,
    bench_id: str,
    seen: Observed,
    op: Operator,
    profiler: Profiler,
) -> LatencyResult:
    log(f"latency: {n} concurrent runs in {namespace}")
    keys = [(namespace, f"quick-{i:04d}") for i in range(n)]
    before = ApiServerMetrics.read()
    busy_before = cpu_busy()
    own_before = OperatorRequests.read(op)
    with seen.lock:
        foreign_before = seen.foreign_pod_events
    profiler.start(pid_of(op), f"latency-{n}")
    start = time.monotonic()
    create_tests(namespace, [test_doc(name, QUICK_SPEC, bench_id) for _, name in keys])
    try:
        wait_until(
            f"{n} verdicts", lambda: all(seen.runs[k].verdict is not None for k in keys), timeout=90 + 3 * n
        )
    except BenchError as e:
        missing = [k[1] for k in keys if seen.runs[k].verdict is None]
        raise BenchError(f"{e}: no verdict for {len(missing)} runs, e.g. {missing[:5]}") from e
    wall = time.monotonic() - start
    profiler.stop()
    # The run's writes end when its pod is gone (the operator's delete, then the kubelet's).
    try:
        wait_until(
            "the run pods to go", lambda: all(seen.runs[k].pod_gone is not None for k in keys), timeout=90
        )
    except BenchError as e:
        log(f"{e}; counting the writes so far")
    time.sleep(1)  # the last Events are posted after the delete
    after = ApiServerMetrics.read()
    busy, ticks = (a - b for a, b in zip(cpu_busy(), busy_before, strict=True))
    with seen.lock:
        foreign = seen.foreign_pod_events - foreign_before
    runs = [seen.runs[k] for k in keys]
    if any(r.pod_terminal is None or r.pod_added is None for r in runs):
        raise BenchError("a run's pod was never seen terminal by the watch")
    latencies = [1000 * (r.verdict - r.pod_terminal) for r in runs]  # type: ignore[operator]
    logged = verdict_log_times(op.log_dir / f"operator-{op.starts}.log")
    operator_side = [1000 * (logged[k] - seen.runs[k].pod_terminal) for k in keys if k in logged]  # type: ignore[operator]
    delivery = [1000 * (seen.runs[k].verdict - logged[k]) for k in keys if k in logged]  # type: ignore[operator]
    diff = {
        k: (after.counts[k] - before.counts[k]) / n
        for k in after.counts
        if after.counts[k] != before.counts[k]
    }
    own, own_patch_ms = OperatorRequests.read(op).since(own_before)
    return LatencyResult(
        runs=n,
        latency_ms=percentiles(latencies),
        baseline_ms=percentiles([1000 * poll_model(r) for r in runs]),
        operator_ms=percentiles(operator_side)["p50"] if operator_side else float("nan"),
        delivery_ms=percentiles(delivery)["p50"] if delivery else float("nan"),
        wall_s=wall,
        writes={k: v for k, v in diff.items() if k[1] in WRITE_VERBS},
        reads={k: v for k, v in diff.items() if k[1] in {"GET", "LIST"} or k[0] == "pods/log"},
        events={k: v / n for k, v in events_by_component(namespace).items()},
        foreign_pod_events=foreign,
        operator_requests={k: v / n for k, v in own.items()},
        operator_patch_ms=own_patch_ms,
        results=Counter(r.result for r in runs),
        status_patch_ms=after.patch_times_since(before),
        machine_busy=busy / ticks if ticks else float("nan"),
    )


@dataclass
class ManyResult:
    tests: int
    setup_s: float
    first_start_s: float
    resume_s: float
    ready_s: float
    rss_mib: float
    rss_settled_mib: float
    cpu_resume_s: float
    cpu_idle_per_min: float


def api_clients() -> tuple[client.CoreV1Api, client.CustomObjectsApi]:
    config.load_kube_config(config_file=CLUSTER_KUBECONFIG)
    api = client.ApiClient()
    api.configuration.connection_pool_maxsize = 16  # type: ignore[attr-defined]
    return client.CoreV1Api(api), client.CustomObjectsApi(api)


def fill_namespace(namespace: str, n: int, status: dict[str, Any], bench_id: str) -> float:
    """N tests with the quick spec (re-run daily) and a verdict cloned from a real run; returns seconds."""
    _, custom = api_clients()
    spec = {**QUICK_SPEC, "intervalSeconds": 86400}
    start = time.monotonic()

    def one(i: int) -> None:
        name = f"many-{i:05d}"
        body = test_doc(name, spec, bench_id)
        for attempt in range(5):
            try:
                created = custom.create_namespaced_custom_object(
                    c.GROUP, c.VERSION, namespace, c.PLURAL, body
                )
                break
            except ApiException as e:
                if e.status == 409:
                    created = custom.get_namespaced_custom_object(
                        c.GROUP, c.VERSION, namespace, c.PLURAL, name
                    )
                    break
                if attempt == 4 or e.status not in {429, 500, 503, 504}:
                    raise
                time.sleep(0.5 * (attempt + 1))
        own = {
            **status,
            "podName": f"{name}-run{status.get('run', 1)}",
            "observedGeneration": created["metadata"]["generation"],
        }
        custom.patch_namespaced_custom_object_status(
            c.GROUP, c.VERSION, namespace, c.PLURAL, name, {"status": own}
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        for done, _ in enumerate(pool.map(one, range(n)), start=1):
            if done % 2000 == 0:
                log(f"  {done}/{n} tests created ({time.monotonic() - start:.0f}s)")
    return time.monotonic() - start


def restored_series(op: Operator, namespace: str) -> int:
    try:
        text = op.metrics()
    except OSError:
        return 0
    label = f'namespace="{namespace}"'
    return sum(
        1 for line in text.splitlines() if line.startswith("lifecycletest_last_verdict{") and label in line
    )


def timed_start(op: Operator, namespace: str, n: int, timeout: float) -> tuple[float, float]:
    """Start the operator; seconds to its health endpoint, and to every test's restored last verdict."""
    start = time.monotonic()
    op.start()
    ready = time.monotonic() - start
    while restored_series(op, namespace) < n:
        if time.monotonic() - start > timeout:
            raise BenchError(
                f"only {restored_series(op, namespace)} of {n} verdicts restored after {timeout:.0f}s"
            )
        time.sleep(1.0)
    return ready, time.monotonic() - start


def many_scenario(
    n: int, namespace: str, bench_id: str, status: dict[str, Any], log_dir: Path, idle_window: float
) -> ManyResult:
    log(f"memory and resume: {n} tests in {namespace}")
    kubectl("create", "namespace", namespace)
    setup = fill_namespace(namespace, n, status, bench_id)
    log(f"  {n} tests with verdicts in {setup:.0f}s; starting the operator")
    op = Operator(log_dir / "many", namespaces="bench-*")
    op.log_dir.mkdir(exist_ok=True)
    timeout = 120 + n / 20
    try:
        _, first = timed_start(op, namespace, n, timeout)
        log(f"  first start: all {n} verdicts restored after {first:.1f}s; restarting")
        op.stop()
        ready, resume = timed_start(op, namespace, n, timeout)
        pid = pid_of(op)
        rss, cpu_resume = rss_mib(pid), cpu_seconds(pid)
        time.sleep(idle_window / 2)  # kopf's per-object workers idle out after 5 s
        cpu_mid = cpu_seconds(pid)
        time.sleep(idle_window)
        idle = (cpu_seconds(pid) - cpu_mid) * 60 / idle_window
        settled = rss_mib(pid)
    finally:
        op.stop()
    return ManyResult(n, setup, first, resume, ready, rss, settled, cpu_resume, idle)


# -- the table


def fmt_ms(p: dict[str, float]) -> str:
    return " / ".join(f"{p[k]:.0f}" for k in ("p50", "p90", "p99", "max"))


def print_table(
    mode: str,
    capacity: str,
    lat: list[LatencyResult],
    many: ManyResult | None,
    op_after_runs: tuple[float, float, int],
    wall: float,
    log_dir: Path,
) -> None:
    rows: list[tuple[str, str, str]] = []
    rows.append(
        ("verdict latency, ms (p50 / p90 / p99 / max)", "lifecycle-operator", "upstream 2 s poll (model)")
    )
    for r in lat:
        queued = f", {max(0, r.runs - int(capacity or 0))} queued" if capacity.isdigit() else ""
        rows.append((f"  {r.runs} concurrent run(s){queued}", fmt_ms(r.latency_ms), fmt_ms(r.baseline_ms)))
        rows.append(
            ("    operator side p50 / watch delivery p50", f"{r.operator_ms:.0f} / {r.delivery_ms:.0f}", "")
        )
        if r.status_patch_ms:
            p = r.status_patch_ms
            rows.append(
                (
                    "    API server's own time per status PATCH, mean / p50 / p99",
                    f"{p['mean']:.0f} / <={p['p50']:.0f} / <={p['p99']:.0f}",
                    "(apiserver_request_duration_seconds)",
                )
            )
        rows.append(("    machine CPU busy over the scenario", f"{100 * r.machine_busy:.0f}%", ""))
        rows.append(("    wall time to the last verdict, s", f"{r.wall_s:.1f}", ""))
    ref = max(lat, key=lambda r: r.runs)
    rows.append((f"API writes per run ({ref.runs} runs; apiserver_request_total)", "per run", "made by"))
    for (resource, verb), v in sorted(ref.writes.items()):
        rows.append((f"  {resource} {verb}", f"{v:.2f}", WRITERS.get((resource, verb), "")))
    rows.append(("  Events by reporting component (namespace listing)", "", ""))
    for who, v in sorted(ref.events.items()):
        rows.append((f"    {who}", f"{v:.2f}", ""))
    rows.append(("the operator's own requests per run (its api_requests_total)", "per run", ""))
    for (call, code), v in sorted(ref.operator_requests.items()):
        outcome = "" if code == "ok" else f" ({code})"
        rows.append((f"  {call}{outcome}", f"{v:.2f}", WRITE_CALLS.get(call, "")))
    writes = sum(v for (call, _), v in ref.operator_requests.items() if call in WRITE_CALLS)
    events = sum(v for who, v in ref.events.items() if who.startswith("kopf "))
    rows.append(
        (
            "  writes to pods and LifecycleTests / Events",
            f"{writes:.2f} / {events:.2f}",
            "(target <= 4 / <= 1)",
        )
    )
    rows.append(("  time the operator waited per status PATCH, mean ms", f"{ref.operator_patch_ms:.0f}", ""))
    rows.append((f"API reads per run ({ref.runs} runs; apiserver_request_total)", "", ""))
    for (resource, verb), v in sorted(ref.reads.items()):
        rows.append((f"  {resource} {verb}", f"{v:.2f}", ""))
    quiet = all(r.foreign_pod_events == 0 for r in lat)
    rows.append(
        (
            "  cluster quiet (no other run pods during the windows)",
            "yes" if quiet else f"no: {sum(r.foreign_pod_events for r in lat)} foreign pod events",
            "",
        )
    )
    rss, cpu, runs = op_after_runs
    rows.append((f"operator after {runs} runs: RSS MiB / CPU s", f"{rss:.0f} / {cpu:.1f}", ""))
    if many is not None:
        rows.append((f"{many.tests} tests present, all with verdicts", "", ""))
        rows.append(
            ("  RSS MiB at resume / when idle", f"{many.rss_mib:.0f} / {many.rss_settled_mib:.0f}", "")
        )
        rows.append(
            (
                "  CPU s to resume / CPU s per idle minute",
                f"{many.cpu_resume_s:.1f} / {many.cpu_idle_per_min:.1f}",
                "",
            )
        )
        rows.append(
            (
                "  resume: restart to every verdict restored, s",
                f"{many.resume_s:.1f}",
                f"(health endpoint after {many.ready_s:.1f} s)",
            )
        )
        rows.append(("  first start on them (same measure), s", f"{many.first_start_s:.1f}", ""))
        rows.append(
            ("  creating the tests and their verdicts, s", f"{many.setup_s:.0f}", "(not the operator's)")
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"\nlifecycle-operator benchmark ({mode}), {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores")
    print(
        f"runs per node: {capacity or '?'} at once (LCO_MAX_RUNS_PER_NODE, derived from the node); "
        "more concurrent runs are queued and their latency still counts from their own pod's end"
    )
    for i, r in enumerate(rows):
        print("  ".join(r[j].ljust(widths[j]) for j in range(3)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"wall time {wall:.0f}s; operator logs in {log_dir}")
    print(
        "latency: pod terminal (seen by a watch) -> verdict in the test's status (seen by a watch); the "
        "baseline is a model: a GET every 2 s from the pod's creation, so its delay is the time to the next "
        "tick"
    )


def main() -> int:  # noqa: PLR0915 - the scenarios in order, with their clean-up
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI: latency at 1 and 20, 200 tests present")
    parser.add_argument(
        "--tests", type=int, help="tests present for memory and resume (default 200 / 10000; 0: skip)"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", help="concurrent runs per latency scenario")
    parser.add_argument("--profile", type=Path, help="record the operator with py-spy into this directory")
    parser.add_argument("--keep", action="store_true", help="keep the namespaces")
    parser.add_argument(
        "--runs-per-node",
        help="the operator's LCO_MAX_RUNS_PER_NODE (default: the e2e tier's share of the machine)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    concurrency = args.concurrency or ([1, 20] if args.short else [1, 20, 100])
    n_many = args.tests if args.tests is not None else (200 if args.short else 10_000)
    bench_id = uuid.uuid4().hex[:6]
    prefix = f"bench-{bench_id}-"
    log_dir = Path(tempfile.mkdtemp(prefix="lifecycle-bench-"))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    namespaces = [f"{prefix}c{n}" for n in concurrency]
    seen = Observed(prefix)
    core, custom = api_clients()
    watches = [
        Watch(
            "pods",
            seen.pod_event,
            core.list_pod_for_all_namespaces,
            label_selector=f"{c.LABEL_MANAGED_BY}={c.MANAGED_BY}",
        ),
        Watch(
            "lifecycletests",
            seen.test_event,
            custom.list_cluster_custom_object,
            c.GROUP,
            c.VERSION,
            c.PLURAL,
            label_selector=f"{BENCH_LABEL}={bench_id}",
        ),
    ]
    created: list[str] = []
    overrides = {"max_runs_per_node": args.runs_per_node} if args.runs_per_node else {}
    op = Operator(log_dir, namespaces="bench-*", **overrides)
    try:
        for ns in namespaces:
            kubectl("create", "namespace", ns)
            created.append(ns)
        for w in watches:
            w.start()
        for w in watches:
            if not w.ready.wait(60):
                raise BenchError(f"the {w.what} watch did not start")
        op.start()  # after the namespaces exist: its watches of them are up before the first test
        time.sleep(2)
        capacity_line = re.search(r"capacity: \S+ (\d+) runs", (log_dir / "operator-1.log").read_text())
        capacity = capacity_line.group(1) if capacity_line else ""
        results = [
            latency_scenario(n, ns, bench_id, seen, op, Profiler(args.profile))
            for n, ns in zip(concurrency, namespaces, strict=True)
        ]
        pid = pid_of(op)
        after_runs = (rss_mib(pid), cpu_seconds(pid), sum(concurrency))
        op.stop()
        bad = sum((r.results for r in results), Counter()) - Counter({c.RESULT_PASSED: sum(concurrency)})
        if bad:
            raise BenchError(f"runs of a case that must pass ended otherwise: {dict(bad)}")
        many = None
        if n_many:
            template = next(iter(seen.last_status.values()))
            many_ns = f"{prefix}many"
            created.append(many_ns)
            many = many_scenario(n_many, many_ns, bench_id, template, log_dir, 6 if args.short else 20)
        print_table(
            "--short" if args.short else "full",
            capacity,
            results,
            many,
            after_runs,
            time.monotonic() - started,
            log_dir,
        )
        return 0
    except BenchError as e:
        print(f"bench: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        op.stop()
        for w in watches:
            w.stopping = True
        if created and not args.keep:
            kubectl("delete", "namespace", *created, "--wait=false", "--ignore-not-found")
            log(f"deleted namespaces {' '.join(created)} (not waiting)")


if __name__ == "__main__":
    sys.exit(main())
