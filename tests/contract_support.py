"""The contract every registered service meets, and the hook it declares to be checked
(docs/adding-a-service.md, "The contract suite").

Each service ``<name>`` has ``tests/scenarios/<name>.py`` with ``SCENARIO = Scenario(...)``:
a writer and the steps that store a record carrying a canary in every free-text field,
read it as a permitted reader, and try a command the service must refuse. The suite
(tests/unit/test_service_contract.py) runs them through the service's own entrypoints on
the in-memory kit (shared/testing.py) and checks what no service may do with personal data.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.context import CallerContext
from shared.dependencies import Store
from shared.registry import service_class
from shared.security.personal_data import PersonalData
from shared.testing import memory_app

Worker = Callable[[CallerContext], Any]  # shared.testing.service_worker: worker(caller).method(**payload)


def _fresh_app(store: Store) -> Callable[[PersonalData], Any]:
    return lambda vault: memory_app(store.application_class)


@dataclass(frozen=True)
class Scenario:
    """``write(worker, canary)`` stores a record whose every free-text field holds ``canary`` and returns
    its id; ``read(worker, record_id)`` reads it as a permitted reader (a personal-data read, audited);
    ``refuse(worker, record_id)`` issues a command the service refuses with a typed error.
    ``app(vault)`` makes the application (seeded with reference data if the service needs any);
    ``dependencies``: extra worker dependencies (e.g. ``now``)."""

    write: Callable[[Worker, str], str]
    read: Callable[[Worker, str], Any]
    refuse: Callable[[Worker, str], Any]
    app: Callable[[PersonalData], Any] | None = None
    dependencies: dict[str, Any] = field(default_factory=dict)


def store_of(service: str) -> Store:
    return next(v for v in vars(service_class(service)).values() if isinstance(v, Store))


def scenario_of(service: str) -> Scenario:
    try:
        module = importlib.import_module(f"tests.scenarios.{service}")
    except ModuleNotFoundError as missing:
        raise LookupError(f"{service} declares no tests/scenarios/{service}.py (docs/adding-a-service.md)") from missing
    return module.SCENARIO


def app_for(service: str, vault: PersonalData) -> Any:
    scenario = scenario_of(service)
    return (scenario.app or _fresh_app(store_of(service)))(vault)
