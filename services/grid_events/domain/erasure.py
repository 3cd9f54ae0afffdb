"""Erasure of personal data (PIPL Art. 47): the record that it happened.

The vault destroys the key of a *subject*; this aggregate records, once per
subject, that it was done, by whom (the audit stamp), on what ground, and for
which places, and holds no personal data itself. Subjects are either a person
id (a township's responsible person, a contact point, a risk's responsible
person, a household) or a record's free text, keyed ``<kind>.<record id>``:
``event.<uuid>`` (place, description, handling note, feedback, checklist tick
notes of a reported event), ``risk.<uuid>`` (place, description, measures,
re-inspection and defuse notes, feedback of a risk), ``item.<uuid>`` (a work
item's title, completion notes, cancel reason), ``decision.<uuid>`` (a major
decision's title, summary, assessment findings and measures, rejection
reasons), ``family.<uuid>`` (a family assessment's findings and measures,
sealed inside the household's key as well), ``participant.<uuid>`` (an
organisation's recognition notes; a volunteer's name and notes use a
``volunteer.<hex>`` subject). A record's facts (category, source, status,
dates) are not sealed and stay.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from shared.eventstore import AuditedAggregate, stable_id

# Key subjects of records' free text; person ids may not start with these.
EVENT_TEXT, RISK_TEXT, ITEM_TEXT, VOLUNTEER = "event", "risk", "item", "volunteer"
DECISION_TEXT, FAMILY_TEXT, PARTICIPANT_TEXT = "decision", "family", "participant"
RESERVED_PREFIXES = tuple(f"{kind}." for kind in (
    EVENT_TEXT, RISK_TEXT, ITEM_TEXT, VOLUNTEER, DECISION_TEXT, FAMILY_TEXT, PARTICIPANT_TEXT))


def record_subject(kind: str, record_id: UUID | str) -> str:
    """The key subject under which a record's free text is sealed, e.g. ``event.<uuid>``."""
    return f"{kind}.{record_id}"


def is_reserved_subject(person_id: str) -> bool:
    return person_id.startswith(RESERVED_PREFIXES)


class Erasure(AuditedAggregate):
    """One subject's personal data erased (its key destroyed). Made once per subject."""

    @staticmethod
    def create_id(subject: str) -> UUID:
        return stable_id("erasure", subject)

    @event("Recorded")
    def __init__(self, subject: str, kind: str, record_id: str | None, places: list[str], reason: str):
        self.subject = subject
        # "person" or the record kind: "event report", "risk", "work item", "volunteer",
        # "participant" (an organisation's notes), "major decision", "family assessment"
        self.kind = kind
        self.record_id = record_id
        self.places = list(places)
        self.reason = reason
