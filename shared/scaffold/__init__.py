"""``pingan new-service <name>``: a new service that passes ``make test`` untouched
(docs/adding-a-service.md).

It writes the five rooms (plus ``publishing.py``) under ``services/<name>/``, the
service page ``docs/services/<name>.md``, its unit tests and contract-suite scenario
(``tests/unit/test_<name>_service.py``, ``tests/scenarios/<name>.py``), its entry in
the chart's ``services`` map, its database (k8s/base/postgres.yaml) and its dev
event-signing key pair (k8s/overlays/dev). The registry, the embedded run and the CLI find it by
its ``service.py`` alone.
"""

from __future__ import annotations

import base64
import json
import keyword
import re
from pathlib import Path
from string import Template

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from shared.errors import ValidationFailed
from shared.security.keys import public_text

TEMPLATES = Path(__file__).parent / "templates"
NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

# Template → where it goes, relative to the repository root.
FILES = {
    "init.py.tmpl": "services/{name}/__init__.py",
    "domain.py.tmpl": "services/{name}/domain.py",
    "application.py.tmpl": "services/{name}/application.py",
    "contracts.py.tmpl": "services/{name}/contracts.py",
    "publishing.py.tmpl": "services/{name}/publishing.py",
    "projections.py.tmpl": "services/{name}/projections.py",
    "service.py.tmpl": "services/{name}/service.py",
    "doc.md.tmpl": "docs/services/{name}.md",
    "test_service.py.tmpl": "tests/unit/test_{name}_service.py",
    "scenario.py.tmpl": "tests/scenarios/{name}.py",
}
VALUES = "charts/pingan/values.yaml"
DEV_OVERLAY = "k8s/overlays/dev/kustomization.yaml"
POSTGRES = "k8s/base/postgres.yaml"
DATABASE = """---
apiVersion: postgresql.cnpg.io/v1
kind: Database
metadata:
  name: pingan-{dashed}
  labels:
    app.kubernetes.io/part-of: pingan
spec:
  name: pingan_{name}
  owner: pingan
  cluster:
    name: pingan-pg
"""
PUBLIC_KEYS = re.compile(r"^(      - 'keys=)(\{.*\})(')$", re.M)


def check_name(root: Path, name: str) -> None:
    if not NAME.fullmatch(name) or keyword.iskeyword(name) or len(name) > 40:
        raise ValidationFailed("a service name is lower_snake_case letters and digits, at most 40 characters",
                               {"field": "name"})
    if (root / "services" / name).exists():
        raise ValidationFailed(f"services/{name} exists already", {"field": "name"})


def chart_entry(values: str, name: str) -> str:
    """``values`` with ``name`` added at the end of the top-level ``services:`` map."""
    lines = values.splitlines(keepends=True)
    start = lines.index("services:\n")
    end = start + 1
    while end < len(lines) and (lines[end].startswith(" ") or lines[end].startswith("#") and
                                lines[end + 1:end + 2] and lines[end + 1].startswith(" ")):
        end += 1
    entry = [f"  {name}:\n", "    monitoring:\n", "      ruleFiles: []\n", "      regulationPanels: []\n"]
    return "".join(lines[:end] + entry + lines[end:])


def dev_signing_key(overlay: str, name: str) -> str:
    """``overlay`` (the dev kustomization) with a fresh event-signing pair for ``name``: its public
    key in ``pingan-event-public-keys``, its private key as ``pingan-event-key-<name>`` (dev only)."""
    key = Ed25519PrivateKey.generate()
    private = base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()
    found = PUBLIC_KEYS.search(overlay, overlay.index("  - name: pingan-event-public-keys\n"))
    if found is None:
        raise ValidationFailed(f"{DEV_OVERLAY} has no 'keys=' line under pingan-event-public-keys")
    keys = json.dumps({**json.loads(found.group(2)), name: public_text(key)})
    overlay = overlay[:found.start(2)] + keys + overlay[found.end(2):]
    after = found.end() + len(keys) - len(found.group(2)) + 1  # the line after the public keys
    entry = f"  - name: pingan-event-key-{name.replace('_', '-')}\n    literals:\n      - key={private}\n"
    return overlay[:after] + entry + overlay[after:]


def new_service(root: Path, name: str) -> list[Path]:
    """Write the service ``name`` into the repository at ``root``; returns the files written."""
    check_name(root, name)
    fields = {"name": name, "Class": "".join(part.capitalize() for part in name.split("_"))}
    written = []
    for template, target in FILES.items():
        path = root / target.format(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template((TEMPLATES / template).read_text()).substitute(fields))
        written.append(path)
    values = root / VALUES
    values.write_text(chart_entry(values.read_text(), name))
    overlay = root / DEV_OVERLAY
    overlay.write_text(dev_signing_key(overlay.read_text(), name))
    postgres = root / POSTGRES  # its own database, owned by the role the migrate hook logs in as
    database = DATABASE.format(name=name, dashed=name.replace("_", "-"))
    postgres.write_text(postgres.read_text().rstrip("\n") + "\n" + database)
    return [*written, values, overlay, postgres]
