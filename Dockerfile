# The operator's image. Nothing in this build reaches the network: both stages install only from the
# wheelhouse in the build context (_out/wheelhouse, made by hack/image/wheelhouse.sh).
#
#   hack/image/build.sh      the local build: buildah, a Debian base made without a registry, --network=none
#   docker build .           where a registry is at hand (the default base), after hack/image/wheelhouse.sh
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
# installed with its dependencies into the venv the runtime stage copies. pip and setuptools leave the venv:
# the runtime installs nothing. Bytecode is compiled once, checked by hash instead of by the sources' mtimes,
# which copying the venv would not keep meaningful, and the read-only root could not take a rewrite.
RUN python3 -m venv /build \
 && /build/bin/pip wheel --no-deps --find-links /wheels --wheel-dir /dist /src \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --find-links /wheels /dist/*.whl \
 && /opt/venv/bin/pip uninstall --yes pip setuptools \
 && /opt/venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /opt/venv/lib \
 && /opt/venv/bin/lifecycle-operator --version

FROM ${BASE_IMAGE}
# A system user with no home; -K lets its ID sit above the system range, as the chart asks for 65532.
RUN groupadd --system --gid 65532 -K SYS_GID_MAX=65532 lifecycle \
 && useradd --system --uid 65532 --gid 65532 -K SYS_UID_MAX=65532 --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin lifecycle
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
LABEL org.opencontainers.image.title="lifecycle-operator" \
      org.opencontainers.image.description="Container-lifecycle conformance checks for the kubelet, as LifecycleTest resources" \
      org.opencontainers.image.licenses="Apache-2.0"
# Numeric, so that the kubelet can check runAsNonRoot against the image alone.
USER 65532:65532
ENTRYPOINT ["lifecycle-operator"]
CMD ["run"]
