"""Read models: SQLAlchemy tables fed from a service's notification log.

Each projection keeps its own position in ``positions``, advanced in the same
transaction as the rows it writes, so a crash replays nothing twice and a
rebuild (clear, reset, catch up) gives the same tables. Positions only move
forward (a guarded update under the row's lock): only a rebuild resets one.
A projection that cannot apply an event stops alone (``Projector.stalled``).
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from uuid import UUID

import psycopg2.extensions
import structlog
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    case,
    create_engine,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy import event as sqlalchemy_event  # not to be read as a domain event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.util import find_tables

from . import read_model_indexes
from .errors import ReadModelStalled

log = structlog.get_logger(__name__)

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

    def apply_batch(self, events: list[Any], conn: Connection) -> None:
        """Apply ``events`` in order. Single-row INSERTs that follow one another are sent together
        (``BatchedInserts``), so a projection whose handlers mostly insert writes a batch in a few
        statements; a projection may override this with its own bulk path."""
        batched = BatchedInserts(conn)
        for event in events:
            self.apply(event, batched)  # type: ignore[arg-type]
        batched.flush()

    @classmethod
    def topics(cls) -> frozenset[str]:
        """The stored-event topics this projection handles: the rest need not be decoded for it."""
        return frozenset(get_topic(event_class) for event_class in cls._handlers)

    def clear(self, conn: Connection) -> None:
        for table in reversed(self.tables):
            conn.execute(delete(table))

    def gauges(self, conn: Connection) -> Iterable[Any]:
        """Prometheus metric families computed from the read model (none by default)."""
        return ()


class BatchedInserts:
    """Stands in for a Connection while a batch of events is applied: a plain single-row
    ``insert(table).values(...)`` is held back, and consecutive ones into the same table with
    the same columns go as one executemany (multi-row VALUES). Any other statement first sends
    what is held, so handlers that read or update rows see every earlier insert."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._shape: tuple[Any, frozenset[str]] | None = None
        self._rows: list[dict[str, Any]] = []

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        row = _single_row(statement, args) if not kwargs else None
        if row is None:
            self.flush()
            return self._conn.execute(statement, *args, **kwargs)
        shape = (statement.table, frozenset(row))
        if shape != self._shape:
            self.flush()
            self._shape = shape
        self._rows.append(row)
        return None

    def flush(self) -> None:
        if self._rows and self._shape is not None:
            table, rows = self._shape[0], self._rows
            self._rows = []
            if len(rows) < COPY_FROM or not _copy(self._conn, table, rows):
                self._conn.execute(insert(table), rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


# From this many rows on, PostgreSQL gets them by COPY (about three times faster than a multi-row INSERT here).
COPY_FROM = 100
_COPYABLE = (String, Integer, Boolean, DateTime, Date, Float)
_COPY_VALUES = {str, int, float, bool, datetime, date, type(None)}  # their str() is what PostgreSQL reads


def _copy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> bool:
    """Send ``rows`` into ``table`` by COPY (PostgreSQL); False, having sent nothing, when a column's
    type or a value is not one whose text form is certain (then the caller inserts them as usual)."""
    if conn.dialect.name != "postgresql" or psycopg2.extensions.get_wait_callback() is not None:
        return False  # a green driver (the services' eventlet hub) refuses COPY: inserted as usual
    given = list(rows[0])
    # Columns the rows leave out but an INSERT would fill on the client (a read model's row_seal).
    missing = [column for column in table.c if column.key not in rows[0] and column.default is not None]
    for column in missing:
        default = column.default
        if not (default.is_callable or (default.is_scalar and type(default.arg) in _COPY_VALUES)):
            return False
    names = given + [column.key for column in missing]
    for name in names:
        column_type = table.c[name].type
        if not isinstance(column_type, _COPYABLE) or isinstance(column_type, Enum):
            return False
    if not {type(value) for row in rows for value in row.values()} <= _COPY_VALUES:
        return False
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        # The text is made as PostgreSQL reads it: the server stores one part while the next is made.
        cursor.copy_expert(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN WITH (FORMAT text)",
                           _CopyText(rows, given, missing), size=_COPY_PART)
    finally:
        cursor.close()
    return True


_COPY_PART = 64 * 1024  # characters of COPY text a read of ``_CopyText`` returns (about 100 read-model rows)


class _RowContext:
    """What a column's Python default is given on insert (``context.get_current_parameters()`` and
    ``context.current_column``), for the rows of one COPY, which applies no client-side default; one
    for all the rows, as an executemany's context is (a default may keep what it reads once on it)."""

    def __init__(self) -> None:
        self.row: dict[str, Any] = {}
        self.current_column: Column | None = None

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.row


def _text_line(values: list[Any]) -> str:
    """One row in COPY's text format: fields split by tabs, NULL as ``\\N``, and in a value a backslash,
    tab, newline or carriage return escaped by a backslash. Most rows hold none of those: looked for
    once in the whole line (C string searches), each field escaped only when one is there."""
    texts = ["" if value is None else value if type(value) is str else str(value) for value in values]
    joined = "\t".join(texts)
    if "\\" in joined or "\n" in joined or "\r" in joined or joined.count("\t") != len(texts) - 1:
        texts = [text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
                 for text in texts]
    elif None not in values:
        return joined + "\n"
    return "\t".join(["\\N" if value is None else text for value, text in zip(values, texts, strict=True)]) + "\n"


class _CopyText:
    """``rows`` as the text a COPY reads, made a part at a time as the driver asks for it, with the
    client-side defaults of the ``missing`` columns filled in as an INSERT fills them."""

    def __init__(self, rows: list[dict[str, Any]], given: list[str], missing: list[Column]):
        self._rows = iter(rows)
        self._given, self._missing = given, missing
        self._context = _RowContext()

    def _line(self, row: dict[str, Any]) -> list[Any]:
        context = self._context
        values = [row[name] for name in self._given]
        if self._missing:
            context.row = row
            for column in self._missing:
                context.current_column = column
                default = column.default
                value = default.arg if default.is_scalar else default.arg(context)
                if type(value) not in _COPY_VALUES:
                    raise TypeError(f"the default of {column} gave a {type(value).__name__}, not a text form")
                values.append(value)
        return values

    def read(self, size: int = -1) -> str:
        lines: list[str] = []
        length = 0
        for row in self._rows:
            line = _text_line(self._line(row))
            lines.append(line)
            length += len(line)
            if 0 < size <= length:
                break
        return "".join(lines)


def _single_row(statement: Any, args: tuple) -> dict[str, Any] | None:
    """The column values of a plain one-row INSERT, given as ``insert(table), {...}`` (the cheap form:
    no literal is made into a bound parameter) or as ``insert(table).values(...)``; None for anything else."""
    if type(statement) is not Insert or statement._multi_values or statement._select_names is not None \
            or statement._returning or statement._post_values_clause is not None:
        return None
    if args:
        if statement._values or len(args) != 1 or not isinstance(args[0], dict):
            return None
        return args[0]
    if not statement._values:
        return None
    row = {}
    for column, value in statement._values.items():
        if not isinstance(value, BindParameter) or value.callable is not None:
            return None
        row[column if isinstance(column, str) else column.key] = value.value
    return row


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
    """Advance ``name`` to ``position``; never back (a slower pass cannot undo a faster one)."""
    conn.execute(update(positions).where(positions.c.name == name, positions.c.position < position)
                 .values(position=position))


def reset_position(conn: Connection, name: str) -> None:
    """Back to the start: only for a rebuild, whose tables were cleared in the same transaction."""
    read_position(conn, name, lock=True)
    conn.execute(update(positions).where(positions.c.name == name).values(position=0))


def views_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @sqlalchemy_event.listens_for(engine, "connect")
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

    def follow(self, handle: Callable[[Connection, Any], None],
               before_advance: Callable[[Connection], None] | None = None) -> int:
        """Hand every new notification to ``handle`` inside the transaction that advances the position;
        ``before_advance``, once a batch is handled and before its position is written (a failure there
        leaves the position where it was)."""
        handled = 0
        with self._lock:
            while True:
                with self.engine.begin() as conn:
                    position = read_position(conn, self.name, lock=True)
                    notifications = _select_notifications(self.app.recorder, position + 1, self.batch_size)
                    if not notifications:
                        return handled
                    for notification in notifications:
                        handle(conn, notification)
                    if before_advance is not None:
                        before_advance(conn)
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
        return Projector(self.app, self.engine, [self.projection]).catch_up()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Clear the tables and project the whole log again (``Projector.rebuild``)."""
        return Projector(self.app, self.engine, [self.projection]).rebuild(progress)

    def lag(self) -> int:
        return self.follower.lag()


def _is_infrastructure(error: Exception) -> bool:
    """A database that is away or busy: the pass is retried, nothing is stalled."""
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or type(error).__name__ in ("OperationalError", "InterfaceError"))


class _Stall(Exception):
    def __init__(self, name: str, notification_id: int, error: Exception):
        self.name, self.notification_id, self.error = name, notification_id, error


def _select_notifications(recorder: Any, start: int, limit: int) -> list[Notification]:
    """``recorder.select_notifications``, as one Core statement when the store is SQL (the library's ORM
    query builds an object per row first, a quarter of a large pass's time)."""
    record_class = getattr(recorder, "events_record_cls", None)
    if record_class is None:  # the in-memory store of unit tests
        return recorder.select_notifications(start=start, limit=limit)
    table = record_class.__table__
    engine = recorder.datastore.engine
    if engine.dialect.name == "postgresql":
        # The driver's own cursor: SQLAlchemy's row processing costs more than the scan itself here.
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(f"SELECT id, originator_id, originator_version, topic, state FROM {table.name} "
                           "WHERE id >= %s ORDER BY id LIMIT %s", (start, limit))
            rows = cursor.fetchall()
            cursor.close()
            connection.rollback()
        finally:
            connection.close()
        return [Notification(id=id_, originator_version=version, topic=topic, state=bytes(state),
                             originator_id=originator if isinstance(originator, UUID) else UUID(originator))
                for id_, originator, version, topic, state in rows]
    query = select(table.c.id, table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state) \
        .where(table.c.id >= start).order_by(table.c.id).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Notification(id=id_, originator_id=originator_id, originator_version=version, topic=topic,
                         state=bytes(state) if isinstance(state, memoryview) else state)
            for id_, originator_id, version, topic, state in rows]


def _stored_after(recorder: Any, position: int, topics: list[str],
                  conn: Connection | None = None) -> tuple[bool, int]:
    """Whether an event with one of ``topics`` was stored after ``position``, and the newest id stored:
    one range of the events table's primary key holding only the rows since ``position`` (a Core
    statement, cached; the library's ORM query costs several times more)."""
    record_class = getattr(recorder, "events_record_cls", None)
    if record_class is None:  # the in-memory store of unit tests
        return bool(topics and recorder.select_notifications(start=position + 1, limit=1, topics=topics)), position
    table = record_class.__table__
    if conn is not None and conn.dialect.name == "postgresql":
        # The topics as one array parameter, on the driver's cursor: an expanding IN of every handled
        # topic is built again by SQLAlchemy on each query (and the Core statement below is not built
        # at all: making it was a quarter of this check's CPU, docs/benchmarks.md).
        newest, found = conn.exec_driver_sql(
            f"SELECT max(id), max(CASE WHEN topic = ANY(%s) THEN 1 ELSE 0 END) FROM {table.fullname} "
            "WHERE id > %s", (list(topics), position)).one()
        return bool(found), newest or position
    handled = case((table.c.topic.in_(topics), 1), else_=0) if topics else literal(0)
    query = select(func.max(table.c.id), func.max(handled)).where(table.c.id > position)
    if conn is not None:
        newest, found = conn.execute(query).one()
    else:
        with recorder.datastore.engine.connect() as own:
            newest, found = own.execute(query).one()
    return bool(found), newest or position


@contextmanager
def _collector_paused():
    """Python's cycle collector held off for one batch of a rebuild: the thousands of objects a batch
    makes set off collections that walk every object of the process, a sixth of a rebuild's CPU
    (docs/benchmarks.md); the cycles a batch leaves are collected once it is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _BatchFailed(Exception):
    """A projection's batch failed somewhere: the pass is done again, its events one by one, to find where."""

    def __init__(self, name: str):
        self.name = name


class Projector:
    """Keeps all of a service's projections current in one pass over the log.

    One transaction and one read of the log per batch, whatever the number of
    projections; each keeps its own position, so one being rebuilt (behind
    the others) is fed from its own position while the rest stay where they are.
    Events go to each projection as a batch (``Projection.apply_batch``), and a
    stored event no projection handles is not decoded at all. A projector far
    behind (a rebuild, a migration, a service starting late) reads the log in
    large batches.

    A projection whose handler fails on an event (not a database outage) is
    *stalled*: the batch is rolled back and done again without it, and it stays
    just before that event in this process; its queries raise ReadModelStalled
    and ``/ready`` names it. A restart (with a fixed projection) tries it again.
    """

    batch_size = 200  # a pass that finds this many asks again with...
    behind_batch_size = 5000  # ...this many: decoded once, written in bulk, one transaction each

    def __init__(self, app: Any, engine: Engine, projections: Iterable[Projection],
                 on_stall: Callable[[str], None] | None = None):
        self.app = app
        self.engine = engine
        self.projections = list(projections)
        self._lock = threading.Lock()
        self.stalled: dict[str, str] = {}  # projection name -> why
        self._stalled_at: dict[str, int] = {}  # position key -> first notification it could not apply
        self.on_stall = on_stall
        self._topics = {f"projection:{p.name}": p.topics() for p in self.projections}
        self._all_topics = sorted(set().union(*self._topics.values()))
        # Every live projection is known to have applied the log up to here (in this process; positions
        # only move forward, so a stale value only makes a query's check find something and catch up).
        self._reached: int | None = None
        self._same_database: bool | None = None  # the log and the read models in one database

    def _log_beside_views(self) -> bool:
        if self._same_database is None:
            log_engine = getattr(getattr(self.app.recorder, "datastore", None), "engine", None)
            self._same_database = (log_engine is not None and self.engine.dialect.name == "postgresql"
                                   and log_engine.url == self.engine.url)
        return self._same_database

    def mark_unavailable(self, name: str, reason: str) -> None:
        """Keep a projection out of every pass (its tables have a shape this build does not know)."""
        self.stalled[name] = reason
        self._stalled_at[f"projection:{name}"] = 0

    def catch_up_for_query(self) -> int:
        """Catch up before a query, at the cost of one indexed look-up when nothing a projection handles
        was stored since the last pass (audit records of reads, events of no read model, pass by)."""
        return 0 if self.current_for_query() else self.catch_up()

    def current_for_query(self, conn: Connection | None = None) -> bool:
        """Whether nothing a projection handles was stored since the last pass (one indexed look-up).
        ``conn``: the query's own read-model connection, used for the look-up when the log shares its
        database (PostgreSQL), which spares a connection and the rollback that closes it."""
        reached = self._reached
        if reached is None:
            return False
        found, newest = _stored_after(self.app.recorder, reached, self._all_topics,
                                      conn if conn is not None and self._log_beside_views() else None)
        if found:
            return False
        # Nothing any projection handles lies up to ``newest`` (ids are committed in order under the
        # events table's lock), so the next check starts there: the rows a stream of audited reads
        # adds are passed over once, not by every later query.
        if self._reached == reached:
            self._reached = newest
        return True

    def catch_up(self) -> int:
        handled = 0
        names = {f"projection:{p.name}": p for p in self.projections}
        batch_size = self.batch_size
        one_by_one: set[str] = set()
        with self._lock:
            while True:
                try:
                    done = self._pass(names, batch_size, one_by_one)
                except _BatchFailed as failed:
                    one_by_one.add(failed.name)
                    continue
                except _Stall as stall:
                    self._stall(stall)
                    one_by_one.discard(stall.name)
                    continue
                one_by_one.clear()
                if done is None:
                    return handled
                handled += done
                if done < batch_size:
                    return handled  # a short batch reached the end: no need to ask again
                batch_size = self.behind_batch_size

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Clear every projection's tables and project the whole log again, in large batches.

        Safe while the service runs: cleared and reset in one transaction under the positions'
        locks, then each batch holds them, so a running service's Projector feeds these
        projections from where this left them (positions only move forward). A handler that
        fails raises (a rebuild stalls nothing)."""
        keys = [f"projection:{p.name}" for p in self.projections]
        tables = [table for projection in self.projections for table in projection.tables]
        with self._lock:
            with self.engine.begin() as conn:
                owner = read_model_indexes.owns(conn, tables)
                for key, projection in zip(keys, self.projections, strict=True):
                    reset_position(conn, key)
                    if not owner:
                        projection.clear(conn)
                set_aside = []
                if owner:
                    # As the tables' owner: their secondary indexes built once after the load instead of
                    # row by row during it, and the tables emptied without leaving dead rows for the load
                    # and the index builds to pass over (docs/benchmarks.md). A rebuild cut short leaves
                    # the indexes to `create_view_tables` (read_model_indexes.restore_missing).
                    set_aside = read_model_indexes.drop_secondary(conn, tables)
                    preparer = conn.dialect.identifier_preparer
                    conn.execute(text(f"TRUNCATE {', '.join(preparer.format_table(table) for table in tables)}"))
            self._reached = None
        total = self.app.recorder.max_notification_id() or 0
        try:
            handled = self._refill(total, progress)
        finally:
            if set_aside:
                with self.engine.begin() as conn:
                    # In turn with `create_view_tables`, which may be making a missing one of them.
                    transaction_lock(conn, f"pingan:schema:{self.engine.url.database}")
                    read_model_indexes.create(conn, set_aside)
        if self.engine.dialect.name == "postgresql":
            # Fresh planner statistics for tables just refilled in bulk, before queries use them.
            with self.engine.begin() as conn:
                for table in tables:
                    conn.execute(text(f"ANALYZE {conn.dialect.identifier_preparer.format_table(table)}"))
        if progress:
            progress(total, total)
        return handled

    def _refill(self, total: int, progress: Callable[[int, int], None] | None) -> int:
        """Project the whole log from the reset positions, in large batches (``rebuild``)."""
        keys = [f"projection:{p.name}" for p in self.projections]
        if progress:
            progress(0, total)
        names = dict(zip(keys, self.projections, strict=True))
        handled = 0
        one_by_one: set[str] = set()
        with self._lock:
            while True:
                try:
                    # Every stored event decoded, also those no projection handles: a rebuild after a
                    # restore then stops at a damaged record instead of passing over it.
                    with _collector_paused():
                        done = self._pass(names, self.behind_batch_size, one_by_one, decode_all=True)
                except _BatchFailed as failed:
                    one_by_one.add(failed.name)  # done again event by event, to name the one that fails
                    continue
                except _Stall as stall:
                    raise stall.error from None  # the handler's own error, as if raised here
                one_by_one.clear()
                if done is None:
                    break
                handled += done
                if progress:
                    progress(min(self._reached or 0, total), total)
                if done < self.behind_batch_size:
                    break
        return handled

    def _pass(self, names: dict[str, Projection], batch_size: int, one_by_one: set[str],
              decode_all: bool = False) -> int | None:
        """One batch for every projection still able to go on; None when nothing is left to do."""
        live = {key: p for key, p in names.items() if key not in self._stalled_at}
        if not live:
            return None
        with self.engine.begin() as conn:
            if decode_all and conn.dialect.name == "postgresql":
                # A rebuild's batch need not wait for its commit to reach the disk: a crash loses at
                # most the last batches, whose positions go with them, and the next pass redoes them.
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            at = self._positions(conn, live)
            start = min(at.values())
            notifications = _select_notifications(self.app.recorder, start + 1, batch_size)
            if not notifications:
                self._reached = start
                return None
            batches: dict[str, list[tuple[int, Any]]] = {key: [] for key in live}
            for notification in notifications:
                behind = [key for key in live
                          if notification.id > at[key] and notification.topic in self._topics[key]]
                if not behind and not decode_all:
                    continue  # no projection handles it, or all have it: not even decoded
                event = self.app.mapper.to_domain_event(notification)
                for key in behind:
                    batches[key].append((notification.id, event))
            for key, projection in live.items():
                if batches[key]:
                    self._apply(key, projection, batches[key], conn, key in one_by_one)
            last = notifications[-1].id
            # One guarded statement for all positions: a pass costs the same with one projection or five,
            # and a projection already further on (another replica, a rebuild's follower) stays there.
            conn.execute(update(positions).where(positions.c.name.in_(list(live)), positions.c.position < last)
                         .values(position=last))
        self._reached = last
        return len(notifications)

    @staticmethod
    def _apply(key: str, projection: Projection, batch: list[tuple[int, Any]], conn: Connection,
               one_by_one: bool) -> None:
        if not one_by_one:
            try:
                projection.apply_batch([event for _, event in batch], conn)
            except Exception as error:
                if _is_infrastructure(error):
                    raise
                raise _BatchFailed(key) from error
            return
        for notification_id, event in batch:
            try:
                projection.apply(event, conn)
            except Exception as error:
                if _is_infrastructure(error):
                    raise
                raise _Stall(key, notification_id, error) from error

    def _stall(self, stall: _Stall) -> None:
        name = stall.name.removeprefix("projection:")
        self._stalled_at[stall.name] = stall.notification_id
        self.stalled[name] = f"cannot apply notification {stall.notification_id}: {type(stall.error).__name__}"
        log.error("projection_stalled", projection=name, notification_id=stall.notification_id,
                  error=type(stall.error).__name__)
        if self.on_stall is not None:
            self.on_stall(name)
        # The stalled projection keeps what it had: bring it up to just before the event it cannot apply.
        self._catch_up_before(stall.name, stall.notification_id)

    def _catch_up_before(self, key: str, stop: int) -> None:
        projection = next(p for p in self.projections if f"projection:{p.name}" == key)
        with self.engine.begin() as conn:
            position = read_position(conn, key, lock=True)
            pending = self.app.recorder.select_notifications(start=position + 1, limit=stop - position - 1) \
                if stop - position > 1 else []
            for notification in pending:
                if notification.id >= stop:
                    break
                projection.apply(self.app.mapper.to_domain_event(notification), conn)
                position = notification.id
            write_position(conn, key, position)

    @staticmethod
    def _positions(conn: Connection, names: dict) -> dict[str, int]:
        """Every projection's position, locked for this pass (rows made for new projections)."""
        query = select(positions.c.name, positions.c.position).where(positions.c.name.in_(list(names)))
        at = dict(conn.execute(query.with_for_update()).all())
        for name in names:
            if name not in at:
                at[name] = read_position(conn, name, lock=True)
        return at

    @contextmanager
    def guard(self, conn: Connection):
        """Refuse, with ReadModelStalled, any statement on ``conn`` that reads a stalled projection's tables."""
        if not self.stalled:
            yield conn
            return
        owners = {table.name: p.name for p in self.projections if p.name in self.stalled for table in p.tables}

        def check(_conn: Any, clauseelement: Any, *args: Any) -> None:
            for table in find_tables(clauseelement, include_joins=True, include_aliases=True):
                projection = owners.get(getattr(table, "name", None))
                if projection is not None:
                    raise ReadModelStalled(f"the read model {projection} is stalled ({self.stalled[projection]}); "
                                           "an operator must fix it (see /ready)")

        sqlalchemy_event.listen(conn, "before_execute", check)
        try:
            yield conn
        finally:
            sqlalchemy_event.remove(conn, "before_execute", check)


# The shape each projection's tables were created with. Read models are
# disposable: when a projection's tables change shape, `pingan migrate` drops
# them, makes them anew and refills them from the log, so a read model needs no
# migration script. A running service never drops anything: replicas may be
# serving those tables, and the runtime login may not own them.
projection_schemas = Table(
    "pingan_projection_schemas",
    kernel_metadata,
    Column("name", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)


def schema_fingerprint(tables: Iterable[Table], dialect: Any) -> str:
    """The DDL of ``tables``, hashed. Sorted: ``Table.indexes`` is a set, ordered differently in each process."""
    ordered = sorted(tables, key=lambda table: table.name)
    ddl = "\n".join(str(CreateTable(table).compile(dialect=dialect)) for table in ordered)
    ddl += "".join(str(CreateIndex(index).compile(dialect=dialect))
                   for table in ordered for index in sorted(table.indexes, key=lambda index: index.name or ""))
    return hashlib.sha256(ddl.encode()).hexdigest()


def lock_key(name: str) -> int:
    """A PostgreSQL advisory-lock key (signed 64-bit) for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def transaction_lock(conn: Connection, name: str) -> None:
    """Hold ``name``'s advisory lock until ``conn``'s transaction ends (PostgreSQL; SQLite has one writer)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


class UnknownShape(Exception):
    """Read-model tables whose stored shape differs from this build's: `pingan migrate` must rebuild them."""


def create_view_tables(engine: Engine, projections: Iterable[Projection], rebuild: bool = False) -> list[str]:
    """Create missing read-model tables; with ``rebuild``, drop and remake those whose shape changed.

    Returns the projections rebuilt (with ``rebuild``) or found with an unknown
    shape and left alone (without). Serialised by an advisory lock, so
    concurrent migrations and starting replicas take turns and all succeed.
    """
    changed = []
    with engine.begin() as conn:
        transaction_lock(conn, f"pingan:schema:{engine.url.database}")
        kernel_metadata.create_all(conn)
        for projection in projections:
            fingerprint = schema_fingerprint(projection.tables, engine.dialect)
            stored = conn.execute(
                select(projection_schemas.c.fingerprint).where(projection_schemas.c.name == projection.name)
            ).scalar_one_or_none()
            if stored == fingerprint:
                read_model_indexes.restore_missing(conn, projection.tables)  # left out by a rebuild cut short
                continue
            if stored is not None and not rebuild:
                changed.append(projection.name)
                continue
            for table in reversed(projection.tables):
                table.drop(conn, checkfirst=True)
            for table in projection.tables:
                table.create(conn)
            conn.execute(delete(projection_schemas).where(projection_schemas.c.name == projection.name))
            conn.execute(insert(projection_schemas).values(name=projection.name, fingerprint=fingerprint))
            reset_position(conn, f"projection:{projection.name}")
            if stored is not None:
                changed.append(projection.name)
    return changed


# -- reading read models ---------------------------------------------------------------


def row_to_dict(row: Any, json_columns: Iterable[str] = ()) -> dict:
    """A read-model row as RPC can send it: JSON columns parsed, times in ISO 8601 (UTC)."""
    mapping = dict(row)
    return _as_sent(mapping.keys(), mapping.values(), json_columns)


def _as_sent(keys: Iterable[str], values: Iterable[Any], json_columns: Iterable[str]) -> dict:
    out = {}
    for key, value in zip(keys, values, strict=True):
        if isinstance(value, str):
            if key in json_columns:
                value = json.loads(value)
        elif isinstance(value, datetime):
            # SQLite hands back naive datetimes; everything is stored in UTC.
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    return out


# An execution option a list query may carry: a statement giving its exact total from a count the read
# model keeps, so a full page need not count every row in scope.
TOTAL = "pingan_total"


def page_of(conn: Connection, query: Any, page: int, page_size: int, json_columns: Iterable[str] = ()) -> dict:
    """One page of ``query`` with the total count, as every list query returns it."""
    offset = (page - 1) * page_size
    columns = frozenset(json_columns)
    kept = query.get_execution_options().get(TOTAL)
    # A kept total rides on the page's own statement (one round trip, one snapshot), beside each row.
    paged = query if kept is None else query.add_columns(kept.scalar_subquery().label(TOTAL))
    result = conn.execute(paged.limit(page_size).offset(offset))
    keys = list(result.keys())
    items = [_as_sent(keys, row, columns) for row in result]  # plain rows: a mapping per row cost more than its use
    totals = [item.pop(TOTAL) for item in items] if kept is not None else []
    if len(items) < page_size and (items or page == 1):
        total = offset + len(items)  # the last page: its rows say how many there are, no count needed
    elif kept is not None:
        total = (totals[0] if totals else conn.execute(kept).scalar()) or 0
    else:
        # Counted without the ordering: the count need not sort the rows it counts.
        total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    return {"items": items, "page": page, "page_size": page_size, "total": total}


class RecordView(Projection):
    """A read model whose ``record`` table holds one row per aggregate, keyed by the aggregate's id in
    ``record_key``. ``_row`` reads the event's row; ``_update`` changes it and stamps it with the event's time
    and version (where the table has ``updated_at`` / ``version``), so a row always says which event it
    reflects."""

    record: ClassVar[Table]
    record_key: ClassVar[str]

    def _row(self, conn: Connection, event: Any) -> Any:
        table = self.record
        return conn.execute(select(table).where(table.c[self.record_key] == str(event.originator_id))).one()

    def _update(self, conn: Connection, event: Any, **values: Any) -> None:
        table = self.record
        if "updated_at" in table.c:
            values["updated_at"] = event.timestamp
        if "version" in table.c:
            values["version"] = event.originator_version
        conn.execute(update(table).where(table.c[self.record_key] == str(event.originator_id)).values(**values))
