"""Reported events: report → accept → assign → handle → feedback → close, with the checklist."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from services.emergency_command.contracts import IncidentOpened
from services.mediation.contracts import CaseOpened
from shared.access import authorize
from shared.commands import Commands
from shared.context import Role
from shared.contracts import Envelope, message_key
from shared.errors import Conflict, Forbidden
from shared.eventstore import Call
from shared.security.sealing import made_here

from .. import contracts as c
from ..domain import EVENT_TEXT, EventReport, Grid, Risk, Status, checklist_for, record_subject
from .common import (
    CHECKLIST_TICKERS,
    FEEDBACK_GIVERS,
    HANDLERS,
    OFFICERS,
    REPORT,
    REPORTERS,
    Seal,
    _risk_summary,
    _summary,
)


def referenced_id(call: Call, external_ref: str):
    """The one event id a caller's own reference can name: a second report with it finds the first,
    also without a command id, and concurrent ones collide on the id (docs/integration.md)."""
    return uuid5(NAMESPACE_URL, f"pingan:grid_events:report:{call.caller.actor_id}:{external_ref}")


def same_report(report: EventReport, command: c.ReportEvent) -> EventReport:
    """A repeat of the report ``report`` is; the same reference for another matter is a Conflict."""
    facts = (command.grid_code, command.category.value, command.source.value, command.severity.value)
    if (report.grid_code, report.category, report.source, report.severity) != facts:
        raise Conflict(f"the reference {command.external_ref!r} already names another report")
    return report


class Reports(Commands):
    # -- reported events ----------------------------------------------------------

    def report_event(self, call: Call, command: c.ReportEvent, seal: Seal) -> dict:
        authorize(call.caller, "report an event", REPORTERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            if call.caller.role is Role.GRID_WORKER and call.caller.actor_id not in grid.workers:
                raise Forbidden(f"grid worker {call.caller.actor_id} is not assigned to grid {grid.code}")
            event_id = uuid4() if command.external_ref is None else referenced_id(call, command.external_ref)
            if command.external_ref is not None and self.exists(event_id):
                return [], _summary(same_report(self.load(EventReport, event_id, "event report"), command))
            # Free text is sealed under the record's own key, so it can be erased on its own.
            subject = made_here(record_subject(EVENT_TEXT, event_id))  # a new record: no key to look up
            report = EventReport.create_with_id(
                EventReport.Reported, id=event_id,
                grid_code=grid.code,
                jurisdiction=grid.village_code,
                category=command.category.value,
                source=command.source.value,
                severity=command.severity.value,
                place=seal(subject, command.place),
                description=seal(subject, command.description),
                reporter_id=call.caller.actor_id,
                required_steps=checklist_for(command.category.value),
                external_ref=command.external_ref,
            )
            return [report], _summary(report)

        return self.execute(call, act, command.command_id)

    def accept_event(self, call: Call, command: c.AcceptEvent) -> dict:
        return self.change(call, REPORT, command.event_id, "accept an event", OFFICERS,
                           lambda report: report.accept(), command_id=command.command_id)

    def assign_event(self, call: Call, command: c.AssignEvent) -> dict:
        def assign(report: EventReport) -> None:
            unit = self.member_unit(command.unit, report.grid_code)
            grid = self.load(Grid, Grid.create_id(report.grid_code), "grid")
            report.assign(unit.unit_code, unit.body_code, grid.contact_points.get(unit.unit_id))

        return self.change(call, REPORT, command.event_id, "assign an event", OFFICERS, assign,
                           command_id=command.command_id)

    def record_handling(self, call: Call, command: c.RecordHandling, seal: Seal) -> dict:
        def handle(report: EventReport) -> None:
            report.require_status(Status.ASSIGNED, "record handling of")
            report.record_handling(seal(record_subject(EVENT_TEXT, report.id), command.note))

        return self.change(call, REPORT, command.event_id, "record handling", HANDLERS, handle,
                           command_id=command.command_id)

    def record_feedback(self, call: Call, command: c.RecordFeedback, seal: Seal) -> dict:
        def feedback(report: EventReport) -> None:
            report.require_status(Status.HANDLED, "record feedback on")
            report.record_feedback(seal(record_subject(EVENT_TEXT, report.id), command.feedback), command.satisfied)

        return self.change(call, REPORT, command.event_id, "record feedback", FEEDBACK_GIVERS,
                           feedback, command_id=command.command_id)

    def tick_checklist_step(self, call: Call, command: c.TickChecklistStep, seal: Seal) -> dict:
        def tick(report: EventReport) -> None:
            report.check_tick(command.step)
            report.tick_step(command.step, seal(record_subject(EVENT_TEXT, report.id), command.note))

        return self.change(call, REPORT, command.event_id, "tick a checklist step",
                           CHECKLIST_TICKERS, tick, command_id=command.command_id)

    def close_event(self, call: Call, command: c.CloseEvent) -> dict:
        return self.change(call, REPORT, command.event_id, "close an event", OFFICERS,
                           lambda report: report.close(), command_id=command.command_id)

    def link_mediation_case(self, call: Call, envelope: Envelope, case: CaseOpened) -> None:
        """Consumed from mediation: the dispute now has a case. Once per message."""

        def act():
            report = self.load(EventReport, case.grid_event_id, "event report")
            authorize(call.caller, "link a mediation case", {Role.SERVICE}, report.jurisdiction)
            report.link_mediation_case(str(case.case_id))
            return [report], _summary(report)

        self.execute(call, act, inbox=message_key(envelope))

    def link_incident(self, call: Call, envelope: Envelope, opened: IncidentOpened) -> None:
        """Consumed from emergency_command: the severe event or red risk now has an incident. Once per message."""
        kind, what, summary = {"severe_grid_event": (EventReport, "event report", _summary),
                               "red_risk": (Risk, "risk", _risk_summary)}[opened.trigger.value]

        def act():
            record = self.load(kind, UUID(opened.source_ref), what)
            authorize(call.caller, "link an incident", {Role.SERVICE}, record.jurisdiction)
            record.link_incident(str(opened.incident_id))
            return [record], summary(record)

        self.execute(call, act, inbox=message_key(envelope))
