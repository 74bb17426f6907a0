"""The models accept the examples and reject broken input with messages that name the problem."""

from pathlib import Path

import pytest
import yaml

from lifecycle_operator.api import Expectation, ExpectationType, JudgeWhen, LifecycleTestSpec
from lifecycle_operator.cli import main, validate_document

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
INVALID = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("*.yaml"))


def expected_problem(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must say what it expects"
    return first.removeprefix("# expect: ")


def test_the_six_seed_cases_are_examples() -> None:
    assert len(EXAMPLES) == 6


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid(path: Path) -> None:
    assert validate_document(yaml.safe_load(path.read_text())) is None


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_broken_example_is_rejected_naming_the_problem(path: Path) -> None:
    problem = validate_document(yaml.safe_load(path.read_text()))
    assert problem is not None
    assert expected_problem(path) in problem


def test_validate_command_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, EXAMPLES)]) == 0
    assert main(["validate", str(EXAMPLES[0]), str(INVALID[0])]) == 1
    out = capsys.readouterr().out
    assert f"{INVALID[0]}: invalid:" in out


def test_validate_command_reports_wrong_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "pod.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    assert main(["validate", str(f)]) == 1
    assert "apiVersion/kind must be" in capsys.readouterr().out


def test_defaults() -> None:
    spec = LifecycleTestSpec.model_validate(
        {"pod": {"containers": [{"name": "a"}]}, "expectations": [{"type": "Starts", "container": "a"}]}
    )
    assert spec.pod.restart_policy == "Never"
    assert spec.judge_when.type == "PodTerminal"
    assert spec.pod.containers[0].behavior.exit_code == 0
    assert spec.timeout_seconds is None


def test_hook_subjects_are_known_names() -> None:
    spec = LifecycleTestSpec.model_validate(
        {
            "pod": {"containers": [{"name": "a", "postStart": {}, "preStop": {"delaySeconds": 1}}]},
            "expectations": [{"type": "RunTogether", "container": "a", "other": "PreStop-a"}],
        }
    )
    assert spec.pod.subjects == ["a", "PostStart-a", "PreStop-a"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"type": "RestartCount", "container": "a"}, "count is required"),
        ({"type": "ContainerWaiting", "container": "a"}, "reason is required"),
        ({"type": "PodTerminal", "container": "a"}, "container is not allowed"),
    ],
)
def test_judge_when_fields_follow_type(raw: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        JudgeWhen.model_validate(raw)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"type": "PodPhase"}, "phase is required"),
        ({"type": "PodPhase", "phase": "Failed", "container": "a"}, "container is not allowed"),
        ({"type": "TerminatedWith", "container": "a"}, "needs exitCode or reason"),
        ({"type": "Starts", "container": "a", "count": 1}, "count is not allowed"),
        ({"type": "Starts", "container": "a", "exitCode": 1}, "exitCode is not allowed"),
        ({"type": "WaitingReason", "container": "a"}, "reason is required"),
    ],
)
def test_expectation_fields_follow_type(raw: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Expectation.model_validate(raw)


def test_every_expectation_type_describes_itself() -> None:
    samples = {
        ExpectationType.RESTART_COUNT_AT_LEAST: {"count": 2},
        ExpectationType.POD_PHASE: {"phase": "Failed"},
        ExpectationType.WAITING_REASON: {"reason": "ImagePullBackOff"},
        ExpectationType.TERMINATED_WITH: {"exitCode": 1, "reason": "Error"},
    }
    for t in ExpectationType:
        raw: dict[str, object] = {"type": t.value, **samples.get(t, {})}
        if t != ExpectationType.POD_PHASE:
            raw["container"] = "a"
        if t in {"StartsBefore", "ExitsBefore", "DoesntStartAfter", "RunTogether"}:
            raw["other"] = "b"
        text = Expectation.model_validate(raw).describe()
        assert text
        assert "None" not in text
