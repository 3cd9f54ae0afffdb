"""Erasure of personal data (PIPL Art. 47): the record that it happened.

The vault destroys the key of a *subject*; this aggregate records, once per
subject, that it was done, by whom (the audit stamp), on what ground, and for
which places, and holds no personal data itself. Subjects are either a person
id (a township's responsible person, a contact point, a risk's responsible
person, a household) or a record's free text, keyed ``<kind>.<record id>``:
``event.<uuid>`` (place, description, handling note, feedback of a reported
event), ``risk.<uuid>`` (place, description of a risk), ``item.<uuid>`` (a
work item's title). A record's facts (category, source, status, dates) are
not sealed and stay.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from shared.eventstore import AuditedAggregate, stable_id

# Key subjects of records' free text; person ids may not start with these.
EVENT_TEXT, RISK_TEXT, ITEM_TEXT, VOLUNTEER = "event", "risk", "item", "volunteer"
RESERVED_PREFIXES = tuple(f"{kind}." for kind in (EVENT_TEXT, RISK_TEXT, ITEM_TEXT, VOLUNTEER))


def record_subject(kind: str, record_id: UUID | str) -> str:
    """The key subject under which a record's free text is sealed, e.g. ``event.<uuid>``."""
    return f"{kind}.{record_id}"


def is_reserved_subject(person_id: str) -> bool:
    return person_id.startswith(RESERVED_PREFIXES)


class ErasureReason(StrEnum):
    """The lawful ground of an erasure; a fixed list, so the record of it holds no free text."""

    RETENTION_ENDED = "retention_ended"
    PURPOSE_ACHIEVED = "purpose_achieved"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    SUBJECT_REQUEST = "subject_request"
    UNLAWFUL_PROCESSING = "unlawful_processing"


class Erasure(AuditedAggregate):
    """One subject's personal data erased (its key destroyed). Made once per subject."""

    @staticmethod
    def create_id(subject: str) -> UUID:
        return stable_id("erasure", subject)

    @event("Recorded")
    def __init__(self, subject: str, kind: str, record_id: str | None, places: list[str], reason: str):
        self.subject = subject
        self.kind = kind  # "person" or the record kind: "event report", "risk", "work item"
        self.record_id = record_id
        self.places = list(places)
        self.reason = reason
