"""Checks a service's stored events against its signed checkpoints.

First the checkpoints themselves: each signature, their sequence, and each
segment against the digest its checkpoint signed. Then the rows, merged in
notification-id order with the checkpointed (id, chain hash) entries; the
first difference is the finding, named by notification id:

- ``altered``: the row's bytes (or its place in the chain) changed
- ``missing``: a checkpointed row is gone (deleted, truncated)
- ``inserted``: a row inside the checkpointed range that was never checkpointed
- ``bad_checkpoint``: a checkpoint or segment fails its signature; every
  record from the segment's first id on is unproven

Every row must also carry the chain link its service wrote with it
(``links.py``, a MAC keyed outside the database): a row the database alone
wrote, changed, moved or removed is named at once, checkpointed or not
(``inserted``, ``altered``, ``missing``). Rows after the last checkpoint are
reported as ``unanchored``: linked, but no signed checkpoint covers them yet.
Gaps in ids are normal (a rolled-back insert spends a sequence value) and no
alarm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .chain import Checkpoint, CheckpointStore, EventRows, genesis, link, segment_entries
from .links import LinkCheck, configured_link_key
from .settings import load_security_settings

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Finding:
    kind: str  # altered | missing | inserted | bad_checkpoint
    notification_id: int | None
    detail: str


@dataclass
class Report:
    service: str
    checked: int = 0  # rows read and chained
    anchored: int = 0  # rows proven by a signed checkpoint
    unanchored: int = 0  # rows after the last checkpoint
    checkpoints: int = 0
    last_id: int = 0  # the newest row checked: a checkpoint signs no further
    finding: Finding | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.finding is None


def _check_checkpoints(
    store: CheckpointStore, public_key: Ed25519PublicKey, report: Report
) -> list[tuple[Checkpoint, bytes]]:
    """The checkpoints whose signatures and segments hold, up to the first that does not."""
    trusted: list[tuple[Checkpoint, bytes]] = []
    previous: Checkpoint | None = None
    for checkpoint in store.checkpoints():
        segment = store.read_segment(checkpoint.seq)
        first_unproven = (
            checkpoint.first_id if checkpoint.first_id is not None else (previous.last_id + 1 if previous else 1)
        )
        problem = None
        if checkpoint.service != store.service:
            problem = f"checkpoint {checkpoint.seq} names service {checkpoint.service!r}"
        elif not checkpoint.signature_ok(public_key):
            problem = f"checkpoint {checkpoint.seq} has an invalid signature (forged or re-signed without the key)"
        elif checkpoint.seq != (previous.seq + 1 if previous else 1):
            problem = f"checkpoint {checkpoint.seq} is out of sequence"
        elif hashlib.sha256(segment).hexdigest() != checkpoint.segment_sha256:
            problem = f"segment {checkpoint.seq} does not match its signed digest"
        elif segment and segment[-32:].hex() != checkpoint.head:
            problem = f"segment {checkpoint.seq} does not end on its signed head"
        if problem:
            report.finding = Finding(
                "bad_checkpoint", first_unproven, problem + f"; records from {first_unproven} on are unproven"
            )
            break
        trusted.append((checkpoint, segment))
        previous = checkpoint
    report.checkpoints = len(trusted)
    return trusted


def verify(
    rows: EventRows,
    store: CheckpointStore,
    public_key: Ed25519PublicKey,
    link_key: bytes | None = None,
    progress: Progress | None = None,
    progress_every: int = 2000,
) -> Report:
    """Verify the whole log; stops at the first bad record.

    ``link_key``: the service's (``links.service_key``); by default the one
    ``PINGAN_CHAIN_KEY`` gives, and without a key verification is refused.
    """
    if link_key is None:
        link_key = configured_link_key(store.service, load_security_settings().chain_key, generate=False)
    report = Report(service=store.service)
    trusted = _check_checkpoints(store, public_key, report)
    if report.finding is not None:
        return report

    def expected():
        for _checkpoint, segment in trusted:
            yield from segment_entries(segment)

    def advance(n: int) -> None:
        report.checked = n
        if progress and n % progress_every == 0:
            progress(n)

    anchors = expected()
    want = next(anchors, None)
    head = genesis(store.service)
    n = 0
    links = LinkCheck(link_key)
    for notification_id, originator_id, version, topic, state, previous_id, stored_link in rows.linked_rows():
        if want is not None and notification_id > want[0]:
            report.finding = Finding("missing", want[0], f"record {want[0]} was checkpointed but is no longer stored")
            break
        bad_link = links.check(
            notification_id, originator_id, version, topic, state, previous_id, stored_link, anchored=want is not None
        )
        if bad_link is not None:
            report.finding = Finding(bad_link.kind, bad_link.notification_id, bad_link.detail)
            break
        report.last_id = notification_id
        head = link(head, notification_id, originator_id, version, topic, state)
        n += 1
        if want is None:
            report.unanchored += 1
        elif notification_id < want[0]:
            report.finding = Finding(
                "inserted",
                notification_id,
                f"record {notification_id} lies inside the checkpointed log but was never checkpointed",
            )
            break
        elif head != want[1]:
            report.finding = Finding(
                "altered",
                notification_id,
                f"record {notification_id} differs from what was checkpointed (changed bytes or order)",
            )
            break
        else:
            report.anchored += 1
            want = next(anchors, None)
        advance(n)
    report.checked = n
    if report.finding is None and want is not None:
        report.finding = Finding("missing", want[0], f"record {want[0]} was checkpointed but the log ends before it")
    if progress:
        progress(n)
    return report
