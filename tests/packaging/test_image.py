"""The operator image's Dockerfile and its slimming (hack/image/slim.py), without building anything."""

from __future__ import annotations

import importlib.util
import re
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def final_stage() -> list[str]:
    lines = [
        ln.strip()
        for ln in (ROOT / "Dockerfile").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    starts = [i for i, ln in enumerate(lines) if ln.upper().startswith("FROM ")]
    return lines[starts[-1] :]


def test_runtime_stage_is_the_slimmed_rootfs_only() -> None:
    stage = final_stage()
    assert stage[0] == "FROM scratch"
    assert "COPY --from=build /rootfs/ /" in stage
    # No shell in the image: nothing may RUN in the runtime stage.
    assert not [ln for ln in stage if ln.upper().startswith("RUN ")]
    assert "USER 65532:65532" in stage
    assert 'ENTRYPOINT ["lifecycle-operator"]' in stage


def test_build_stage_keeps_the_public_base_and_installs_offline() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.M)
    assert "PIP_NO_INDEX=1" in text
    assert "--uid 65532 --gid 65532" in text
    assert "!hack/image/slim.py" in (ROOT / ".dockerignore").read_text().splitlines()


def test_slimming_keeps_what_the_operator_reaches() -> None:
    spec = importlib.util.spec_from_file_location("slim", ROOT / "hack" / "image" / "slim.py")
    assert spec
    assert spec.loader
    slim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(slim)
    site = Path(sysconfig.get_path("purelib"))
    mods = {**slim.module_map(site), **slim.module_map(ROOT / "operator")}
    std = slim.module_map(
        Path(sysconfig.get_path("stdlib")), *[Path(p) for p in sys.path if p.endswith("lib-dynload")]
    )
    roots = {m for m in mods if m.split(".")[0] == "lifecycle_operator"}
    seen, importers = slim.reachable({**std, **mods}, roots, set(slim.STDLIB_UNUSED))
    # What kube.py uses of the client, and what kopf imports of it, survive the pruning...
    for module in (
        "kubernetes.client.api.core_v1_api",
        "kubernetes.client.api.custom_objects_api",
        "kubernetes.client.api.coordination_v1_api",
        "kubernetes.client.models.v1_pod",
        "kubernetes.client.models.v1_node_list",
        "kubernetes.client.models.v1_lease",
        "kubernetes.client.models.v1_object_meta",
        "kubernetes.client.models.v1_owner_reference",
        "kubernetes.config",
    ):
        assert module in seen, module
    # ...the asyncio client and unrelated APIs do not,
    assert not [m for m in seen if m.startswith("kubernetes.aio")]
    assert "kubernetes.client.api.apps_v1_api" not in seen
    # and nothing of the venv imports a part of the standard library the image leaves out.
    pruned = {m for m in seen if m.split(".")[0] in slim.STDLIB_UNUSED}
    assert not {m: importers[m] & mods.keys() for m in pruned if importers[m] & mods.keys()}
