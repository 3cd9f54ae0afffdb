#!/usr/bin/env python3
"""Render the documented install lines exactly as written and check they can work.

  python deploy/check_install_lines.py README.md docs/deploy.md   (helm, kubectl on PATH)

In each file the first ```sh block holding a `helm install` is the install. Its lines are
rendered, not applied: `kubectl apply -k DIR` as `kubectl kustomize DIR`, `kubectl create
secret generic` as the Secret it makes, `helm install` as `helm template` with the same
arguments. Then, on the rendered objects:

  - every Secret key a pod of the chart reads exists (from the overlay or the lines);
  - the migrate hook logs in as the owner of the service's database (the CloudNativePG
    Cluster/Database owner): as anyone else it fails with "permission denied for schema public";
  - the migrate hook gets database credentials only (no broker, token or personal-data key);
  - with `--runtime-role R`, the services' database URL logs in as R;
  - each service finds the integration client registry: its URL with {service} = clients
    names a database a CloudNativePG Database creates.

Exit 1 with the list of problems.
"""
from __future__ import annotations

import base64
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from check_rendering import report  # deploy/ is the script's directory, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
POD_KINDS = {"Deployment": ("spec", "template", "spec"), "Job": ("spec", "template", "spec"),
             "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"), "Pod": ("spec",)}
DATABASE_ONLY = {"PINGAN_DATABASE_URL"}


def install_lines(doc: Path) -> list[list[str]]:
    for block in BLOCK.findall(doc.read_text()):
        if "helm install" in block:
            return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]
    raise SystemExit(f"{doc}: no ```sh block with `helm install`")


def run(args: list[str]) -> list[dict]:
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"`{' '.join(args)}` failed:\n{out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            return args[i + 1]
    return None


def render(lines: list[list[str]]) -> tuple[list[dict], dict[tuple[str, str], dict[str, str]], str | None]:
    """(chart objects, {(namespace, secret): {key: value}}, overlay and line objects' namespace)."""
    objects, secrets, chart = [], {}, []
    for words in lines:
        if words[:3] == ["kubectl", "apply", "-k"]:
            objects += run(["kubectl", "kustomize", words[3]])
        elif words[0] == "kubectl" and words[3:6] == ["create", "secret", "generic"]:
            literals = dict(w.split("=", 2)[1:] for w in words if w.startswith("--from-literal="))
            secrets[(option(words, "-n", "--namespace"), words[6])] = literals
        elif words[:2] == ["helm", "install"]:
            chart = run(["helm", "template", *[w for w in words[2:] if w != "--wait"]])
            namespace = option(words, "-n", "--namespace")
        else:
            raise SystemExit(f"install line not understood: {shlex.join(words)}")
    for o in objects:
        if o["kind"] == "Secret":
            data = {k: base64.b64decode(v).decode() for k, v in (o.get("data") or {}).items()}
            data.update(o.get("stringData") or {})
            secrets[(o["metadata"].get("namespace"), o["metadata"]["name"])] = data
    return chart + objects, secrets, namespace


def pod_spec(obj: dict) -> dict | None:
    spec = obj
    for key in POD_KINDS.get(obj["kind"], ()):
        spec = (spec or {}).get(key)
    return spec if obj["kind"] in POD_KINDS else None


def secret_refs(spec: dict) -> list[tuple[str, str, str]]:
    """(env name, secret, key) of every container's secretKeyRef."""
    return [(e["name"], e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
            for c in spec.get("containers", []) + spec.get("initContainers", [])
            for e in c.get("env") or [] if "secretKeyRef" in (e.get("valueFrom") or {})]


def database_owners(objects: list[dict]) -> dict[str, str]:
    owners = {}
    for o in objects:
        if o["kind"] == "Cluster" and o["apiVersion"].startswith("postgresql.cnpg.io"):
            initdb = o["spec"].get("bootstrap", {}).get("initdb", {})
            owners[initdb.get("database", "app")] = initdb.get("owner", initdb.get("database", "app"))
        elif o["kind"] == "Database" and o["apiVersion"].startswith("postgresql.cnpg.io"):
            owners[o["spec"]["name"]] = o["spec"]["owner"]
    return owners


def registry_reachable(where: str, refs, secrets, namespace: str, owners: dict[str, str]) -> list[str]:
    """A service finds the integration client registry as its URL's {service} = clients."""
    for env, name, key in refs:
        url = secrets.get((namespace, name), {}).get(key)
        if env == "PINGAN_DATABASE_URL" and url:
            database = urlsplit(url.replace("{service}", "clients")).path.lstrip("/")
            if database not in owners:
                return [f"{where}: reads the client registry from {database}, which no CloudNativePG Database creates"]
    return []


def check(doc: Path) -> list[str]:
    objects, secrets, namespace = render(install_lines(doc))
    owners = database_owners(objects)
    problems = []
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        where = f"{doc}: {obj['kind']} {obj['metadata']['name']}"
        refs = secret_refs(spec)
        for env, name, key in refs:
            if key not in secrets.get((namespace, name), {}):
                problems.append(
                    f"{where}: env {env} reads Secret {name} key {key}, which the install lines do not create"
                )
        hook = (obj["metadata"].get("annotations") or {}).get("helm.sh/hook", "")
        args = spec["containers"][0].get("args") or []
        if args[:1] == ["serve"]:
            problems += registry_reachable(where, refs, secrets, namespace, owners)
        if "pre-install" not in hook or args[:1] != ["migrate"]:
            continue
        extra = sorted({env for env, _, _ in refs} - DATABASE_ONLY)
        if extra:
            problems.append(f"{where}: the migrate hook gets {extra}; it needs database credentials only")
        service = args[1]
        for env, name, key in refs:
            if env != "PINGAN_DATABASE_URL" or key not in secrets.get((namespace, name), {}):
                continue
            url = urlsplit(secrets[(namespace, name)][key].replace("{service}", service))
            database, user = url.path.lstrip("/"), url.username
            owner = owners.get(database)
            if owner is None:
                problems.append(f"{where}: no CloudNativePG Cluster/Database creates database {database}")
            elif user != owner:
                problems.append(
                    f"{where}: migrates as {user}, but {database} is owned by {owner} "
                    f"(permission denied for schema public)"
                )
        role = option(args, "--runtime-role")
        for deployment in objects:
            if deployment["kind"] != "Deployment" or (pod_spec(deployment)["containers"][0].get("args") or [])[1:2] != [
                service
            ]:
                continue
            for env, name, key in secret_refs(pod_spec(deployment)):
                url = secrets.get((namespace, name), {}).get(key)
                if env == "PINGAN_DATABASE_URL" and url and role and urlsplit(url).username != role:
                    problems.append(
                        f"{where}: event rows are made append-only for {role}, but the service "
                        f"logs in as {urlsplit(url).username}"
                    )
    return problems


def main(argv: list[str]) -> int:
    problems = [p for doc in argv for p in check(Path(doc))]
    return report(
        problems, f"install lines of {', '.join(argv)}: rendered, every Secret present, migrate hook as the owner"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
