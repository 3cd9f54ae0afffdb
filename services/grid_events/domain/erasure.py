"""Erasure of personal data (PIPL Art. 47): grid_events' key subjects.

The vault destroys the key of a *subject*; the kernel's ``ErasureRecord``
(shared/security/erasure.py) records, once per subject, that it was done, by
whom (the audit stamp), on what ground, and for which places, and holds no
personal data itself. Subjects are either a person
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

from shared.erasure import ErasureReason
from shared.security.erasure import ErasureRecord, record_subject, reserved_prefixes

# Key subjects of records' free text; person ids may not start with these.
EVENT_TEXT, RISK_TEXT, ITEM_TEXT, VOLUNTEER = "event", "risk", "item", "volunteer"
DECISION_TEXT, FAMILY_TEXT, PARTICIPANT_TEXT = "decision", "family", "participant"
RESERVED_PREFIXES = reserved_prefixes(EVENT_TEXT, RISK_TEXT, ITEM_TEXT, VOLUNTEER, DECISION_TEXT, FAMILY_TEXT,
                                      PARTICIPANT_TEXT)
# Events stored before the kernel kept the record name ``services.grid_events.domain.erasure:Erasure``
# (and ``services.grid_events.domain:Erasure``) as their topic; the name keeps them resolving.
Erasure = ErasureRecord

__all__ = ["Erasure", "ErasureReason", "RESERVED_PREFIXES", "is_reserved_subject", "record_subject"]


def is_reserved_subject(person_id: str) -> bool:
    return person_id.startswith(RESERVED_PREFIXES)

