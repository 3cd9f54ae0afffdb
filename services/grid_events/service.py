"""grid_events over nameko: thin entrypoints, each verify → parse → application."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog

from services.emergency_command import contracts as emergency_command
from services.mediation import contracts as mediation
from shared.access import authorize
from shared.clock import Clock, SettingTimer
from shared.commands import service_call
from shared.context import Role
from shared.contracts import Envelope
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, api, consumes
from shared.errors import Forbidden
from shared.eventstore import Call
from shared.queries import Reads
from shared.security import history
from shared.security.providers import PersonalDataVault
from shared.security.sealing import PersonalFields

from . import contracts as c
from . import projections as views
from . import publishing
from .application import READERS, GridEventsApplication
from .domain import (
    FAMILY_TEXT,
    PERSONAL_FIELDS,
    EventReport,
    FamilySafetyAssessment,
    MajorDecision,
    Risk,
    WorkItem,
    record_subject,
)

log = structlog.get_logger(__name__)


def own_report(row: dict | None, actor_id: str) -> dict | None:
    return row if row is not None and row["reporter_id"] == actor_id else None


def _place(record: Any) -> str:
    """Where a record lies for the access policy: its grid when it has one (as its read model says)."""
    return getattr(record, "grid_code", None) or record.jurisdiction


# The record kinds whose history callers may ask for (shared.security.history); audit kinds as the gets use.
RECORDS = history.RecordKinds(
    history.RecordKind("event", EventReport, "event report", READERS, _place, id_field="event_id"),
    history.RecordKind("work_item", WorkItem, "work item", READERS, _place, id_field="item_id"),
    history.RecordKind("risk", Risk, "risk", READERS, _place, id_field="risk_id"),
    history.RecordKind("decision", MajorDecision, "major decision", READERS, _place, id_field="decision_id"),
    history.RecordKind("family_assessment", FamilySafetyAssessment, "family assessment", READERS, _place,
                       id_field="assessment_id"),
)


# Where personal data lives: sealed event fields, sealed read-model columns; a family assessment's
# findings and measures are sealed twice (the assessment's key around the household's).
PERSONAL = PersonalFields(events=PERSONAL_FIELDS, columns=views.SEALED_COLUMNS,
                          twice={name: record_subject(FAMILY_TEXT, "") for name in views.DOUBLY_SEALED_COLUMNS})


class GridEventsService(ServiceBase):
    name = c.SERVICE

    store = Store(GridEventsApplication, views.projections(), publishing.contracts())
    vault = PersonalDataVault()
    today = Clock()

    # -- registry -------------------------------------------------------------

    @api(c.RegisterJurisdiction)
    def register_jurisdiction(self, call: Call, command: c.RegisterJurisdiction) -> dict:
        return self.store.app.register_jurisdiction(call, command)

    @api(c.RegisterGrid)
    def register_grid(self, call: Call, command: c.RegisterGrid) -> dict:
        return self.store.app.register_grid(call, command)

    @api(c.AssignWorker)
    def assign_worker(self, call: Call, command: c.AssignWorker) -> dict:
        return self.store.app.assign_worker(call, command)

    @api(c.UnassignWorker)
    def unassign_worker(self, call: Call, command: c.UnassignWorker) -> dict:
        return self.store.app.unassign_worker(call, command)

    @api(c.NameTownshipResponsible)
    def name_township_responsible(self, call: Call, command: c.NameTownshipResponsible) -> dict:
        return self.store.app.name_township_responsible(call, command, self.vault.seal)

    @api(c.RegisterMemberUnit)
    def register_member_unit(self, call: Call, command: c.RegisterMemberUnit) -> dict:
        return self.store.app.register_member_unit(call, command)

    @api(c.ChangeMemberUnitDuties)
    def change_member_unit_duties(self, call: Call, command: c.ChangeMemberUnitDuties) -> dict:
        return self.store.app.change_member_unit_duties(call, command)

    @api(c.NameContactPoint)
    def name_contact_point(self, call: Call, command: c.NameContactPoint) -> dict:
        return self.store.app.name_contact_point(call, command, self.vault.seal)

    @api(c.RegisterParticipant)
    def register_participant(self, call: Call, command: c.RegisterParticipant) -> dict:
        return self.store.app.register_participant(call, command, self.vault.seal)

    @api(c.RecogniseParticipant)
    def recognise_participant(self, call: Call, command: c.RecogniseParticipant) -> dict:
        return self.store.app.recognise_participant(call, command, self.vault.seal)

    # -- reported events --------------------------------------------------------

    @api(c.ReportEvent)
    def report_event(self, call: Call, command: c.ReportEvent) -> dict:
        return self.store.app.report_event(call, command, self.vault.seal)

    @api(c.AcceptEvent)
    def accept_event(self, call: Call, command: c.AcceptEvent) -> dict:
        return self.store.app.accept_event(call, command)

    @api(c.AssignEvent)
    def assign_event(self, call: Call, command: c.AssignEvent) -> dict:
        return self.store.app.assign_event(call, command)

    @api(c.RecordHandling)
    def record_handling(self, call: Call, command: c.RecordHandling) -> dict:
        return self.store.app.record_handling(call, command, self.vault.seal)

    @api(c.RecordFeedback)
    def record_feedback(self, call: Call, command: c.RecordFeedback) -> dict:
        return self.store.app.record_feedback(call, command, self.vault.seal)

    @api(c.TickChecklistStep)
    def tick_checklist_step(self, call: Call, command: c.TickChecklistStep) -> dict:
        return self.store.app.tick_checklist_step(call, command, self.vault.seal)

    @api(c.CloseEvent)
    def close_event(self, call: Call, command: c.CloseEvent) -> dict:
        return self.store.app.close_event(call, command)

    # -- work items ----------------------------------------------------------------

    @api(c.AddWorkItem)
    def add_work_item(self, call: Call, command: c.AddWorkItem) -> dict:
        return self.store.app.add_work_item(call, command, self.vault.seal)

    @api(c.CompleteWorkItem)
    def complete_work_item(self, call: Call, command: c.CompleteWorkItem) -> dict:
        return self.store.app.complete_work_item(call, command, self.vault.seal)

    @api(c.ReassignWorkItem)
    def reassign_work_item(self, call: Call, command: c.ReassignWorkItem) -> dict:
        return self.store.app.reassign_work_item(call, command)

    @api(c.CancelWorkItem)
    def cancel_work_item(self, call: Call, command: c.CancelWorkItem) -> dict:
        return self.store.app.cancel_work_item(call, command, self.vault.seal)

    @SettingTimer.decorator("overdue_check_interval", eager=True)
    def check_overdue(self) -> int:
        """Mark every open item past its due date, once per due date; the relay
        publishes ``work_item_overdue``. Returns how many were marked."""
        today = self.today()
        with self.store.read() as conn:
            candidates = views.overdue_candidates(conn, today)
        call = service_call(c.SERVICE, f"{c.SERVICE}.overdue:{today.isoformat()}")
        marked = sum(self.store.app.mark_overdue(call, item_id, today) for item_id in map(UUID, candidates))
        if marked:
            log.info("work_items_marked_overdue", count=marked, day=today.isoformat())
        return marked

    # -- risks ------------------------------------------------------------------------

    @api(c.RegisterRisk)
    def register_risk(self, call: Call, command: c.RegisterRisk) -> dict:
        return self.store.app.register_risk(call, command, self.vault.seal)

    @api(c.IssueWarning)
    def issue_warning(self, call: Call, command: c.IssueWarning) -> dict:
        return self.store.app.issue_warning(call, command)

    @api(c.ChangeRiskLevel)
    def change_risk_level(self, call: Call, command: c.ChangeRiskLevel) -> dict:
        return self.store.app.change_risk_level(call, command)

    @api(c.AssignRiskResponsibility)
    def assign_risk_responsibility(self, call: Call, command: c.AssignRiskResponsibility) -> dict:
        return self.store.app.assign_risk_responsibility(call, command, self.vault.seal)

    @api(c.StartRiskMeasures)
    def start_risk_measures(self, call: Call, command: c.StartRiskMeasures) -> dict:
        return self.store.app.start_risk_measures(call, command, self.vault.seal)

    @api(c.RecordReinspection)
    def record_reinspection(self, call: Call, command: c.RecordReinspection) -> dict:
        return self.store.app.record_reinspection(call, command, self.vault.seal)

    @api(c.DefuseRisk)
    def defuse_risk(self, call: Call, command: c.DefuseRisk) -> dict:
        return self.store.app.defuse_risk(call, command, self.vault.seal)

    @api(c.ReportRiskFeedback)
    def report_risk_feedback(self, call: Call, command: c.ReportRiskFeedback) -> dict:
        return self.store.app.report_risk_feedback(call, command, self.vault.seal)

    @api(c.CloseRisk)
    def close_risk(self, call: Call, command: c.CloseRisk) -> dict:
        return self.store.app.close_risk(call, command)

    # -- major decisions and family assessments -------------------------------------

    @api(c.RegisterDecision)
    def register_decision(self, call: Call, command: c.RegisterDecision) -> dict:
        return self.store.app.register_decision(call, command, self.vault.seal)

    @api(c.AssessDecision)
    def assess_decision(self, call: Call, command: c.AssessDecision) -> dict:
        return self.store.app.assess_decision(call, command, self.vault.seal)

    @api(c.ApproveAssessment)
    def approve_assessment(self, call: Call, command: c.ApproveAssessment) -> dict:
        return self.store.app.approve_assessment(call, command)

    @api(c.RejectAssessment)
    def reject_assessment(self, call: Call, command: c.RejectAssessment) -> dict:
        return self.store.app.reject_assessment(call, command, self.vault.seal)

    @api(c.ClearDecision)
    def clear_decision(self, call: Call, command: c.ClearDecision) -> dict:
        return self.store.app.clear_decision(call, command)

    @api(c.RecordFamilyAssessment)
    def record_family_assessment(self, call: Call, command: c.RecordFamilyAssessment) -> dict:
        return self.store.app.record_family_assessment(call, command, self.vault.seal)

    # -- erasure (PIPL Art. 47) -------------------------------------------------

    @api(c.ErasePerson)
    def erase_person(self, call: Call, command: c.ErasePerson) -> dict:
        with self.store.read() as conn:
            places = views.places_naming(conn, command.person_id)
        return self.store.app.erase_person(call, command, places, self.vault.erase)

    @api(c.EraseRecordPersonalData)
    def erase_record_personal_data(self, call: Call, command: c.EraseRecordPersonalData) -> dict:
        return self.store.app.erase_record_personal_data(call, command, self.vault.erase)

    # -- events from other services ------------------------------------------

    @consumes(mediation.SERVICE, mediation.CASE_OPENED, mediation.CaseOpened)
    def on_mediation_case_opened(self, call: Call, envelope: Envelope, case: mediation.CaseOpened) -> None:
        if case.grid_event_id is not None:
            self.store.app.link_mediation_case(call, envelope, case)

    @consumes(emergency_command.SERVICE, emergency_command.INCIDENT_OPENED, emergency_command.IncidentOpened)
    def on_incident_opened(self, call: Call, envelope: Envelope, opened: emergency_command.IncidentOpened) -> None:
        if opened.source_service == c.SERVICE:
            self.store.app.link_incident(call, envelope, opened)

    # -- queries (read models, never replays; shared.queries) ---------------------

    def reads(self) -> Reads:
        return Reads(self.store, self.vault, views.page_of, PERSONAL, READERS, RECORDS)

    @api(c.ListEvents)
    def list_events(self, call: Call, query: c.ListEvents) -> dict:
        # An outside system lists only what it reported (docs/integration.md).
        reporter = call.caller.actor_id if call.caller.role is Role.INTEGRATION else query.reporter_id
        return self.reads().audited_page(call, query, "list events", "event report", "event_id", lambda scope:
                                         views.events_query(scope, query.grid_code, query.status, query.source,
                                                            reporter, query.external_ref))

    @api(c.GetEvent)
    def get_event(self, call: Call, query: c.GetEvent) -> dict:
        find = views.event_by_id
        if call.caller.role is Role.INTEGRATION:
            # An outside system reads back only what it reported (docs/integration.md); another's is not found.
            find = lambda conn, event_id: own_report(views.event_by_id(conn, event_id), call.caller.actor_id)  # noqa: E731
            if query.as_of is not None:
                raise Forbidden("an integration client reads an event as it stands now")
        return self.reads().audited_one(call, query, "read an event", "event", query.event_id, find)

    @api(c.ListGrids)
    def list_grids(self, call: Call, query: c.ListGrids) -> dict:
        return self.reads().page(call, query, "list grids", views.grids_query)

    @api(c.ListJurisdictions)
    def list_jurisdictions(self, call: Call, query: c.ListJurisdictions) -> dict:
        # Township rows name their responsible person: an audited listing.
        return self.reads().audited_page(call, query, "list jurisdictions", "jurisdiction", "code",
                                         lambda scope: views.jurisdictions_query(call.caller.jurisdiction,
                                                                                 query.parent_code),
                                         scope=query.parent_code or call.caller.jurisdiction)

    @api(c.ListMemberUnits)
    def list_member_units(self, call: Call, query: c.ListMemberUnits) -> dict:
        return self.reads().page(call, query, "list member units", views.member_units_query)

    @api(c.ListContactPoints)
    def list_contact_points(self, call: Call, query: c.ListContactPoints) -> dict:
        return self.reads().audited_page(call, query, "list contact points", "contact point", "contact_id",
                                         lambda scope: views.contact_points_query(query.grid_code),
                                         scope=query.grid_code)

    @api(c.ListParticipants)
    def list_participants(self, call: Call, query: c.ListParticipants) -> dict:
        return self.reads().audited_page(call, query, "list participants", "participant", "participant_id",
                                         lambda scope: views.participants_query(scope, query.kind))

    @api(c.ListWorkItems)
    def list_work_items(self, call: Call, query: c.ListWorkItems) -> dict:
        # Titles are free text that may name people: an audited listing.
        return self.reads().audited_page(call, query, "list work items", "work item", "item_id", lambda scope:
                                         views.work_items_query(scope, query.grid_code, query.status, query.overdue))

    @api(c.GetWorkItem)
    def get_work_item(self, call: Call, query: c.GetWorkItem) -> dict:
        return self.reads().audited_one(call, query, "read a work item", "work_item", query.item_id,
                                        views.work_item_by_id)

    @api(c.ListRisks)
    def list_risks(self, call: Call, query: c.ListRisks) -> dict:
        return self.reads().audited_page(call, query, "list risks", "risk", "risk_id", lambda scope: views.risks_query(
            scope, query.level, query.status, query.category, query.open_only))

    @api(c.GetRisk)
    def get_risk(self, call: Call, query: c.GetRisk) -> dict:
        return self.reads().audited_one(call, query, "read a risk", "risk", query.risk_id, views.risk_by_id)

    @api(c.ListDecisions)
    def list_decisions(self, call: Call, query: c.ListDecisions) -> dict:
        # Titles are sealed free text: an audited listing.
        return self.reads().audited_page(call, query, "list major decisions", "major decision", "decision_id",
                                         lambda scope: views.decisions_query(scope, query.status))

    @api(c.ListFamilyAssessments)
    def list_family_assessments(self, call: Call, query: c.ListFamilyAssessments) -> dict:
        return self.reads().audited_page(call, query, "list family safety assessments", "family assessment",
                                         "assessment_id",
                                         lambda scope: views.family_assessments_query(scope, query.household_id))

    @api(c.SourceReport)
    def source_report(self, call: Call, query: c.SourceReport) -> dict:
        scope = query.jurisdiction or call.caller.jurisdiction
        authorize(call.caller, "report by source", READERS, scope)
        with self.store.read() as conn:
            return views.source_report(conn, scope)

    # -- the audit log as a feature (shared.security.history) ----------------------

    @api(c.History)
    def history(self, call: Call, query: c.History) -> dict:
        """A record's events in order, each with who, when and through which call: an audited read."""
        return RECORDS.history(self.store.app, self.vault, call, query)

    @api(c.AccessLog)
    def access_log(self, call: Call, query: c.AccessLog) -> dict:
        """Every audited read of the records that name a person (``views.records_naming``)."""
        with self.store.read() as conn:
            records = views.records_naming(conn, query.person_id)
        return history.access_log(self.store.app, call, query, records)
