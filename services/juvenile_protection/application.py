"""Juvenile-protection application: load → authorise → change → save (shared/commands.py).

Who may do what (docs/services/juvenile_protection.md, "Access"): any unit
bound to report receives a report in its jurisdiction; civil affairs and
education run intake, cases and plans; the departments given a task
acknowledge and complete it; the procuratorate and the court seal and unseal a
record. A sealed case is, to everyone else, a case that does not exist: its
commands answer NotFound as its reads do.

Personal fields (the child's identity, guardians, free text) are sealed inside
``act``, once the caller is authorised and the record loaded, under the domain's
key subjects; a step the domain then refuses stores no key (``PinganApplication.execute``
writes key rows only once ``act`` returns). A new case's plain facts are checked
before the child's identity is sealed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from shared.access import authorize
from shared.commands import Commands, RecordType, require_role
from shared.context import Role
from shared.contracts import Envelope, message_key
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.eventstore import Call, PinganApplication
from shared.security.erasure import Erasures
from shared.security.sealing import Erase, Seal

from . import contracts as c
from .domain import (
    ADULT_AGE,
    MinorCase,
    ProtectionPlan,
    Report,
    Source,
    SpecialSchoolReferral,
    age_on,
    case_id_for,
    case_key,
    check_minor_id,
    guardian_key,
    minor_key,
    plan_id_for,
    report_id_for,
    report_key,
)
from .domain.common import check_birth_month

# The administrator may enter intake and plans on a unit's behalf, but reads no minor's record
# (the access policy gives the `minors` category to the roles that serve minors only).
REPORTERS = {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.TOWNSHIP_OFFICER, Role.POLICE, Role.HEALTH,
             Role.CIVIL_AFFAIRS, Role.EDUCATION, Role.ADMIN}
CASE_WORKERS = {Role.CIVIL_AFFAIRS, Role.EDUCATION, Role.ADMIN}
TASK_HOLDERS = CASE_WORKERS | {Role.POLICE, Role.HEALTH, Role.JUSTICE, Role.PROCURATORATE, Role.COURT,
                               Role.TOWNSHIP_OFFICER, Role.VILLAGE_COMMITTEE}
SEALERS = {Role.PROCURATORATE, Role.COURT}
READERS = {Role.CIVIL_AFFAIRS, Role.EDUCATION, Role.POLICE, Role.PROCURATORATE, Role.COURT}
SERVICE_ONLY = {Role.SERVICE}
PROPOSERS = CASE_WORKERS | {Role.POLICE}
# Each assessing department's role; the evaluation body's decision is entered by education.
ASSESSOR_ROLE = {"education": {Role.EDUCATION, Role.ADMIN}, "public_security": {Role.POLICE, Role.ADMIN}}
DECIDERS = {Role.EDUCATION, Role.ADMIN}


def _case_summary(case: MinorCase) -> dict:
    return {"case_id": str(case.id), "status": case.status, "jurisdiction": case.jurisdiction}


def _plan_summary(plan: ProtectionPlan) -> dict:
    return {"plan_id": str(plan.id), "case_id": plan.case_id, "status": plan.status, "complete": plan.complete}


def _report_summary(report: Report) -> dict:
    return {"report_id": str(report.id), "status": report.status, "case_id": report.case_id,
            "deadline_at": report.deadline_at}


# Per stored event, the fields that hold personal data (sealed; never published, logged or a label).
PERSONAL_FIELDS: dict[type, tuple[str, ...]] = {
    Report.Received: ("summary",),
    Report.Redirected: ("note",),
    MinorCase.Opened: ("name", "date_of_birth", "id_number", "address"),
    MinorCase.GuardianAdded: ("guardian_name", "guardian_phone"),
    ProtectionPlan.TaskAssigned: ("description",),
    ProtectionPlan.TaskCompleted: ("note",),
    ProtectionPlan.TaskCancelled: ("reason",),
    ProtectionPlan.Reviewed: ("note",),
    SpecialSchoolReferral.Proposed: ("grounds",),
    SpecialSchoolReferral.Assessed: ("findings",),
    SpecialSchoolReferral.GuardianHeard: ("note",),
    SpecialSchoolReferral.Decided: ("basis",),
    SpecialSchoolReferral.Reviewed: ("note",),
}

REPORT = RecordType(Report, "report", place=lambda r: r.jurisdiction, summary=_report_summary)
CASE = RecordType(MinorCase, "case", place=lambda r: r.jurisdiction, summary=_case_summary)
PLAN = RecordType(ProtectionPlan, "plan", place=lambda r: r.jurisdiction, summary=_plan_summary)


def _referral_summary(referral: SpecialSchoolReferral) -> dict:
    return {"referral_id": str(referral.id), "case_id": referral.case_id, "status": referral.status}


REFERRAL = RecordType(SpecialSchoolReferral, "special-school referral", place=lambda r: r.jurisdiction,
                      summary=_referral_summary)


class JuvenileProtectionApplication(Commands, Erasures, PinganApplication):
    name = "juvenile_protection"  # pins the table names
    personal_fields = PERSONAL_FIELDS

    # -- intake -----------------------------------------------------------------------------

    def receive_report(self, call: Call, command: c.ReceiveReport, seal: Seal, now: datetime) -> dict:
        authorize(call.caller, "receive a mandatory report", REPORTERS, command.jurisdiction)

        def act():
            report_id = report_id_for(command.source.value, command.reference)
            existing = self._existing(report_id)
            if existing is not None:  # the same report again: nothing more is stored
                return [], _report_summary(existing)
            report = Report.receive(command.source.value, command.reference, command.jurisdiction, now,
                                    seal(report_key(report_id), command.summary), command.deadline_hours)
            return [report], _report_summary(report)

        return self.execute(call, act, command.command_id)

    def refer_minor_dependants(self, call: Call, envelope: Envelope, referred: c.MinorDependantsReported,
                               now: datetime) -> None:
        """Consumed from key_populations: one report per enrolled person, however often it arrives."""
        authorize(call.caller, "receive a referral", SERVICE_ONLY, referred.jurisdiction)

        def act():
            report_id = report_id_for(Source.KEY_POPULATIONS.value, referred.person_id)
            if self.exists(report_id):
                return [], {}
            return [Report.receive(Source.KEY_POPULATIONS.value, referred.person_id, referred.jurisdiction, now,
                                   None)], {}

        # The inbox record and the report's derived id make a redelivery, in any order and on any
        # replica, store nothing more (docs/architecture.md, exactly once).
        self.execute(call, act, inbox=message_key(envelope))

    def accept_report(self, call: Call, command: c.AcceptReport, seal: Seal, now: datetime, today: date) -> dict:
        require_role(call, "accept a report", CASE_WORKERS)

        def act():
            report = self.load(Report, command.report_id, "report")
            authorize(call.caller, "accept a report", CASE_WORKERS, report.jurisdiction)
            if command.case_id is not None:
                case = self._visible_case(call, command.case_id)
                if case.jurisdiction != report.jurisdiction:
                    raise ValidationFailed("a report is accepted into a case of the same village")
                report.accept(case.id, now)
                case.link_report(report.id)
                return [report, case], {**_report_summary(report), **_case_summary(case)}
            case_id = case_id_for(report.id)
            report.accept(case_id, now)
            case = self._open_case(command, report, seal, today)
            return [report, case], {**_report_summary(report), **_case_summary(case)}

        return self.execute(call, act, command.command_id)

    def _open_case(self, command: c.AcceptReport, report: Report, seal: Seal, today: date) -> MinorCase:
        """The child's checks first (the domain's, on plain facts), then their identity sealed."""
        if not (command.minor_id and command.birth_month and command.date_of_birth and command.name):
            raise ValidationFailed("a new case names the child: minor_id, birth_month, date_of_birth, name")
        if command.date_of_birth.isoformat()[:7] != command.birth_month:
            raise ValidationFailed("the birth month is the month of the date of birth")
        check_minor_id(command.minor_id)
        check_birth_month(command.birth_month, today)
        if age_on(command.birth_month, today) >= ADULT_AGE:
            raise ValidationFailed(f"the child is {ADULT_AGE} or older: not a minor's case")
        if not command.categories:
            raise ValidationFailed("a case carries at least one category")
        subject = minor_key(command.minor_id)
        return MinorCase.open(report.id, command.minor_id, report.jurisdiction, command.birth_month,
                              [category.value for category in command.categories], today,
                              seal(subject, command.name), seal(subject, command.date_of_birth.isoformat()),
                              seal(subject, command.id_number), seal(subject, command.address), command.school_id)

    def redirect_report(self, call: Call, command: c.RedirectReport, seal: Seal, now: datetime) -> dict:
        def redirect(report: Report) -> None:
            report.redirect(command.to_department.value, now, seal(report_key(report.id), command.note))

        return self.change(call, REPORT, command.report_id, "redirect a report", CASE_WORKERS, redirect,
                           command_id=command.command_id)

    def flag_overdue_report(self, call: Call, report_id: UUID, now: datetime) -> bool:
        """The timer's check of one report: True when it flagged it now (once per report)."""
        flagged: list[bool] = []

        def act():
            report = self.load(Report, report_id, "report")
            authorize(call.caller, "flag an overdue report", SERVICE_ONLY, report.jurisdiction)
            flagged[:] = [report.flag_overdue(now)]  # a retried act (a concurrent replica) answers afresh
            return ([report] if flagged[0] else []), {}

        self.execute(call, act)
        return flagged[0]

    # -- cases --------------------------------------------------------------------------------

    def add_guardian(self, call: Call, command: c.AddGuardian, seal: Seal) -> dict:
        def add(case: MinorCase) -> dict:
            subject = guardian_key(case.id, case.next_guardian_id())
            return {"guardian_id": case.add_guardian(command.relation.value, seal(subject, command.guardian_name),
                                                     seal(subject, command.guardian_phone))}

        return self._on_case(call, command.case_id, command.command_id, "add a guardian", CASE_WORKERS, add)

    def add_category(self, call: Call, command: c.AddCategory) -> dict:
        return self._on_case(call, command.case_id, command.command_id, "add a category", CASE_WORKERS,
                             lambda case: case.add_category(command.category.value))

    def remove_category(self, call: Call, command: c.RemoveCategory) -> dict:
        return self._on_case(call, command.case_id, command.command_id, "remove a category", CASE_WORKERS,
                             lambda case: case.remove_category(command.category.value))

    def record_school(self, call: Call, command: c.RecordSchool) -> dict:
        return self._on_case(call, command.case_id, command.command_id, "record a child's school", CASE_WORKERS,
                             lambda case: case.record_school(command.school_id))

    def close_case(self, call: Call, command: c.CloseCase, today: date) -> dict:
        def close(case: MinorCase) -> list:
            plan = self._existing(plan_id_for(case.id))
            case.close(command.reason.value, today, plan_complete=bool(plan and plan.complete))
            if plan is not None and plan.status == "active":
                plan.end(today)
                return [plan]
            return []

        return self._on_case(call, command.case_id, command.command_id, "close a case", CASE_WORKERS, close)

    def seal_record(self, call: Call, command: c.SealRecord) -> dict:
        return self._on_case(call, command.case_id, command.command_id, "seal a minor's criminal record", SEALERS,
                             lambda case: case.seal(command.ground.value, command.offence_month,
                                                    command.sentence_months, command.reference))

    def unseal_record(self, call: Call, command: c.UnsealRecord) -> dict:
        return self._on_case(call, command.case_id, command.command_id, "unseal a minor's criminal record", SEALERS,
                             lambda case: case.unseal(command.ground.value, command.reference))

    def reach_majority(self, call: Call, case_id: UUID, today: date) -> bool:
        """The timer: a child who is 18 is handed to the plan's lead department, or the case closed."""
        done: list[bool] = []

        def act():
            case = self.load(MinorCase, case_id, "case")
            authorize(call.caller, "record a child's majority", SERVICE_ONLY, case.jurisdiction)
            if not case.due_for_majority(today):
                done[:] = [False]  # a retried act (a concurrent replica did it) answers afresh
                return [], {}
            plan = self._existing(plan_id_for(case.id))
            active = plan is not None and plan.status == "active"
            case.reach_majority(today, plan.lead_department if active else None)
            if active:
                plan.end(today)
            done[:] = [True]
            return [case, *([plan] if active else [])], {}

        self.execute(call, act)
        return done[0]

    def erase_child(self, call: Call, command: c.EraseChildPersonalData, erase: Erase) -> dict:
        """Destroy the child's key, each guardian's and the case's text key; facts and sealing stay."""
        action = "erase a child's personal data"
        require_role(call, action, CASE_WORKERS)

        def act():
            case = self._visible_case(call, command.case_id)
            authorize(call.caller, action, CASE_WORKERS, case.jurisdiction)
            subjects = [minor_key(case.minor_id), case_key(case.id),
                        *(guardian_key(case.id, guardian_id) for guardian_id in case.guardians)]
            records = self.shred(erase, subjects, kind="minor", record_id=str(case.id), places=[case.jurisdiction],
                                 reason=command.reason.value)
            return records, {"erased": "minor", "record_id": str(case.id), "reason": command.reason.value}

        return self.execute(call, act, command.command_id)

    # -- coordinated protection plan --------------------------------------------------------------

    def draw_up_plan(self, call: Call, command: c.DrawUpPlan, today: date) -> dict:
        require_role(call, "draw up a protection plan", CASE_WORKERS)

        def act():
            case = self._visible_case(call, command.case_id)
            authorize(call.caller, "draw up a protection plan", CASE_WORKERS, case.jurisdiction)
            if self.exists(plan_id_for(case.id)):
                raise Conflict(f"case {case.id} already has a protection plan")
            plan = ProtectionPlan.draw_up(case, command.lead_department.value, command.first_review_on, today)
            return [plan], _plan_summary(plan)

        return self.execute(call, act, command.command_id)

    def assign_plan_task(self, call: Call, command: c.AssignPlanTask, seal: Seal, today: date) -> dict:
        def assign(plan: ProtectionPlan) -> dict:
            return {"task_id": plan.assign_task(command.department.value, command.due_on, today,
                                                seal(case_key(plan.case_id), command.description))}

        return self._on_plan(call, command.plan_id, command.command_id, "assign a plan task", CASE_WORKERS, assign)

    def acknowledge_plan_task(self, call: Call, command: c.AcknowledgePlanTask) -> dict:
        return self._on_plan(call, command.plan_id, command.command_id, "acknowledge a plan task", TASK_HOLDERS,
                             lambda plan: plan.acknowledge_task(command.task_id))

    def complete_plan_task(self, call: Call, command: c.CompletePlanTask, seal: Seal, today: date) -> dict:
        def complete(plan: ProtectionPlan) -> None:
            plan.complete_task(command.task_id, today, seal(case_key(plan.case_id), command.note))

        return self._on_plan(call, command.plan_id, command.command_id, "complete a plan task", TASK_HOLDERS,
                             complete)

    def cancel_plan_task(self, call: Call, command: c.CancelPlanTask, seal: Seal) -> dict:
        def cancel(plan: ProtectionPlan) -> None:
            plan.cancel_task(command.task_id, seal(case_key(plan.case_id), command.reason))

        return self._on_plan(call, command.plan_id, command.command_id, "cancel a plan task", CASE_WORKERS, cancel)

    def review_plan(self, call: Call, command: c.ReviewPlan, seal: Seal, today: date) -> dict:
        def review(plan: ProtectionPlan) -> dict:
            plan.record_review(today, command.next_review_on, command.outcome.value,
                               seal(case_key(plan.case_id), command.note))
            return {"next_review_on": plan.next_review_on}

        return self._on_plan(call, command.plan_id, command.command_id, "review a protection plan", CASE_WORKERS,
                             review)

    def change_plan_lead(self, call: Call, command: c.ChangePlanLead) -> dict:
        def change(plan: ProtectionPlan) -> dict:
            plan.change_lead(command.lead_department.value)
            return {"lead_department": plan.lead_department}

        return self._on_plan(call, command.plan_id, command.command_id, "change a plan's lead department",
                             CASE_WORKERS, change)

    def flag_review_overdue(self, call: Call, record: type[ProtectionPlan] | type[SpecialSchoolReferral],
                            record_id: UUID, today: date) -> bool:
        """The timer's check of one plan's or placement's review date: True when flagged now (once per date)."""
        flagged: list[bool] = []

        def act():
            found = self.load(record, record_id, "plan" if record is ProtectionPlan else "special-school referral")
            authorize(call.caller, "flag an overdue review", SERVICE_ONLY, found.jurisdiction)
            flagged[:] = [found.flag_review_overdue(today)]  # a retried act (a concurrent replica) answers afresh
            return ([found] if flagged[0] else []), {}

        self.execute(call, act)
        return flagged[0]

    def flag_stalled_tasks(self, call: Call, plan_id: UUID, today: date) -> list[str]:
        flagged: list[str] = []

        def act():
            plan = self.load(ProtectionPlan, plan_id, "plan")
            authorize(call.caller, "flag stalled plan tasks", SERVICE_ONLY, plan.jurisdiction)
            flagged[:] = plan.flag_overdue_tasks(today)
            return ([plan] if flagged else []), {}

        self.execute(call, act)
        return flagged

    # -- special (专门) school referral ----------------------------------------------------------

    def propose_special_school(self, call: Call, command: c.ProposeSpecialSchool, seal: Seal) -> dict:
        require_role(call, "propose a special-school referral", PROPOSERS)

        def act():
            case = self._visible_case(call, command.case_id)
            authorize(call.caller, "propose a special-school referral", PROPOSERS, case.jurisdiction)
            referral = SpecialSchoolReferral.propose(uuid4(), case, command.proposed_by.value,
                                                     seal(case_key(case.id), command.grounds))
            return [referral], _referral_summary(referral)

        return self.execute(call, act, command.command_id)

    def assess_referral(self, call: Call, command: c.AssessReferral, seal: Seal) -> dict:
        return self._on_referral(call, command, "assess a special-school referral", ASSESSOR_ROLE[command.by.value],
                                 lambda r: r.record_assessment(command.by.value, command.recommends,
                                                               seal(case_key(r.case_id), command.findings)))

    def hear_guardian(self, call: Call, command: c.HearGuardian, seal: Seal) -> dict:
        return self._on_referral(call, command, "record the guardian's view", CASE_WORKERS,
                                 lambda r: r.record_guardian_view(command.view.value,
                                                                  seal(case_key(r.case_id), command.note)))

    def decide_referral(self, call: Call, command: c.DecideReferral, seal: Seal, today: date) -> dict:
        return self._on_referral(call, command, "decide a special-school referral", DECIDERS,
                                 lambda r: r.decide(command.admitted, today, seal(case_key(r.case_id), command.basis)))

    def place_in_special_school(self, call: Call, command: c.PlaceInSpecialSchool, today: date) -> dict:
        return self._on_referral(call, command, "place a child in a special school", CASE_WORKERS,
                                 lambda r: r.place(command.school_id, today, command.first_review_on))

    def review_placement(self, call: Call, command: c.ReviewPlacement, seal: Seal, today: date) -> dict:
        return self._on_referral(call, command, "review a special-school placement", CASE_WORKERS,
                                 lambda r: r.record_review(today, command.next_review_on,
                                                           seal(case_key(r.case_id), command.note)))

    def return_to_ordinary_school(self, call: Call, command: c.ReturnToOrdinarySchool, today: date) -> dict:
        return self._on_referral(call, command, "return a child to an ordinary school", CASE_WORKERS,
                                 lambda r: r.return_to_ordinary_school(command.school_id, today))

    def _on_referral(self, call: Call, command: Any, action: str, roles: set[Role],
                     change: Callable[[SpecialSchoolReferral], Any]) -> dict:
        def changed(referral: SpecialSchoolReferral) -> Any:
            self._require_visible(call, self.load(MinorCase, UUID(referral.case_id), "case"), "special-school referral",
                                  referral.id)
            return change(referral)

        return self.change(call, REFERRAL, command.referral_id, action, roles, changed, command_id=command.command_id)

    # -- helpers --------------------------------------------------------------------------------

    def _on_case(self, call: Call, case_id: UUID, command_id: str | None, action: str, roles: set[Role],
                 change: Callable[[MinorCase], Any]) -> dict:
        def changed(case: MinorCase) -> Any:
            self._require_visible(call, case)
            return change(case)

        return self.change(call, CASE, case_id, action, roles, changed, command_id=command_id)

    def _on_plan(self, call: Call, plan_id: UUID, command_id: str | None, action: str, roles: set[Role],
                 change: Callable[[ProtectionPlan], Any]) -> dict:
        def changed(plan: ProtectionPlan) -> Any:
            self._require_visible(call, self.load(MinorCase, UUID(plan.case_id), "case"), "plan", plan.id)
            return change(plan)

        return self.change(call, PLAN, plan_id, action, roles, changed, command_id=command_id)

    def _visible_case(self, call: Call, case_id: UUID) -> MinorCase:
        case = self.load(MinorCase, case_id, "case")
        self._require_visible(call, case)
        return case

    @staticmethod
    def _require_visible(call: Call, case: MinorCase, what: str = "case", record_id: Any = None) -> None:
        """A sealed record exists only for the roles that seal it (docs/services/juvenile_protection.md)."""
        if case.sealed and call.caller.role not in SEALERS:
            raise NotFound(f"no {what} with id {record_id or case.id}")

    def _existing(self, aggregate_id: UUID) -> Any:
        return self.repository.get(aggregate_id) if self.exists(aggregate_id) else None
