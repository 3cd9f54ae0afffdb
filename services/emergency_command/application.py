"""Emergency command application: authorise → get → act → save, one method per command.

Who may do what (docs/services/emergency_command.md, "Access"): the emergency
management office and officers of a county or above command incidents and
issue warnings within their jurisdiction; the units on the ground (township
officers, departments, police, health) also acknowledge and complete tasks,
report situations and keep key areas; everyone but the service role reads.

Times: the service passes its clock's ``now``; a command may name an earlier
moment (a step entered after the fact), never a later one. Personal fields
(task instructions and notes, situation reports, the after-action summary,
plan notes, drill findings) are sealed here, once the caller is authorised and
the record loaded, under the record's key (domain ``incident_subject``,
``key_area_subject``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from shared.access import authorize
from shared.context import Role
from shared.contracts import Envelope, message_key
from shared.errors import Conflict, Forbidden, ValidationFailed
from shared.eventstore import Call, PinganApplication

from . import contracts as c
from .domain import EmergencyWarning, Incident, KeyArea, Trigger, incident_subject, key_area_subject, render_cap
from .domain.incidents import TRIGGER_SOURCE

COMMANDERS = {Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER, Role.EMERGENCY_OFFICE}
RESPONDERS = COMMANDERS | {Role.TOWNSHIP_OFFICER, Role.DEPARTMENT_OFFICER, Role.POLICE, Role.HEALTH}
KEEPERS = COMMANDERS | {Role.TOWNSHIP_OFFICER, Role.DEPARTMENT_OFFICER, Role.POLICE, Role.EDUCATION}
ISSUERS = COMMANDERS
READERS = set(Role) - {Role.SERVICE}
SERVICE_ONLY = {Role.SERVICE}

# Seals a personal field under a record's key subject (PersonalData.seal); called only once
# the command has passed the role and jurisdiction checks.
Seal = Callable[[str, "str | None"], "str | None"]

# How a grid category is classified on opening; a commander may open others by hand.
CLASSIFICATION_OF_GRID_CATEGORY = {
    "public_health": c.Classification.PUBLIC_HEALTH,
    "fire": c.Classification.ACCIDENT,
    "traffic": c.Classification.ACCIDENT,
    "safety_hazard": c.Classification.ACCIDENT,
    "traffic_black_spot": c.Classification.ACCIDENT,
    "hazardous_road_section": c.Classification.ACCIDENT,
    "environment": c.Classification.NATURAL_DISASTER,
}
# The level an incident opens at from each trigger; the commander raises it as the situation demands.
OPENING_LEVEL = {Trigger.SEVERE_GRID_EVENT: c.Level.III, Trigger.RED_RISK: c.Level.IV,
                 Trigger.HIGHEST_RISK_PERSON: c.Level.IV}


def county_office(code: str) -> str:
    """The county emergency management office, as a unit id (``<body code>:<unit code>``)."""
    return f"{code[:6]}:emergency_office"


def cap_sender(jurisdiction: str) -> str:
    """The CAP ``sender`` of warnings issued for ``jurisdiction`` (no spaces, commas, '<' or '&')."""
    return f"pingan.emergency_command.{jurisdiction}"


def _at(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if at > now:
        raise ValidationFailed("a step cannot be dated in the future")
    return at


class EmergencyCommandApplication(PinganApplication):
    name = "emergency_command"  # pins the table names: emergency_command_events, emergency_command_tracking

    # -- key areas (Art. 7(1)) ---------------------------------------------------------

    def register_key_area(self, call: Call, command: c.RegisterKeyArea, today: date) -> dict:
        authorize(call.caller, "register a key area", KEEPERS, command.jurisdiction)
        if command.registered_on > today:
            raise ValidationFailed("a key area cannot be registered in the future")

        def act():
            if self.exists(KeyArea.create_id(command.registry_ref)):
                raise Conflict(f"key area {command.registry_ref} is already registered")
            area = KeyArea.register(command.registry_ref, command.jurisdiction, command.kind.value,
                                    command.managing_unit, command.drill_every_days, command.registered_on)
            return [area], _area_summary(area)

        return self.execute(call, act, command.command_id)

    def set_requirements(self, call: Call, command: c.SetRequirements) -> dict:
        return self._on_area(call, command.area_id, command.command_id, "set a key area's requirements",
                             lambda area: area.set_requirements(command.staff, dict(command.equipment)))

    def report_resources(self, call: Call, command: c.ReportResources, today: date) -> dict:
        if command.on > today:
            raise ValidationFailed("resources cannot be reported for a future day")
        return self._on_area(call, command.area_id, command.command_id, "report a key area's resources",
                             lambda area: area.report_resources(command.staff, dict(command.equipment), command.on))

    def adopt_plan(self, call: Call, command: c.AdoptPlan, seal: Seal, today: date) -> dict:
        return self._on_area(call, command.area_id, command.command_id, "adopt an emergency plan",
                             lambda area: area.adopt_plan(command.version, command.approved_by, command.approved_on,
                                                          command.document_ref,
                                                          seal(key_area_subject(area.id), command.notes), today))

    def reschedule_drills(self, call: Call, command: c.RescheduleDrills) -> dict:
        return self._on_area(call, command.area_id, command.command_id, "reschedule drills",
                             lambda area: area.reschedule_drills(command.every_days))

    def record_drill(self, call: Call, command: c.RecordDrill, seal: Seal, today: date) -> dict:
        return self._on_area(call, command.area_id, command.command_id, "record a drill",
                             lambda area: area.record_drill(command.held_on, command.scenario.value,
                                                            command.participant_count,
                                                            list(command.participant_units),
                                                            seal(key_area_subject(area.id), command.findings), today))

    def retire_key_area(self, call: Call, command: c.RetireKeyArea, today: date) -> dict:
        if command.on > today:
            raise ValidationFailed("a key area cannot be retired in the future")
        return self._on_area(call, command.area_id, command.command_id, "retire a key area",
                             lambda area: area.retire(command.on))

    def flag_overdue(self, call: Call, area_id: UUID, today: date) -> list[str]:
        """The timer's check of one key area: what it flagged now (``drill``, ``plan``), each once per due date."""
        flagged: list[str] = []

        def act():
            area = self.load(KeyArea, area_id, "key area")
            authorize(call.caller, "flag an overdue drill or a missing plan", SERVICE_ONLY, area.jurisdiction)
            flagged[:] = area.flag_overdue(today)
            return ([area] if flagged else []), _area_summary(area)

        self.execute(call, act)
        return flagged

    def _on_area(self, call: Call, area_id: UUID, command_id: str | None, action: str,
                 change: Callable[[KeyArea], Any]) -> dict:
        return self._act_on(call, KeyArea, area_id, "key area", action, KEEPERS, command_id, _area_summary, change)

    def _act_on(self, call: Call, kind: type, record_id: UUID, what: str, action: str, roles: set[Role],
                command_id: str | None, summary: Callable[[Any], dict], change: Callable[[Any], Any]) -> dict:
        """The shape of every command on an existing record: the role first (before loading), then the
        record's own jurisdiction, then the change, saved once."""
        _require_role(call, action, roles)

        def act():
            record = self.load(kind, record_id, what)
            authorize(call.caller, action, roles, record.jurisdiction)
            extra = change(record) or {}
            return [record], {**summary(record), **extra}

        return self.execute(call, act, command_id)

    # -- incidents (Art. 6(3)) -------------------------------------------------------------

    def open_incident(self, call: Call, command: c.OpenIncident, now: datetime) -> dict:
        """Open an incident by hand; the same ``incident_ref`` again returns the incident it opened."""
        authorize(call.caller, "open an incident", COMMANDERS, command.jurisdiction)
        at = _at(command.at, now)

        def act():
            existing = self._existing(Incident.create_id(c.SERVICE, command.incident_ref))
            incident = Incident.intake(existing, Trigger.OPERATOR.value, command.incident_ref, command.jurisdiction,
                                       command.classification.value, command.level.value, command.commander_unit, at)
            return ([] if existing else [incident]), _incident_summary(incident)

        return self.execute(call, act, command.command_id)

    def open_from_severe_event(self, call: Call, envelope: Envelope, reported: c.SevereGridEvent) -> None:
        """Consumed from grid_events: an event of the highest severity opens an incident, once."""
        self._open_from(call, envelope, Trigger.SEVERE_GRID_EVENT, str(reported.event_id), reported.jurisdiction,
                        CLASSIFICATION_OF_GRID_CATEGORY.get(reported.category, c.Classification.SOCIAL_SECURITY),
                        reported.reported_at)

    def open_from_red_risk(self, call: Call, envelope: Envelope, risk: c.RedRisk) -> None:
        """Consumed from grid_events: a risk raised to red opens an incident, once per risk."""
        self._open_from(call, envelope, Trigger.RED_RISK, str(risk.risk_id), risk.jurisdiction,
                        CLASSIFICATION_OF_GRID_CATEGORY.get(risk.category, c.Classification.SOCIAL_SECURITY),
                        risk.changed_at)

    def open_from_highest_risk_person(self, call: Call, envelope: Envelope, assessed: c.PersonAtHighestRisk) -> None:
        """Consumed from key_populations (once it publishes): a person at the highest risk, by opaque id."""
        self._open_from(call, envelope, Trigger.HIGHEST_RISK_PERSON, assessed.assessment_id, assessed.jurisdiction,
                        c.Classification.SOCIAL_SECURITY, assessed.assessed_at, person_id=assessed.person_id)

    def _open_from(self, call: Call, envelope: Envelope, trigger: Trigger, source_ref: str, jurisdiction: str,
                   classification: c.Classification, at: datetime, person_id: str | None = None) -> None:
        authorize(call.caller, f"open an incident from {trigger.value}", SERVICE_ONLY, jurisdiction)

        def act():
            existing = self._existing(Incident.create_id(TRIGGER_SOURCE[trigger], source_ref))
            incident = Incident.intake(existing, trigger.value, source_ref, jurisdiction, classification.value,
                                       OPENING_LEVEL[trigger].value, county_office(jurisdiction), at,
                                       person_id=person_id)
            return ([] if existing else [incident]), _incident_summary(incident)

        # The message's inbox record and the incident's derived id make a redelivery, in any order
        # and on any replica, open nothing more (docs/architecture.md, exactly once).
        self.execute(call, act, inbox=message_key(envelope))

    def appoint_commander(self, call: Call, command: c.AppointCommander, now: datetime) -> dict:
        return self._on_incident(call, command, "appoint a commander", COMMANDERS,
                                 lambda i, at: i.appoint_commander(command.unit, at), now)

    def assign_task(self, call: Call, command: c.AssignTask, seal: Seal, now: datetime) -> dict:
        return self._on_incident(call, command, "assign a command task", COMMANDERS, lambda i, at: {
            "task_id": i.assign_task(command.unit, seal(incident_subject(i.id), command.instructions),
                                     command.due_at, at)}, now)

    def acknowledge_task(self, call: Call, command: c.AcknowledgeTask, now: datetime) -> dict:
        return self._on_incident(call, command, "acknowledge a command task", RESPONDERS,
                                 lambda i, at: i.acknowledge_task(command.task_id, at), now)

    def complete_task(self, call: Call, command: c.CompleteTask, seal: Seal, now: datetime) -> dict:
        return self._on_incident(call, command, "complete a command task", RESPONDERS, lambda i, at: i.complete_task(
            command.task_id, seal(incident_subject(i.id), command.note), at), now)

    def cancel_task(self, call: Call, command: c.CancelTask, seal: Seal, now: datetime) -> dict:
        return self._on_incident(call, command, "cancel a command task", COMMANDERS, lambda i, at: i.cancel_task(
            command.task_id, seal(incident_subject(i.id), command.note), at), now)

    def report_situation(self, call: Call, command: c.ReportSituation, seal: Seal, now: datetime) -> dict:
        return self._on_incident(call, command, "report the situation", RESPONDERS, lambda i, at: {
            "report_seq": i.report_situation(seal(incident_subject(i.id), command.text), at)}, now)

    def change_level(self, call: Call, command: c.ChangeLevel, now: datetime) -> dict:
        return self._on_incident(call, command, "change an incident's level", COMMANDERS,
                                 lambda i, at: i.change_level(command.level.value, at), now)

    def close_incident(self, call: Call, command: c.CloseIncident, seal: Seal, now: datetime) -> dict:
        return self._on_incident(call, command, "close an incident", COMMANDERS, lambda i, at: i.close(
            seal(incident_subject(i.id), command.summary), at), now)

    def _on_incident(self, call: Call, command: Any, action: str, roles: set[Role],
                     change: Callable[[Incident, datetime], Any], now: datetime) -> dict:
        at = _at(command.at, now)
        return self._act_on(call, Incident, command.incident_id, "incident", action, roles, command.command_id,
                            _incident_summary, lambda incident: change(incident, at))

    def _existing(self, aggregate_id: UUID) -> Any:
        return self.repository.get(aggregate_id) if self.exists(aggregate_id) else None

    # -- warnings (Art. 6(4)) ----------------------------------------------------------------

    def issue_warning(self, call: Call, command: c.IssueWarning, now: datetime) -> dict:
        authorize(call.caller, "issue a warning", ISSUERS, command.jurisdiction)
        at = _at(command.at, now)

        def act():
            if self.exists(EmergencyWarning.create_id(command.command_id)):
                raise Conflict(f"a warning was already issued by command {command.command_id}")
            if command.incident_id is not None:
                self.load(Incident, command.incident_id, "incident")
            warning = EmergencyWarning.issue(command.command_id, command.jurisdiction,
                                             cap_sender(command.jurisdiction), command.status.value,
                                             command.info.model_dump(), at,
                                             str(command.incident_id) if command.incident_id else None)
            return [warning], _warning_summary(warning)

        return self.execute(call, act, command.command_id)

    def update_warning(self, call: Call, command: c.UpdateWarning, now: datetime) -> dict:
        return self._on_warning(call, command, "update a warning",
                                lambda w, at: w.update(command.info.model_dump(), at), now)

    def cancel_warning(self, call: Call, command: c.CancelWarning, now: datetime) -> dict:
        return self._on_warning(call, command, "cancel a warning", lambda w, at: w.cancel(at), now)

    def _on_warning(self, call: Call, command: Any, action: str,
                    change: Callable[[EmergencyWarning, datetime], Any], now: datetime) -> dict:
        at = _at(command.at, now)
        return self._act_on(call, EmergencyWarning, command.warning_id, "warning", action, ISSUERS,
                            command.command_id, _warning_summary, lambda warning: change(warning, at))


def _require_role(call: Call, action: str, roles: set[Role]) -> None:
    if call.caller.role not in roles:
        raise Forbidden(f"the role {call.caller.role.value!r} may not {action}")


def _area_summary(area: KeyArea) -> dict:
    return {"area_id": str(area.id), "status": area.status, "plan_version": area.plan_version,
            "shortfall": area.shortfall, "understaffed": area.understaffed, "version": area.version}


def _incident_summary(incident: Incident) -> dict:
    return {"incident_id": str(incident.id), "status": incident.status, "level": incident.level,
            "commander_unit": incident.commander_unit,
            "tasks": {task_id: task["status"] for task_id, task in incident.tasks.items()},
            "version": incident.version}


def _warning_summary(warning: EmergencyWarning) -> dict:
    current = warning.current
    return {"warning_id": str(warning.id), "status": warning.status, "identifier": current["identifier"],
            "msg_type": current["msg_type"], "messages": len(warning.messages), "cap_xml": render_cap(current)}
