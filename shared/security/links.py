"""Chain links: each stored event MACed by the writing service, in the event's own transaction.

A checkpoint vouches only for the rows it covers; these links make a row
written, changed, moved or removed by the database alone (its owner login, a
restored dump, a superuser) visible at once, before any checkpoint. The service
computes, for each event row, in notification-id order:

    link_n = HMAC-SHA256(K_service, link_p ‖ p ‖ n ‖ originator_id ‖ version ‖ len‖topic ‖ len‖state)

where ``p`` is the notification id of the previous stored row (0 for the
first) and ``link_p`` its link (32 zero bytes for the first). It stores
``(n, p, link_n)`` in ``<service>_links`` in the same transaction as the event.
``K_service`` is derived from ``PINGAN_CHAIN_KEY``, which the database never
holds, so nobody with only database access can make a link that verifies.

Why one chain in notification-id order is safe with several writers (several
replicas, one process with many workers): eventsourcing-sqlalchemy takes
``LOCK TABLE <events> IN EXCLUSIVE MODE`` before inserting on PostgreSQL, so
ids are drawn and committed one transaction at a time; the link is computed
after the insert, still under that lock, over the newest committed link below
its first id. A rolled-back insert leaves a gap in ids and no link, so it is
no alarm. On SQLite the database's single write lock does the same (a
transaction whose snapshot is stale cannot write). See docs/security.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing_sqlalchemy.datastore import exception_classes, transactions
from eventsourcing_sqlalchemy.recorders import SQLAlchemyProcessRecorder
from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, Table, insert, select
from sqlalchemy.orm import Session

from .chain import ChainConfigError, uuid_bytes
from .personal_data import KeyRaced, held_key_rows, person_keys

START = bytes(32)  # the "previous link" of the first row
_HEADER = struct.Struct(">qq16sq")  # previous id, id, originator id, version
_LEN = struct.Struct(">I")
KEY_ENV = "PINGAN_CHAIN_KEY"
_TABLES_ONLY: ContextVar[bool] = ContextVar("pingan_links_tables_only", default=False)


def generate_chain_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def load_chain_key(encoded: str | None, data_dir: Path | None = None, generate: bool = True) -> bytes:
    """The configured chain key; only the embedded default keeps a generated one beside its data.

    A writer generates the embedded key on first start (``generate``); the verifier only reads it.
    """
    path = Path(data_dir) / "chain.key" if data_dir is not None else None
    if not encoded and path is not None and (generate or path.exists()):
        from shared.config import generated_secret

        encoded = generated_secret(path, generate_chain_key)
    if not encoded:
        raise ChainConfigError(f"no chain key: set {KEY_ENV} (the key the service writes its links with)")
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ChainConfigError(f"{KEY_ENV} is not base64 of 32 bytes")
    return key


def configured_link_key(service: str, encoded: str | None, generate: bool = True) -> bytes:
    """The service's link key from ``PINGAN_CHAIN_KEY``; with a database URL set it must be given."""
    from shared.config import load_settings

    settings = load_settings()
    embedded = settings.database_url is None
    return service_key(load_chain_key(encoded, settings.data_dir if embedded else None, generate), service)


def service_key(master: bytes, service: str) -> bytes:
    """One key per service, so a key leaked from one service's process forges no other's links."""
    return hmac.new(master, f"pingan-chain-link-v1:{service.lower()}".encode(), hashlib.sha256).digest()


def compute_link(key: bytes, previous: bytes, previous_id: int, notification_id: int, originator_id: Any,
                 version: int, topic: str, state: bytes) -> bytes:
    topic_bytes = topic.encode()
    mac = hmac.new(key, previous, hashlib.sha256)
    mac.update(_HEADER.pack(previous_id, notification_id, uuid_bytes(originator_id), version))
    mac.update(_LEN.pack(len(topic_bytes)))
    mac.update(topic_bytes)
    mac.update(_LEN.pack(len(state)))
    mac.update(state)
    return mac.digest()


def links_table_name(events_table_name: str) -> str:
    return events_table_name.removesuffix("_events") + "_links"


def links_table(events_table_name: str, metadata: MetaData | None = None) -> Table:
    return Table(
        links_table_name(events_table_name), metadata or MetaData(),
        Column("notification_id", BigInteger, primary_key=True, autoincrement=False),
        Column("previous_id", BigInteger, nullable=False),
        Column("link", LargeBinary, nullable=False),
    )


@contextmanager
def tables_only():
    """Open applications only to create their tables, without the chain key.

    ``pingan migrate`` runs as the database owner, which must never hold the
    key; an application opened so refuses to store events.
    """
    token = _TABLES_ONLY.set(True)
    try:
        yield
    finally:
        _TABLES_ONLY.reset(token)


class _Save:
    def __init__(self, events: list[StoredEvent], key_rows: list[Any]):
        self.events = events
        self.key_rows = key_rows  # the new person keys of the command (shared.security.personal_data.HeldKey)
        self.ids: list[int] | None = None
        self.error: Exception | None = None

    @property
    def done(self) -> bool:
        return self.ids is not None or self.error is not None


class GroupCommit:
    """Several saves in one transaction: while one writer holds the events table's lock, the saves that
    arrive queue up, and the next writer stores all of them at once (the lock serialises writers anyway,
    so a batch costs about what one save costs).

    Each save keeps its own outcome: a batch that fails is written again save by save, so a save that
    conflicts (a repeated command id, a concurrent change of the same aggregate) gets its own
    RecordConflictError and the others are stored. Works with OS threads and eventlet's green ones."""

    def __init__(self, write: Callable[..., Sequence[int]]):
        self._write = write
        self._queue: list[_Save] = []
        self._queued = threading.Lock()
        self._writing = threading.Lock()

    def write(self, events: list[StoredEvent], key_rows: Sequence[Any] = ()) -> list[int]:
        save = _Save(events, list(key_rows))
        with self._queued:
            self._queue.append(save)
        with self._writing:
            if not save.done:  # no writer took it: write everything queued, this save among them
                with self._queued:
                    batch, self._queue = self._queue, []
                try:
                    self._write_batch(batch)
                finally:
                    for other in batch:  # a writer stopped half-way (killed): nobody is left without an answer
                        if not other.done:
                            other.error = ConnectionAbortedError("the save was interrupted; retry")
        if save.error is not None:
            raise save.error
        return cast(list[int], save.ids)

    def _write_batch(self, batch: list[_Save]) -> None:
        if len(batch) > 1:
            try:
                ids = list(self._write([event for save in batch for event in save.events],
                                       key_rows=[key for save in batch for key in save.key_rows]))
            except Exception:  # noqa: BLE001 (every save is tried again on its own, for its own outcome)
                pass
            else:
                for save in batch:
                    save.ids, ids = ids[:len(save.events)], ids[len(save.events):]
                return
        for save in batch:
            try:
                save.ids = list(self._write(save.events, key_rows=save.key_rows))
            except Exception as error:  # noqa: BLE001 (raised again in the save's own thread)
                save.error = error


def _persistence_error(dbapi: Any, error: Exception) -> Exception:
    """A driver's error as eventsourcing's persistence error of the same DB-API class, the most specific first."""
    for name in ("InterfaceError", "DataError", "OperationalError", "IntegrityError", "InternalError",
                 "ProgrammingError", "NotSupportedError", "DatabaseError"):
        if isinstance(error, getattr(dbapi, name)):
            return exception_classes[name](str(error))
    return PersistenceError(str(error))


class LinkedProcessRecorder(SQLAlchemyProcessRecorder):
    """eventsourcing-sqlalchemy's process recorder that also writes each event's chain link."""

    def __init__(self, datastore: Any, *, events_table_name: str, tracking_table_name: str, link_key: bytes | None,
                 schema_name: str | None = None):
        super().__init__(datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name,
                         schema_name=schema_name)
        self.link_key = link_key
        self.links = links_table(events_table_name)
        self.tables.append(self.links)
        engine = self.datastore.engine
        self._group = GroupCommit(self._insert_alone) \
            if engine is not None and engine.dialect.name == "postgresql" else None

    def _insert_alone(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        return super().insert_events(stored_events, **kwargs) or []

    def takes_key_rows(self, vault: Any) -> bool:
        """Whether a command's new person keys in ``vault`` are written with its events (same database)."""
        engine = self.datastore.engine
        return engine is not None and vault.shares_database(engine)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        """Events stored and committed; on PostgreSQL, saves that arrive while another is being written
        are written together in one transaction (group commit, ``GroupCommit``). A save with a tracking
        record, or inside a transaction already open, is written on its own. The running command's new
        person keys in this database are written in the same transaction (``held_key_rows``)."""
        group = self._group
        engine = self.datastore.engine
        keys = held_key_rows(engine) if engine is not None else []
        if group is None or kwargs.get("tracking") is not None or kwargs.get("session") is not None \
                or transactions.get(None) is not None:
            return self._insert_alone(stored_events, key_rows=keys, **kwargs)
        return group.write(list(stored_events), keys)

    def select_events(self, originator_id: Any, gt: int | None = None, lte: int | None = None, desc: bool = False,
                      limit: int | None = None) -> list[StoredEvent]:
        """The library's ``select_events`` as one statement: an aggregate read by a command (the cache
        brings it up to date from its newer events on every read) skips building an ORM object per row,
        and on PostgreSQL outside a transaction also the session's BEGIN and ROLLBACK."""
        engine = self.datastore.engine
        if engine is not None and engine.dialect.name == "postgresql" and self.datastore.scoped_session is None \
                and transactions.get(None) is None:
            return self._select_autocommit(engine, originator_id, gt, lte, desc, limit)
        table = self.events_record_cls.__table__
        version = table.c.originator_version
        query = select(table.c.originator_id, version, table.c.topic, table.c.state).where(
            table.c.originator_id == originator_id)
        if gt is not None:
            query = query.where(version > gt)
        if lte is not None:
            query = query.where(version <= lte)
        query = query.order_by(version.desc() if desc else version)
        if limit is not None:
            query = query.limit(limit)
        with self.transaction(commit=False) as session:
            return [StoredEvent(originator_id=row[0], originator_version=row[1], topic=row[2],
                                state=bytes(row[3]) if isinstance(row[3], memoryview) else row[3])
                    for row in session.execute(query)]

    def _select_autocommit(self, engine: Any, originator_id: Any, gt: int | None, lte: int | None, desc: bool,
                           limit: int | None) -> list[StoredEvent]:
        """``select_events`` outside any transaction: the statement alone on a pooled connection in
        autocommit, one round trip where a session's read makes three (BEGIN, the query, ROLLBACK).
        A single statement sees every event committed before it, as the session's first statement did;
        inside an open transaction the session path is kept, so that transaction's own view is read."""
        table = self.events_record_cls.__table__
        name = f"{self.schema_name}.{table.name}" if self.schema_name else table.name
        sql = f"SELECT originator_version, topic, state FROM {name} WHERE originator_id = %s::uuid"
        parameters: list[Any] = [str(originator_id)]
        if gt is not None:
            sql += " AND originator_version > %s"
            parameters.append(gt)
        if lte is not None:
            sql += " AND originator_version <= %s"
            parameters.append(lte)
        sql += " ORDER BY originator_version DESC" if desc else " ORDER BY originator_version"
        if limit is not None:
            sql += " LIMIT %s"
            parameters.append(limit)
        try:  # a driver's error (also a refused connect) raised as the session path raises it: retryable
            connection = engine.raw_connection()
            try:
                driver = connection.driver_connection
                driver.autocommit = True  # psycopg2 sends nothing for this: no BEGIN, so no ROLLBACK either
                try:
                    with driver.cursor() as cursor:
                        cursor.execute(sql, parameters)
                        rows = cursor.fetchall()
                finally:
                    driver.autocommit = False
            finally:
                connection.close()  # the pool's reset rollback: nothing is open, so psycopg2 sends nothing
        except engine.dialect.dbapi.Error as error:
            raise _persistence_error(engine.dialect.dbapi, error) from error
        originator = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
        return [StoredEvent(originator_id=originator, originator_version=version, topic=topic, state=bytes(state))
                for version, topic, state in rows]

    def _notify_channel(self, session: Session) -> None:
        # The library sends a NOTIFY after every insert, one more round trip in each write; followers are
        # woken in process, or by one NOTIFY for a moment's saves (shared/follow.py), and otherwise poll.
        return

    def _insert_stored_events(self, session: Session, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> Sequence[int]:
        # The parent locks the events table and flushes, so the ids are drawn and every
        # lower row is committed (or rolled back) before the previous link is read.
        if self.link_key is None:
            raise ChainConfigError("opened to create tables only (no chain key): storing events is refused")
        key_rows = kwargs.pop("key_rows", None) or []
        if not stored_events:
            return []
        if session.get_bind().dialect.name == "postgresql":
            ids, newest = self._insert_postgresql(session, stored_events, key_rows)
        else:
            ids = super()._insert_stored_events(session, stored_events, **kwargs)
            newest = session.execute(
                select(self.links.c.notification_id, self.links.c.link)
                .where(self.links.c.notification_id < min(ids))
                .order_by(self.links.c.notification_id.desc()).limit(1)
            ).first()
        previous_id, previous = (newest[0], bytes(newest[1])) if newest else (0, START)
        rows = []
        for notification_id, stored in sorted(zip(ids, stored_events, strict=True), key=lambda pair: pair[0]):
            value = compute_link(self.link_key, previous, previous_id, notification_id, stored.originator_id,
                                 stored.originator_version, stored.topic, stored.state)
            rows.append({"notification_id": notification_id, "previous_id": previous_id, "link": value})
            previous_id, previous = notification_id, value
        session.execute(insert(self.links), rows)
        return ids


    def _insert_postgresql(self, session: Session, stored_events: Sequence[StoredEvent],
                           key_rows: Sequence[Any] = ()) -> tuple[list[int], Any]:
        """The lock, the rows' insert, the commands' new person keys (``key_rows``) and the read of the
        newest link in one round trip (the library's path makes three, plus its ORM's work per row, and
        each key was its own transaction): ``(ids in the order of stored_events, (id, link) of the newest
        linked row, or None)``. The link is read by a statement after the lock, so every lower id is
        committed or rolled back, as the general path reads it. A key another writer stored first (or
        an erased person's tombstone) raises KeyRaced: nothing is stored and the command runs again."""
        events = self.events_record_cls.__table__
        name = f"{self.schema_name}.{events.name}" if self.schema_name else events.name
        links = f"{self.schema_name}.{self.links.name}" if self.schema_name else self.links.name
        keys, made = "", "NULL::text[]"
        parameters: tuple = ([str(e.originator_id) for e in stored_events],
                             [e.originator_version for e in stored_events],
                             [e.topic for e in stored_events], [e.state for e in stored_events])
        if key_rows:
            keys = (f", keys AS (INSERT INTO {person_keys.name} (person_id, wrapped_key, created_at) "
                    "SELECT * FROM unnest(%s::text[], %s::bytea[], %s::timestamptz[]) "
                    "ON CONFLICT (person_id) DO NOTHING RETURNING person_id) ")
            made = "(SELECT array_agg(person_id) FROM keys)"
            parameters += ([k.person_id for k in key_rows], [k.wrapped_key for k in key_rows],
                           [k.created_at for k in key_rows])
        result = session.connection().exec_driver_sql(
            f"LOCK TABLE {name} IN EXCLUSIVE MODE; "
            f"WITH new AS (INSERT INTO {name} (originator_id, originator_version, topic, state) "
            "SELECT o, v, t, s FROM unnest(%s::uuid[], %s::int[], %s::text[], %s::bytea[]) "
            f"WITH ORDINALITY AS r(o, v, t, s, n) ORDER BY n RETURNING id, originator_id, originator_version) {keys}"
            f"SELECT new.id, new.originator_id, new.originator_version, last.notification_id, last.link, {made} "
            f"FROM new LEFT JOIN (SELECT notification_id, link FROM {links} ORDER BY notification_id DESC LIMIT 1) "
            "AS last ON true",
            parameters,
        ).all()
        if key_rows:
            stored = set(result[0][5] or ())
            lost = [key for key in key_rows if key.person_id not in stored]
            for key in lost:
                key.lost()
            if lost:
                raise KeyRaced(lost[0].person_id)
        # Matched by (originator, version), unique in the table, not by the order rows come back in.
        by_key = {(str(row[1]), row[2]): row[0] for row in result}
        ids = [by_key[(str(e.originator_id), e.originator_version)] for e in stored_events]
        newest = (result[0][3], result[0][4]) if result[0][3] is not None else None
        return ids, newest


def linked_recorder(factory: Any, service: str, encoded_key: str | None) -> LinkedProcessRecorder:
    """What ``factory.process_recorder()`` builds, plus the links table (same names, same datastore)."""
    prefix = factory.env.name.lower()
    recorder = LinkedProcessRecorder(
        factory.datastore,
        events_table_name=f"{prefix}_events",
        tracking_table_name=f"{prefix}_tracking",
        link_key=None if _TABLES_ONLY.get() else configured_link_key(service, encoded_key),
        schema_name=factory.env.get(factory.SQLALCHEMY_SCHEMA),
    )
    if factory.env_create_table():
        recorder.create_table()
    return recorder


@dataclass(frozen=True)
class LinkFinding:
    kind: str  # inserted | altered | missing
    notification_id: int
    detail: str


class LinkCheck:
    """Follows the links row by row, in notification-id order, as the verifier reads the log."""

    def __init__(self, key: bytes):
        self.key = key
        self.previous_id = 0
        self.previous = START
        self.linked = False  # a linked row seen: every later row must be linked too

    def check(
        self,
        notification_id: int,
        originator_id: Any,
        version: int,
        topic: str,
        state: bytes,
        previous_id: int | None,
        stored: bytes | None,
        anchored: bool = False,
    ) -> LinkFinding | None:
        """``anchored``: a signed checkpoint vouches for this row (the verifier then compares it)."""
        if stored is None:
            if anchored and not self.linked:
                return None  # stored before links existed and checkpointed since: the checkpoint proves it
            return LinkFinding(
                "inserted", notification_id, f"record {notification_id} has no chain link: the service did not write it"
            )
        self.linked = True
        if previous_id != self.previous_id and self.previous_id < previous_id < notification_id:
            return LinkFinding(
                "missing", previous_id, f"record {previous_id} was stored before record {notification_id} and is gone"
            )
        expected = compute_link(
            self.key, self.previous, self.previous_id, notification_id, originator_id, version, topic, bytes(state)
        )
        if previous_id != self.previous_id or not hmac.compare_digest(expected, bytes(stored)):
            return LinkFinding(
                "altered",
                notification_id,
                f"record {notification_id} does not match its chain link "
                "(changed bytes or order, or a link not made by the service)",
            )
        self.previous_id, self.previous = notification_id, expected
        return None
