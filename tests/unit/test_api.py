"""The models accept the examples and the valid edge cases, and refuse bad input naming the field.

The fixtures are the offline half of a table that tests/e2e/test_admission.py runs through the real API
server: every file of tests/fixtures/malformed and tests/fixtures/invalid says, in its `# field:` line,
which field both must name.
"""

from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from lifecycle_operator.api import (
    Action,
    ActionType,
    Expectation,
    ExpectationType,
    InvalidSpecError,
    JudgeType,
    JudgeWhen,
    LifecycleTestSpec,
    parse_spec,
)
from lifecycle_operator.api.rules import ErrorKind, Problem, TypedField, render_value
from lifecycle_operator.api.spec import ABOUT_POD, ACTION_FIELDS, EXPECTATION_FIELDS, JUDGE_FIELDS, PAIRWISE
from lifecycle_operator.manifest_files import read_documents
from lifecycle_operator.validation import check_document, check_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
MALFORMED = sorted([*(FIXTURES / "malformed").glob("*.yaml"), *(FIXTURES / "invalid").glob("*.yaml")])
VALID = sorted((FIXTURES / "valid").glob("*.yaml"))


def header(path: Path, key: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}: "):
            return line.removeprefix(f"# {key}: ")
    raise AssertionError(f"{path.name} has no '# {key}:' line")


def problems_of(path: Path) -> list[str]:
    (verdict,) = check_file(path)
    return list(verdict.problems)


def test_the_six_seed_cases_are_examples() -> None:
    assert len(EXAMPLES) == 6


def test_the_table_has_the_cases_of_the_issue() -> None:
    assert len(MALFORMED) >= 60
    assert len(VALID) >= 8


@pytest.mark.parametrize("path", [*EXAMPLES, *VALID], ids=lambda p: p.name)
def test_valid_files_pass(path: Path) -> None:
    assert problems_of(path) == []


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_malformed_files_are_refused_naming_the_field(path: Path) -> None:
    field = header(path, "field")
    problems = problems_of(path)
    assert problems, f"{path.name} passed"
    assert any(p.startswith(f"{field}: ") for p in problems), problems


@pytest.mark.parametrize("path", sorted((FIXTURES / "invalid").glob("*.yaml")), ids=lambda p: p.name)
def test_invalid_files_say_what_the_admission_test_expects(path: Path) -> None:
    # tests/e2e/test_robustness.py looks for `expect` in the API server's answer; the same text offline.
    assert header(path, "expect") in "\n".join(problems_of(path))


def test_a_refusal_names_the_offending_value() -> None:
    problems = problems_of(FIXTURES / "malformed" / "timeout-as-string.yaml")
    assert problems == ['spec.timeoutSeconds: Invalid value: "60": must be of type integer, not string']
    (problem,) = problems_of(FIXTURES / "malformed" / "unknown-subject-at-index-2.yaml")
    assert problem.startswith('spec.expectations[2].container: Invalid value: "regular-2": neither')


def test_a_spec_of_the_wrong_type_says_so() -> None:
    # Not "spec.pod: Field required", as before.
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec([])
    assert caught.value.problems == (Problem("spec", ErrorKind.INVALID, "must be of type object, not array"),)
    with pytest.raises(InvalidSpecError, match=r"^spec: Required value$"):
        parse_spec(None)


def test_a_behavior_of_the_wrong_type_says_what_it_is() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(
            {"pod": {"containers": [{"name": "a", "postStart": 3}]}, "expectations": [{"type": "PodPhase"}]}
        )
    text = str(caught.value)
    assert "spec.pod.containers[0].postStart: Invalid value: 3: must be of type object, not integer" in text
    assert "instance of Behavior" not in text


def test_types_are_strict_as_at_admission() -> None:
    base = {"pod": {"containers": [{"name": "a"}]}, "expectations": [{"type": "Starts", "container": "a"}]}
    for value in ("60", True, 60.0):
        with pytest.raises(InvalidSpecError, match=r"spec\.timeoutSeconds: Invalid value"):
            parse_spec({**base, "timeoutSeconds": value})
    assert parse_spec({**base, "timeoutSeconds": 60}).timeout_seconds == 60


def test_invalid_spec_error_still_takes_a_plain_message() -> None:
    error = InvalidSpecError("the API refused the run's pod: quota")
    assert str(error) == "the API refused the run's pod: quota"
    assert error.problems == ()


def test_every_problem_is_reported_not_only_the_first() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(
            {
                "pod": {"containers": [{"name": "A"}, {"name": "b", "image": " x"}]},
                "expectations": [{"type": "Starts", "container": "b", "count": "1"}],
            }
        )
    paths = [p.path for p in caught.value.problems]
    assert paths == [
        "spec.pod.containers[0].name",
        "spec.pod.containers[1].image",
        "spec.expectations[0].count",
    ]


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


def sample(type_: str, fields: dict[str, object]) -> dict[str, object]:
    """A raw JudgeWhen or Expectation of type_ with exactly `fields`."""
    return {"type": type_, **fields}


VALUES: dict[str, object] = {
    "container": "a",
    "other": "b",
    "count": 2,
    "phase": "Failed",
    "reason": "Error",
    "exitCode": 1,
    "started": True,
    "image": "example.test/box:2",
    "seconds": 10,
    "gracePeriodSeconds": 5,
}


TABLES = [
    (JudgeWhen, JUDGE_FIELDS, list(JudgeType)),
    (Expectation, EXPECTATION_FIELDS, list(ExpectationType)),
    (Action, ACTION_FIELDS, list(ActionType)),
]


@pytest.mark.parametrize(("model", "fields", "types"), TABLES, ids=["judgeWhen", "expectation", "action"])
def test_each_type_takes_exactly_its_fields(
    model: type[BaseModel], fields: tuple[TypedField, ...], types: list[StrEnum]
) -> None:
    """From the table that both the Python check and the CEL rules come from: each field is required
    where the table says so and refused where it says so, and the refusal names the field and the type."""
    for t in types:
        needed = {f.name: VALUES[f.name] for f in fields if t in f.required_for}
        if model is Action:
            needed["when"] = {"type": "PodRunning"}
        if t == ExpectationType.TERMINATED_WITH:
            needed["exitCode"] = 1
        model.model_validate(sample(t.value, needed))
        for f in fields:
            if t in f.required_for:
                without = {k: v for k, v in needed.items() if k != f.name}
                with pytest.raises(
                    ValidationError, match=rf"{f.name}: Required value: required for type {t}"
                ):
                    model.model_validate(sample(t.value, without))
            if t not in f.allowed_for:
                with pytest.raises(
                    ValidationError, match=rf"{f.name}: Forbidden: not allowed for type {t}( \(got \"| \[)"
                ):
                    model.model_validate(sample(t.value, {**needed, f.name: VALUES[f.name]}))


def test_terminated_with_needs_exit_code_or_reason() -> None:
    with pytest.raises(
        ValidationError, match="exitCode: Required value: TerminatedWith needs exitCode or reason"
    ):
        Expectation.model_validate({"type": "TerminatedWith", "container": "a"})
    Expectation.model_validate({"type": "TerminatedWith", "container": "a", "reason": "OOMKilled"})


def test_every_expectation_type_describes_itself() -> None:
    samples = {
        ExpectationType.RESTART_COUNT_AT_LEAST: {"count": 2},
        ExpectationType.POD_PHASE: {"phase": "Failed"},
        ExpectationType.WAITING_REASON: {"reason": "ImagePullBackOff"},
        ExpectationType.TERMINATED_WITH: {"exitCode": 1, "reason": "Error"},
        ExpectationType.TERMINATES_WITHIN: {"seconds": 30},
    }
    for t in ExpectationType:
        raw: dict[str, object] = {"type": t.value, **samples.get(t, {})}
        if t not in ABOUT_POD:
            raw["container"] = "a"
        if t in PAIRWISE:
            raw["other"] = "b"
        text = Expectation.model_validate(raw).describe()
        assert text
        assert "None" not in text


def test_every_condition_and_action_describes_itself() -> None:
    for t in JudgeType:
        raw: dict[str, object] = {"type": t.value}
        raw |= {f.name: VALUES[f.name] for f in JUDGE_FIELDS if t in f.allowed_for}
        text = JudgeWhen.model_validate(raw).describe()
        assert text
        assert "None" not in text
    for a in ActionType:
        raw = {"type": a.value, "when": {"type": "PodRunning"}}
        raw |= {f.name: VALUES[f.name] for f in ACTION_FIELDS if a in f.allowed_for}
        assert "None" not in Action.model_validate(raw).describe()
        assert "None" not in Action.model_validate({**raw, "image": None}).describe()


def test_values_in_messages_are_cut_and_escaped() -> None:
    assert render_value("a" * 500).endswith('..." (500 characters)')
    assert len(render_value("a" * 500)) < 160
    assert render_value("\x1b[31mred\u202e") == '"\\u001b[31mred\\u202e"'
    assert render_value(list(range(1000))).endswith(", ...]")


def test_a_value_made_huge_by_aliases_is_rendered_without_expanding_it() -> None:
    huge: list[object] = ["x"]
    for _ in range(60):  # 2**60 leaves, if anything walked them all
        huge = [huge, huge]
    assert len(render_value(huge)) < 400
    assert check_document(huge) == [Problem("", ErrorKind.INVALID, "must be of type object, not array")]


def test_read_documents_of_an_example() -> None:
    (doc,) = read_documents(EXAMPLES[0])
    assert isinstance(doc, dict)
    assert doc["kind"] == "LifecycleTest"
