#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests (helm template / kubectl kustomize output).

Built-in kinds: `kubernetes-validate --strict -k <version>` (offline OpenAPI schemas);
any WARN (no schema: unknown kind or apiVersion) or ERROR fails.

Custom resources: kubernetes-validate ships no CRD schemas and cannot load them, so
the kinds listed in CRD_KINDS are explicitly NOT schema-validated; each one is
named in a SKIP line and only checked for the fields the operator requires
(plus `promtool check rules` on PrometheusRule specs). A kind that is neither
built in nor listed fails.

Also enforced on every pod template: the restricted Pod Security Standard settings,
a read-only root filesystem with a writable /tmp, and probes on Deployments.
Grafana dashboard ConfigMaps must hold valid JSON.

usage: validate_manifests.py -k 1.34.0 [--validator PATH] FILE...
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_metrics import GRAFANA_VARS, _walk_panels, template_query_expr  # noqa: E402

# (apiVersion, kind) -> dotted paths that must be present
CRD_KINDS: dict[tuple[str, str], list[str]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ["spec.selector", "spec.endpoints"],
    ("monitoring.coreos.com/v1", "PrometheusRule"): ["spec.groups"],
    ("keda.sh/v1alpha1", "ScaledObject"): ["spec.scaleTargetRef.name", "spec.triggers"],
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): ["spec.replicas"],
    ("postgresql.cnpg.io/v1", "Cluster"): ["spec.instances", "spec.storage.size"],
    ("postgresql.cnpg.io/v1", "Database"): ["spec.name", "spec.owner", "spec.cluster.name"],
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): ["spec.schedule", "spec.cluster.name", "spec.method"],
}
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}


def dig(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def pod_spec(doc):
    kind = doc["kind"]
    if kind == "Pod":
        return doc.get("spec")
    if kind == "CronJob":
        return dig(doc, "spec.jobTemplate.spec.template.spec")
    return dig(doc, "spec.template.spec")


def check_pod_security(doc, name) -> list[str]:
    errs = []
    spec = pod_spec(doc) or {}
    psc = spec.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        errs.append(f"{name}: pod securityContext.runAsNonRoot must be true")
    if dig(psc, "seccompProfile.type") != "RuntimeDefault":
        errs.append(f"{name}: pod seccompProfile must be RuntimeDefault")
    tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        cn = f"{name}/{c['name']}"
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            errs.append(f"{cn}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            errs.append(f"{cn}: readOnlyRootFilesystem must be true")
        if "ALL" not in (dig(sc, "capabilities.drop") or []):
            errs.append(f"{cn}: capabilities.drop must contain ALL")
        if not any(m.get("mountPath") == "/tmp" and m.get("name") in tmp_volumes for m in c.get("volumeMounts", [])):
            errs.append(f"{cn}: needs a writable /tmp emptyDir")
        if doc["kind"] == "Deployment":
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    errs.append(f"{cn}: missing {probe}")
    return errs


def dashboard_exprs(dash: dict) -> list[tuple[str, str]]:
    """(where, PromQL with Grafana variables substituted) for every query of a dashboard."""
    out = []
    for p in _walk_panels(dash.get("panels")):
        for t in p.get("targets") or []:
            if t.get("expr"):
                out.append((f"panel '{p.get('title')}' {t.get('refId')}", t["expr"]))
    for var in (dash.get("templating") or {}).get("list", []):
        if var.get("type") == "query":
            expr = template_query_expr(var.get("query"))
            if expr:
                out.append((f"variable ${var['name']}", expr))
    return [(w, re.sub(r"\$\{?[A-Za-z_]\w*\}?", ".*", GRAFANA_VARS.sub("5m", e))) for w, e in out]


def promtool_check_exprs(promtool, name, exprs) -> list[str]:
    """Syntax-check PromQL with promtool by wrapping each expression in a recording rule."""
    rules = [{"record": f"dashboard:expr_{i}", "expr": e} for i, (_, e) in enumerate(exprs)]
    with tempfile.NamedTemporaryFile("w", suffix=".rules.yaml", delete=False) as tf:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, tf)
    r = subprocess.run([promtool, "check", "rules", tf.name], capture_output=True, text=True)
    os.unlink(tf.name)
    if r.returncode:
        return [f"{name}: invalid PromQL in dashboard ({[w for w, _ in exprs]}):\n{r.stdout}{r.stderr}"]
    print(f"OK   {name}: {len(exprs)} dashboard queries parse (promtool)")
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", "--kubernetes-version", required=True)
    ap.add_argument("--validator", default=os.path.join(os.path.dirname(sys.executable), "kubernetes-validate"))
    ap.add_argument("--promtool", default=shutil.which("promtool"))
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    errors: list[str] = []
    builtin: list[dict] = []
    seen: set[tuple] = set()
    counts = {"builtin": 0, "crd": 0}
    for path in args.files:
        with open(path) as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d]
        if not docs:
            errors.append(f"{path}: no manifests")
        for doc in docs:
            api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
            name = f"{path}: {kind}/{dig(doc, 'metadata.name')}"
            key = (path, kind, dig(doc, "metadata.namespace"), dig(doc, "metadata.name"))
            if key in seen:
                errors.append(f"{name}: duplicate name")
            seen.add(key)
            limit = 52 if kind == "CronJob" else 63
            if len(str(dig(doc, "metadata.name"))) > limit:
                errors.append(f"{name}: name longer than {limit} characters")
            if (api, kind) in CRD_KINDS:
                counts["crd"] += 1
                missing = [p for p in CRD_KINDS[(api, kind)] if dig(doc, p) in (None, [], {})]
                if not dig(doc, "metadata.name"):
                    missing.append("metadata.name")
                if missing:
                    errors.append(f"{name}: missing required field(s) {', '.join(missing)}")
                print(f"SKIP {name} ({api}): custom resource, kubernetes-validate has no schema for it; "
                      f"checked required fields {CRD_KINDS[(api, kind)]} only")
                if kind == "PrometheusRule":
                    if not args.promtool:
                        errors.append(f"{name}: promtool not found, cannot check rules")
                    else:
                        with tempfile.NamedTemporaryFile("w", suffix=".rules.yaml", delete=False) as tf:
                            yaml.safe_dump(doc["spec"], tf)
                        r = subprocess.run([args.promtool, "check", "rules", tf.name], capture_output=True, text=True)
                        os.unlink(tf.name)
                        if r.returncode:
                            errors.append(f"{name}: promtool check rules failed:\n{r.stdout}{r.stderr}")
                        else:
                            print(f"OK   {name}: promtool check rules")
                continue
            counts["builtin"] += 1
            builtin.append(doc)
            if kind in POD_KINDS:
                errors.extend(check_pod_security(doc, name))
            labels = dig(doc, "metadata.labels") or {}
            if kind == "ConfigMap" and "grafana_dashboard" in labels:
                for key, value in (doc.get("data") or {}).items():
                    try:
                        dash = json.loads(value)
                        assert dash.get("panels") is not None and dash.get("uid"), "no uid/panels"
                    except Exception as exc:  # noqa: BLE001
                        errors.append(f"{name}: {key} is not a valid dashboard: {exc}")
                        continue
                    exprs = dashboard_exprs(dash)
                    if exprs and args.promtool:
                        errors.extend(promtool_check_exprs(args.promtool, f"{name} {key}", exprs))
                    elif exprs:
                        errors.append(f"{name}: promtool not found, cannot check dashboard queries")

    if builtin:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as tf:
            yaml.safe_dump_all(builtin, tf)
        cmd = [args.validator, "--strict", "-k", args.kubernetes_version, "--quiet", tf.name]
        r = subprocess.run(cmd, capture_output=True, text=True)
        os.unlink(tf.name)
        out = (r.stdout + r.stderr).strip()
        bad = [ln for ln in out.splitlines() if ln.startswith(("WARN", "ERROR", "FATAL"))]
        if r.returncode or bad:
            errors.append(f"kubernetes-validate --strict -k {args.kubernetes_version} failed "
                          f"(rc={r.returncode}):\n{out}")
        else:
            print(
                f"OK   kubernetes-validate --strict -k {args.kubernetes_version}: "
                f"{len(builtin)} built-in resources valid"
            )

    for e in errors:
        print("ERROR", e, file=sys.stderr)
    print(
        f"{'FAILED' if errors else 'passed'}: {counts['builtin']} built-in, {counts['crd']} custom resources, "
        f"{len(errors)} error(s)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
