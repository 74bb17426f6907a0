# The operator's image. Nothing in this build reaches the network: the build stage installs only from the
# wheelhouse in the build context (_out/wheelhouse, made by hack/image/wheelhouse.sh).
#
#   hack/image/build.sh      the local build: buildah, a Debian base made without a registry, --network=none
#   docker build .           where a registry is at hand (the default base), after hack/image/wheelhouse.sh
#
# The build stage installs the operator into a venv, then hack/image/slim.py assembles /rootfs: the venv less
# what no import of the operator reaches (the kubernetes client's asyncio half and unused generated API and
# model modules), the interpreter, its standard library less development tools and test suites, and only the
# shared libraries those link. It checks /rootfs before the build goes on: every module imports and the
# console script runs, chrooted, as the runtime user. The runtime stage is that /rootfs and nothing else:
# no shell, no package manager.
#
# The runtime runs as uid/gid 65532 (the chart's runAsUser/runAsGroup) and writes nothing outside /tmp, so it
# works with readOnlyRootFilesystem.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_INDEX=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY _out/wheelhouse/ /wheels/
COPY pyproject.toml README.md /src/
COPY operator/ /src/operator/
# The project's wheel is built here from its sources (the build backend comes from the wheelhouse), then
# installed with its dependencies into the venv. pip and setuptools leave the venv: the runtime installs
# nothing.
RUN python3 -m venv /build \
 && /build/bin/pip wheel --no-deps --find-links /wheels --wheel-dir /dist /src \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --find-links /wheels /dist/*.whl \
 && /opt/venv/bin/pip uninstall --yes pip setuptools
COPY hack/image/slim.py /slim.py
# Bytecode is compiled in /rootfs, checked by hash instead of by the sources' mtimes (which copying would
# not keep meaningful, and a read-only root could not take a rewrite).
RUN python3 /slim.py --venv /opt/venv --rootfs /rootfs --package lifecycle_operator \
      --script lifecycle-operator --uid 65532 --gid 65532 --user lifecycle

FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
LABEL org.opencontainers.image.title="lifecycle-operator" \
      org.opencontainers.image.description="Container-lifecycle conformance checks for the kubelet, as LifecycleTest resources" \
      org.opencontainers.image.licenses="Apache-2.0"
# Numeric, so that the kubelet can check runAsNonRoot against the image alone.
USER 65532:65532
ENTRYPOINT ["lifecycle-operator"]
CMD ["run"]
