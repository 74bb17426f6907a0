import pytest
from prometheus_client import generate_latest

from lifecycle_operator import constants as c
from lifecycle_operator.api import Expectation
from lifecycle_operator.metrics import Metrics
from lifecycle_operator.outcome import RunOutcome
from lifecycle_operator.settings import Settings, SettingsError, help_lines
from lifecycle_operator.verdicts import Verdict


def sample(m: Metrics, name: str, labels: dict[str, str]) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_a_run_is_recorded() -> None:
    m = Metrics()
    e = Expectation.model_validate({"type": "StartsBefore", "container": "a", "other": "b"})
    failed = RunOutcome(1, c.REASON_EXPECTATIONS_FAILED, "x", [Verdict(e, False, "x")])
    m.record_run("ns", "t", failed, 12.0, 1000.0)
    assert sample(m, "lifecycletest_last_verdict", {"namespace": "ns", "name": "t"}) == 0
    assert sample(m, "lifecycletest_runs_total", {"namespace": "ns", "name": "t", "verdict": "Failed"}) == 1
    assert sample(m, "lifecycletest_expectation_failures_total", {"kind": "StartsBefore"}) == 1
    assert sample(m, "lifecycletest_last_run_timestamp_seconds", {"namespace": "ns", "name": "t"}) == 1000
    assert sample(m, "lifecycletest_run_duration_seconds_count", {"verdict": "Failed"}) == 1
    passed = RunOutcome(2, c.REASON_EXPECTATIONS_MET, "ok", [Verdict(e, True, "ok")])
    m.record_run("ns", "t", passed, 5.0, 2000.0)
    assert sample(m, "lifecycletest_last_verdict", {"namespace": "ns", "name": "t"}) == 1
    text = generate_latest(m.registry).decode()
    assert "1 passed, 0 failed" in text
    assert 'lifecycle_operator_info{version="' in text


def test_forget_removes_a_tests_series() -> None:
    m = Metrics()
    m.restore("ns", "t", c.RESULT_PASSED, 5.0)
    m.set_interval("ns", "t", 3600)
    assert sample(m, "lifecycletest_interval_seconds", {"namespace": "ns", "name": "t"}) == 3600
    m.forget("ns", "t")
    m.forget("ns", "never-seen")
    assert sample(m, "lifecycletest_last_verdict", {"namespace": "ns", "name": "t"}) is None
    assert sample(m, "lifecycletest_interval_seconds", {"namespace": "ns", "name": "t"}) is None


def test_settings_from_env() -> None:
    s = Settings.from_env(
        {"LCO_NAMESPACES": "a, b,", "LCO_METRICS_PORT": "9000", "LCO_KEEP_FAILED_PODS": "true", "HOME": "/x"}
    )
    assert s.namespaces == ("a", "b")
    assert s.metrics_port == 9000
    assert s.default_retention == "KeepOnFailure"
    assert Settings.from_env({}).namespaces == ()


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"LCO_METRICS_PORT": "http"}, "LCO_METRICS_PORT"),
        ({"LCO_IMAGE_PULL_POLICY": "Sometimes"}, "LCO_IMAGE_PULL_POLICY"),
        ({"LCO_TEST_IMAGES": "x"}, "unknown setting LCO_TEST_IMAGES"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        Settings.from_env(env)


def test_every_setting_has_help() -> None:
    assert len(help_lines()) == len(Settings.model_fields)
    assert all(line.startswith("LCO_") for line in help_lines())


def test_exact_namespaces_are_watched_one_by_one() -> None:
    s = Settings.from_env({"LCO_NAMESPACES": "team-a,team-b"})
    assert (s.clusterwide, s.by_pattern) == (False, False)
    assert s.watches("team-a")
    assert not s.watches("team-c")


def test_the_whole_cluster_when_no_namespace_is_named() -> None:
    s = Settings.from_env({})
    assert s.clusterwide
    assert not s.by_pattern
    assert s.watches("anything")


@pytest.mark.parametrize(
    ("patterns", "watched", "not_watched"),
    [
        ("team-*", ["team-a", "team-"], ["teams", "x-team-a"]),
        ("team-*,!team-secret", ["team-a"], ["team-secret", "other"]),
        ("!kube-*", ["default", "team-a"], ["kube-system", "kube-public"]),
        ("e2e-*,chaos-*", ["e2e-1", "chaos-load0-ab"], ["catalogue-x"]),
        ("team-?", ["team-a"], ["team-ab"]),
    ],
)
def test_patterns_make_one_cluster_wide_watch_filtered_by_them(
    patterns: str, watched: list[str], not_watched: list[str]
) -> None:
    s = Settings.from_env({"LCO_NAMESPACES": patterns})
    assert s.clusterwide
    assert s.by_pattern
    assert [n for n in watched if not s.watches(n)] == []
    assert [n for n in not_watched if s.watches(n)] == []
