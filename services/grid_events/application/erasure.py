"""Erasure (PIPL Art. 47): a person's key or a record's text key destroyed, and recorded."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.access import authorize
from shared.commands import Commands, require_role
from shared.context import Role
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.eventstore import Call
from shared.jurisdiction import PREFECTURE
from shared.security.erasure import Erasures
from shared.security.sealing import is_sealed

from .. import contracts as c
from ..domain import (
    DECISION_TEXT,
    EVENT_TEXT,
    FAMILY_TEXT,
    ITEM_TEXT,
    RISK_TEXT,
    EventReport,
    FamilySafetyAssessment,
    MajorDecision,
    Participant,
    Risk,
    WorkItem,
    record_subject,
)
from .common import ERASERS, Erase, participant_subject, person


class PersonalDataErasure(Commands, Erasures):
    def erase_person(self, call: Call, command: c.ErasePerson, places: list[str], erase: Erase) -> dict:
        """Destroy a person's key; ``places`` are where the read models name them.

        The caller must cover every place; a person named nowhere (any more) is
        erased by an admin of the prefecture only. The Erasure event holds the
        person's id (already stored in plain beside the sealed fields), the
        places and the ground, never a name.
        """
        action = "erase a person's personal data"
        require_role(call, action, ERASERS)
        for place in places or [PREFECTURE]:
            authorize(call.caller, action, ERASERS if places else {Role.ADMIN}, place)
        subject = person(command.person_id, recorded=True)
        return self._erase(call, command, subject, "person", None, places, erase)

    def erase_record_personal_data(self, call: Call, command: c.EraseRecordPersonalData, erase: Erase) -> dict:
        """Crypto-shred a record's free text (an event, risk, work item, major decision, family
        assessment; a volunteer's name and notes, an organisation's notes); its facts (category,
        source, status, dates) stay."""
        action = "erase a record's personal data"
        require_role(call, action, ERASERS)
        record, kind, subject = self._record_with_text(command.record_id)
        place = getattr(record, "grid_code", None) or record.jurisdiction
        authorize(call.caller, action, ERASERS, place)
        return self._erase(call, command, subject, kind, str(record.id), [place], erase)

    def _erase(self, call: Call, command: c.ErasePerson | c.EraseRecordPersonalData, subject: str, kind: str,
               record_id: str | None, places: list[str], erase: Erase) -> dict:
        def act():
            if self.erased_before(subject):
                raise Conflict(f"the personal data of {kind} {record_id or subject} is already erased")
            records = self.shred(erase, [subject], kind=kind, record_id=record_id, places=places,
                                 reason=command.reason.value)
            return records, {"erased": kind, "record_id": record_id, "reason": command.reason.value}

        return self.execute(call, act, command.command_id)

    def _record_with_text(self, record_id: UUID) -> tuple[Any, str, str]:
        """The record, its kind, and the key subject its personal text is sealed under."""
        missing = NotFound(f"no event report, risk, work item, major decision, family assessment or participant "
                           f"with id {record_id}")
        try:
            record = self.load(object, record_id, "record")
        except NotFound:
            raise missing from None
        for cls, kind, text in RECORDS_WITH_TEXT:
            if isinstance(record, cls):
                return record, kind, record_subject(text, record_id)
        if not isinstance(record, Participant):
            raise missing
        if not is_sealed(record.name) and not record.recognitions:
            # An organisation's name is not personal; its recognition notes are, once it has some.
            raise ValidationFailed(f"participant {record_id} holds no personal data: not a volunteer, no recognitions")
        return record, "volunteer" if is_sealed(record.name) else "participant", participant_subject(record)


# Records whose free text is sealed under their own key: class, kind (in Erasure events), key prefix.
RECORDS_WITH_TEXT = (
    (EventReport, "event report", EVENT_TEXT),
    (Risk, "risk", RISK_TEXT),
    (WorkItem, "work item", ITEM_TEXT),
    (MajorDecision, "major decision", DECISION_TEXT),
    (FamilySafetyAssessment, "family assessment", FAMILY_TEXT),
)

