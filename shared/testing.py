"""The test kit: a service's parts in memory, for unit tests (docs/architecture.md, "Test kit").

    app = memory_app(GridEventsApplication)
    vault = CountingVault.in_memory()
    service = service_worker(GridEventsService, app, views.projections(), vault)
    service(caller).get_risk(risk_id=..., purpose="case_handling")   # through the real entrypoint
    assert vault.opened == 0                                          # e.g. after a denied read

Integration and e2e tests use the real broker and database instead (tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from unittest.mock import Mock
from uuid import uuid4

from nameko.testing.services import worker_factory
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from shared.context import CallerContext, Role
from shared.eventstore import Call, PinganApplication
from shared.jurisdiction import PREFECTURE
from shared.projections import Projection, ProjectionRunner, create_view_tables
from shared.security.personal_data import PersonalData
from shared.security.sealing import is_sealed


def memory_engine() -> Engine:
    """One in-memory SQLite database shared by every connection of the test."""
    return create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})


def memory_app(application_class: type[PinganApplication]) -> Any:
    """The service's application on eventsourcing's in-memory store."""
    return application_class(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def call_as(caller: CallerContext | None = None, *, role: Role = Role.ADMIN, jurisdiction: str = PREFECTURE,
            actor_id: str = "admin-1", method: str = "") -> Call:
    """A verified call, as an entrypoint hands it to the application."""
    caller = caller or CallerContext(actor_id=actor_id, role=role, jurisdiction=jurisdiction)
    return Call(caller, call_id=f"call-{uuid4().hex[:8]}", method=method)


class CountingVault(PersonalData):
    """The real vault on in-memory SQLite, counting the sealed values it opens: a denied read opens none."""

    def __init__(self, engine: Engine, master_key: bytes):
        super().__init__(engine, master_key)
        self.opened = 0

    @classmethod
    def in_memory(cls) -> CountingVault:
        vault = cls(memory_engine(), os.urandom(32))
        vault.create_tables()
        return vault

    def _open(self, value: str | None, keys: dict[str, bytes | None] | None) -> str | None:
        # Every way of opening (one value, a record, a page) passes here.
        if is_sealed(value):
            self.opened += 1
        return super()._open(value, keys)


def memory_vault() -> CountingVault:
    return CountingVault.in_memory()


class MemoryStore:
    """What a worker sees of ``shared.dependencies.Store``: the application and caught-up read models."""

    def __init__(self, app: PinganApplication, projections: Sequence[Projection] = ()):
        self.app = app
        self.engine = memory_engine()
        create_view_tables(self.engine, projections)
        self.runners = [ProjectionRunner(app, self.engine, projection) for projection in projections]

    def catch_up(self) -> None:
        for runner in self.runners:
            runner.catch_up()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        self.catch_up()
        with self.engine.connect() as conn:
            yield conn


def service_worker(service_class: type, app: PinganApplication, projections: Sequence[Projection] = (),
                   vault: PersonalData | None = None, **dependencies: Any) -> Callable[[CallerContext], Any]:
    """The service's entrypoints in process over ``app`` (nameko's worker_factory): ``worker(caller)``
    returns the service instance whose calls are verified as ``caller``."""
    identity = Mock()
    worker = worker_factory(service_class, store=MemoryStore(app, projections), vault=vault or memory_vault(),
                            caller=identity, **dependencies)

    def as_(caller: CallerContext) -> Any:
        identity.verify.return_value = call_as(caller)
        return worker

    return as_
