"""catalogue.enabled: one `helm install` brings upstream's whole catalogue as LifecycleTests that run again
every interval, watched by the operator, and the chart's copy of the catalogue is the project's."""

from __future__ import annotations

from pathlib import Path

import yaml
from chart_render import CHART, REPO, Rendered, helm_template, parse_documents

from lifecycle_operator.api import parse_spec

SOURCE = REPO / "catalogue"
COPY = CHART / "files" / "catalogue"


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob("*/*.yaml"))}


def test_the_chart_carries_the_catalogue_as_it_is() -> None:
    assert files(COPY) == files(SOURCE), "run hack/sync-chart-catalogue.sh"


def render(helm: Path, **catalogue: object) -> Rendered:
    values = {"catalogue": {"enabled": True, **catalogue}}
    return Rendered(parse_documents(helm_template(helm, values, release="lco", namespace="ops")))


def test_enabled_it_installs_every_case_with_the_interval(helm: Path) -> None:
    rendered = render(helm, namespace="conformance", intervalSeconds=1800)
    tests = rendered.of_kind("LifecycleTest")
    assert len(tests) == len(files(SOURCE))
    by_name = {t["metadata"]["name"]: t for t in tests}
    for path in SOURCE.glob("*/*.yaml"):
        source = yaml.safe_load(path.read_text())
        test = by_name[source["metadata"]["name"]]
        assert test["metadata"]["namespace"] == "conformance"
        assert test["metadata"]["labels"]["lifecycle.conformance.dev/catalogue"] == path.parent.name
        spec = parse_spec(test["spec"])
        assert spec.interval_seconds == 1800
        assert not spec.every_node
        # The case itself is the file's: only the interval was added.
        assert {k: v for k, v in test["spec"].items() if k != "intervalSeconds"} == source["spec"]
    namespace = rendered.one("Namespace", "conformance")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # The operator watches it, with a Role there.
    assert rendered.env["LCO_NAMESPACES"] == "ops,conformance"
    rendered.one("Role", namespace="conformance")


def test_every_node_runs_each_case_on_every_node(helm: Path) -> None:
    tests = render(helm, everyNode=True).of_kind("LifecycleTest")
    assert all(parse_spec(t["spec"]).every_node for t in tests)
    assert {t["metadata"]["namespace"] for t in tests} == {"ops"}


def test_disabled_by_default(default_render: Rendered) -> None:
    assert default_render.of_kind("LifecycleTest") == []
