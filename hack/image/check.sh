#!/usr/bin/env bash
# Checks the built image without a cluster, with podman on buildah's own storage: the version it reports,
# the CRD it prints, the examples it validates, that every module of the operator imports, and that it runs
# as 65532:65532 on a read-only root with no network and no capabilities, as the chart runs it.
#
#   hack/image/check.sh       after hack/image/build.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
t0=$(img_now)
version=$(img_version)
ref="$OPERATOR_REPO:$version"
img_need podman podman
[[ -n $(img_image_id "$ref") ]] || { img_log "check: no image $ref; run hack/image/build.sh"; exit 1; }

mkdir -p "$IMG_CACHE/podman-tmp"
pod() {
  podman --root "$IMG_STORAGE_ROOT" --runroot "$IMG_STORAGE_RUNROOT" --storage-driver "$(img_driver)" \
    --tmpdir "$IMG_CACHE/podman-tmp" --cgroup-manager cgroupfs --events-backend file "$@"
}
# podman raises RLIMIT_NOFILE/NPROC unless told the limits, which needs CAP_SYS_RESOURCE (missing here).
run() {
  pod run --rm --network=none --read-only --cap-drop=ALL --security-opt no-new-privileges \
    --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 -v "$IMG_ROOT/examples:/examples:ro" "$@"
}
fail() { img_log "check: FAILED: $*"; exit 1; }

config=$(bah inspect --type image "$ref" | python3 -c '
import json, sys
c = json.load(sys.stdin)["OCIv1"]["config"]
print(c.get("User"), json.dumps(c.get("Entrypoint")), json.dumps(c.get("Cmd")))')
[[ $config == '65532:65532 ["lifecycle-operator"] ["run"]' ]] || fail "image config: $config"

out=$(run "$ref" --version)
[[ $out == "lifecycle-operator $version" ]] || fail "--version printed: $out"

out=$(run "$ref" crd)
grep -q '^kind: CustomResourceDefinition$' <<<"$out" || fail "crd printed no CustomResourceDefinition"
diff -q <(echo "$out") "$IMG_ROOT/crds/lifecycletests.lifecycle.conformance.dev.yaml" >/dev/null ||
  fail "crd differs from crds/lifecycletests.lifecycle.conformance.dev.yaml"

mapfile -t examples < <(cd "$IMG_ROOT/examples" && ls -- *.yaml)
out=$(run "$ref" validate "${examples[@]/#//examples/}") || fail "validate: $out"
[[ $(grep -c ': ok (' <<<"$out") -eq ${#examples[@]} ]] || fail "validate: $out"

# The image has no shell and no coreutils: its own Python reports who it runs as.
out=$(run --entrypoint python3 "$ref" -c '
import grp, os, pwd
print(f"uid={os.getuid()}({pwd.getpwuid(os.getuid()).pw_name}) gid={os.getgid()}({grp.getgrgid(os.getgid()).gr_name})")')
[[ $out == "uid=65532(lifecycle) gid=65532(lifecycle)" ]] || fail "id: $out"
# Every module of the operator imports in the slimmed image (serve, handlers and kube pull in kopf, the
# kubernetes client and its models), as the chart's user on a read-only root, and loads its credentials'
# code paths: the in-cluster and kubeconfig loaders, and the client classes kube.py uses.
out=$(run --user 65532:65532 --entrypoint python3 "$ref" -c '
import importlib, pkgutil
import lifecycle_operator as pkg
names = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
for n in names:
    importlib.import_module(n)
from kubernetes import client, config
config.load_incluster_config, config.load_kube_config, config.ConfigException
for name in ("ApiClient", "CoreV1Api", "CustomObjectsApi", "CoordinationV1Api", "V1Pod", "V1Lease",
             "V1NodeList", "V1Status"):
    getattr(client, name)
client.V1Pod.model_validate({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
print(len(names) + 1)') || fail "imports: $out"
# Nothing may need to write outside /tmp: a write to the root must fail, one to /tmp must work.
run --entrypoint python3 "$ref" -c '
import pathlib, tempfile
try:
    pathlib.Path("/opt/venv/probe").write_text("x")
except OSError:
    pass
else:
    raise SystemExit("the root filesystem is writable")
tempfile.NamedTemporaryFile().write(b"x")
' || fail "read-only root"
img_log "check: $ref ok: --version, crd, validate of ${#examples[@]} examples, $out modules import, user 65532, read-only root ($(img_since "$t0")s)"
