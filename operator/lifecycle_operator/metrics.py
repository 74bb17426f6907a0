"""Prometheus metrics: what alerts on conformance drift read.

Label sets are bounded: namespace and name follow the LifecycleTests that exist (a deleted test's
series are removed), verdict and kind are small enums.
"""

from __future__ import annotations

import contextlib
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server

from lifecycle_operator import __version__
from lifecycle_operator import constants as c
from lifecycle_operator.outcome import RunOutcome

PER_TEST: Final = ("namespace", "name")
RUN_DURATION_BUCKETS: Final = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
API_REQUEST_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The operator's metrics, in a registry of their own so tests can read them in isolation."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry

        def gauge(name: str, doc: str) -> Gauge:
            """A gauge with one series per LifecycleTest."""
            return Gauge(name, doc, PER_TEST, registry=r)

        def counter(name: str, doc: str) -> Counter:
            return Counter(name, doc, PER_TEST, registry=r)

        self.last_verdict = gauge(
            "lifecycletest_last_verdict",
            "Verdict of the last conclusive run of a LifecycleTest: 1 passed, 0 failed (a failed "
            "expectation, a timeout, a lost pod or an invalid spec). An inconclusive run leaves it as "
            "it was.",
        )
        self.runs = Counter(
            "lifecycletest_runs",
            f"Finished runs of LifecycleTests, by verdict ({', '.join(c.RUN_RESULTS)}).",
            ["namespace", "name", "verdict"],
            registry=r,
        )
        self.run_duration = Histogram(
            "lifecycletest_run_duration_seconds",
            "Time from creating a run's pod to its verdict.",
            ["verdict"],
            buckets=RUN_DURATION_BUCKETS,
            registry=r,
        )
        self.expectation_failures = Counter(
            "lifecycletest_expectation_failures",
            "Failed expectations, by expectation type (StartsBefore, DoesntStart, ...).",
            ["kind"],
            registry=r,
        )
        self.last_run = gauge(
            "lifecycletest_last_run_timestamp_seconds",
            "Unix time when the last verdict of a LifecycleTest was written.",
        )
        self.interval = gauge(
            "lifecycletest_interval_seconds",
            "The re-run interval of a LifecycleTest; 0 when it runs once per change of its spec.",
        )
        self.inconclusive = gauge(
            "lifecycletest_inconclusive",
            "1 when the last run of a LifecycleTest was inconclusive: the node's load broke the case's own "
            "timing on every attempt, so it says nothing about the kubelet; else 0.",
        )
        self.retries = counter(
            "lifecycletest_inconclusive_retries",
            "Runs judged inconclusive and tried again.",
        )
        self.queued = Gauge(
            "lifecycle_operator_queued_runs", "Runs waiting for a slot on their node.", registry=r
        )
        self.active = Gauge(
            "lifecycle_operator_active_runs", "Runs whose pod exists and is not yet judged.", registry=r
        )
        self.node_info = Gauge(
            "lifecycletest_node_info",
            "1 for the node of a LifecycleTest's last run, with that node's kubelet and container runtime "
            "versions: alerts join it to name the node (one series per test).",
            [*PER_TEST, "node", "kubelet_version", "container_runtime_version"],
            registry=r,
        )
        self.api_requests = Counter(
            "lifecycle_operator_api_requests",
            "Requests the operator made to the API server, by call (create_pod, patch_test_status, ...) and "
            "outcome: ok, the HTTP status of a failure, or error when no answer came. kopf's watches and "
            "the Events it posts are not counted.",
            ["call", "code"],
            registry=r,
        )
        self.api_request_seconds = Histogram(
            "lifecycle_operator_api_request_seconds",
            "How long each request to the API server took, by call: a verdict is written no sooner than "
            "its patch_test_status returns.",
            ["call"],
            buckets=API_REQUEST_BUCKETS,
            registry=r,
        )
        self._node_labels: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.info = Info("lifecycle_operator", "The operator's version.", registry=r)
        self.info.info({"version": __version__})

    def record_run(
        self, namespace: str, name: str, outcome: RunOutcome, duration_seconds: float, finished_at: float
    ) -> None:
        verdict = outcome.result
        inconclusive = verdict == c.RESULT_INCONCLUSIVE
        self.inconclusive.labels(namespace, name).set(1 if inconclusive else 0)
        if not inconclusive:
            self.last_verdict.labels(namespace, name).set(1 if outcome.passed else 0)
        self.runs.labels(namespace, name, verdict).inc()
        self.run_duration.labels(verdict).observe(max(duration_seconds, 0.0))
        self.last_run.labels(namespace, name).set(finished_at)
        for v in outcome.verdicts:
            if not v.passed:
                self.expectation_failures.labels(v.expectation.type.value).inc()

    def record_request(self, call: str, code: str, seconds: float) -> None:
        """One request to the API server (kube.RequestObserver)."""
        self.api_requests.labels(call, code).inc()
        self.api_request_seconds.labels(call).observe(seconds)

    def set_node(
        self, namespace: str, name: str, node: str | None, kubelet: str | None, runtime: str | None
    ) -> None:
        """The node of the test's last run: one series per test, replaced when the node or versions change."""
        if node is None:
            return
        labels = (node, kubelet or "unknown", runtime or "unknown")
        previous = self._node_labels.get((namespace, name))
        if previous == labels:
            return
        if previous is not None:
            with contextlib.suppress(KeyError):
                self.node_info.remove(namespace, name, *previous)
        self.node_info.labels(namespace, name, *labels).set(1)
        self._node_labels[(namespace, name)] = labels

    def record_invalid(self, namespace: str, name: str) -> None:
        """A spec that cannot run: a verdict of its own (Error), and the test counts as failing."""
        self.last_verdict.labels(namespace, name).set(0)
        self.runs.labels(namespace, name, c.RESULT_ERROR).inc()

    def restore(self, namespace: str, name: str, result: str, finished_at: float) -> None:
        """After a restart: the last verdict comes back from the test's status."""
        if result == c.RESULT_INCONCLUSIVE:
            self.inconclusive.labels(namespace, name).set(1)
        else:
            self.last_verdict.labels(namespace, name).set(1 if result == c.RESULT_PASSED else 0)
        self.last_run.labels(namespace, name).set(finished_at)

    def set_interval(self, namespace: str, name: str, seconds: int | None) -> None:
        self.interval.labels(namespace, name).set(seconds or 0)

    def forget(self, namespace: str, name: str) -> None:
        """Remove a deleted test's series so label sets stay bounded."""
        # remove() raises KeyError for a series never set; that one has nothing to forget.
        for series in (self.last_verdict, self.last_run, self.interval, self.inconclusive, self.retries):
            with contextlib.suppress(KeyError):
                series.remove(namespace, name)
        for verdict in c.RUN_RESULTS:
            with contextlib.suppress(KeyError):
                self.runs.remove(namespace, name, verdict)
        previous = self._node_labels.pop((namespace, name), None)
        if previous is not None:
            with contextlib.suppress(KeyError):
                self.node_info.remove(namespace, name, *previous)

    def serve(self, address: str, port: int) -> None:
        start_http_server(port, addr=address, registry=self.registry)
