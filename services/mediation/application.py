"""Mediation application: authorise → get → act → save, one method per command.

Who may handle a case: a mediation role whose jurisdiction covers the unit of
the case's *current* tier — the village (12 digits) at the village tier, its
township (9) at the township tier, its county (6) at the county tier. So a
village mediator cannot act on a case once it has gone up, while a county
officer may act at any tier of a case in the county.

Personal fields are sealed here, inside the command and after the caller is
authorised and the case loaded (``shared.commands``): each party's name and ID
number with the party's key, the case's free text with the case's key (domain
``party_key``/``case_key``); the domain refuses anything not so sealed. Commands
take the vault's ``seal`` (and ``erase``) as the grid_events commands do; a key
row is stored only once the domain has accepted the change
(``PinganApplication.execute``), so a refused command leaves none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Transcoding

from services.grid_events.contracts import EventReported
from services.grid_events.contracts import Source as GridSource
from shared.access import authorize
from shared.commands import Commands, RecordType, require_role
from shared.context import Role
from shared.contracts import Envelope, message_key
from shared.errors import Conflict, ValidationFailed
from shared.eventstore import Call, PinganApplication
from shared.jurisdiction import Level, level_of
from shared.security.erasure import Erasures
from shared.security.sealing import Erase, Seal

from . import contracts as c
from .domain import MediationCase, Source, case_id_for, case_key, party_key

HANDLERS = {
    Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER,
    Role.VILLAGE_COMMITTEE, Role.MEDIATOR, Role.JUSTICE,
}
INTAKE = HANDLERS | {Role.POLICE}
READERS = HANDLERS | {Role.AUDITOR}
SERVICE_ONLY = {Role.SERVICE}
# Erasure destroys data for good: the county justice bureau (which guides people's mediation) or an admin,
# whose jurisdiction covers the case's county.
ERASERS = {Role.ADMIN, Role.JUSTICE}

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


# A case is handled by the unit of its current tier; the action names the tier.
CASE = RecordType(MediationCase, "mediation case", lambda case: case.tier_unit(), _summary,
                  action_at=lambda case, action: f"{action} at the {case.tier} tier")


class MediationApplication(Commands, Erasures, PinganApplication):
    name = "mediation"  # pins the table names: mediation_events, mediation_tracking

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- intake -------------------------------------------------------------------

    def open_case(self, call: Call, command: c.OpenCase, seal: Seal) -> dict:
        authorize(call.caller, "open a mediation case", INTAKE, command.jurisdiction)
        # The id is known before the case exists, so its subject is sealed under the case's own key.
        case_id = MediationCase.create_id(command.grid_event_id)

        def act():
            if command.grid_event_id and self.exists(case_id):
                raise Conflict(f"grid event {command.grid_event_id} already has a mediation case")
            case = MediationCase.open(case_id, jurisdiction=command.jurisdiction, source=command.source.value,
                                 subject=seal(case_key(case_id), command.subject),
                                 grid_event_id=command.grid_event_id, reported_source=None)
            party_ids = [_add_party(case, party.model_dump(), seal) for party in command.parties]
            return [case], {**_summary(case), "party_ids": party_ids}

        return self.execute(call, act, command.command_id)

    def open_from_grid_event(self, call: Call, envelope: Envelope, dispute: EventReported) -> None:
        """Consumed from grid_events: a reported dispute becomes a case, once.

        The parties and subject are not on the bus (personal data); a mediator
        adds them by RPC before the first attempt.
        """
        if level_of(dispute.jurisdiction) is not Level.VILLAGE:
            raise ValidationFailed(
                f"a dispute is mediated from its village; {dispute.jurisdiction} is not a village code")
        authorize(call.caller, "open a case from a grid event", SERVICE_ONLY, dispute.jurisdiction)

        def act():
            if self.exists(case_id_for(dispute.event_id)):
                return [], {}  # opened already by a direct intake for the same grid event
            case = MediationCase.open(case_id_for(dispute.event_id), jurisdiction=dispute.jurisdiction,
                                      source=SOURCE_FROM_GRID.get(dispute.source.value, dispute.source.value),
                                      subject=None, grid_event_id=dispute.event_id,
                                      reported_source=dispute.source.value)
            return [case], _summary(case)

        self.execute(call, act, inbox=message_key(envelope))

    # -- handling -------------------------------------------------------------------

    def add_party(self, call: Call, command: c.AddParty, seal: Seal) -> dict:
        party = command.model_dump(exclude={"case_id", "command_id"})

        def change(case: MediationCase) -> dict:
            return {"party_id": _add_party(case, party, seal)}

        return self._handle(call, command, "add a party", change)

    def record_subject(self, call: Call, command: c.RecordSubject, seal: Seal) -> dict:
        return self._handle(call, command, "record the subject",
                            lambda case: case.record_subject(seal(case_key(case.id), command.subject)))

    def record_risk_check(self, call: Call, command: c.RecordRiskCheck, seal: Seal) -> dict:
        return self._handle(call, command, "record a risk check",
                            lambda case: case.record_risk_check(command.level.value,
                                                                seal(case_key(case.id), command.note)))

    def accept_case(self, call: Call, command: c.AcceptCase) -> dict:
        return self._handle(call, command, "accept a case", lambda case: case.accept())

    def record_attempt(self, call: Call, command: c.RecordAttempt, seal: Seal) -> dict:
        def change(case: MediationCase) -> None:
            # The place ("Long's courtyard"), the terms and the referral note may name people: case key.
            key = case_key(case.id)
            attempt = {
                "mode": command.mode.value,
                "mediator_ids": list(command.mediator_ids),
                "place": seal(key, command.place),
                "on_site": command.on_site,
                "place_code": command.place_code,
                "held_on": command.held_on,
                "outcome": command.outcome.value,
                "interpreters": [i.model_dump() for i in command.interpreters],
            }
            agreement = referral = None
            if command.agreement:
                agreement = {**command.agreement.model_dump(), "terms": seal(key, command.agreement.terms)}
            if command.referral:
                referral = {**command.referral.model_dump(mode="json"), "note": seal(key, command.referral.note)}
            case.record_attempt(command.tier.value, attempt, agreement, referral)

        return self._handle(call, command, "record a mediation attempt", change)

    def record_follow_up(self, call: Call, command: c.RecordFollowUp, seal: Seal) -> dict:
        return self._handle(call, command, "record a follow-up",
                            lambda case: case.record_follow_up(command.held_on, command.outcome.value,
                                                               seal(case_key(case.id), command.note)))

    def archive_case(self, call: Call, command: c.ArchiveCase) -> dict:
        return self._handle(call, command, "archive a case", lambda case: case.archive())

    # -- erasure (PIPL) ----------------------------------------------------------------

    def erase_party(self, call: Call, command: c.ErasePartyData, erase: Erase) -> dict:
        """Destroy one party's key (their name and ID number read "[erased]" everywhere) and record it."""
        return self._erase(call, command, "erase a party's personal data", erase,
                           lambda case: case.erase_party(command.party_id, command.reason.value))

    def erase_case_personal_data(self, call: Call, command: c.EraseCasePersonalData, erase: Erase) -> dict:
        """At the end of retention: destroy the case's key and every party's key, and record it."""
        return self._erase(call, command, "erase a case's personal data", erase,
                           lambda case: case.erase_personal_data(command.reason.value))

    def _erase(self, call: Call, command: c.ErasePartyData | c.EraseCasePersonalData, action: str, erase: Erase,
               decide: Callable[[MediationCase], list[str]]) -> dict:
        require_role(call, action, ERASERS)

        def act():
            case = self.load(MediationCase, command.case_id, "mediation case")
            authorize(call.caller, action, ERASERS, case.county)
            keys = decide(case)  # refused (not found, already erased, not archived) before any key is touched
            # The case records it (PartyErased, PersonalDataErased) and, like every service, one
            # kernel ErasureRecord per destroyed key (shared/security/erasure.py).
            records = self.shred(erase, keys, kind="mediation case", record_id=str(case.id), places=[case.county],
                                 reason=command.reason.value)
            return [case, *records], {**_summary(case), "erased_keys": len(keys)}

        return self.execute(call, act, command.command_id)

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

    def _handle(self, call: Call, command: Any, action: str, change: Callable[[MediationCase], object]) -> dict:
        return self.change(call, CASE, command.case_id, action, HANDLERS, change, command_id=command.command_id)


def _add_party(case: MediationCase, party: dict, seal: Seal) -> str:
    """Seal a party's name and ID number under the key of the party they will become, and add them."""
    key = party_key(case.id, case.next_party_id())
    return case.add_party(**{**party, "name": seal(key, party["name"]),
                             "id_number": seal(key, party.get("id_number"))})

