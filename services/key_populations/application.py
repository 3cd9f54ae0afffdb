"""Key populations application: role → load → policy (jurisdiction × category × purpose) →
change → seal → save, one method per command (shared/commands.py).

Who may act (docs/services/key_populations.md, "Access"): the roles that serve key
populations (township officers, police, justice, health); the one policy
(shared/security/policy.py) narrows each to the categories its role serves and its
token lists, inside its jurisdiction subtree. Every command on an enrolment names the
record's category and a purpose (``PURPOSE``), as a read does.

Personal fields (identity, team member names, guardians, notes) are sealed under the
person's key (domain ``person_key``) inside the command, once the caller is authorised
and the record loaded; the domain refuses anything not so sealed, and a refused
command stores no key row (``PinganApplication.execute``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from shared.access import authorize
from shared.commands import Commands, RecordType, require_role
from shared.context import Role
from shared.errors import Conflict, NotFound
from shared.eventstore import Call, PinganApplication
from shared.security.erasure import Erasures
from shared.security.policy import Purpose
from shared.security.sealing import Erase, Seal

from . import contracts as c
from .domain import (
    ENROLMENT_CLASSES,
    CommunityCorrection,
    DrugUser,
    Enrolment,
    Person,
    ReleasedPerson,
    SevereMentalDisorder,
    enrolment_class,
    person_key,
)

HANDLERS = {Role.TOWNSHIP_OFFICER, Role.POLICE, Role.JUSTICE, Role.HEALTH}
READERS = HANDLERS
SERVICE_ONLY = {Role.SERVICE}
# Erasure destroys the person's key for good: a township officer (who registers people) or an admin.
ERASERS = {Role.ADMIN, Role.TOWNSHIP_OFFICER}

CASE_WORK = Purpose.CASE_WORK.value
FOLLOW_UP = Purpose.FOLLOW_UP.value
SUPERVISION = Purpose.SUPERVISION.value


def _personal_events() -> dict[type, tuple[str, ...]]:
    """The top-level personal fields of each stored event class (each category has its own classes); the
    ones inside lists and facts (team names, a guardian at enrolment) the domain refuses unsealed itself."""
    fields: dict[type, tuple[str, ...]] = {Person.Registered: ("name", "id_number", "address", "contact")}
    for kind in (Enrolment, *ENROLMENT_CLASSES.values()):
        fields[kind.FollowedUp] = ("note",)
    fields[CommunityCorrection.ViolationRecorded] = ("note",)
    fields[ReleasedPerson.AssistanceRecorded] = ("note",)
    fields[SevereMentalDisorder.GuardianChanged] = ("guardian_name", "guardian_contact")
    return fields


# Fields holding personal data, per stored event: sealed under the person's key, never published,
# logged or a metric label.
PERSONAL_EVENTS = _personal_events()


def _summary(enrolment: Enrolment) -> dict:
    return {"enrolment_id": str(enrolment.id), "person_id": enrolment.person_id, "category": enrolment.category,
            "jurisdiction": enrolment.jurisdiction, "transfer_to": enrolment.transfer_to,
            "risk_level": enrolment.risk_level, "next_follow_up_due": enrolment.next_follow_up_due.isoformat(),
            "active": enrolment.active, "exit_reason": enrolment.exit_reason, "version": enrolment.version}


def _person_summary(person: Person) -> dict:
    return {"person_id": person.person_id, "jurisdiction": person.jurisdiction, "version": person.version}


def _category(enrolment: Enrolment) -> str:
    return enrolment.category


# The sending village's subtree acts on a record (it stays responsible until a transfer is accepted) ...
ENROLMENT = RecordType(Enrolment, "enrolment", lambda e: e.jurisdiction, _summary, category=_category)
# ... and the receiving one decides a pending transfer.
RECEIVING = RecordType(Enrolment, "enrolment", lambda e: e.transfer_to or e.jurisdiction, _summary,
                       category=_category)


class KeyPopulationsApplication(Commands, Erasures, PinganApplication):
    name = "key_populations"  # pins the table names: key_populations_events, key_populations_tracking
    personal_fields = PERSONAL_EVENTS  # an event carrying one of these unsealed is refused

    # -- the person -----------------------------------------------------------------------

    def register_person(self, call: Call, command: c.RegisterPerson, seal: Seal) -> dict:
        authorize(call.caller, "register a person", HANDLERS, command.jurisdiction)

        def act():
            if self.exists(Person.create_id(command.person_id)):
                raise Conflict(f"person {command.person_id} is already registered")
            key = person_key(command.person_id)
            person = Person.register(command.person_id, command.jurisdiction, seal(key, command.name),
                                     seal(key, command.id_number), seal(key, command.address),
                                     seal(key, command.contact))
            return [person], _person_summary(person)

        return self.execute(call, act, command.command_id)

    def erase_person(self, call: Call, command: c.ErasePerson, erase: Erase) -> dict:
        """Destroy the person's key (identity, team names, guardian, notes read "[erased]") and record it."""
        action = "erase a person's personal data"
        require_role(call, action, ERASERS)

        def act():
            person = self.load(Person, Person.create_id(command.person_id), "person")
            authorize(call.caller, action, ERASERS, person.jurisdiction)
            records = self.shred(erase, [person_key(person.person_id)], kind="person", record_id=person.person_id,
                                 places=[person.jurisdiction], reason=command.reason.value)
            return records, {**_person_summary(person), "erased": bool(records)}

        return self.execute(call, act, command.command_id)

    # -- enrolment --------------------------------------------------------------------------

    def enrol(self, call: Call, command: c.Enrol, seal: Seal, today: date) -> dict:
        kind = enrolment_class(command.category)  # an unknown category is refused before anything is read
        action = "enrol a person"
        require_role(call, action, HANDLERS)

        def act():
            person = self.load(Person, Person.create_id(command.person_id), "person")
            authorize(call.caller, action, HANDLERS, person.jurisdiction, kind.CATEGORY.value, CASE_WORK)
            key = person_key(person.person_id)
            facts = dict(command.facts)
            if kind is SevereMentalDisorder:
                for name in ("guardian_name", "guardian_contact"):
                    if isinstance(facts.get(name), str):
                        facts[name] = seal(key, facts[name])
            enrolment_id = kind.create_id(person.person_id, kind.CATEGORY, command.enrolled_on)
            if self.exists(enrolment_id):
                raise Conflict(f"{person.person_id} is already enrolled in {kind.CATEGORY.value} "
                               f"on {command.enrolled_on.isoformat()}")
            enrolment = kind.enrol(person_id=person.person_id, jurisdiction=person.jurisdiction,
                                   enrolled_on=command.enrolled_on, today=today, facts=facts,
                                   team=_team(command.team, key, seal), responsible_id=command.responsible_id,
                                   risk_level=command.risk_level, minor_dependants=command.minor_dependants)
            return [enrolment], _summary(enrolment)

        return self.execute(call, act, command.command_id)

    # -- every category -----------------------------------------------------------------------

    def record_follow_up(self, call: Call, command: c.RecordFollowUp, seal: Seal, today: date) -> dict:
        return self._on(call, command, "record a follow-up", FOLLOW_UP, lambda e: {
            "next_due": e.record_follow_up(command.held_on, today, command.kind.value, command.outcome.value,
                                           seal(person_key(e.person_id), command.note), command.next_due
                                           ).isoformat()})

    def reassess_risk(self, call: Call, command: c.ReassessRisk, today: date) -> dict:
        return self._on(call, command, "reassess a risk", CASE_WORK,
                        lambda e: e.reassess_risk(command.level, command.assessed_on, today))

    def assign_team(self, call: Call, command: c.AssignTeam, seal: Seal) -> dict:
        return self._on(call, command, "assign a helper team", CASE_WORK, lambda e: e.assign_team(
            _team(command.team, person_key(e.person_id), seal), command.responsible_id))

    def initiate_transfer(self, call: Call, command: c.InitiateTransfer) -> dict:
        return self._on(call, command, "initiate a transfer", CASE_WORK,
                        lambda e: e.initiate_transfer(command.to_jurisdiction, call.caller.jurisdiction))

    def accept_transfer(self, call: Call, command: c.AcceptTransfer, seal: Seal) -> dict:
        return self.change(call, RECEIVING, command.enrolment_id, "accept a transfer", HANDLERS,
                           lambda e: e.accept_transfer(call.caller.jurisdiction,
                                                       _team(command.team, person_key(e.person_id), seal),
                                                       command.responsible_id),
                           command_id=command.command_id, purpose=CASE_WORK)

    def refuse_transfer(self, call: Call, command: c.RefuseTransfer) -> dict:
        return self.change(call, RECEIVING, command.enrolment_id, "refuse a transfer", HANDLERS,
                           lambda e: e.refuse_transfer(call.caller.jurisdiction, command.reason.value),
                           command_id=command.command_id, purpose=CASE_WORK)

    def exit_enrolment(self, call: Call, command: c.ExitEnrolment, today: date) -> dict:
        return self._on(call, command, "end an enrolment", CASE_WORK,
                        lambda e: e.exit(command.reason.value, command.on, today))

    # -- per category -------------------------------------------------------------------------

    def request_leave(self, call: Call, command: c.RequestLeave, today: date) -> dict:
        return self._on(call, command, "request leave", SUPERVISION, lambda e: _as(e, CommunityCorrection)
                        .request_leave(command.request_id, command.starts_on, command.ends_on, today))

    def decide_leave(self, call: Call, command: c.DecideLeave) -> dict:
        return self._on(call, command, "decide a leave request", SUPERVISION,
                        lambda e: _as(e, CommunityCorrection).decide_leave(command.request_id, command.approved))

    def record_violation(self, call: Call, command: c.RecordViolation, seal: Seal, today: date) -> dict:
        return self._on(call, command, "record a violation", SUPERVISION, lambda e: _as(e, CommunityCorrection)
                        .record_violation(command.on, today, command.kind.value, command.warning.value,
                                          seal(person_key(e.person_id), command.note)))

    def acknowledge_handover(self, call: Call, command: c.AcknowledgeHandover, today: date) -> dict:
        return self._on(call, command, "acknowledge a hand-over", CASE_WORK,
                        lambda e: _as(e, ReleasedPerson).acknowledge_handover(command.on, today))

    def record_assistance(self, call: Call, command: c.RecordAssistance, seal: Seal, today: date) -> dict:
        return self._on(call, command, "record assistance", CASE_WORK, lambda e: _as(e, ReleasedPerson)
                        .record_assistance(command.kind.value, command.on, today,
                                           seal(person_key(e.person_id), command.note)))

    def change_treatment(self, call: Call, command: c.ChangeTreatment) -> dict:
        return self._on(call, command, "change a treatment status", CASE_WORK,
                        lambda e: _as(e, SevereMentalDisorder).change_treatment(command.status.value))

    def change_guardian(self, call: Call, command: c.ChangeGuardian, seal: Seal) -> dict:
        def change(e: Enrolment) -> None:
            key = person_key(e.person_id)
            _as(e, SevereMentalDisorder).change_guardian(seal(key, command.guardian_name),
                                                          seal(key, command.guardian_contact))

        return self._on(call, command, "change a guardian", CASE_WORK, change)

    def record_drug_test(self, call: Call, command: c.RecordDrugTest, today: date) -> dict:
        return self._on(call, command, "record a drug test", SUPERVISION,
                        lambda e: _as(e, DrugUser).record_drug_test(command.taken_on, command.result.value, today))

    # -- the timer's commands -----------------------------------------------------------------

    def check_enrolment(self, call: Call, enrolment_id: UUID, today: date) -> list[str]:
        """One record's periodic check: flag an overdue follow-up (once per due date), record a missed drug
        test, end a period that is over. Returns what it did."""
        done: list[str] = []

        def act():
            enrolment = self.load(Enrolment, enrolment_id, "enrolment")
            authorize(call.caller, "check an enrolment", SERVICE_ONLY, enrolment.jurisdiction)
            if enrolment.period_due_to_end(today):
                enrolment.complete_period(today)
                done.append("period_completed")
            else:
                if isinstance(enrolment, DrugUser) and enrolment.drug_test_overdue(today):
                    enrolment.record_missed_test(today)
                    done.append("missed_test")
                if enrolment.flag_follow_up_overdue(today):
                    done.append("follow_up_overdue")
            return ([enrolment] if done else []), _summary(enrolment)

        self.execute(call, act)
        return done

    def _on(self, call: Call, command: Any, action: str, purpose: str, change: Callable[[Enrolment], Any]) -> dict:
        return self.change(call, ENROLMENT, command.enrolment_id, action, HANDLERS, change,
                           command_id=command.command_id, purpose=purpose)


def _team(members: list[c.TeamMember], key: str, seal: Seal) -> list[dict]:
    return [{"member_id": m.member_id, "role": m.role.value, "name": seal(key, m.name)} for m in members]


def _as(enrolment: Enrolment, kind: type) -> Any:
    """The enrolment as its category's record; a command of another category finds no such record."""
    if not isinstance(enrolment, kind):
        raise NotFound(f"enrolment {enrolment.id} is not a {kind.CATEGORY.value} record")
    return enrolment
