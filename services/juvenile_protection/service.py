"""juvenile_protection over nameko: thin entrypoints, each verify → parse → application or Reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog

from shared.access import authorize
from shared.clock import Clock, Now, SettingTimer
from shared.commands import service_call
from shared.contracts import Envelope
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, api, consumes
from shared.errors import ValidationFailed
from shared.eventstore import Call
from shared.queries import Reads, purpose_of, scope_of
from shared.security.providers import PersonalDataVault
from shared.security.sealing import PersonalFields

from . import contracts as c
from . import projections as views
from .application import PERSONAL_FIELDS, READERS, JuvenileProtectionApplication
from .domain import RECORD_CATEGORY, ProtectionPlan, SpecialSchoolReferral
from .publishing import published

log = structlog.get_logger(__name__)

PERSONAL = PersonalFields(events=PERSONAL_FIELDS, columns=views.SEALED_COLUMNS)
# An approval to read sealed records is in force for at most this long.
MAX_APPROVAL = timedelta(days=30)


class JuvenileProtectionService(ServiceBase):
    name = c.SERVICE
    events_category = "minors"  # every event concerns a minor

    store = Store(JuvenileProtectionApplication, views.projections(), published())
    vault = PersonalDataVault()  # the child's, each guardian's and each case's own key
    today = Clock()
    now = Now()

    # -- intake ----------------------------------------------------------------------------

    @api(c.ReceiveReport)
    def receive_report(self, call: Call, command: c.ReceiveReport) -> dict:
        return self.store.app.receive_report(call, command, self.vault.seal, self.now())

    @api(c.AcceptReport)
    def accept_report(self, call: Call, command: c.AcceptReport) -> dict:
        return self.store.app.accept_report(call, command, self.vault.seal, self.now(), self.today())

    @api(c.RedirectReport)
    def redirect_report(self, call: Call, command: c.RedirectReport) -> dict:
        return self.store.app.redirect_report(call, command, self.vault.seal, self.now())

    @consumes(c.KEY_POPULATIONS, c.MINOR_DEPENDANTS_REPORTED, c.MinorDependantsReported)
    def on_minor_dependants_reported(self, call: Call, envelope: Envelope,
                                     referred: c.MinorDependantsReported) -> None:
        self.store.app.refer_minor_dependants(call, envelope, referred, self.now())

    # -- cases --------------------------------------------------------------------------------

    @api(c.AddGuardian)
    def add_guardian(self, call: Call, command: c.AddGuardian) -> dict:
        return self.store.app.add_guardian(call, command, self.vault.seal)

    @api(c.AddCategory)
    def add_category(self, call: Call, command: c.AddCategory) -> dict:
        return self.store.app.add_category(call, command)

    @api(c.RemoveCategory)
    def remove_category(self, call: Call, command: c.RemoveCategory) -> dict:
        return self.store.app.remove_category(call, command)

    @api(c.RecordSchool)
    def record_school(self, call: Call, command: c.RecordSchool) -> dict:
        return self.store.app.record_school(call, command)

    @api(c.CloseCase)
    def close_case(self, call: Call, command: c.CloseCase) -> dict:
        return self.store.app.close_case(call, command, self.today())

    @api(c.SealRecord)
    def seal_record(self, call: Call, command: c.SealRecord) -> dict:
        return self.store.app.seal_record(call, command)

    @api(c.UnsealRecord)
    def unseal_record(self, call: Call, command: c.UnsealRecord) -> dict:
        return self.store.app.unseal_record(call, command)

    @api(c.EraseChildPersonalData)
    def erase_child_personal_data(self, call: Call, command: c.EraseChildPersonalData) -> dict:
        return self.store.app.erase_child(call, command, self.vault.erase)

    # -- coordinated protection plan -------------------------------------------------------------

    @api(c.DrawUpPlan)
    def draw_up_plan(self, call: Call, command: c.DrawUpPlan) -> dict:
        return self.store.app.draw_up_plan(call, command, self.today())

    @api(c.AssignPlanTask)
    def assign_plan_task(self, call: Call, command: c.AssignPlanTask) -> dict:
        return self.store.app.assign_plan_task(call, command, self.vault.seal, self.today())

    @api(c.AcknowledgePlanTask)
    def acknowledge_plan_task(self, call: Call, command: c.AcknowledgePlanTask) -> dict:
        return self.store.app.acknowledge_plan_task(call, command)

    @api(c.CompletePlanTask)
    def complete_plan_task(self, call: Call, command: c.CompletePlanTask) -> dict:
        return self.store.app.complete_plan_task(call, command, self.vault.seal, self.today())

    @api(c.CancelPlanTask)
    def cancel_plan_task(self, call: Call, command: c.CancelPlanTask) -> dict:
        return self.store.app.cancel_plan_task(call, command, self.vault.seal)

    @api(c.ReviewPlan)
    def review_plan(self, call: Call, command: c.ReviewPlan) -> dict:
        return self.store.app.review_plan(call, command, self.vault.seal, self.today())

    @api(c.ChangePlanLead)
    def change_plan_lead(self, call: Call, command: c.ChangePlanLead) -> dict:
        return self.store.app.change_plan_lead(call, command)

    # -- special (专门) school referral ---------------------------------------------------------------

    @api(c.ProposeSpecialSchool)
    def propose_special_school(self, call: Call, command: c.ProposeSpecialSchool) -> dict:
        return self.store.app.propose_special_school(call, command, self.vault.seal)

    @api(c.AssessReferral)
    def assess_referral(self, call: Call, command: c.AssessReferral) -> dict:
        return self.store.app.assess_referral(call, command, self.vault.seal)

    @api(c.HearGuardian)
    def hear_guardian(self, call: Call, command: c.HearGuardian) -> dict:
        return self.store.app.hear_guardian(call, command, self.vault.seal)

    @api(c.DecideReferral)
    def decide_referral(self, call: Call, command: c.DecideReferral) -> dict:
        return self.store.app.decide_referral(call, command, self.vault.seal, self.today())

    @api(c.PlaceInSpecialSchool)
    def place_in_special_school(self, call: Call, command: c.PlaceInSpecialSchool) -> dict:
        return self.store.app.place_in_special_school(call, command, self.today())

    @api(c.ReviewPlacement)
    def review_placement(self, call: Call, command: c.ReviewPlacement) -> dict:
        return self.store.app.review_placement(call, command, self.vault.seal, self.today())

    @api(c.ReturnToOrdinarySchool)
    def return_to_ordinary_school(self, call: Call, command: c.ReturnToOrdinarySchool) -> dict:
        return self.store.app.return_to_ordinary_school(call, command, self.today())

    # -- timers -------------------------------------------------------------------------------------

    @SettingTimer.decorator("overdue_check_interval", eager=True)
    def check_deadlines(self) -> dict:
        """Flag reports past their acceptance deadline, stalled plan tasks, and plans and special-school
        placements past their review date (each once), and hand over or close the cases of children
        who reached 18. Every replica may run it: each step is a command on one record, refused or a
        no-op when another replica did it first."""
        now, today = self.now(), self.today()
        with self.store.read() as conn:
            overdue = views.overdue_report_candidates(conn, now)
            adults = views.majority_candidates(conn, today)
            stalled = views.stalled_task_candidates(conn, today)
            plans = views.plan_review_candidates(conn, today)
            placements = views.placement_review_candidates(conn, today)
        call = service_call(c.SERVICE, f"{c.SERVICE}.deadlines:{now.isoformat()}")
        app = self.store.app
        done = {"reports_overdue": sum(app.flag_overdue_report(call, UUID(i), now) for i in overdue),
                "cases_of_adults": sum(app.reach_majority(call, UUID(i), today) for i in adults),
                "tasks_stalled": sum(len(app.flag_stalled_tasks(call, UUID(i), today)) for i in stalled),
                "plan_reviews_overdue": sum(app.flag_review_overdue(call, ProtectionPlan, UUID(i), today)
                                            for i in plans),
                "placement_reviews_overdue": sum(app.flag_review_overdue(call, SpecialSchoolReferral, UUID(i), today)
                                                 for i in placements)}
        if any(done.values()):
            log.info("juvenile_deadlines_checked", **done)
        return done

    # -- queries (read models, never replays; shared.queries) -----------------------------------------

    def reads(self) -> Reads:
        return Reads(self.store, self.vault, views.page_of, PERSONAL, READERS, category=RECORD_CATEGORY)

    @api(c.ListCases)
    def list_cases(self, call: Call, query: c.ListCases) -> dict:
        sealed_too, action = self._sealed_access(call, query, "list minors' cases")
        return self.reads().audited_page(call, query, action, "minor case", "case_id", lambda scope: views.cases_query(
            scope, query.status.value if query.status else None, query.category.value if query.category else None,
            sealed_too))

    @api(c.GetCase)
    def get_case(self, call: Call, query: c.GetCase) -> dict:
        sealed_too, action = self._sealed_access(call, query, "read a minor's case")
        found = self.reads().audited_one(call, query, action, "minor case", query.case_id,
                                         lambda conn, case_id: views.case_by_id(conn, case_id, sealed_too))
        return {**found, "guardian_list": [self.reads().opened(g) for g in found["guardian_list"]]}

    @api(c.CountCases)
    def count_cases(self, call: Call, query: c.CountCases) -> dict:
        """Counts name no child, but a sealed case must not be counted: decided like a listing."""
        sealed_too, action = self._sealed_access(call, query, "count minors' cases")
        scope = scope_of(call, query)
        authorize(call.caller, action, READERS, scope, RECORD_CATEGORY, purpose_of(query))
        with self.store.read() as conn:
            return views.case_counts(conn, scope, sealed_too)

    @api(c.ListReports)
    def list_reports(self, call: Call, query: c.ListReports) -> dict:
        sealed_too, action = self._sealed_access(call, query, "list mandatory reports")
        return self.reads().audited_page(call, query, action, "report", "report_id", lambda scope: views.reports_query(
            scope, query.status.value if query.status else None, query.overdue, sealed_too))

    @api(c.GetPlan)
    def get_plan(self, call: Call, query: c.GetPlan) -> dict:
        sealed_too, action = self._sealed_access(call, query, "read a protection plan")
        found = self.reads().audited_one(call, query, action, "protection plan", query.plan_id,
                                         lambda conn, plan_id: views.plan_by_id(conn, plan_id, sealed_too))
        return {**found, "task_list": [self.reads().opened(t) for t in found["task_list"]]}

    @api(c.GetReferral)
    def get_referral(self, call: Call, query: c.GetReferral) -> dict:
        sealed_too, action = self._sealed_access(call, query, "read a special-school referral")
        return self.reads().audited_one(call, query, action, "special-school referral", query.referral_id,
                                        lambda conn, referral_id: views.referral_by_id(conn, referral_id, sealed_too))

    def _sealed_access(self, call: Call, query: Any, action: str) -> tuple[bool, str]:
        """Whether this read may see sealed records, and the action its audit event names: a judicial
        role, stating its own purpose, citing an approval in force (docs/services/juvenile_protection.md)."""
        if query.approval_ref is None and query.approval_expires is None:
            return False, action
        expected = c.SEALED_PURPOSE_OF_ROLE.get(call.caller.role.value)
        if expected is None or purpose_of(query) != expected.value:
            raise ValidationFailed("a sealed-record approval is used by police, procuratorate or court, each for "
                                   "its own purpose (criminal_investigation, prosecution, trial)")
        if query.approval_ref is None or query.approval_expires is None:
            raise ValidationFailed("a sealed-record approval has a reference and an expiry")
        now = self.now()
        if not now < query.approval_expires <= now + MAX_APPROVAL:
            raise ValidationFailed(f"the approval is not in force (expired, or longer than {MAX_APPROVAL.days} days)")
        return True, f"{action} with sealed records (approval {query.approval_ref})"
