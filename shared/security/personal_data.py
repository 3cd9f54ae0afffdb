"""Personal fields encrypted with a per-person key; erasing the person destroys the key.

A service seals each personal field (name, ID number, address, health or
drug-use detail, free text about a person) *before* it goes into a command
or event::

    name = vault.seal(person_id, "Wu Mei")   # 'pii1:<person_id>:<base64>'
    ...
    vault.open(row["name"])                  # 'Wu Mei', or '[erased]' once the person is erased

Inside a command (``PinganApplication.execute``) a new person's key row is
written only once the command has passed every check (``keys_on_commit``):
a refused command leaves no row in ``pingan_person_keys``. When the key table
and the event log share a PostgreSQL database, the row is written in the
transaction that stores the command's events (``held_key_rows``); a subject
the command has just made (``sealing.made_here``) is not looked up first.

Events, snapshots, read models and published messages carry only sealed
values, so replay and projections work unchanged and erasure reaches all of
them at once: ``vault.erase(person_id)`` drops the person's key (a PIPL
deletion when retention ends); the stored bytes do not change, so the hash
chain still verifies. The service records its own ``Erased`` event (no
personal data in it) for the record.

Keys are AES-256-GCM, one per person, wrapped by a master key from
PINGAN_PERSONAL_DATA_KEY, kept in ``pingan_person_keys`` in the service's
database. An erased person keeps a tombstone, so nothing can be sealed for
them again by mistake. No key is cached: another replica's erasure takes
effect on the next read.
"""

from __future__ import annotations

import base64
import contextvars
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from shared.errors import Conflict, PinganError

from .sealing import PREFIX, check_person_id, collecting_made_subjects, is_sealed, made_here_now, sealed_under

ERASED = "[erased]"

metadata = MetaData()
person_keys = Table(
    "pingan_person_keys",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=True),  # NULL once erased
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)


class PersonalDataUnavailable(PinganError):
    """No usable master key, or a sealed value that does not decrypt (damaged or forged)."""

    code = "personal_data_unavailable"


def generate_master_key() -> str:
    return base64.b64encode(AESGCM.generate_key(256)).decode()


def load_master_key(encoded: str | None, data_dir: Path | None = None) -> bytes:
    """The configured master key; the embedded default keeps a generated one under the data folder."""
    if not encoded and data_dir is not None:
        from shared.config import generated_secret

        encoded = generated_secret(Path(data_dir) / "personal-data.key", generate_master_key)
    if not encoded:
        raise PersonalDataUnavailable("no personal-data master key: set PINGAN_PERSONAL_DATA_KEY")
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise PersonalDataUnavailable("PINGAN_PERSONAL_DATA_KEY is not base64 of 32 bytes")
    return key


class KeyRaced(Exception):
    """Another writer created a key this command meant to create: the command is run again."""


@dataclass(frozen=True)
class HeldKey:
    """A new key's row, held until the command that made it is stored."""

    vault: PersonalData
    person_id: str
    wrapped_key: bytes
    created_at: datetime

    def lost(self) -> None:
        """Another writer stored a key (or a tombstone) for this person first: the next try looks it up."""
        self.vault._raced.add(self.person_id)


class _PendingKeys:
    """Keys made while a command runs, written to the key table only when it has passed every check."""

    def __init__(self) -> None:
        self.keys: dict[tuple[int, str], tuple[PersonalData, bytes, bytes]] = {}
        self.ready = False  # set once every check has passed: only then may the event store take the rows

    def commit(self, leave: Callable[[PersonalData], bool] | None = None) -> None:
        """Write the held rows, each in its own transaction, but those of a vault ``leave`` keeps for the
        transaction that stores the command's events (taken there by ``held_key_rows``)."""
        for key, (vault, _data_key, wrapped) in list(self.keys.items()):
            if leave is not None and leave(vault):
                continue
            if not vault._insert(person_id=key[1], wrapped_key=wrapped, created_at=datetime.now(UTC)):
                # Values were sealed with a key that lost the race: seal them again with the winner's.
                vault._raced.add(key[1])
                raise KeyRaced(key[1])
            del self.keys[key]
        self.ready = True

    def take(self, engine: Engine) -> list[HeldKey]:
        """The held rows of vaults in ``engine``'s database, handed over (once) to be written there."""
        if not self.ready:
            return []
        now = datetime.now(UTC)
        taken = []
        for key, (vault, _data_key, wrapped) in list(self.keys.items()):
            if vault.shares_database(engine):
                taken.append(HeldKey(vault, key[1], wrapped, now))
                del self.keys[key]
        return taken


_pending: contextvars.ContextVar[_PendingKeys | None] = contextvars.ContextVar("pingan_pending_keys", default=None)


def held_key_rows(engine: Engine) -> list[HeldKey]:
    """The running command's new key rows for ``engine``'s database, once it has passed every check:
    the event store writes them in the transaction that stores the command's events."""
    pending = _pending.get()
    return pending.take(engine) if pending is not None else []


@contextmanager
def keys_on_commit() -> Iterator[_PendingKeys]:
    """Hold back the key rows of new subjects sealed in this block until ``commit()``; dropped otherwise."""
    pending = _pending.set(_PendingKeys())
    try:
        with collecting_made_subjects():
            yield cast(_PendingKeys, _pending.get())
    finally:
        _pending.reset(pending)


class PersonalData:
    # Keys used to seal stay in memory this long, so a command sealing several fields
    # of one record looks its key up once. Only sealing uses them: a key erased by
    # another process meanwhile seals data that is already unreadable, while reads
    # (open) always ask the key table, so erasure shows everywhere at once.
    SEALING_KEY_SECONDS = 2.0

    def __init__(self, engine: Engine, master_key: bytes):
        self.engine = engine
        self._master = AESGCM(master_key)
        self._sealing_keys: dict[str, tuple[bytes, float]] = {}
        # Subjects whose key a command meant to make was made first by another writer (or erased):
        # looked up on the next try even if the command has just made them.
        self._raced: set[str] = set()

    def shares_database(self, engine: Engine) -> bool:
        """Whether the key table lives in ``engine``'s PostgreSQL database (a key row can then be written
        in the transaction that stores the events sealed with it)."""
        return engine.dialect.name == "postgresql" and self.engine.dialect.name == "postgresql" and \
            self.engine.url.render_as_string(hide_password=False) == engine.url.render_as_string(hide_password=False)

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    # -- keys ------------------------------------------------------------------

    def _aad(self, person_id: str) -> bytes:
        return f"pingan-person:{person_id}".encode()

    def _row(self, person_id: str):
        with self.engine.connect() as conn:
            return conn.execute(select(person_keys).where(person_keys.c.person_id == person_id)).first()

    def _insert(self, **values) -> bool:
        """Insert a key row in its own transaction; False if the person already has one."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(person_keys).values(person_id=values.pop("person_id"), **values))
        except IntegrityError:
            return False
        return True

    def _key(self, person_id: str, create: bool) -> bytes | None:
        pending = _pending.get()
        # Inside a command the new key's row waits for the command's checks (keys_on_commit), so
        # the one-statement create-or-read serves only sealing outside a command.
        if create and pending is None and self.engine.dialect.name == "postgresql":
            return self._create_or_read_key(person_id)
        if create and pending is not None and (id(self), person_id) in pending.keys:
            return pending.keys[(id(self), person_id)][1]  # made earlier in this command: no look-up again
        if create and pending is not None and made_here_now(person_id) and person_id not in self._raced:
            row = None  # a subject this command has just made has no key yet (if it had, the insert says so)
        else:
            self._raced.discard(person_id)
            row = self._row(person_id)
        if row is None and create and pending is not None:
            held = pending.keys.get((id(self), person_id))
            if held is None:
                held = (self, *self._new_key(person_id))
                pending.keys[(id(self), person_id)] = held
            return held[1]
        if row is None and create:
            data_key, wrapped = self._new_key(person_id)
            if self._insert(person_id=person_id, wrapped_key=wrapped, created_at=datetime.now(UTC)):
                return data_key
            row = self._row(person_id)  # another writer created it first: use theirs
        if row is None or row.wrapped_key is None:
            return None
        return self._unwrap(person_id, bytes(row.wrapped_key))

    def _create_or_read_key(self, person_id: str) -> bytes | None:
        """The person's key, made if they have none, in one statement (a command sealing a new
        record's text otherwise pays a look-up and an insert, each its own round trip)."""
        nonce = os.urandom(12)
        wrapped = nonce + self._master.encrypt(nonce, AESGCM.generate_key(256), self._aad(person_id))
        made = pg_insert(person_keys).values(
            person_id=person_id, wrapped_key=wrapped, created_at=datetime.now(UTC),
        ).on_conflict_do_nothing(index_elements=[person_keys.c.person_id]).returning(person_keys.c.wrapped_key)
        with self.engine.begin() as conn:
            found = conn.execute(made).first()
            if found is None:  # the person has a key, or a tombstone (erased): theirs, read after the insert waited
                found = conn.execute(select(person_keys.c.wrapped_key)
                                     .where(person_keys.c.person_id == person_id)).first()
        if found is None or found.wrapped_key is None:
            return None
        return self._unwrap(person_id, bytes(found.wrapped_key))

    def _new_key(self, person_id: str) -> tuple[bytes, bytes]:
        data_key = AESGCM.generate_key(256)
        nonce = os.urandom(12)
        return data_key, nonce + self._master.encrypt(nonce, data_key, self._aad(person_id))

    # -- fields ------------------------------------------------------------------

    @overload
    def seal(self, person_id: str, value: str) -> str: ...
    @overload
    def seal(self, person_id: str, value: None) -> None: ...
    @overload
    def seal(self, person_id: str, value: str | None) -> str | None: ...

    def seal(self, person_id: str, value: str | None) -> str | None:
        if value is None:
            return None
        check_person_id(person_id)
        key = self._sealing_key(person_id)
        if key is None:
            raise Conflict(f"person {person_id} has been erased; nothing more is stored about them")
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(key).encrypt(nonce, value.encode(), self._aad(person_id))
        return f"{PREFIX}:{person_id}:{base64.b64encode(sealed).decode()}"

    def _sealing_key(self, person_id: str) -> bytes | None:
        now = time.monotonic()
        cached = self._sealing_keys.get(person_id)
        if cached is not None and now - cached[1] < self.SEALING_KEY_SECONDS:
            return cached[0]
        key = self._key(person_id, create=True)
        if len(self._sealing_keys) > 1024:
            self._sealing_keys = {p: v for p, v in self._sealing_keys.items() if now - v[1] < self.SEALING_KEY_SECONDS}
        held = _pending.get()
        if key is not None and not (held and (id(self), person_id) in held.keys):  # cache only stored keys
            self._sealing_keys[person_id] = (key, now)
        return key

    def open(self, value: str | None) -> str | None:
        """The plaintext of a sealed value, ERASED once its person is erased; other values pass through."""
        return self._open(value, None)

    def _open(self, value: str | None, keys: dict[str, bytes | None] | None) -> str | None:
        if not is_sealed(value):
            return value
        try:
            person_id = sealed_under(value)
            sealed = base64.b64decode(value.split(":", 2)[2], validate=True)
        except (ValueError, IndexError):
            raise PersonalDataUnavailable("a sealed personal field is malformed") from None
        key = keys[person_id] if keys is not None and person_id in keys else self._key(person_id, create=False)
        if key is None:
            return ERASED
        try:
            return AESGCM(key).decrypt(sealed[:12], sealed[12:], self._aad(person_id)).decode()
        except InvalidTag:
            raise PersonalDataUnavailable("a sealed personal field does not decrypt (damaged or forged)") from None

    def open_fields(self, record: dict, fields: tuple[str, ...]) -> dict:
        return self.open_many([record], fields)[0]

    def open_many(self, records: list[dict], fields: tuple[str, ...],
                  keys: dict[str, bytes | None] | None = None) -> list[dict]:
        """``records`` with ``fields`` opened, all their persons' keys read in one query (a page of a listing),
        or taken from ``keys`` (``keys_of``, read with the page)."""
        if keys is None:
            keys = self.keys_of(records, fields)
        return [{**record, **{name: self._open(record.get(name), keys) for name in fields if name in record}}
                for record in records]

    def keys_of(self, records: list[dict], fields: tuple[str, ...], conn: Connection | None = None,
                ) -> dict[str, bytes | None]:
        """The keys that open ``fields`` of ``records``, read in one query; on ``conn`` if it is a
        connection to the key table's database (a page's keys read with the page: no connection of
        their own)."""
        people = {value.split(":", 2)[1] for record in records for name in fields
                  if is_sealed(value := record.get(name)) and value.count(":") >= 2}
        return self._keys(people, conn if conn is not None and self.shares_database(conn.engine) else None)

    def _keys(self, people: set[str], conn: Connection | None = None) -> dict[str, bytes | None]:
        """The unwrapped keys of ``people`` (None for an erased or unknown person), read in one query."""
        if not people:
            return {}
        query = select(person_keys.c.person_id, person_keys.c.wrapped_key) \
            .where(person_keys.c.person_id.in_(sorted(people)))
        if conn is not None:
            # A page's fifty subjects as one array parameter, on the driver's cursor: SQLAlchemy's expanding
            # IN builds the statement again on every call.
            rows = conn.exec_driver_sql(f"SELECT person_id, wrapped_key FROM {person_keys.name} "
                                        "WHERE person_id = ANY(%s)", (sorted(people),)).all()
        else:
            with self.engine.connect() as own:
                rows = own.execute(query).all()
        keys: dict[str, bytes | None] = dict.fromkeys(people)
        for person_id, wrapped in rows:
            keys[person_id] = None if wrapped is None else self._unwrap(person_id, bytes(wrapped))
        return keys

    def _unwrap(self, person_id: str, wrapped: bytes) -> bytes:
        try:
            return self._master.decrypt(wrapped[:12], wrapped[12:], self._aad(person_id))
        except InvalidTag:
            raise PersonalDataUnavailable("a person key does not unwrap with the configured master key") from None

    def erase(self, person_id: str) -> bool:
        """Destroy the person's key (leaving a tombstone); True if there was one to destroy."""
        check_person_id(person_id)
        self._sealing_keys.pop(person_id, None)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(person_keys)
                .where(person_keys.c.person_id == person_id, person_keys.c.wrapped_key.is_not(None))
                .values(wrapped_key=None, erased_at=now)
            ).rowcount
        if not done:  # never sealed anything, or already erased: leave a tombstone either way
            self._insert(person_id=person_id, wrapped_key=None, created_at=now, erased_at=now)
        return bool(done)

    def erased(self, person_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(person_keys.c.erased_at).where(person_keys.c.person_id == person_id)).first()
        return row is not None and row.erased_at is not None


def cipher_env(cipher_key: str | None) -> dict[str, str]:
    """eventsourcing's whole-state cipher (AES-GCM over each stored event), when a key is configured.

    It combines with sealed fields: the state is encrypted as a whole (the
    database and its dumps show nothing), sealed fields inside it stay sealed
    per person, so erasure still works; the chain hashes the outer bytes.
    """
    if not cipher_key:
        return {}
    return {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": cipher_key}
