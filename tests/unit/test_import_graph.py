"""The import graph of services/ keeps the rooms apart (docs/architecture.md, "The five rooms" and
"The contract split"):

- a service imports from another service only that service's public contract;
- a public contract imports nothing from its own service's other rooms (so importing it
  never drags a domain along);
- a domain imports no transport, storage or vault: not nameko, SQLAlchemy or kombu, not
  the vault's provider or key store, and not its own service's outer rooms.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"

# Outer rooms of a service: a contract or a domain must not import these of its own service.
OUTER_ROOMS = ("application", "service", "projections", "publishing")
# A domain checks sealed values with shared.security.sealing (the format) and never reaches the
# vault (shared.security.personal_data: keys, the database).
FORBIDDEN_IN_DOMAIN = ("nameko", "sqlalchemy", "kombu", "shared.security.providers", "shared.dependencies",
                       "shared.entrypoints", "shared.relay", "shared.projections", "shared.security.personal_data")


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name
    names: tuple[str, ...]  # names imported from it ("from m import a, b"); () for "import m"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> list[Import]:
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.append(Import(base, tuple(alias.name for alias in node.names)))
    return found


def targets(imp: Import) -> list[str]:
    """The modules an import may bind: ``from services.b import contracts`` names services.b.contracts."""
    if not imp.names:
        return [imp.module]
    return [imp.module] + [f"{imp.module}.{name}" for name in imp.names]


def room_of(module: str) -> tuple[str, str] | None:
    """(service, room) for a module under services/, e.g. ('mediation', 'contracts')."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "services":
        return None
    return parts[1], parts[2] if len(parts) > 2 else ""


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(module: str, found: list[Import]) -> list[str]:
    place = room_of(module)
    if place is None:
        return []
    service, room = place
    problems: list[str] = []
    for imp in found:
        target = room_of(imp.module)
        if target is not None and target[0] != service:
            other = target[0]
            public = f"services.{other}.contracts"
            bound = [t for t in targets(imp) if t != f"services.{other}"] or [imp.module]
            if not all(within(t, public) for t in bound):
                problems.append(f"{module} imports {imp.module} {list(imp.names)}: only {public} is public")
        if room in ("contracts", "domain"):
            for outer in OUTER_ROOMS + (("domain",) if room == "contracts" else ()):
                own = f"services.{service}.{outer}"
                if any(within(t, own) for t in targets(imp)):
                    problems.append(f"{module} ({room}) imports its service's {outer}: {imp.module}")
        if room == "domain":
            for forbidden in FORBIDDEN_IN_DOMAIN:
                if within(imp.module, forbidden):
                    problems.append(f"{module} (domain) imports {imp.module}")
    return problems


def service_modules() -> list[Path]:
    return sorted(SERVICES.rglob("*.py"))


@pytest.mark.parametrize("path", service_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_service_module_imports_only_what_its_room_allows(path):
    module = module_name(path)
    found = imports_of(path.read_text(), module, path.name == "__init__.py")
    assert violations(module, found) == []


def test_every_service_with_a_domain_is_checked():
    rooms = [room_of(module_name(p)) for p in service_modules()]
    assert {place[0] for place in rooms if place and place[1] == "domain"} >= {
        "grid_events", "mediation", "key_populations", "juvenile_protection", "emergency_command"}


# The checker itself, on imports that break each rule: a check that cannot fail checks nothing.

@pytest.mark.parametrize(("module", "source"), [
    ("services.mediation.application", "from services.grid_events.domain import Source"),
    ("services.mediation.service", "from services.grid_events import projections"),
    ("services.mediation.application", "import services.grid_events.application"),
    ("services.grid_events.contracts.reports", "from ..domain import EventReport"),
    ("services.mediation.contracts", "from .domain import Tier"),
    ("services.mediation.domain", "from nameko.rpc import rpc"),
    ("services.grid_events.domain.reports", "from sqlalchemy import select"),
    ("services.key_populations.domain.common", "from shared.security.providers import PersonalDataVault"),
    ("services.key_populations.domain.common", "from shared.security.personal_data import PersonalData"),
    ("services.mediation.domain", "from .application import MediationApplication"),
    ("services.mediation.domain", "from shared.security.personal_data import is_sealed"),
])
def test_import_graph_check_refuses_a_forbidden_import(module, source):
    assert violations(module, imports_of(source, module, is_package=False)) != []


@pytest.mark.parametrize(("module", "source"), [
    ("services.mediation.application", "from services.grid_events.contracts import EventReported, Source"),
    ("services.grid_events.service", "from services.mediation import contracts as mediation"),
    ("services.grid_events.domain.reports", "from ..contracts.reports import Category"),
    ("services.mediation.domain", "from shared.security.sealing import require_sealed"),
])
def test_import_graph_check_allows_a_public_contract_import(module, source):
    assert violations(module, imports_of(source, module, is_package=False)) == []


@pytest.mark.parametrize("contract", ["services.grid_events.contracts", "services.mediation.contracts",
                                      "services.emergency_command.contracts"])
def test_importing_a_public_contract_loads_no_domain(contract):
    # In a fresh interpreter, so modules this test run already loaded do not hide a dependency.
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {contract}; print(sorted(m for m in sys.modules "
                               "if m.startswith('services.') and not m.startswith('" + contract + "')))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    assert "domain" not in loaded, loaded


def test_services_share_one_list_of_erasure_reasons():
    from services.grid_events import contracts as grid_events
    from services.mediation import contracts as mediation
    from shared.erasure import ErasureReason

    assert grid_events.ErasureReason is mediation.ErasureReason is ErasureReason
