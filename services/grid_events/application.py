"""Grid events application: authorise → get → act → save, one method per command."""

from __future__ import annotations

from datetime import date
from typing import Any, Callable
from uuid import UUID, uuid4

from shared.access import authorize
from shared.context import Role
from shared.contracts import Envelope, message_key
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.eventstore import Call, PinganApplication
from shared.jurisdiction import Level, covers, level_of, parent_of
from shared.security.personal_data import is_sealed
from shared.security.sealing import check_opaque_id

from services.mediation.contracts import CaseOpened

from . import contracts as c
from .domain import (
    DECISION_TEXT,
    EVENT_TEXT,
    FAMILY_TEXT,
    ITEM_TEXT,
    PARTICIPANT_TEXT,
    RISK_TEXT,
    VOLUNTEER,
    AssigneeKind,
    Erasure,
    EventReport,
    FamilySafetyAssessment,
    Grid,
    Jurisdiction,
    MajorDecision,
    MemberUnit,
    Participant,
    ParticipantKind,
    Risk,
    Status,
    WorkItem,
    checklist_for,
    is_reserved_subject,
    record_subject,
)

OFFICERS = {Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER}
REPORTERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.POLICE}
HANDLERS = OFFICERS | {Role.DEPARTMENT_OFFICER, Role.POLICE}
FEEDBACK_GIVERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE}
CHECKLIST_TICKERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.DEPARTMENT_OFFICER, Role.POLICE}
READERS = set(Role) - {Role.SERVICE}

UNIT_KEEPERS = OFFICERS | {Role.DEPARTMENT_OFFICER}
WORK_LIST_KEEPERS = OFFICERS | {Role.VILLAGE_COMMITTEE}
WORK_DOERS = WORK_LIST_KEEPERS | {Role.GRID_WORKER, Role.DEPARTMENT_OFFICER}
RISK_FINDERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.DEPARTMENT_OFFICER, Role.POLICE}
RISK_HANDLERS = OFFICERS | {Role.DEPARTMENT_OFFICER, Role.POLICE}
DECISION_ASSESSORS = OFFICERS | {Role.DEPARTMENT_OFFICER, Role.JUSTICE}
FAMILY_ASSESSORS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.CIVIL_AFFAIRS}
SERVICE_ONLY = {Role.SERVICE}
# Erasure destroys data for good: officers of a county or above, within their jurisdiction.
ERASERS = {Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER}
PREFECTURE = "433100"

# Seals a personal field under a subject's key (shared.security.personal_data): a
# person's id, or ``<kind>.<record id>`` for a record's free text (domain/erasure.py).
# Called only once a command has passed every check, so a refusal stores no key.
Seal = Callable[[str, "str | None"], "str | None"]
# Destroys a subject's key (PersonalData.erase).
Erase = Callable[[str], bool]

# Units registered without a parent: the top of this platform's ladder.
ROOT_LEVELS = {Level.PROVINCE, Level.PREFECTURE}
# Coordination bodies sit at the prefecture and the counties (Art. 2).
BODY_LEVELS = {Level.PREFECTURE, Level.COUNTY}


class GridEventsApplication(PinganApplication):
    name = "grid_events"  # pins the table names: grid_events_events, grid_events_tracking

    # -- registry ---------------------------------------------------------------

    def register_jurisdiction(self, call: Call, command: c.RegisterJurisdiction) -> dict:
        level = level_of(command.code)
        if level is Level.GRID:
            raise ValidationFailed("RegisterJurisdiction: a 15-digit code is a grid; use register_grid")
        parent = parent_of(command.code)
        authorize(call.caller, "register a jurisdiction", OFFICERS, command.code if level in ROOT_LEVELS else parent)

        def act():
            if self.exists(Jurisdiction.create_id(command.code)):
                raise Conflict(f"jurisdiction {command.code} is already registered")
            if level not in ROOT_LEVELS and not self.exists(Jurisdiction.create_id(parent)):
                raise NotFound(f"the parent jurisdiction {parent} is not registered")
            unit = Jurisdiction(code=command.code, name=command.name, level=level.value, parent_code=parent)
            return [unit], {"code": unit.code, "level": unit.level}

        return self.execute(call, act, command.command_id)

    def register_grid(self, call: Call, command: c.RegisterGrid) -> dict:
        if level_of(command.code) is not Level.GRID:
            raise ValidationFailed("RegisterGrid: code must be a village code plus a 3-digit grid number")
        village = parent_of(command.code)
        authorize(call.caller, "register a grid", OFFICERS, village)

        def act():
            if self.exists(Grid.create_id(command.code)):
                raise Conflict(f"grid {command.code} is already registered")
            if not self.exists(Jurisdiction.create_id(village)):
                raise NotFound(f"the village {village} is not registered")
            grid = Grid(code=command.code, village_code=village, name=command.name)
            return [grid], {"code": grid.code}

        return self.execute(call, act, command.command_id)

    def assign_worker(self, call: Call, command: c.AssignWorker) -> dict:
        return self._change_grid(call, command, "assign a grid worker", lambda grid: grid.assign_worker(command.worker_id))

    def unassign_worker(self, call: Call, command: c.UnassignWorker) -> dict:
        return self._change_grid(call, command, "unassign a grid worker", lambda grid: grid.unassign_worker(command.worker_id))

    def _change_grid(self, call: Call, command: c.AssignWorker, action: str, change: Callable[[Grid], None]) -> dict:
        authorize(call.caller, action, OFFICERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            change(grid)
            return [grid], {"grid_code": grid.code, "workers": list(grid.workers)}

        return self.execute(call, act, command.command_id)

    def name_township_responsible(self, call: Call, command: c.NameTownshipResponsible, seal: Seal) -> dict:
        if level_of(command.code) is not Level.TOWNSHIP:
            raise ValidationFailed("NameTownshipResponsible: code must be a township (9 digits)")
        authorize(call.caller, "name a township's responsible office", OFFICERS, command.code)

        def act():
            township = self.load(Jurisdiction, Jurisdiction.create_id(command.code), "jurisdiction")
            township.require_township()
            township.name_responsible(command.office, command.person_id,
                                      seal(_person(command.person_id), command.person_name))
            return [township], {"code": township.code, "office": township.responsible_office}

        return self.execute(call, act, command.command_id)

    def register_member_unit(self, call: Call, command: c.RegisterMemberUnit) -> dict:
        if level_of(command.body_code) not in BODY_LEVELS:
            raise ValidationFailed("RegisterMemberUnit: a coordination body is the prefecture or a county")
        authorize(call.caller, "register a member unit", OFFICERS, command.body_code)
        unit_id = MemberUnit.unit_id_for(command.body_code, command.unit_code)

        def act():
            if not self.exists(Jurisdiction.create_id(command.body_code)):
                raise NotFound(f"the jurisdiction {command.body_code} is not registered")
            if self.exists(MemberUnit.id_of(unit_id)):
                raise Conflict(f"member unit {unit_id} is already registered")
            unit = MemberUnit(body_code=command.body_code, unit_code=command.unit_code, name=command.name,
                              duties=list(command.duties))
            return [unit], {"unit_id": unit.unit_id}

        return self.execute(call, act, command.command_id)

    def change_member_unit_duties(self, call: Call, command: c.ChangeMemberUnitDuties) -> dict:
        if ":" not in command.unit_id:
            raise ValidationFailed("ChangeMemberUnitDuties: unit_id must be '<body code>:<unit code>'")
        authorize(call.caller, "change a member unit's duties", OFFICERS, command.unit_id.split(":")[0])

        def act():
            unit = self.load(MemberUnit, MemberUnit.id_of(command.unit_id), "member unit")
            unit.change_duties(list(command.duties))
            return [unit], {"unit_id": unit.unit_id, "duties": unit.duties}

        return self.execute(call, act, command.command_id)

    def name_contact_point(self, call: Call, command: c.NameContactPoint, seal: Seal) -> dict:
        authorize(call.caller, "name a contact point", UNIT_KEEPERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            unit = self.member_unit(command.unit, grid.code)
            grid.require_new_contact_point(unit.unit_id, command.contact_id)
            contact = _person(command.contact_id)
            grid.name_contact_point(unit.unit_id, command.contact_id, seal(contact, command.contact_name),
                                    seal(contact, command.contact_phone))
            return [grid], {"grid_code": grid.code, "unit_id": unit.unit_id, "contact_id": command.contact_id}

        return self.execute(call, act, command.command_id)

    def register_participant(self, call: Call, command: c.RegisterParticipant, seal: Seal) -> dict:
        authorize(call.caller, "register a participant", WORK_LIST_KEEPERS, command.jurisdiction)

        def act():
            self._require_place(command.jurisdiction)
            name = command.name
            if command.kind is ParticipantKind.VOLUNTEER:  # an organisation's name is not personal
                name = seal(record_subject(VOLUNTEER, uuid4().hex), name)
            participant = Participant(jurisdiction=command.jurisdiction, kind=command.kind.value, name=name)
            return [participant], {"participant_id": str(participant.id), "kind": participant.kind}

        return self.execute(call, act, command.command_id)

    def recognise_participant(self, call: Call, command: c.RecogniseParticipant, seal: Seal) -> dict:
        self._require_role(call, "recognise a participant", OFFICERS)

        def act():
            participant = self.load(Participant, command.participant_id, "participant")
            authorize(call.caller, "recognise a participant", OFFICERS, participant.jurisdiction)
            participant.recognise(seal(_participant_subject(participant), command.note))
            return [participant], {"participant_id": str(participant.id), "recognitions": len(participant.recognitions)}

        return self.execute(call, act, command.command_id)

    def member_unit(self, unit: str, place: str) -> MemberUnit:
        """The member unit ``unit`` names for a record at ``place``: a full id, or a
        unit code looked up in the place's county body, then the prefecture's."""
        if ":" in unit:
            candidates = [unit]
        else:
            bodies = [code for code in (place[:6], place[:4] + "00") if level_of(code) in BODY_LEVELS]
            candidates = [MemberUnit.unit_id_for(body, unit) for body in dict.fromkeys(bodies)]
        for unit_id in candidates:
            if self.exists(MemberUnit.id_of(unit_id)):
                found = self.load(MemberUnit, MemberUnit.id_of(unit_id), "member unit")
                if not covers(found.body_code, place):
                    raise ValidationFailed(f"member unit {unit_id} does not serve {place}")
                return found
        raise NotFound(f"no member unit {unit!r} serves {place}")

    def _require_place(self, code: str) -> None:
        """A record may be placed at a registered unit or grid only."""
        known = Grid.create_id(code) if level_of(code) is Level.GRID else Jurisdiction.create_id(code)
        if not self.exists(known):
            raise NotFound(f"{code} is not a registered jurisdiction or grid")

    # -- reported events ----------------------------------------------------------

    def report_event(self, call: Call, command: c.ReportEvent, seal: Seal) -> dict:
        authorize(call.caller, "report an event", REPORTERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            if call.caller.role is Role.GRID_WORKER and call.caller.actor_id not in grid.workers:
                raise Forbidden(f"grid worker {call.caller.actor_id} is not assigned to grid {grid.code}")
            # Free text is sealed under the record's own key, so it can be erased on its own.
            event_id = uuid4()
            subject = record_subject(EVENT_TEXT, event_id)
            report = _create(
                EventReport, EventReport.Reported, event_id,
                grid_code=grid.code,
                jurisdiction=grid.village_code,
                category=command.category.value,
                source=command.source.value,
                severity=command.severity.value,
                place=seal(subject, command.place),
                description=seal(subject, command.description),
                reporter_id=call.caller.actor_id,
                required_steps=checklist_for(command.category.value),
            )
            return [report], _summary(report)

        return self.execute(call, act, command.command_id)

    def accept_event(self, call: Call, command: c.AcceptEvent) -> dict:
        return self._act_on_event(call, command.event_id, command.command_id, "accept an event", OFFICERS,
                                  lambda report: report.accept())

    def assign_event(self, call: Call, command: c.AssignEvent) -> dict:
        def assign(report: EventReport) -> None:
            unit = self.member_unit(command.unit, report.grid_code)
            grid = self.load(Grid, Grid.create_id(report.grid_code), "grid")
            report.assign(unit.unit_code, unit.body_code, grid.contact_points.get(unit.unit_id))

        return self._act_on_event(call, command.event_id, command.command_id, "assign an event", OFFICERS, assign)

    def record_handling(self, call: Call, command: c.RecordHandling, seal: Seal) -> dict:
        def handle(report: EventReport) -> None:
            report.require_status(Status.ASSIGNED, "record handling of")
            report.record_handling(seal(record_subject(EVENT_TEXT, report.id), command.note))

        return self._act_on_event(call, command.event_id, command.command_id, "record handling", HANDLERS, handle)

    def record_feedback(self, call: Call, command: c.RecordFeedback, seal: Seal) -> dict:
        def feedback(report: EventReport) -> None:
            report.require_status(Status.HANDLED, "record feedback on")
            report.record_feedback(seal(record_subject(EVENT_TEXT, report.id), command.feedback), command.satisfied)

        return self._act_on_event(call, command.event_id, command.command_id, "record feedback", FEEDBACK_GIVERS,
                                  feedback)

    def tick_checklist_step(self, call: Call, command: c.TickChecklistStep, seal: Seal) -> dict:
        def tick(report: EventReport) -> None:
            report.check_tick(command.step)
            report.tick_step(command.step, seal(record_subject(EVENT_TEXT, report.id), command.note))

        return self._act_on_event(call, command.event_id, command.command_id, "tick a checklist step",
                                  CHECKLIST_TICKERS, tick)

    def close_event(self, call: Call, command: c.CloseEvent) -> dict:
        return self._act_on_event(call, command.event_id, command.command_id, "close an event", OFFICERS,
                                  lambda report: report.close())

    def link_mediation_case(self, call: Call, envelope: Envelope, case: CaseOpened) -> None:
        """Consumed from mediation: the dispute now has a case. Once per message."""

        def act():
            report = self.load(EventReport, case.grid_event_id, "event report")
            authorize(call.caller, "link a mediation case", {Role.SERVICE}, report.jurisdiction)
            report.link_mediation_case(str(case.case_id))
            return [report], _summary(report)

        self.execute(call, act, inbox=message_key(envelope))

    def _act_on(self, call: Call, kind: type, record_id: UUID, what: str, where: Callable[[Any], str],
                summary: Callable[[Any], dict], command_id: str | None, action: str, roles: set[Role],
                change: Callable[[Any], None]) -> dict:
        """The shape of every command on an existing record: role first (before loading),
        then the record's own jurisdiction, then the change, saved once."""
        self._require_role(call, action, roles)

        def act():
            record = self.load(kind, record_id, what)
            authorize(call.caller, action, roles, where(record))
            change(record)
            return [record], summary(record)

        return self.execute(call, act, command_id)

    def _act_on_event(self, call: Call, event_id: UUID, command_id: str | None, action: str, roles: set[Role],
                      change: Callable[[EventReport], None]) -> dict:
        return self._act_on(call, EventReport, event_id, "event report", lambda report: report.jurisdiction, _summary,
                            command_id, action, roles, change)

    # -- work items ---------------------------------------------------------------

    def add_work_item(self, call: Call, command: c.AddWorkItem, seal: Seal) -> dict:
        authorize(call.caller, "add a work item", WORK_LIST_KEEPERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            assignee = self._assignee(grid, command.assignee_kind, command.assignee_id)
            item_id = uuid4()
            item = _create(
                WorkItem, WorkItem.Listed, item_id,
                grid_code=grid.code,
                jurisdiction=grid.village_code,
                kind=command.kind.value,
                title=seal(record_subject(ITEM_TEXT, item_id), command.title),
                due_date=command.due_date.isoformat(),
                every_days=command.every_days,
                assignee_kind=command.assignee_kind.value,
                assignee_id=assignee,
            )
            return [item], _item_summary(item)

        return self.execute(call, act, command.command_id)

    def complete_work_item(self, call: Call, command: c.CompleteWorkItem, seal: Seal) -> dict:
        def complete(item: WorkItem) -> None:
            self._require_doer(call, item)
            item.require_open("complete")
            item.complete(seal(record_subject(ITEM_TEXT, item.id), command.note))

        return self._act_on_item(call, command.item_id, command.command_id, "complete a work item", WORK_DOERS, complete)

    def reassign_work_item(self, call: Call, command: c.ReassignWorkItem) -> dict:
        def reassign(item: WorkItem) -> None:
            grid = self.load(Grid, Grid.create_id(item.grid_code), "grid")
            item.reassign(command.assignee_kind.value, self._assignee(grid, command.assignee_kind, command.assignee_id))

        return self._act_on_item(call, command.item_id, command.command_id, "reassign a work item",
                                 WORK_LIST_KEEPERS, reassign)

    def cancel_work_item(self, call: Call, command: c.CancelWorkItem, seal: Seal) -> dict:
        def cancel(item: WorkItem) -> None:
            item.require_open("cancel")
            item.cancel(seal(record_subject(ITEM_TEXT, item.id), command.reason))

        return self._act_on_item(call, command.item_id, command.command_id, "cancel a work item",
                                 WORK_LIST_KEEPERS, cancel)

    def mark_overdue(self, call: Call, item_id: UUID, today: date) -> bool:
        """The overdue timer's command: mark the item once for its current due date.
        A repeat (another replica, a restart) finds the mark and stores nothing."""
        self._require_role(call, "mark a work item overdue", SERVICE_ONLY)

        def act():
            item = self.load(WorkItem, item_id, "work item")
            authorize(call.caller, "mark a work item overdue", SERVICE_ONLY, item.grid_code)
            if not item.needs_overdue_mark(today):
                return [], {"marked": False}
            item.mark_overdue(today)
            return [item], {"marked": True}

        return self.execute(call, act)["marked"]

    def _act_on_item(self, call: Call, item_id: UUID, command_id: str | None, action: str, roles: set[Role],
                     change: Callable[[WorkItem], None]) -> dict:
        return self._act_on(call, WorkItem, item_id, "work item", lambda item: item.grid_code, _item_summary,
                            command_id, action, roles, change)

    def _require_doer(self, call: Call, item: WorkItem) -> None:
        """A grid worker completes only their own grid's items; a department officer
        only items assigned to a member unit."""
        role = call.caller.role
        if role is Role.GRID_WORKER:
            grid = self.load(Grid, Grid.create_id(item.grid_code), "grid")
            if call.caller.actor_id not in grid.workers:
                raise Forbidden(f"grid worker {call.caller.actor_id} is not assigned to grid {item.grid_code}")
        if role is Role.DEPARTMENT_OFFICER and item.assignee_kind != AssigneeKind.MEMBER_UNIT:
            raise Forbidden("a department officer completes only items assigned to a member unit")

    def _assignee(self, grid: Grid, kind: AssigneeKind, assignee: str) -> str:
        """Check the assignee serves the grid; returns its id as stored."""
        if kind is AssigneeKind.GRID_WORKER:
            if assignee not in grid.workers:
                raise ValidationFailed(f"{assignee} is not a grid worker of grid {grid.code}")
            return assignee
        if kind is AssigneeKind.MEMBER_UNIT:
            return self.member_unit(assignee, grid.code).unit_id
        try:
            participant = self.load(Participant, UUID(assignee), "participant")
        except ValueError:
            raise ValidationFailed("a participant assignee is named by its participant id") from None
        if not covers(participant.jurisdiction, grid.code):
            raise ValidationFailed(f"participant {assignee} does not serve grid {grid.code}")
        return str(participant.id)

    # -- risks ----------------------------------------------------------------------

    def register_risk(self, call: Call, command: c.RegisterRisk, seal: Seal) -> dict:
        authorize(call.caller, "register a risk", RISK_FINDERS, command.jurisdiction)

        def act():
            self._require_place(command.jurisdiction)
            unit = self.member_unit(command.responsible_unit, command.jurisdiction)
            risk_id = uuid4()
            subject = record_subject(RISK_TEXT, risk_id)
            risk = _create(
                Risk, Risk.Registered, risk_id,
                jurisdiction=command.jurisdiction,
                category=command.category.value,
                source=command.source.value,
                level=command.level.value,
                place=seal(subject, command.place),
                description=seal(subject, command.description),
                responsible_unit=unit.unit_id,
                responsible_person_id=command.responsible_person_id,
                responsible_person_name=seal(_person(command.responsible_person_id), command.responsible_person_name),
            )
            return [risk], _risk_summary(risk)

        return self.execute(call, act, command.command_id)

    def issue_warning(self, call: Call, command: c.IssueWarning) -> dict:
        return self._act_on_risk(call, command.risk_id, command.command_id, "issue a warning", RISK_HANDLERS,
                                 lambda risk: risk.issue_warning(command.level.value))

    def change_risk_level(self, call: Call, command: c.ChangeRiskLevel) -> dict:
        return self._act_on_risk(call, command.risk_id, command.command_id, "change a warning level", RISK_HANDLERS,
                                 lambda risk: risk.change_level(command.level.value))

    def assign_risk_responsibility(self, call: Call, command: c.AssignRiskResponsibility, seal: Seal) -> dict:
        def assign(risk: Risk) -> None:
            unit = self.member_unit(command.unit, risk.jurisdiction)
            risk.require_open("reassign")
            risk.assign_responsibility(unit.unit_id, command.person_id, seal(_person(command.person_id), command.person_name))

        return self._act_on_risk(call, command.risk_id, command.command_id, "assign a risk's responsibility",
                                 OFFICERS, assign)

    # The risk's free text (measures, notes, feedback) is sealed under risk.<id>, after the step's check.

    def start_risk_measures(self, call: Call, command: c.StartRiskMeasures, seal: Seal) -> dict:
        reinspection = command.reinspection_date.isoformat() if command.reinspection_date else None

        def start(risk: Risk) -> None:
            risk.check_start_measures(reinspection)
            risk.start_measures(seal(record_subject(RISK_TEXT, risk.id), command.measures), reinspection)

        return self._act_on_risk(call, command.risk_id, command.command_id, "start measures", RISK_HANDLERS, start)

    def record_reinspection(self, call: Call, command: c.RecordReinspection, seal: Seal) -> dict:
        def reinspect(risk: Risk) -> None:
            risk.check_reinspection()
            risk.record_reinspection(command.passed, seal(record_subject(RISK_TEXT, risk.id), command.note))

        return self._act_on_risk(call, command.risk_id, command.command_id, "record a re-inspection", RISK_HANDLERS,
                                 reinspect)

    def defuse_risk(self, call: Call, command: c.DefuseRisk, seal: Seal) -> dict:
        def defuse(risk: Risk) -> None:
            risk.check_defuse()
            risk.defuse(seal(record_subject(RISK_TEXT, risk.id), command.note))

        return self._act_on_risk(call, command.risk_id, command.command_id, "defuse a risk", RISK_HANDLERS, defuse)

    def report_risk_feedback(self, call: Call, command: c.ReportRiskFeedback, seal: Seal) -> dict:
        def feedback(risk: Risk) -> None:
            risk.check_feedback()
            risk.report_feedback(seal(record_subject(RISK_TEXT, risk.id), command.feedback))

        return self._act_on_risk(call, command.risk_id, command.command_id, "report feedback on a risk",
                                 FEEDBACK_GIVERS | {Role.DEPARTMENT_OFFICER}, feedback)

    def close_risk(self, call: Call, command: c.CloseRisk) -> dict:
        return self._act_on_risk(call, command.risk_id, command.command_id, "close a risk", OFFICERS,
                                 lambda risk: risk.close())

    def _act_on_risk(self, call: Call, risk_id: UUID, command_id: str | None, action: str, roles: set[Role],
                     change: Callable[[Risk], None]) -> dict:
        return self._act_on(call, Risk, risk_id, "risk", lambda risk: risk.jurisdiction, _risk_summary,
                            command_id, action, roles, change)

    # -- major decisions and family assessments -------------------------------------

    # A decision's texts (title, summary, findings, measures, rejection reasons) are sealed under decision.<id>.

    def register_decision(self, call: Call, command: c.RegisterDecision, seal: Seal) -> dict:
        authorize(call.caller, "register a major decision", OFFICERS, command.jurisdiction)
        if level_of(command.jurisdiction) is Level.GRID:
            raise ValidationFailed("RegisterDecision: a major decision belongs to a unit, not a grid")

        def act():
            self._require_place(command.jurisdiction)
            decision_id = uuid4()
            subject = record_subject(DECISION_TEXT, decision_id)
            decision = _create(MajorDecision, MajorDecision.Registered, decision_id,
                               jurisdiction=command.jurisdiction, title=seal(subject, command.title),
                               summary=seal(subject, command.summary))
            return [decision], _decision_summary(decision)

        return self.execute(call, act, command.command_id)

    def assess_decision(self, call: Call, command: c.AssessDecision, seal: Seal) -> dict:
        def assess(decision: MajorDecision) -> None:
            decision.check_assessment()
            subject = record_subject(DECISION_TEXT, decision.id)
            decision.record_assessment(command.risk_level.value, seal(subject, command.findings),
                                       seal(subject, command.measures))

        return self._act_on_decision(call, command.decision_id, command.command_id, "assess a major decision",
                                     DECISION_ASSESSORS, assess)

    def approve_assessment(self, call: Call, command: c.ApproveAssessment) -> dict:
        return self._act_on_decision(call, command.decision_id, command.command_id, "approve an assessment",
                                     OFFICERS, lambda decision: decision.approve_assessment())

    def reject_assessment(self, call: Call, command: c.RejectAssessment, seal: Seal) -> dict:
        def reject(decision: MajorDecision) -> None:
            decision.check_rejection()
            decision.reject_assessment(seal(record_subject(DECISION_TEXT, decision.id), command.reason))

        return self._act_on_decision(call, command.decision_id, command.command_id, "reject an assessment",
                                     OFFICERS, reject)

    def clear_decision(self, call: Call, command: c.ClearDecision) -> dict:
        return self._act_on_decision(call, command.decision_id, command.command_id, "clear a decision",
                                     OFFICERS, lambda decision: decision.clear_for_implementation())

    def _act_on_decision(self, call: Call, decision_id: UUID, command_id: str | None, action: str, roles: set[Role],
                         change: Callable[[MajorDecision], None]) -> dict:
        return self._act_on(call, MajorDecision, decision_id, "major decision", lambda decision: decision.jurisdiction, _decision_summary,
                            command_id, action, roles, change)

    def record_family_assessment(self, call: Call, command: c.RecordFamilyAssessment, seal: Seal) -> dict:
        authorize(call.caller, "record a family safety assessment", FAMILY_ASSESSORS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            if call.caller.role is Role.GRID_WORKER and call.caller.actor_id not in grid.workers:
                raise Forbidden(f"grid worker {call.caller.actor_id} is not assigned to grid {grid.code}")
            # Findings and measures describe the household's members: sealed under the household's
            # key, then under the assessment's own (family.<id>), so erasing either shreds them. The
            # household's seal comes first: an erased household is refused before a record key exists.
            household = _person(command.household_id)
            assessment_id = uuid4()
            subject = record_subject(FAMILY_TEXT, assessment_id)

            def sealed(text: str) -> str | None:
                return seal(subject, seal(household, text))

            assessment = _create(
                FamilySafetyAssessment, FamilySafetyAssessment.Recorded, assessment_id,
                grid_code=grid.code, jurisdiction=grid.village_code, household_id=command.household_id,
                risk_level=command.risk_level.value, findings=sealed(command.findings),
                measures=sealed(command.measures),
            )
            return [assessment], {"assessment_id": str(assessment.id), "risk_level": assessment.risk_level}

        return self.execute(call, act, command.command_id)

    # -- erasure (PIPL Art. 47) -----------------------------------------------------------

    def erase_person(self, call: Call, command: c.ErasePerson, places: list[str], erase: Erase) -> dict:
        """Destroy a person's key; ``places`` are where the read models name them.

        The caller must cover every place; a person named nowhere (any more) is
        erased by an admin of the prefecture only. The Erasure event holds the
        person's id (already stored in plain beside the sealed fields), the
        places and the ground, never a name.
        """
        action = "erase a person's personal data"
        self._require_role(call, action, ERASERS)
        for place in places or [PREFECTURE]:
            authorize(call.caller, action, ERASERS if places else {Role.ADMIN}, place)
        subject = _person(command.person_id)
        return self._erase(call, command, subject, "person", None, places, erase)

    def erase_record_personal_data(self, call: Call, command: c.EraseRecordPersonalData, erase: Erase) -> dict:
        """Crypto-shred a record's free text (an event, risk, work item, major decision, family
        assessment; a volunteer's name and notes, an organisation's notes); its facts (category,
        source, status, dates) stay."""
        action = "erase a record's personal data"
        self._require_role(call, action, ERASERS)
        record, kind, subject = self._record_with_text(command.record_id)
        place = getattr(record, "grid_code", None) or record.jurisdiction
        authorize(call.caller, action, ERASERS, place)
        return self._erase(call, command, subject, kind, str(record.id), [place], erase)

    def _erase(self, call: Call, command, subject: str, kind: str, record_id: str | None, places: list[str],
               erase: Erase) -> dict:
        def act():
            if self.exists(Erasure.create_id(subject)):
                raise Conflict(f"the personal data of {kind} {record_id or subject} is already erased")
            # Every check has passed: destroy the key, then record it. A failed save is retried by
            # the caller; erasing an erased key again is harmless.
            erase(subject)
            erasure = Erasure(subject=subject, kind=kind, record_id=record_id, places=sorted(set(places)),
                              reason=command.reason.value)
            return [erasure], {"erased": kind, "record_id": record_id, "reason": erasure.reason}

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
        return record, "volunteer" if is_sealed(record.name) else "participant", _participant_subject(record)

    # -- shared -----------------------------------------------------------------------

    @staticmethod
    def _require_role(call: Call, action: str, roles: set[Role]) -> None:
        # The role is checked before loading; the jurisdiction once the record names it.
        if call.caller.role not in roles:
            raise Forbidden(f"the role {call.caller.role.value!r} may not {action}")


# Records whose free text is sealed under their own key: class, kind (in Erasure events), key prefix.
RECORDS_WITH_TEXT = (
    (EventReport, "event report", EVENT_TEXT),
    (Risk, "risk", RISK_TEXT),
    (WorkItem, "work item", ITEM_TEXT),
    (MajorDecision, "major decision", DECISION_TEXT),
    (FamilySafetyAssessment, "family assessment", FAMILY_TEXT),
)


def _participant_subject(participant: Participant) -> str:
    """A volunteer's subject is the one its name is sealed under (``volunteer.<hex>``), so erasing the
    volunteer shreds the name and the recognition notes at once; an organisation's is ``participant.<id>``."""
    if is_sealed(participant.name):
        return participant.name.split(":", 2)[1]
    return record_subject(PARTICIPANT_TEXT, participant.id)


def _person(person_id: str, field: str = "person_id") -> str:
    """A person id used as a key subject: opaque (never a resident ID number), and not one of
    the subjects reserved for records' text (domain/erasure.py)."""
    check_opaque_id(person_id, field)
    if is_reserved_subject(person_id):
        raise ValidationFailed(f"a person id may not start with {person_id.split('.')[0]!r}.")
    return person_id


def _create(cls: type, created: type, aggregate_id: UUID, **fields: Any) -> Any:
    """A new aggregate with an id chosen beforehand (its free text is sealed under that id)."""
    return cls._create(created, id=aggregate_id, **fields)


def _summary(report: EventReport) -> dict:
    return {"event_id": str(report.id), "status": report.status, "version": report.version}


def _item_summary(item: WorkItem) -> dict:
    return {"item_id": str(item.id), "status": item.status, "due_date": item.due_date, "version": item.version}


def _risk_summary(risk: Risk) -> dict:
    return {"risk_id": str(risk.id), "status": risk.status, "level": risk.level, "version": risk.version}


def _decision_summary(decision: MajorDecision) -> dict:
    return {"decision_id": str(decision.id), "status": decision.status, "version": decision.version}
