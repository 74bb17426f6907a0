import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle_operator import constants as c
from lifecycle_operator.api import LifecycleTestSpec
from lifecycle_operator.api.syntax import (
    DNS_SUBDOMAIN_PATTERN,
    is_dns_label,
    is_dns_subdomain,
    is_label_value,
)
from lifecycle_operator.pod_manifest import Owner, build_pod, label_value, pod_name
from lifecycle_operator.settings import Settings

OWNER = Owner("init-containers-run-serially", "ns", "uid-1")
SPEC = LifecycleTestSpec.model_validate(
    {
        "pod": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 5,
            "nodeName": "node-1",
            "initContainers": [
                {"name": "init-1", "behavior": {"delaySeconds": 1}},
                {"name": "sidecar", "restartPolicy": "Always", "behavior": {"runUntilStopped": True}},
            ],
            "containers": [
                {
                    "name": "regular-1",
                    "image": "other:1",
                    "postStart": {"delaySeconds": 1},
                    "preStop": {},
                    "startupProbe": {"check": "Started"},
                    "livenessProbe": {"check": "Fail", "periodSeconds": 2},
                }
            ],
        },
        "expectations": [{"type": "Starts", "container": "regular-1"}],
    }
)


def build() -> dict[str, Any]:
    return build_pod(SPEC, OWNER, 2, Settings(test_image="testbox:1", image_pull_policy="Never"))


def all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod["spec"]
    result: list[dict[str, Any]] = spec["initContainers"] + spec["containers"]
    return result


def test_pod_is_owned_labelled_and_named_by_run() -> None:
    pod = build()
    meta = pod["metadata"]
    assert meta["name"] == "init-containers-run-serially-run2"
    assert meta["labels"][c.LABEL_TEST] == OWNER.name
    assert meta["labels"][c.LABEL_RUN] == "2"
    ref = meta["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == (c.KIND, OWNER.name, "uid-1", True)


def test_pod_passes_the_restricted_profile() -> None:
    pod = build()
    sc = pod["spec"]["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] != 0
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in all_containers(pod):
        csc = container["securityContext"]
        assert csc["allowPrivilegeEscalation"] is False
        assert csc["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"]
    assert pod["spec"]["volumes"] == [{"name": c.EVENT_VOLUME, "emptyDir": {"sizeLimit": "1Mi"}}]


def test_containers_follow_the_spec() -> None:
    pod = build()
    init1, sidecar = pod["spec"]["initContainers"]
    (regular,) = pod["spec"]["containers"]
    assert init1["image"] == "testbox:1"
    assert init1["imagePullPolicy"] == "Never"
    assert regular["image"] == "other:1"
    assert sidecar["restartPolicy"] == "Always"
    assert "restartPolicy" not in init1
    assert init1["command"][:2] == ["sh", "-c"]
    assert init1["command"][3:5] == ["sh", "init-1"]  # the name is an argument after the script
    assert "emit Looping" in sidecar["command"][2]
    post_start = regular["lifecycle"]["postStart"]["exec"]["command"]
    assert post_start[3:6] == ["sh", "PostStart-regular-1", f"{c.EVENT_DIR}/regular-1.log"]
    assert "PreStop-regular-1" in regular["lifecycle"]["preStop"]["exec"]["command"]
    assert regular["startupProbe"]["exec"]["command"][:2] == ["test", "-f"]
    assert regular["livenessProbe"]["exec"]["command"] == ["false"]
    assert regular["livenessProbe"]["periodSeconds"] == 2
    assert "readinessProbe" not in regular
    assert pod["spec"]["terminationGracePeriodSeconds"] == 5
    assert pod["spec"]["nodeName"] == "node-1"
    assert pod["spec"]["restartPolicy"] == "Never"


def test_long_names_are_cut_to_63_characters() -> None:
    long = "a" * 200
    name = pod_name(long, 12345)
    assert len(name) <= 63
    assert name.endswith("-run12345")
    assert name != pod_name("a" * 199, 12345)
    assert len(label_value(long)) <= 63
    assert label_value("short") == "short"


def test_a_dot_at_the_cut_is_dropped() -> None:
    # Cut after the '.', this name would give "aaa...a.-<hash>-run1", which no API server takes.
    keep = 63 - len("-run1") - len("-12345678")
    name = "a" * (keep - 1) + "." + "b" * 20
    assert name[:keep].endswith(".")
    assert is_dns_subdomain(pod_name(name, 1))
    assert re.fullmatch(rf"a{{{keep - 1}}}-[0-9a-f]{{8}}-run1", pod_name(name, 1))
    assert is_label_value(label_value("a" * 53 + "." + "b" * 20))


# Test names as the API server takes them: DNS subdomains, up to 253 characters.
test_names = st.from_regex(DNS_SUBDOMAIN_PATTERN, fullmatch=True).filter(lambda n: len(n) <= 253)


@settings(database=None, max_examples=300)
@given(name=test_names, run=st.integers(min_value=1, max_value=10**9))
def test_every_test_name_gives_a_valid_pod_name_and_label(name: str, run: int) -> None:
    pod = pod_name(name, run)
    assert is_dns_subdomain(pod)
    assert len(pod) <= 63  # so that it is also the pod's hostname
    assert pod.endswith(f"-run{run}")
    assert is_label_value(label_value(name))


def test_names_with_dots_stay_apart() -> None:
    assert pod_name("a.b", 1) == "a.b-run1"
    assert pod_name("a.b", 1) != pod_name("a-b", 1)
    assert is_dns_label("a-b-run1")
