from typing import Any

from lifecycle_operator import constants as c
from lifecycle_operator.api import LifecycleTestSpec
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
    assert "emit Looping" in sidecar["command"][2]
    hook = regular["lifecycle"]["postStart"]["exec"]["command"][2]
    assert "PostStart-regular-1" in hook
    assert "PreStop-regular-1" in regular["lifecycle"]["preStop"]["exec"]["command"][2]
    assert regular["startupProbe"]["exec"]["command"][:2] == ["test", "-f"]
    assert regular["livenessProbe"]["exec"]["command"] == ["false"]
    assert regular["livenessProbe"]["periodSeconds"] == 2
    assert "readinessProbe" not in regular
    assert pod["spec"]["terminationGracePeriodSeconds"] == 5
    assert pod["spec"]["nodeName"] == "node-1"
    assert pod["spec"]["restartPolicy"] == "Never"


def test_long_names_stay_dns_labels() -> None:
    long = "a" * 200
    name = pod_name(long, 12345)
    assert len(name) <= 63
    assert name.endswith("-run12345")
    assert name != pod_name("a" * 199, 12345)
    assert len(label_value(long)) <= 63
    assert label_value("short") == "short"
