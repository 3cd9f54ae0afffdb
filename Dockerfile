# syntax=docker/dockerfile:1
# One image for every pingan service; the command picks the service:
#   docker run IMAGE serve grid_events | migrate mediation | ping grid_events | audit verify grid_events
# Runs as a non-root user on a read-only root filesystem; only /tmp must be writable
# (the Helm chart mounts an emptyDir there). No compiler, pip or setuptools in the final stage.
#
# Supply chain (docs/deploy.md, "Image"): dependencies come from requirements.lock, every
# file checked against its sha256 (pip --require-hashes); the base image is pinned by digest
# with a build argument, resolved at build time by `make image` (mk/deploy.mk):
#   --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest>
# The default below is the tag only, because no digest could be verified where this file
# was written; a release build must pass the digest.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: wheels + virtualenv ------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/pingan
WORKDIR /src
# Dependencies first (cache layer), exactly as locked, then the code (no dependency resolution).
COPY requirements.lock ./
RUN /opt/pingan/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.m[d] ./
COPY shared ./shared
COPY services ./services
RUN /opt/pingan/bin/pip install --no-deps . \
 && /opt/pingan/bin/python -m compileall -q /opt/pingan/lib \
 && /opt/pingan/bin/pip uninstall -y pip setuptools wheel \
 && /opt/pingan/bin/pingan --help >/dev/null

# ---- runtime -------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# Drop the base image's own packaging tools: nothing is installed at run time.
RUN python -m pip uninstall -y pip setuptools wheel 2>/dev/null || true \
 && groupadd --system --gid 10001 pingan \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin pingan
COPY --from=build /opt/pingan /opt/pingan
ENV PATH=/opt/pingan/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    PINGAN_LOG_FORMAT=json \
    PINGAN_HTTP_ADDRESS=0.0.0.0:8000
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
# nameko stops on SIGTERM and waits for running workers (grace period set by the chart).
STOPSIGNAL SIGTERM
ENTRYPOINT ["pingan"]
CMD ["--help"]
