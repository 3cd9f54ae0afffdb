"""A hash chain over a service's stored events, and signed checkpoints of it.

The chain runs over the rows exactly as stored (encrypted bytes included), in
notification-id order:

    h_0 = SHA-256("pingan-chain-v1:" || service)
    h_n = SHA-256(h_{n-1} || id || originator_id || version || len(topic) || topic || len(state) || state)

Fields are fixed-width or length-prefixed, so no two different rows hash alike
by shifting bytes between fields.

A checkpoint job extends the chain over the rows stored since the last
checkpoint and writes, outside the database, a *segment* (each row's id and
chain hash) and a checkpoint line signed with Ed25519 over (service, seq,
first/last id, count, head, segment digest, time). Someone who can rewrite
rows, or even the checkpoint directory, cannot make a matching signature
without the private key; the verifier needs only the public key. The
per-row hashes let the verifier name the exact first bad record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from shared.errors import PinganError, ValidationFailed

_ROW = struct.Struct(">q16sq")  # id, originator id, version
_LEN = struct.Struct(">I")
_SEGMENT_ENTRY = struct.Struct(">q32s")  # id, chain hash after that row


class ChainConfigError(PinganError):
    """Keys or checkpoint files are missing or unusable (not a finding about the log)."""

    code = "chain_config"


def genesis(service: str) -> bytes:
    return hashlib.sha256(f"pingan-chain-v1:{service}".encode()).digest()


def uuid_bytes(value: Any) -> bytes:
    """The 16 bytes of an originator id, however the driver returns it."""
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, (bytes, bytearray, memoryview)) and len(value) == 16:
        return bytes(value)
    return uuid.UUID(str(value)).bytes


def link(previous: bytes, notification_id: int, originator_id: Any, version: int, topic: str, state: Any) -> bytes:
    """The chain hash after one row."""
    topic_bytes = topic.encode()
    digest = hashlib.sha256(previous)
    digest.update(_ROW.pack(notification_id, uuid_bytes(originator_id), version))
    digest.update(_LEN.pack(len(topic_bytes)))
    digest.update(topic_bytes)
    digest.update(_LEN.pack(len(state)))
    digest.update(state)
    return digest.digest()


# -- keys ----------------------------------------------------------------------


def generate_signing_key() -> tuple[str, str]:
    """A new (private, public) pair, each base64 of its 32 raw bytes."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    return base64.b64encode(seed).decode(), base64.b64encode(private.public_key().public_bytes_raw()).decode()


def load_private_key(encoded: str | None) -> Ed25519PrivateKey:
    if not encoded:
        raise ChainConfigError("no checkpoint signing key: set PINGAN_CHECKPOINT_KEY")
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded, validate=True))
    except ValueError:
        raise ChainConfigError("PINGAN_CHECKPOINT_KEY is not base64 of a 32-byte Ed25519 key") from None


def load_public_key(public: str | None, private: str | None = None) -> Ed25519PublicKey:
    if public:
        try:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(public, validate=True))
        except ValueError:
            raise ChainConfigError("PINGAN_CHECKPOINT_PUBLIC_KEY is not base64 of a 32-byte Ed25519 key") from None
    return load_private_key(private).public_key()


def key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:16]


# -- checkpoints -----------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    service: str
    seq: int
    first_id: int | None  # first row in this checkpoint's segment (None: no new rows)
    last_id: int  # last notification id covered by the chain head
    count: int  # rows covered since the start of the log
    head: str  # hex chain hash after last_id
    segment_sha256: str
    created_at: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        fields = asdict(self)
        fields.pop("signature")
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, private_key: Ed25519PrivateKey) -> Checkpoint:
        signature = base64.b64encode(private_key.sign(self.payload())).decode()
        return Checkpoint(**{**asdict(self), "signature": signature})

    def signature_ok(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.signature), self.payload())
        except (InvalidSignature, ValueError):
            return False
        return True


class CheckpointStore:
    """Checkpoints and segments of one service in a directory outside its database.

    ``<dir>/<service>/checkpoints.jsonl`` (one signed line per checkpoint) and
    ``<dir>/<service>/segment-<seq>.bin`` (id and chain hash of each row).
    Deployed, the directory is a volume or a synced object-store prefix with
    retention, written only by the checkpoint job.
    """

    def __init__(self, directory: Path | str, service: str):
        self.service = service
        self.root = Path(directory) / service
        self.index = self.root / "checkpoints.jsonl"

    def checkpoints(self) -> list[Checkpoint]:
        if not self.index.exists():
            return []
        found = []
        for number, line in enumerate(self.index.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found.append(Checkpoint(**json.loads(line)))
            except (TypeError, ValueError):
                raise ChainConfigError(f"checkpoint line {number} of {self.service} is unreadable") from None
        return found

    def segment_path(self, seq: int) -> Path:
        return self.root / f"segment-{seq:08d}.bin"

    def read_segment(self, seq: int) -> bytes:
        path = self.segment_path(seq)
        return path.read_bytes() if path.exists() else b""

    def append(self, checkpoint: Checkpoint, segment: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_durably(self.segment_path(checkpoint.seq), segment, mode="wb")
        _write_durably(self.index, (json.dumps(asdict(checkpoint), sort_keys=True) + "\n").encode(), mode="ab")


def segment_entries(segment: bytes) -> Iterator[tuple[int, bytes]]:
    for offset in range(0, len(segment) - len(segment) % _SEGMENT_ENTRY.size, _SEGMENT_ENTRY.size):
        yield _SEGMENT_ENTRY.unpack_from(segment, offset)


def _write_durably(path: Path, data: bytes, mode: str) -> None:
    with open(path, mode) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


# -- the stored rows ---------------------------------------------------------------


def events_table(service: str) -> str:
    """eventsourcing names the table after the application: ``<name>_events``."""
    if not service.replace("_", "").isalnum():
        raise ValidationFailed(f"{service!r} is not a service name")
    return f"{service.lower()}_events"


class EventRows:
    """Reads a service's stored event rows in notification-id order, streamed."""

    def __init__(self, engine: Engine | str, service: str, batch: int = 5000):
        self.engine = create_engine(engine) if isinstance(engine, str) else engine
        self.table = events_table(service)
        self.batch = batch

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {self.table}")).scalar_one()

    def rows(self, after: int = 0) -> Iterator[tuple[int, Any, int, str, bytes]]:
        """(id, originator_id, version, topic, state) with id > ``after``, from one snapshot."""
        query = text(
            f"SELECT id, originator_id, originator_version, topic, state FROM {self.table} "
            "WHERE id > :after ORDER BY id"
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch).execute(
                query, {"after": after}
            )
            for row in result:
                yield row[0], row[1], row[2], row[3], row[4]

    def linked_rows(self) -> Iterator[tuple[int, Any, int, str, bytes, int | None, bytes | None]]:
        """Every row with its chain link (``links.py``): (..., previous id, link), None where it has none."""
        links = self.table.removesuffix("_events") + "_links"
        query = text(
            f"SELECT e.id, e.originator_id, e.originator_version, e.topic, e.state, l.previous_id, l.link "
            f"FROM {self.table} e LEFT JOIN {links} l ON l.notification_id = e.id ORDER BY e.id"
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch).execute(query)
            for row in result:
                yield row[0], row[1], row[2], row[3], row[4], row[5], None if row[6] is None else bytes(row[6])


# -- writing checkpoints -------------------------------------------------------------


def make_checkpoint(rows: EventRows, store: CheckpointStore, private_key: Ed25519PrivateKey,
                    upto: int | None = None) -> Checkpoint:
    """Extend the chain over rows stored since the last checkpoint (up to id ``upto``) and sign the new head.

    Run it after a successful verify, up to the last id that verify checked (the
    CLI does): it trusts the rows and segment it continues from, and a row
    stored after the verify must not be signed unchecked.
    """
    earlier = store.checkpoints()
    last = earlier[-1] if earlier else None
    head = bytes.fromhex(last.head) if last else genesis(store.service)
    after = last.last_id if last else 0
    count = last.count if last else 0
    segment = bytearray()
    first_id = None
    for notification_id, originator_id, version, topic, state in rows.rows(after=after):
        if upto is not None and notification_id > upto:
            break
        head = link(head, notification_id, originator_id, version, topic, state)
        segment += _SEGMENT_ENTRY.pack(notification_id, head)
        first_id = first_id if first_id is not None else notification_id
        after = notification_id
        count += 1
    checkpoint = Checkpoint(
        service=store.service,
        seq=(last.seq + 1) if last else 1,
        first_id=first_id,
        last_id=after,
        count=count,
        head=head.hex(),
        segment_sha256=hashlib.sha256(bytes(segment)).hexdigest(),
        created_at=datetime.now(UTC).isoformat(),
        key_id=key_id(private_key.public_key()),
    ).signed(private_key)
    store.append(checkpoint, bytes(segment))
    return checkpoint
