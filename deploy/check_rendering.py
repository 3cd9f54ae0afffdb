#!/usr/bin/env python3
"""Checks on the rendered manifests (`make deploy-template deploy-kustomize` output) that
schema validation cannot make: what the platform needs to reach, and what each pod gets.

  python deploy/check_rendering.py build/deploy

  kustomize-*.yaml  the broker admits KEDA's operator (its RabbitMQ scaler reads the queue
                    depth over AMQP) and pingan pods on 5672, and nothing else from elsewhere;
                    the RabbitMQ image answers the operator's startup probe (4.2.4 or later,
                    or the legacy-probe annotation);
  kustomize-production.yaml  quorum queues by default on 3 nodes; a scheduled backup of the
                    PostgreSQL cluster, by a method its spec.backup configures;
  chart-*.yaml      every service pod rolls when its Secrets change (checksum/secrets), and
                    the migrate hooks get database credentials only and run before
                    upgrades and rollbacks; the integration client registry is migrated
                    with the services' owner Secret and every service has a database URL.

A small evaluator of NetworkPolicy ingress (matchLabels/matchExpressions, namespaceSelector,
ports); ipBlock peers are never matched. Exit 1 with the list of problems.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

BROKER_POD = {"app.kubernetes.io/name": "pingan-rabbitmq", "app.kubernetes.io/component": "rabbitmq"}
KEDA_OPERATOR = ({"app": "keda-operator", "app.kubernetes.io/name": "keda-operator"}, "keda")
PINGAN_POD = (
    {"app.kubernetes.io/part-of": "pingan", "pingan.io/service": "grid_events"},
    None,
)  # None: the overlay's namespace
STRANGER = ({"app.kubernetes.io/name": "curl"}, "default")
AMQP_PORT = 5672
HTTP_STARTUP_PROBE_SINCE = (4, 2, 4)  # cluster-operator >= 2.22 probes an endpoint RabbitMQ has from 4.2.4
LEGACY_PROBE = "rabbitmq.com/legacy-startup-probe"


def selects(selector: dict | None, labels: dict) -> bool:
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        value, present = labels.get(e["key"]), e["key"] in labels
        ok = {
            "In": present and value in e.get("values", []),
            "NotIn": not present or value not in e.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[e["operator"]]
        if not ok:
            return False
    return True


def peer_admits(peer: dict, labels: dict, namespace: str, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        in_namespace = selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace})
    else:
        in_namespace = namespace == policy_namespace
    return in_namespace and selects(peer.get("podSelector"), labels)


def admitted(
    policies: list[dict], target: dict, target_namespace: str, source: dict, source_namespace: str, port: int
) -> bool:
    """May a pod (source labels, namespace) open TCP `port` on the target pod?"""
    applying = [
        p
        for p in policies
        if p["metadata"].get("namespace") == target_namespace
        and selects(p["spec"].get("podSelector"), target)
        and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
    ]
    if not applying:
        return True
    for policy in applying:
        for rule in policy["spec"].get("ingress") or []:
            peers_ok = "from" not in rule or any(
                peer_admits(peer, source, source_namespace, target_namespace) for peer in rule["from"]
            )
            ports_ok = "ports" not in rule or any(
                p.get("protocol", "TCP") == "TCP" and p.get("port") in (None, port) for p in rule["ports"]
            )
            if peers_ok and ports_ok:
                return True
    return False


def check_overlay(path: Path) -> list[str]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    namespace = next(d["metadata"]["name"] for d in docs if d["kind"] == "Namespace")
    problems = []
    for name, (labels, ns), want in [
        ("KEDA's operator", KEDA_OPERATOR, True),
        ("a pingan pod", PINGAN_POD, True),
        ("a pod of another namespace", STRANGER, False),
    ]:
        got = admitted(policies, BROKER_POD, namespace, labels, ns or namespace, AMQP_PORT)
        if got != want:
            problems.append(f"{path.name}: {name} {'cannot' if want else 'can'} reach the broker on {AMQP_PORT}")
    for broker in (d for d in docs if d["kind"] == "RabbitmqCluster"):
        tag = broker["spec"].get("image", "").rpartition(":")[2]
        version = tuple(int(x) for x in re.findall(r"\d+", tag.split("-")[0])[:3])
        legacy = LEGACY_PROBE in (broker["metadata"].get("annotations") or {})
        if version < HTTP_STARTUP_PROBE_SINCE and not legacy:
            problems.append(
                f"{path.name}: RabbitmqCluster image {broker['spec'].get('image')} predates 4.2.4: "
                f"the operator's startup probe never succeeds (set {LEGACY_PROBE} or a newer image)"
            )
        if path.name == "kustomize-production.yaml":
            config = broker["spec"].get("rabbitmq", {}).get("additionalConfig", "")
            if "default_queue_type = quorum" not in config or broker["spec"]["replicas"] < 3:
                problems.append(f"{path.name}: the services' durable queues are not quorum queues on 3 nodes")
    if path.name == "kustomize-production.yaml":
        clusters = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Cluster"}
        backups = [d for d in docs if d["kind"] == "ScheduledBackup"]
        if not backups:
            problems.append(f"{path.name}: no ScheduledBackup of the event stores")
        for b in backups:
            method = b["spec"].get("method", "barmanObjectStore")
            configured = (clusters.get(b["spec"]["cluster"]["name"]) or {}).get("spec", {}).get("backup", {})
            if method not in configured:
                problems.append(
                    f"{path.name}: ScheduledBackup {b['metadata']['name']} uses {method}, "
                    f"which Cluster {b['spec']['cluster']['name']} spec.backup does not configure"
                )
    return problems


def database_secret(container: dict) -> tuple[str, str] | None:
    for e in container.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if e["name"] == "PINGAN_DATABASE_URL" and ref:
            return ref["name"], ref["key"]
    return None


def check_clients_registry(path: Path, docs: list[dict]) -> list[str]:
    """The integration client registry is migrated beside the services (`pingan migrate clients`,
    same owner Secret), and every service pod has the database URL it finds the registry through."""
    jobs = {tuple(c.get("args") or [])[:2]: database_secret(c)
            for d in docs if d["kind"] == "Job" for c in d["spec"]["template"]["spec"]["containers"]}
    services = [d for d in docs if d["kind"] == "Deployment"
                and (d["spec"]["template"]["spec"]["containers"][0].get("args") or [])[:1] == ["serve"]]
    migrated = {args[1]: secret for args, secret in jobs.items() if args[:1] == ("migrate",) and len(args) == 2}
    problems = []
    if migrated and "clients" not in migrated:
        problems.append(f"{path.name}: services are migrated but the client registry is not (migrate clients)")
    elif migrated and len(set(migrated.values())) != 1:
        problems.append(f"{path.name}: the client registry is migrated with another Secret than the services")
    for d in services:
        if database_secret(d["spec"]["template"]["spec"]["containers"][0]) is None:
            problems.append(f"{path.name}: Deployment {d['metadata']['name']} has no PINGAN_DATABASE_URL "
                            "(it could not read the client registry)")
    return problems


def check_chart(path: Path) -> list[str]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    problems = check_clients_registry(path, docs)
    for d in docs:
        name = f"{path.name}: {d['kind']} {d['metadata']['name']}"
        if d["kind"] == "Deployment":
            annotations = d["spec"]["template"]["metadata"].get("annotations") or {}
            if "checksum/secrets" not in annotations:
                problems.append(f"{name}: no checksum/secrets annotation (pods would keep old Secrets)")
        hook = (d["metadata"].get("annotations") or {}).get("helm.sh/hook", "")
        if d["kind"] == "Job" and "pre-install" in hook:
            env = {
                e["name"]
                for c in d["spec"]["template"]["spec"]["containers"]
                for e in c.get("env") or []
                if "secretKeyRef" in (e.get("valueFrom") or {})
            }
            if env != {"PINGAN_DATABASE_URL"}:
                problems.append(f"{name}: hook gets Secrets {sorted(env)}; it needs PINGAN_DATABASE_URL only")
            if not {"pre-upgrade", "pre-rollback"} <= set(hook.split(",")):
                problems.append(f"{name}: migrate must run before upgrades and rollbacks (hook: {hook})")
    return problems


def main(out: str) -> int:
    directory = Path(out)
    overlays, charts = sorted(directory.glob("kustomize-*.yaml")), sorted(directory.glob("chart-*.yaml"))
    if not overlays or not charts:
        print(f"nothing rendered in {directory}: run make deploy-template deploy-kustomize", file=sys.stderr)
        return 1
    problems = [p for f in overlays for p in check_overlay(f)] + [p for f in charts for p in check_chart(f)]
    return report(problems, f"rendering checks: {len(overlays)} overlays, {len(charts)} chart renderings OK")


def report(problems: list[str], success: str) -> int:
    """Print the problems (or the success line); the exit status."""
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    if not problems:
        print(success)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/deploy"))
