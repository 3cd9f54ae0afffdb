"""emergency_command over nameko: thin entrypoints, each verify → parse → application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog

from shared.access import authorize
from shared.clock import Now, SettingTimer
from shared.context import CallerContext, Role
from shared.contracts import Envelope
from shared.dependencies import Store
from shared.entrypoints import ServiceBase, api, consumes
from shared.errors import Forbidden, NotFound
from shared.eventstore import Call
from shared.relay import SERVICE_JURISDICTION
from shared.security import history
from shared.security.audit_log import AuditTrail, audited_read
from shared.security.providers import PersonalDataVault

from . import contracts as c
from . import projections as views
from .application import READERS, EmergencyCommandApplication
from .domain import EmergencyWarning, Incident, KeyArea
from .publishing import published

log = structlog.get_logger(__name__)

# Dates and times are local to Xiangxi (China has one time zone and no DST).

# The timer's commands are the service's own, across the whole prefecture.
SERVICE_CALLER = CallerContext(actor_id=f"service:{c.SERVICE}", role=Role.SERVICE, jurisdiction=SERVICE_JURISDICTION)

# The record kinds whose history callers may ask for (shared.security.history).
RECORDS = history.RecordKinds(
    history.RecordKind("incident", Incident, "incident", READERS, lambda incident: incident.jurisdiction,
                       id_field="incident_id"),
    history.RecordKind("key_area", KeyArea, "key area", READERS, lambda area: area.jurisdiction, id_field="area_id"),
    history.RecordKind("warning", EmergencyWarning, "warning", READERS, lambda warning: warning.jurisdiction,
                       id_field="warning_id"),
)


class EmergencyCommandService(ServiceBase):
    name = c.SERVICE

    store = Store(EmergencyCommandApplication, views.projections(), published())
    vault = PersonalDataVault()  # per-record keys: free text is sealed before any event
    now = Now()

    # -- key areas (Art. 7(1)) ---------------------------------------------------------

    @api(c.RegisterKeyArea)
    def register_key_area(self, call: Call, command: c.RegisterKeyArea) -> dict:
        return self.store.app.register_key_area(call, command, self.now().date())

    @api(c.SetRequirements)
    def set_requirements(self, call: Call, command: c.SetRequirements) -> dict:
        return self.store.app.set_requirements(call, command)

    @api(c.ReportResources)
    def report_resources(self, call: Call, command: c.ReportResources) -> dict:
        return self.store.app.report_resources(call, command, self.now().date())

    @api(c.AdoptPlan)
    def adopt_plan(self, call: Call, command: c.AdoptPlan) -> dict:
        return self.store.app.adopt_plan(call, command, self.vault.seal, self.now().date())

    @api(c.RescheduleDrills)
    def reschedule_drills(self, call: Call, command: c.RescheduleDrills) -> dict:
        return self.store.app.reschedule_drills(call, command)

    @api(c.RecordDrill)
    def record_drill(self, call: Call, command: c.RecordDrill) -> dict:
        return self.store.app.record_drill(call, command, self.vault.seal, self.now().date())

    @api(c.RetireKeyArea)
    def retire_key_area(self, call: Call, command: c.RetireKeyArea) -> dict:
        return self.store.app.retire_key_area(call, command, self.now().date())

    @SettingTimer.decorator("overdue_check_interval", eager=True)
    def check_key_areas(self) -> int:
        """Flag overdue drills and missing plans, once per due date; the relay publishes
        ``key_area_drill_overdue`` / ``key_area_plan_missing``. Returns how many were flagged."""
        today = self.now().date()
        with self.store.read() as conn:
            candidates = views.overdue_candidates(conn, today)
        call = Call(caller=SERVICE_CALLER, call_id=f"{c.SERVICE}.key_area_check:{today.isoformat()}")
        flagged = sum(len(self.store.app.flag_overdue(call, area_id, today)) for area_id in map(UUID, candidates))
        if flagged:
            log.info("key_areas_flagged", count=flagged, day=today.isoformat())
        return flagged

    # -- incidents (Art. 6(3)) ---------------------------------------------------------

    @api(c.OpenIncident)
    def open_incident(self, call: Call, command: c.OpenIncident) -> dict:
        return self.store.app.open_incident(call, command, self.now())

    @api(c.AppointCommander)
    def appoint_commander(self, call: Call, command: c.AppointCommander) -> dict:
        return self.store.app.appoint_commander(call, command, self.now())

    @api(c.AssignTask)
    def assign_task(self, call: Call, command: c.AssignTask) -> dict:
        return self.store.app.assign_task(call, command, self.vault.seal, self.now())

    @api(c.AcknowledgeTask)
    def acknowledge_task(self, call: Call, command: c.AcknowledgeTask) -> dict:
        return self.store.app.acknowledge_task(call, command, self.now())

    @api(c.CompleteTask)
    def complete_task(self, call: Call, command: c.CompleteTask) -> dict:
        return self.store.app.complete_task(call, command, self.vault.seal, self.now())

    @api(c.CancelTask)
    def cancel_task(self, call: Call, command: c.CancelTask) -> dict:
        return self.store.app.cancel_task(call, command, self.vault.seal, self.now())

    @api(c.ReportSituation)
    def report_situation(self, call: Call, command: c.ReportSituation) -> dict:
        return self.store.app.report_situation(call, command, self.vault.seal, self.now())

    @api(c.ChangeLevel)
    def change_level(self, call: Call, command: c.ChangeLevel) -> dict:
        return self.store.app.change_level(call, command, self.now())

    @api(c.CloseIncident)
    def close_incident(self, call: Call, command: c.CloseIncident) -> dict:
        return self.store.app.close_incident(call, command, self.vault.seal, self.now())

    # -- warnings (Art. 6(4)) ------------------------------------------------------------

    @api(c.IssueWarning)
    def issue_warning(self, call: Call, command: c.IssueWarning) -> dict:
        return self.store.app.issue_warning(call, command, self.now())

    @api(c.UpdateWarning)
    def update_warning(self, call: Call, command: c.UpdateWarning) -> dict:
        return self.store.app.update_warning(call, command, self.now())

    @api(c.CancelWarning)
    def cancel_warning(self, call: Call, command: c.CancelWarning) -> dict:
        return self.store.app.cancel_warning(call, command, self.now())

    # -- events from other services --------------------------------------------------------

    @consumes(c.GRID_EVENTS, c.SEVERE_EVENT_REPORTED, c.SevereGridEvent)
    def on_severe_event_reported(self, call: Call, envelope: Envelope, reported: c.SevereGridEvent) -> None:
        self.store.app.open_from_severe_event(call, envelope, reported)

    @consumes(c.GRID_EVENTS, c.RISK_RAISED_TO_RED, c.RedRisk)
    def on_risk_raised_to_red(self, call: Call, envelope: Envelope, risk: c.RedRisk) -> None:
        self.store.app.open_from_red_risk(call, envelope, risk)

    @consumes(c.KEY_POPULATIONS, c.PERSON_AT_HIGHEST_RISK, c.PersonAtHighestRisk)
    def on_person_at_highest_risk(self, call: Call, envelope: Envelope, assessed: c.PersonAtHighestRisk) -> None:
        self.store.app.open_from_highest_risk_person(call, envelope, assessed)

    # -- queries (read models, never replays) --------------------------------------------------

    @api(c.ListKeyAreas)
    def list_key_areas(self, call: Call, query: c.ListKeyAreas) -> dict:
        """Codes, kinds, staffing and schedule: no personal data, so not audited."""
        return self._page(call, query, "list key areas", lambda scope: views.key_areas_query(
            scope, query.kind, query.understaffed, query.drill_overdue, query.plan_missing))

    @api(c.GetKeyArea)
    def get_key_area(self, call: Call, query: c.GetKeyArea) -> dict:
        """The key area with its plan versions and drills (without the sealed notes and findings)."""
        return self._one(call, "read a key area", "key area", str(query.area_id), views.key_area_by_id)

    @api(c.ListIncidents)
    def list_incidents(self, call: Call, query: c.ListIncidents) -> dict:
        return self._page(call, query, "list incidents",
                          lambda scope: views.incidents_query(scope, query.status, query.level))

    @api(c.GetIncident)
    def get_incident(self, call: Call, query: c.GetIncident) -> dict:
        """The incident with its tasks and situation reports: free text that may name people, so the
        read is audited first and the sealed fields opened only once the audit event is committed.
        With ``as_of``: the incident as it stood then, rebuilt from its events."""
        purpose = query.purpose.value if query.purpose else None
        if query.as_of is not None:
            return RECORDS.as_of(self.store.app, self.vault, call, "incident", query.incident_id, query.as_of,
                                 purpose, "read an incident")

        def load():
            with self.store.read() as conn:
                found = views.incident_by_id(conn, str(query.incident_id))
            return (found, found["jurisdiction"], None) if found else None

        found = audited_read(AuditTrail(self.store.app), call, "read an incident", READERS, "incident",
                             str(query.incident_id), purpose, load)
        return views.open_incident_record(found, self.vault.open)

    @api(c.ListWarnings)
    def list_warnings(self, call: Call, query: c.ListWarnings) -> dict:
        """The warnings that concern a unit: issued within it or by a unit above it (a county's
        warning concerns its townships). Warnings are public: not audited."""
        in_force_at = self.now() if query.in_force_only else None
        return self._page(call, query, "list warnings", lambda scope: views.warnings_query(scope, in_force_at))

    @api(c.GetWarning)
    def get_warning(self, call: Call, query: c.GetWarning) -> dict:
        """The warning with every CAP message published for it, in order; public to every reader."""
        _require_reader(call, "read a warning")
        with self.store.read() as conn:
            found = views.warning_by_id(conn, str(query.warning_id))
        if found is None:
            raise NotFound(f"no warning with id {query.warning_id}")
        return found

    @api(c.GetWarningCap)
    def get_warning_cap(self, call: Call, query: c.GetWarningCap) -> dict:
        """One CAP 1.2 document of a warning (``version`` counts its messages from 1; default the latest)."""
        _require_reader(call, "read a warning")
        with self.store.read() as conn:
            message = views.warning_cap(conn, str(query.warning_id), query.version)
        if message is None:
            raise NotFound(f"no warning message {query.warning_id} version {query.version or 'latest'}")
        return message

    # -- the audit log as a feature (shared.security.history) ----------------------------------

    @api(c.History)
    def history(self, call: Call, query: c.History) -> dict:
        """A record's events in order, each with who, when and through which call: an audited read."""
        return RECORDS.history(self.store.app, self.vault, call, query)

    def _page(self, call: Call, query: Any, action: str, make_query: Callable[[str], Any]) -> dict:
        scope = query.jurisdiction or call.caller.jurisdiction
        authorize(call.caller, action, READERS, scope)
        with self.store.read() as conn:
            return views.page_of(conn, make_query(scope), query.page, query.page_size)

    def _one(self, call: Call, action: str, what: str, record_id: str, find: Callable) -> dict:
        with self.store.read() as conn:
            found = find(conn, record_id)
        if found is None:
            raise NotFound(f"no {what} with id {record_id}")
        authorize(call.caller, action, READERS, found["jurisdiction"])
        return found


def _require_reader(call: Call, action: str) -> None:
    if call.caller.role not in READERS:
        raise Forbidden(f"the role {call.caller.role.value!r} may not {action}")

