"""`lifecycle-operator validate` never crashes: each file gets its verdict, the exit code sums them up."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle_operator.api.rules import ErrorKind, Problem
from lifecycle_operator.cli import main
from lifecycle_operator.manifest_files import MAX_FILE_BYTES, ManifestLoader, read_documents
from lifecycle_operator.validation import check_document, check_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "01-init-containers-run-serially.yaml"
VALID = """\
apiVersion: lifecycle.conformance.dev/v1alpha1
kind: LifecycleTest
metadata: {name: ok}
spec:
  pod:
    containers: [{name: regular-1}]
  expectations:
    - {type: Starts, container: regular-1}
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def verdict_of(path: Path) -> list[str]:
    (verdict,) = check_file(path)
    return list(verdict.problems)


def test_exit_code_says_whether_every_file_passed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.yaml", VALID)
    bad = write(tmp_path, "bad.yaml", VALID.replace("regular-1}]", "Regular_1}]"))
    assert main(["validate", str(good), str(EXAMPLE)]) == 0
    assert main(["validate", str(bad), str(good)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith(f"{bad}: invalid (ok): spec.pod.containers[0].name: Invalid value")
    assert out[-1] == f"{good}: ok (ok)"


def test_a_file_that_is_not_utf8_does_not_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = write(tmp_path, "latin1.yaml", VALID.replace("ok}", "caf\xe9}").encode("latin-1"))
    good = write(tmp_path, "good.yaml", VALID)
    assert main(["validate", str(latin1), str(good)]) == 1
    out = capsys.readouterr().out
    assert f"{latin1}: invalid: not UTF-8: byte 0xe9 at offset" in out
    assert f"{good}: ok (ok)" in out


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("metadata: [a, b]", 'metadata: Invalid value: ["a", "b"]: must be of type object, not array'),
        (
            "metadata: just-a-name",
            'metadata: Invalid value: "just-a-name": must be of type object, not string',
        ),
        ("metadata: {}", "metadata.name: Required value: a LifecycleTest needs a name"),
        ("metadata: {name: Bad_Name}", 'metadata.name: Invalid value: "Bad_Name": must be a DNS subdomain'),
        ("metadata: {name: 5}", "metadata.name: Invalid value: 5: must be of type string, not integer"),
        (
            "metadata: {name: ok, namespace: a.b}",
            'metadata.namespace: Invalid value: "a.b": must be a DNS label',
        ),
        (
            "metadata: {name: ok, labels: {a: b c}}",
            'metadata.labels.a: Invalid value: "b c": must be a label value',
        ),
        (
            "metadata: {name: ok, labels: {a b: c}}",
            'metadata.labels: Invalid value: "a b": every key must be',
        ),
        (
            "metadata: {name: ok, annotations: {a: 1}}",
            "metadata.annotations.a: Invalid value: 1: must be of type",
        ),
        ("metadata: {name: ok, nmae: typo}", "metadata.nmae: Unknown field"),
    ],
)
def test_metadata_is_checked(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "t.yaml", VALID.replace("metadata: {name: ok}", text))
    assert any(p.startswith(problem) for p in verdict_of(path)), verdict_of(path)


def test_duplicate_keys_are_refused_with_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "dup.yaml", VALID.replace("  pod:", "  timeoutSeconds: 10\n  timeoutSeconds: 20\n  pod:")
    )
    (problem,) = verdict_of(path)
    assert "found duplicate key 'timeoutSeconds'" in problem
    assert "line 6" in problem


def test_merge_keys_may_override_without_being_duplicates(tmp_path: Path) -> None:
    text = VALID.replace("containers: [{name: regular-1}]", "containers: [{<<: {name: x}, name: regular-1}]")
    assert verdict_of(write(tmp_path, "merge.yaml", text)) == []


# How kubectl (go-yaml v2, then JSON) reads plain scalars, as seen with kubectl and an API server 1.34.
KUBECTL_SCALARS = {
    "1e1": 10,
    "0o17": 15,
    "017": 15,
    "-017": -15,
    "0x1F": 31,
    "0b11": 3,
    "1_0": 10,
    "12.0": 12,
    "10.": 10,
    ".5e1": 5,
    "09": 9,
    "+12": 12,
    "1.5": 1.5,
    "1:20": "1:20",
    "2024-01-01": "2024-01-01",
    "y": True,
    "n": False,
    "Off": False,
    "~": None,
    "abc": "abc",
}


@pytest.mark.parametrize(("text", "value"), KUBECTL_SCALARS.items())
def test_scalars_are_read_as_kubectl_reads_them(text: str, value: object) -> None:
    (doc,) = yaml.load_all(f"x: {text}", Loader=ManifestLoader)
    assert doc["x"] == value
    assert type(doc["x"]) is type(value)


def test_yaml_is_read_as_kubectl_reads_it(tmp_path: Path) -> None:
    # A date stays a string and a number as a key becomes a string, as sigs.k8s.io/yaml makes them.
    text = VALID.replace(
        "containers:", "nodeSelector: {built: 2024-01-01, 1: one, true: yes-str}\n    containers:"
    )
    (doc,) = read_documents(write(tmp_path, "t.yaml", text))
    assert isinstance(doc, dict)
    assert doc["spec"]["pod"]["nodeSelector"] == {"built": "2024-01-01", "1": "one", "true": "yes-str"}
    assert verdict_of(tmp_path / "t.yaml") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no documents"),
        ("---\n---\n", "no documents"),
        ("a: [", "not YAML: "),
        ("[" * 5000 + "]" * 5000, "not YAML that can be read: nested too deeply"),
        ("just a string", '<document>: Invalid value: "just a string": must be of type object, not string'),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}",
            'apiVersion: Unsupported value: "v1": supported values',
        ),
        ("kind: LifecycleTest", "apiVersion: Required value"),
    ],
)
def test_what_is_not_a_lifecycle_test_gets_a_verdict(tmp_path: Path, text: str, problem: str) -> None:
    problems = verdict_of(write(tmp_path, "t.yaml", text))
    assert any(p.startswith(problem) for p in problems), problems


def test_unknown_top_level_fields_are_refused_and_status_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", VALID + "status: {result: Passed}\nspek: {}\n")
    assert verdict_of(path) == ["spek: Unknown field: not declared in the schema"]


def test_a_missing_file_and_a_directory_get_a_verdict(tmp_path: Path) -> None:
    assert verdict_of(tmp_path / "missing.yaml")[0].startswith("cannot read: No such file")
    assert verdict_of(tmp_path)[0].startswith("cannot read: Is a directory")


def test_a_file_larger_than_a_request_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", VALID + "#" * MAX_FILE_BYTES)
    assert verdict_of(path)[0].startswith(f"{path.stat().st_size} bytes, larger than the API server accepts")


def test_every_document_of_a_file_gets_its_own_verdict(tmp_path: Path) -> None:
    path = write(tmp_path, "two.yaml", VALID + "---\n" + VALID.replace("ok}", "Bad}"))
    first, second = check_file(path)
    assert (first.source, first.problems) == (f"{path}[0]", ())
    assert second.source == f"{path}[1]"
    assert second.problems[0].startswith("metadata.name: Invalid value")


def test_aliases_that_expand_to_a_huge_document_are_checked_quickly(tmp_path: Path) -> None:
    layers = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    layers += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]  # 10**9 leaves
    bomb = "\n".join(f"  {layer}" for layer in layers)
    text = VALID.replace(
        "  pod:\n    containers: [{name: regular-1}]", f"{bomb}\n  pod:\n    containers: *a8"
    )
    started = time.monotonic()
    problems = verdict_of(write(tmp_path, "bomb.yaml", text))
    assert time.monotonic() - started < 10
    assert any(p.startswith("spec.pod.containers[9]: Invalid value: [[") for p in problems), problems
    assert all(len(p) < 600 for p in problems)


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FIELDS = ["pod", "expectations", "judgeWhen", "timeoutSeconds", "podRetention", "intervalSeconds"]


@settings(database=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=JSON_LIKE)
def test_any_value_in_any_spec_field_gets_problems_not_an_exception(field: str, value: object) -> None:
    doc = yaml.safe_load(VALID)
    doc["spec"][field] = value
    problems = check_document(doc)
    assert all(isinstance(p, Problem) and p.path for p in problems)
    if problems and value is not None:
        assert any(p.path.startswith(f"spec.{field}") or p.path == "spec" for p in problems)


@settings(database=None, max_examples=200)
@given(data=st.binary(max_size=200))
def test_any_bytes_get_a_verdict(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "t.yaml"
    path.write_bytes(data)
    verdicts = check_file(path)
    assert verdicts
    assert all(v.problems for v in verdicts)  # none of them is a LifecycleTest


def test_a_valid_document_has_no_problems() -> None:
    assert check_document(yaml.safe_load(VALID)) == []
    (problem,) = check_document(yaml.safe_load(VALID.replace("ok}", "x" * 254 + "}")))
    assert (problem.path, problem.kind) == ("metadata.name", ErrorKind.INVALID)


def test_validate_imports_neither_kopf_nor_the_client_nor_prometheus(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", VALID)
    code = (
        "import sys\n"
        "from lifecycle_operator.cli import main\n"
        f"assert main(['validate', {str(path)!r}]) == 0\n"
        "print(sorted(m for m in ('kopf', 'kubernetes', 'prometheus_client') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
