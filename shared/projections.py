"""Read models: SQLAlchemy tables fed from a service's notification log.

Each projection keeps its own position in ``positions``, advanced in the same
transaction as the rows it writes, so a crash replays nothing twice and a
rebuild (clear, reset, catch up) gives the same tables.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date, datetime, timezone
from typing import Any, Callable, ClassVar, Iterable

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateIndex, CreateTable

# Positions of projections and of the relay: one row each, in the service's read-model database.
kernel_metadata = MetaData()
positions = Table(
    "pingan_positions",
    kernel_metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)


def handles(event_class: type) -> Callable:
    """Mark a projection method as the one that applies ``event_class``."""

    def mark(method: Callable) -> Callable:
        method.handles = event_class  # type: ignore[attr-defined]
        return method

    return mark


class Projection:
    """A read model. Subclasses name it, list the tables it owns, and mark one
    method per event class with ``@handles``; events they do not know pass by."""

    name: ClassVar[str]
    tables: ClassVar[list[Table]]
    _handlers: ClassVar[dict[type, Callable]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                if callable(attribute) and hasattr(attribute, "handles"):
                    cls._handlers[attribute.handles] = attribute

    def apply(self, event: Any, conn: Connection) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, event, conn)

    def clear(self, conn: Connection) -> None:
        for table in reversed(self.tables):
            conn.execute(delete(table))

    def gauges(self, conn: Connection) -> Iterable[Any]:
        """Prometheus metric families computed from the read model (none by default)."""
        return ()


def read_position(conn: Connection, name: str, lock: bool = False) -> int:
    query = select(positions.c.position).where(positions.c.name == name)
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).scalar_one_or_none()
    if found is None:
        conn.execute(insert(positions).values(name=name, position=0))
        return 0
    return found


def write_position(conn: Connection, name: str, position: int) -> None:
    conn.execute(update(positions).where(positions.c.name == name).values(position=position))


def views_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        return engine
    # No pre-ping: it costs a round trip per checkout, on every query. After a database
    # restart the first use of a stale connection fails, SQLAlchemy drops the whole pool,
    # and the caller's retry (or the relay's next pass) gets fresh connections.
    return create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


class LogFollower:
    """Reads a notification log from a stored position, in batches, one at a time per process.

    The position row is locked for the batch (PostgreSQL), so two replicas
    never handle the same notifications at once.
    """

    batch_size = 200

    def __init__(self, app: Any, engine: Engine, name: str):
        self.app = app
        self.engine = engine
        self.name = name
        self._lock = threading.Lock()

    def follow(self, handle: Callable[[Connection, Any], None]) -> int:
        """Hand every new notification to ``handle`` inside the transaction that advances the position."""
        handled = 0
        with self._lock:
            while True:
                with self.engine.begin() as conn:
                    position = read_position(conn, self.name, lock=True)
                    notifications = self.app.recorder.select_notifications(
                        start=position + 1, limit=self.batch_size
                    )
                    if not notifications:
                        return handled
                    for notification in notifications:
                        handle(conn, notification)
                    write_position(conn, self.name, notifications[-1].id)
                handled += len(notifications)
                if len(notifications) < self.batch_size:
                    return handled  # a short batch reached the end: no need to ask again

    def lag(self) -> int:
        with self.engine.connect() as conn:
            position = conn.execute(
                select(positions.c.position).where(positions.c.name == self.name)
            ).scalar_one_or_none() or 0
        return max(0, (self.app.recorder.max_notification_id() or 0) - position)


class ProjectionRunner:
    """Keeps one projection up to date with its service's log."""

    def __init__(self, app: Any, engine: Engine, projection: Projection):
        self.app = app
        self.projection = projection
        self.follower = LogFollower(app, engine, f"projection:{projection.name}")
        self.engine = engine

    def catch_up(self) -> int:
        def project(conn: Connection, notification: Any) -> None:
            self.projection.apply(self.app.mapper.to_domain_event(notification), conn)

        return self.follower.follow(project)

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Clear the tables and project the whole log again."""
        with self.follower._lock, self.engine.begin() as conn:
            read_position(conn, self.follower.name, lock=True)
            self.projection.clear(conn)
            write_position(conn, self.follower.name, 0)
        total = self.app.recorder.max_notification_id() or 0
        done = 0
        if progress:
            progress(done, total)

        def project(conn: Connection, notification: Any) -> None:
            nonlocal done
            self.projection.apply(self.app.mapper.to_domain_event(notification), conn)
            done = notification.id
            if progress:
                progress(done, total)

        return self.follower.follow(project)

    def lag(self) -> int:
        return self.follower.lag()


class Projector:
    """Keeps all of a service's projections current in one pass over the log.

    One transaction and one read of the log per batch, whatever the number of
    projections; each keeps its own position, so one being rebuilt (behind
    the others) is fed from its own position while the rest skip ahead.
    """

    batch_size = 200

    def __init__(self, app: Any, engine: Engine, projections: Iterable[Projection]):
        self.app = app
        self.engine = engine
        self.projections = list(projections)
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        handled = 0
        if not self.projections:
            return handled
        names = {f"projection:{p.name}": p for p in self.projections}
        with self._lock:
            while True:
                with self.engine.begin() as conn:
                    at = self._positions(conn, names)
                    notifications = self.app.recorder.select_notifications(
                        start=min(at.values()) + 1, limit=self.batch_size
                    )
                    if not notifications:
                        return handled
                    for notification in notifications:
                        behind = [p for name, p in names.items() if notification.id > at[name]]
                        if behind:
                            event = self.app.mapper.to_domain_event(notification)
                            for projection in behind:
                                projection.apply(event, conn)
                    # One statement for all positions: a pass costs the same with one projection or five.
                    conn.execute(update(positions).where(positions.c.name.in_(list(names)))
                                 .values(position=notifications[-1].id))
                handled += len(notifications)
                if len(notifications) < self.batch_size:
                    return handled  # a short batch reached the end: no need to ask again

    @staticmethod
    def _positions(conn: Connection, names: dict) -> dict[str, int]:
        """Every projection's position, locked for this pass (rows made for new projections)."""
        query = select(positions.c.name, positions.c.position).where(positions.c.name.in_(list(names)))
        at = dict(conn.execute(query.with_for_update()).all())
        for name in names:
            if name not in at:
                at[name] = read_position(conn, name, lock=True)
        return at


# The shape each projection's tables were created with. Read models are
# disposable: when a projection's tables change shape, they are dropped, made
# anew and refilled from the log, so a read model needs no migration script.
projection_schemas = Table(
    "pingan_projection_schemas",
    kernel_metadata,
    Column("name", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)


def schema_fingerprint(tables: Iterable[Table], dialect: Any) -> str:
    ddl = "\n".join(str(CreateTable(table).compile(dialect=dialect)) for table in tables)
    ddl += "".join(str(CreateIndex(index).compile(dialect=dialect)) for table in tables for index in table.indexes)
    return hashlib.sha256(ddl.encode()).hexdigest()


def create_view_tables(engine: Engine, projections: Iterable[Projection]) -> list[str]:
    """Create the read-model tables; rebuild any whose shape changed. Returns the names rebuilt."""
    kernel_metadata.create_all(engine)
    rebuilt = []
    for projection in projections:
        fingerprint = schema_fingerprint(projection.tables, engine.dialect)
        with engine.begin() as conn:
            stored = conn.execute(
                select(projection_schemas.c.fingerprint).where(projection_schemas.c.name == projection.name)
            ).scalar_one_or_none()
            if stored == fingerprint:
                continue
            for table in reversed(projection.tables):
                table.drop(conn, checkfirst=True)
            for table in projection.tables:
                table.create(conn)
            conn.execute(delete(projection_schemas).where(projection_schemas.c.name == projection.name))
            conn.execute(insert(projection_schemas).values(name=projection.name, fingerprint=fingerprint))
            read_position(conn, f"projection:{projection.name}")
            write_position(conn, f"projection:{projection.name}", 0)
            if stored is not None:
                rebuilt.append(projection.name)
    return rebuilt


# -- reading read models ---------------------------------------------------------------


def row_to_dict(row: Any, json_columns: Iterable[str] = ()) -> dict:
    """A read-model row as RPC can send it: JSON columns parsed, times in ISO 8601 (UTC)."""
    out = {}
    for key, value in dict(row).items():
        if key in json_columns and isinstance(value, str):
            value = json.loads(value)
        elif isinstance(value, datetime):
            # SQLite hands back naive datetimes; everything is stored in UTC.
            value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    return out


def page_of(conn: Connection, query: Any, page: int, page_size: int, json_columns: Iterable[str] = ()) -> dict:
    """One page of ``query`` with the total count, as every list query returns it."""
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.limit(page_size).offset((page - 1) * page_size)).mappings()
    columns = frozenset(json_columns)
    return {"items": [row_to_dict(row, columns) for row in rows], "page": page, "page_size": page_size,
            "total": total}
