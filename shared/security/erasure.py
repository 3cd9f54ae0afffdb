"""Erasure (PIPL Art. 47) as every service records it: destroy a subject's key, then
store one ``ErasureRecord`` per subject, with no personal data in it.

A key *subject* is a person id, or a record's free text keyed ``<kind>.<record id>``
(``record_subject``). A service declares its subjects (the prefixes it reserves for
records' text) and, once its own checks have passed, inside the command::

    records = self.shred(erase, [record_subject("risk", risk.id)], kind="risk",
                         record_id=str(risk.id), places=[risk.jurisdiction], reason=command.reason.value)
    return [*records], {...}

Keys go first: if the records then fail to save, a retry erases again (harmless)
and records it; the other order could leave a recorded erasure over readable data.
Who erased and when are in each record's audit stamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from shared.eventstore import AuditedAggregate, stable_id

from .sealing import Erase


def record_subject(kind: str, record_id: UUID | str) -> str:
    """The key subject under which a record's free text is sealed, e.g. ``event.<uuid>``."""
    return f"{kind}.{record_id}"


def reserved_prefixes(*kinds: str) -> tuple[str, ...]:
    """The subject prefixes a service keeps for records' text; person ids may not start with them."""
    return tuple(f"{kind}." for kind in kinds)


class ErasureRecord(AuditedAggregate):
    """One subject's personal data erased (its key destroyed). Made once per subject."""

    @staticmethod
    def create_id(subject: str) -> UUID:
        return stable_id("erasure", subject)

    @event("Recorded")
    def __init__(self, subject: str, kind: str, record_id: str | None, places: list[str], reason: str):
        self.subject = subject
        self.kind = kind  # "person", or the kind of record whose text it was ("risk", "party", …)
        self.record_id = record_id
        self.places = list(places)
        self.reason = reason  # a PIPL Art. 47 ground: a code, never free text


class Erasures:
    """Mixed into a service's ``PinganApplication``."""

    def erased_before(self: Any, subject: str) -> bool:
        return bool(self.exists(ErasureRecord.create_id(subject)))

    def shred(self: Any, erase: Erase, subjects: Iterable[str], *, kind: str, record_id: str | None,
              places: Iterable[str], reason: str) -> list[ErasureRecord]:
        """Destroy each subject's key and make its record; a subject recorded before is erased again
        (harmless) but not recorded twice. Call only once every check has passed."""
        records = []
        for subject in subjects:
            erase(subject)
            if not self.erased_before(subject):
                records.append(ErasureRecord(subject=subject, kind=kind, record_id=record_id,
                                             places=sorted(set(places)), reason=reason))
        return records
