"""Mediation application: authorise → get → act → save, one method per command.

Who may handle a case: a mediation role whose jurisdiction covers the unit of
the case's *current* tier — the village (12 digits) at the village tier, its
township (9) at the township tier, its county (6) at the county tier. So a
village mediator cannot act on a case once it has gone up, while a county
officer may act at any tier of a case in the county.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Transcoding

from shared.access import authorize
from shared.context import Role
from shared.contracts import Envelope, tracking_for
from shared.errors import Conflict, Forbidden, ValidationFailed
from shared.eventstore import Call, PinganApplication
from shared.jurisdiction import Level, level_of

from services.grid_events.contracts import EventReported
from services.grid_events.domain import Source as GridSource

from . import contracts as c
from .domain import MediationCase, Source, case_id_for

HANDLERS = {
    Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER,
    Role.VILLAGE_COMMITTEE, Role.MEDIATOR, Role.JUSTICE,
}
INTAKE = HANDLERS | {Role.POLICE}
READERS = HANDLERS | {Role.AUDITOR}
SERVICE_ONLY = {Role.SERVICE}

# grid_events also knows "patrol"; a dispute found on patrol was found by the
# routine risk investigation of Art. 6, so it is governed as a "risk" source.
SOURCE_FROM_GRID = {GridSource.PATROL.value: Source.RISK.value}


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MediationApplication(PinganApplication):
    name = "mediation"  # pins the table names: mediation_events, mediation_tracking

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- intake -------------------------------------------------------------------

    def open_case(self, call: Call, command: c.OpenCase) -> dict:
        authorize(call.caller, "open a mediation case", INTAKE, command.jurisdiction)

        def act():
            if command.grid_event_id and self.exists(case_id_for(command.grid_event_id)):
                raise Conflict(f"grid event {command.grid_event_id} already has a mediation case")
            case = MediationCase(jurisdiction=command.jurisdiction, source=command.source.value,
                                 subject=command.subject, grid_event_id=command.grid_event_id,
                                 reported_source=None)
            party_ids = [case.add_party(**party.model_dump()) for party in command.parties]
            return [case], {**_summary(case), "party_ids": party_ids}

        return self.execute(call, act, command.command_id)

    def open_from_grid_event(self, call: Call, envelope: Envelope, dispute: EventReported) -> None:
        """Consumed from grid_events: a reported dispute becomes a case, once.

        The parties and subject are not on the bus (personal data); a mediator
        adds them by RPC before the first attempt.
        """
        if level_of(dispute.jurisdiction) is not Level.VILLAGE:
            raise ValidationFailed(f"a dispute is mediated from its village; {dispute.jurisdiction} is not a village code")
        authorize(call.caller, "open a case from a grid event", SERVICE_ONLY, dispute.jurisdiction)

        def act():
            if self.exists(case_id_for(dispute.event_id)):
                return [], {}  # opened already by a direct intake for the same grid event
            case = MediationCase(jurisdiction=dispute.jurisdiction,
                                 source=SOURCE_FROM_GRID.get(dispute.source.value, dispute.source.value),
                                 subject=None, grid_event_id=dispute.event_id,
                                 reported_source=dispute.source.value)
            return [case], _summary(case)

        self.execute(call, act, tracking=tracking_for(envelope))

    # -- handling -------------------------------------------------------------------

    def add_party(self, call: Call, command: c.AddParty) -> dict:
        party = command.model_dump(exclude={"case_id", "command_id"})

        def change(case: MediationCase) -> dict:
            return {"party_id": case.add_party(**party)}

        return self._handle(call, command.case_id, command.command_id, "add a party", change)

    def record_subject(self, call: Call, command: c.RecordSubject) -> dict:
        return self._handle(call, command.case_id, command.command_id, "record the subject",
                            lambda case: case.record_subject(command.subject))

    def record_risk_check(self, call: Call, command: c.RecordRiskCheck) -> dict:
        return self._handle(call, command.case_id, command.command_id, "record a risk check",
                            lambda case: case.record_risk_check(command.level.value, command.note))

    def accept_case(self, call: Call, command: c.AcceptCase) -> dict:
        return self._handle(call, command.case_id, command.command_id, "accept a case", lambda case: case.accept())

    def record_attempt(self, call: Call, command: c.RecordAttempt) -> dict:
        attempt = {
            "mode": command.mode.value,
            "mediator_ids": list(command.mediator_ids),
            "place": command.place,
            "on_site": command.on_site,
            "place_code": command.place_code,
            "held_on": command.held_on,
            "outcome": command.outcome.value,
            "interpreters": [i.model_dump() for i in command.interpreters],
        }
        agreement = command.agreement.model_dump() if command.agreement else None
        referral = command.referral.model_dump(mode="json") if command.referral else None
        return self._handle(call, command.case_id, command.command_id, "record a mediation attempt",
                            lambda case: case.record_attempt(command.tier.value, attempt, agreement, referral))

    def record_follow_up(self, call: Call, command: c.RecordFollowUp) -> dict:
        return self._handle(call, command.case_id, command.command_id, "record a follow-up",
                            lambda case: case.record_follow_up(command.held_on, command.outcome.value, command.note))

    def archive_case(self, call: Call, command: c.ArchiveCase) -> dict:
        return self._handle(call, command.case_id, command.command_id, "archive a case", lambda case: case.archive())

    def flag_overdue_follow_up(self, call: Call, case_id: UUID, today: date) -> bool:
        """The timer's check of one agreement; True when it was flagged now."""
        flagged: list[bool] = []

        def act():
            case = self.load(MediationCase, case_id, "mediation case")
            authorize(call.caller, "flag an overdue follow-up", SERVICE_ONLY, case.jurisdiction)
            flagged.append(case.flag_follow_up_overdue(today))
            return [case], _summary(case)

        self.execute(call, act)
        return flagged[-1]

    def _handle(self, call: Call, case_id: UUID, command_id: str | None, action: str,
                change: Callable[[MediationCase], Any]) -> dict:
        # The role is checked before loading; the jurisdiction once the case names its tier.
        if call.caller.role not in HANDLERS:
            raise Forbidden(f"the role {call.caller.role.value!r} may not {action}")

        def act():
            case = self.load(MediationCase, case_id, "mediation case")
            authorize(call.caller, f"{action} at the {case.tier} tier", HANDLERS, case.tier_unit())
            extra = change(case) or {}
            return [case], {**_summary(case), **extra}

        return self.execute(call, act, command_id)


def _summary(case: MediationCase) -> dict:
    return {
        "case_id": str(case.id),
        "tier": case.tier,
        "status": case.status,
        "failures": dict(case.failures),
        "missing_steps": case.missing_steps(),
        "partners": list(case.partners),
        "version": case.version,
    }
