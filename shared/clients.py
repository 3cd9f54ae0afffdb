"""Outside systems' credentials: a registry of integration clients, kept as events.

An operator registers a client (``pingan clients register``) with the jurisdiction it
reports into and the longest its tokens may live; the issuer (``pingan clients token``)
mints tokens for it with role INTEGRATION and its client id; ``pingan clients revoke``
ends it. The registry is an append-only table of ``registered`` / ``revoked`` rows in the
``clients`` database (PINGAN_DATABASE_URL with ``{service}`` = clients), so that every
service can read who is revoked without holding the issuer's private key
(docs/integration.md, docs/security.md).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .context import CallerContext, Role, TokenIssuer
from .errors import Conflict, NotFound, ServiceUnavailable
from .jurisdiction import JurisdictionCode
from .validation import Identifier, parse

REGISTRY_DATABASE = "clients"  # the `{service}` of PINGAN_DATABASE_URL the registry lives in
REGISTERED = "registered"
REVOKED = "revoked"

metadata = MetaData()
client_log = Table(
    "integration_client_events", metadata,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(200)),
    Column("jurisdiction", String(15)),
    Column("max_minutes", Integer),
    Column("actor_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


class NewClient(BaseModel):
    """What registering a client takes (validated like any command)."""

    model_config = ConfigDict(extra="forbid")

    client_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    jurisdiction: JurisdictionCode
    max_minutes: int = Field(default=60, ge=1, le=24 * 60)


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    jurisdiction: str
    max_minutes: int
    registered_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict:
        return {"client_id": self.client_id, "name": self.name, "jurisdiction": self.jurisdiction,
                "max_minutes": self.max_minutes, "registered_at": self.registered_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


class ClientRegistry:
    """Registers, lists and revokes clients; state is the fold of the stored rows."""

    def __init__(self, engine: Engine, create: bool = True):
        self.engine = engine
        if create:
            metadata.create_all(engine)

    @classmethod
    def at(cls, url: str, create: bool = True) -> ClientRegistry:
        return cls(create_engine(url), create)

    def clients(self) -> dict[str, Client]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(client_log).order_by(client_log.c.position)).mappings().all()
        found: dict[str, Client] = {}
        for row in rows:
            if row["kind"] == REGISTERED:
                found[row["client_id"]] = Client(row["client_id"], row["name"], row["jurisdiction"],
                                                 row["max_minutes"], row["at"])
            elif row["kind"] == REVOKED and row["client_id"] in found:
                client = found[row["client_id"]]
                found[row["client_id"]] = Client(client.client_id, client.name, client.jurisdiction,
                                                 client.max_minutes, client.registered_at, row["at"])
        return found

    def get(self, client_id: str) -> Client:
        client = self.clients().get(client_id)
        if client is None:
            raise NotFound(f"no integration client {client_id!r}")
        return client

    def register(self, actor_id: str, **fields: object) -> Client:
        new = parse(NewClient, fields)
        with self.engine.begin() as conn:
            taken = conn.execute(select(client_log.c.position).where(client_log.c.client_id == new.client_id)).first()
            if taken is not None:
                # Ids are never reused, not even after a revocation: old tokens must stay dead.
                raise Conflict(f"the client id {new.client_id!r} is already taken")
            conn.execute(insert(client_log).values(client_id=new.client_id, kind=REGISTERED, name=new.name,
                                                   jurisdiction=new.jurisdiction, max_minutes=new.max_minutes,
                                                   actor_id=actor_id, at=_now()))
        return self.get(new.client_id)

    def revoke(self, actor_id: str, client_id: str) -> Client:
        if not self.get(client_id).active:
            raise Conflict(f"the client {client_id!r} is already revoked")
        with self.engine.begin() as conn:
            conn.execute(insert(client_log).values(client_id=client_id, kind=REVOKED, actor_id=actor_id, at=_now()))
        return self.get(client_id)

    def issue(self, issuer: TokenIssuer, client_id: str, minutes: int | None = None) -> str:
        """A token for an active client: role INTEGRATION, its jurisdiction, at most its own and the role's cap."""
        client = self.get(client_id)
        if not client.active:
            raise Conflict(f"the client {client_id!r} is revoked")
        ttl = timedelta(minutes=min(minutes or client.max_minutes, client.max_minutes))
        caller = CallerContext(actor_id=client.client_id, role=Role.INTEGRATION, jurisdiction=client.jurisdiction,
                               client_id=client.client_id)
        return issuer.issue(caller, ttl=min(ttl, issuer.limits.cap(Role.INTEGRATION)))


class ClientStatus:
    """The services' side: which clients are active, read from the registry and kept for
    ``ttl`` seconds, so a revocation holds everywhere within ``ttl``. No issuer key needed."""

    def __init__(self, url: str, ttl: float = 5.0):
        self.url = url
        self.ttl = ttl
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._active: frozenset[str] = frozenset()
        self._read_at: float | None = None

    def active(self, client_id: str) -> bool:
        with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at >= self.ttl:
                self._active = self._read()
                self._read_at = time.monotonic()
            return client_id in self._active

    def _read(self) -> frozenset[str]:
        try:
            if self._engine is None:
                self._engine = create_engine(self.url)
            # Read only: the services' database role may only SELECT the registry (migrate_registry).
            registry = ClientRegistry(self._engine, create=False)
            return frozenset(cid for cid, c in registry.clients().items() if c.active)
        except SQLAlchemyError:
            # Fail closed, and retryable: no integration call is let through unchecked.
            raise ServiceUnavailable("the integration client registry is out of reach; retry later") from None


def migrate_registry(url: str, runtime_role: str | None = None) -> None:
    """Create the registry's table (as the database owner); with ``runtime_role`` (PostgreSQL),
    make its rows append-only and let that role read them and nothing more: services only read
    who is revoked, the operator's CLI alone writes (docs/security.md)."""
    from sqlalchemy import text

    from .security.db_roles import append_only_sql, read_only_grants_sql

    engine = create_engine(url)
    try:
        metadata.create_all(engine)
        if runtime_role:
            with engine.begin() as conn:
                for statement in [*append_only_sql(client_log.name),
                                  *read_only_grants_sql(client_log.name, runtime_role)]:
                    conn.execute(text(statement))
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)
