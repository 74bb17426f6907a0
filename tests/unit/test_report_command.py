"""`lifecycle-operator report` end to end without a cluster: the command over an in-memory source, and
read.Cluster over a tiny API server on loopback that answers as the real one does."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from junitparser import JUnitXml

from lifecycle_operator import cli
from lifecycle_operator.report import command
from lifecycle_operator.report.command import Options, run
from lifecycle_operator.report.model import TestReport
from lifecycle_operator.report.read import Cluster, ReadError, Selection
from render.samples import late_hook, quiet_node


def body(report: TestReport) -> dict[str, Any]:
    """A LifecycleTest object as the API returns it."""
    spec = report.spec.model_dump(by_alias=True, exclude_none=True) if report.spec else {}
    return {
        "apiVersion": "lifecycle.conformance.dev/v1alpha1",
        "kind": "LifecycleTest",
        "metadata": {"namespace": report.namespace, "name": report.name, "labels": {"suite": "seed"}},
        "spec": spec,
        "status": report.status.model_dump(by_alias=True, exclude_none=True),
    }


class Source:
    default_namespace = "ns"

    def __init__(self, *reports: TestReport) -> None:
        self.bodies = [body(r) for r in reports]
        self.selections: list[Selection] = []

    def tests(self, selection: Selection) -> list[dict[str, Any]]:
        self.selections.append(selection)
        return self.bodies


def report(options: Options, source: Source) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(options, lambda: source, out, err)
    return code, out.getvalue(), err.getvalue()


def test_all_passed_exits_0_and_prints_the_table(tmp_path: Path) -> None:
    code, out, _ = report(
        Options(junit=tmp_path / "j.xml"), Source(quiet_node("ns", "a"), quiet_node("ns", "b"))
    )
    assert code == 0
    assert out.splitlines()[-1] == "2 tests: 2 Passed"
    xml = JUnitXml.fromfile(str(tmp_path / "j.xml"))
    xml.update_statistics()
    assert (xml.tests, xml.failures) == (4, 0)


def test_one_failed_exits_1_and_writes_a_picture_per_test(tmp_path: Path) -> None:
    source = Source(quiet_node("ns", "good"), late_hook("ns", "bad"))
    code, _, err = report(Options(junit=tmp_path / "out" / "j.xml", svg=tmp_path / "svg"), source)
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "svg").iterdir()) == ["ns_bad_run1.svg", "ns_good_run1.svg"]
    assert f"wrote {tmp_path / 'svg' / 'ns_bad_run1.svg'}" in err
    failures = [
        (suite.name, case.result[0].text) for suite in JUnitXml.fromfile(str(tmp_path / "out" / "j.xml"))
        for case in suite if not case.is_passed
    ]  # fmt: skip
    assert failures == [("ns/bad", "PostStart-regular-1 never logged Exiting")]


def test_svg_to_a_file_takes_exactly_one_test(tmp_path: Path) -> None:
    code, _, _ = report(Options(svg=tmp_path / "one.svg"), Source(late_hook()))
    assert code == 1
    assert (tmp_path / "one.svg").read_text().startswith("<?xml")
    code, out, err = report(Options(svg=tmp_path / "two.svg"), Source(late_hook("a"), late_hook("b")))
    assert code == 2
    assert not out
    wanted = f"--svg {tmp_path / 'two.svg'} is a file, for exactly one test, and 2 matched: give a folder"
    assert err == f"lifecycle-operator report: error: {wanted}\n"


def test_nothing_matched_is_not_a_pass() -> None:
    code, _, err = report(Options(), Source())
    assert code == 1
    assert err == "lifecycle-operator report: no LifecycleTest matched\n"


def test_the_selection_follows_the_options() -> None:
    source = Source()
    report(Options(selector="suite=seed"), source)
    report(Options(namespace="other", names=("a", "b")), source)
    report(Options(all_namespaces=True), source)
    assert source.selections == [
        Selection("ns", "suite=seed"),
        Selection("other", None, ("a", "b")),
        Selection(None),
    ]


@pytest.mark.parametrize(
    "options",
    [Options(all_namespaces=True, names=("a",)), Options(selector="x=y", names=("a",))],
)
def test_usage_errors_exit_2_before_any_request(options: Options) -> None:
    def connect() -> Source:
        raise AssertionError("no request for a usage error")

    err = io.StringIO()
    assert run(options, connect, io.StringIO(), err) == 2
    assert err.getvalue().startswith("lifecycle-operator report: error: ")
    assert err.getvalue().count("\n") == 1


def test_an_unwritable_file_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, _, err = report(Options(junit=tmp_path / "file" / "j.xml"), Source(quiet_node()))
    assert code == 2
    assert err.startswith("lifecycle-operator report: cannot write ")
    assert err.count("\n") == 1


def test_the_cli_parses_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Options] = []
    monkeypatch.setattr(command, "run", lambda options: seen.append(options) or 0)
    assert cli.main(["report", "-n", "ns", "-l", "a=b", "--junit", "j.xml", "--svg", "d"]) == 0
    assert cli.main(["report", "-A"]) == 0
    assert seen == [
        Options(namespace="ns", selector="a=b", junit=Path("j.xml"), svg=Path("d")),
        Options(all_namespaces=True),
    ]
    with pytest.raises(SystemExit) as e:
        cli.main(["report", "-A", "-n", "ns"])
    assert e.value.code == 2


# A tiny API server on loopback: enough of the real one's paths and errors for read.Cluster.
class FakeApi(BaseHTTPRequestHandler):
    objects: ClassVar[dict[str, list[dict[str, Any]]]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        FakeApi.requests.append(self.path)
        prefix = "/apis/lifecycle.conformance.dev/v1alpha1/"
        path = self.path.split("?")[0].removeprefix(prefix).split("/")
        if path == ["lifecycletests"]:
            self._send(200, {"items": [o for items in self.objects.values() for o in items]})
        elif len(path) == 3 and path[0] == "namespaces" and path[2] == "lifecycletests":
            if path[1] == "forbidden":
                self._send(
                    403, {"kind": "Status", "message": 'lifecycletests is forbidden: User "x" cannot list'}
                )
            else:
                self._send(200, {"items": self.objects.get(path[1], [])})
        elif len(path) == 4:
            found = [o for o in self.objects.get(path[1], []) if o["metadata"]["name"] == path[3]]
            if found:
                self._send(200, found[0])
            else:
                self._send(404, {"kind": "Status", "message": f'lifecycletests "{path[3]}" not found'})
        else:
            self._send(404, {"kind": "Status", "message": "no such path"})

    def _send(self, code: int, obj: object) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeApi]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "ns"}}],
                "current-context": "c",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    FakeApi.objects = {"ns": [body(late_hook("ns", "bad"))], "other": [body(quiet_node("other", "good"))]}
    FakeApi.requests = []
    yield FakeApi
    server.shutdown()
    server.server_close()


def test_cluster_reads_the_context_namespace_all_namespaces_and_names(api: type[FakeApi]) -> None:
    cluster = Cluster()
    assert cluster.default_namespace == "ns"
    assert [t["metadata"]["name"] for t in cluster.tests(Selection("ns"))] == ["bad"]
    assert sorted(t["metadata"]["name"] for t in cluster.tests(Selection(None, "suite=seed"))) == [
        "bad",
        "good",
    ]
    assert [t["metadata"]["name"] for t in cluster.tests(Selection("other", None, ("good",)))] == ["good"]
    assert "labelSelector=suite%3Dseed" in FakeApi.requests[1]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (
            Selection("forbidden"),
            "cannot list lifecycletests in namespace forbidden: "
            '403 Forbidden: lifecycletests is forbidden: User "x" cannot list',
        ),
        (
            Selection("ns", None, ("gone",)),
            'cannot read lifecycletest gone in namespace ns: 404 Not Found: lifecycletests "gone" not found',
        ),
    ],
)  # fmt: skip
def test_cluster_refusals_are_one_read_error(api: type[FakeApi], selection: Selection, message: str) -> None:
    with pytest.raises(ReadError) as e:
        Cluster().tests(selection)
    assert str(e.value) == message


def test_the_whole_command_against_the_api(
    api: type[FakeApi], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "-A", "--junit", str(tmp_path / "j.xml")]) == 1
    out, _ = capsys.readouterr()
    assert out.splitlines()[-1] == "2 tests: 1 Failed, 1 Passed"
    assert cli.main(["report", "-n", "other"]) == 0
    assert cli.main(["report", "-n", "forbidden"]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert err.startswith("lifecycle-operator report: cannot list lifecycletests in namespace forbidden: 403")


def test_no_credentials_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ReadError, match=r"^no credentials for a cluster: .*, and not in a pod$"):
        Cluster()
