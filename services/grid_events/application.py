"""Grid events application: authorise → get → act → save, one method per command."""

from __future__ import annotations

from typing import Callable
from uuid import UUID

from shared.access import authorize
from shared.context import Role
from shared.contracts import Envelope, tracking_for
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.eventstore import Call, PinganApplication
from shared.jurisdiction import Level, level_of, parent_of

from services.mediation.contracts import CaseOpened

from . import contracts as c
from .domain import EventReport, Grid, Jurisdiction

OFFICERS = {Role.ADMIN, Role.PREFECTURE_OFFICER, Role.COUNTY_OFFICER, Role.TOWNSHIP_OFFICER}
REPORTERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE, Role.POLICE}
HANDLERS = OFFICERS | {Role.DEPARTMENT_OFFICER, Role.POLICE}
FEEDBACK_GIVERS = OFFICERS | {Role.GRID_WORKER, Role.VILLAGE_COMMITTEE}
READERS = set(Role) - {Role.SERVICE}

# Units registered without a parent: the top of this platform's ladder.
ROOT_LEVELS = {Level.PROVINCE, Level.PREFECTURE}


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

    # -- reported events ----------------------------------------------------------

    def report_event(self, call: Call, command: c.ReportEvent) -> dict:
        authorize(call.caller, "report an event", REPORTERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            if call.caller.role is Role.GRID_WORKER and call.caller.actor_id not in grid.workers:
                raise Forbidden(f"grid worker {call.caller.actor_id} is not assigned to grid {grid.code}")
            report = EventReport(
                grid_code=grid.code,
                jurisdiction=grid.village_code,
                category=command.category.value,
                source=command.source.value,
                severity=command.severity.value,
                place=command.place,
                description=command.description,
                reporter_id=call.caller.actor_id,
            )
            return [report], _summary(report)

        return self.execute(call, act, command.command_id)

    def accept_event(self, call: Call, command: c.AcceptEvent) -> dict:
        return self._act_on_event(call, command.event_id, command.command_id, "accept an event", OFFICERS,
                                  lambda report: report.accept())

    def assign_event(self, call: Call, command: c.AssignEvent) -> dict:
        return self._act_on_event(call, command.event_id, command.command_id, "assign an event", OFFICERS,
                                  lambda report: report.assign(command.unit))

    def record_handling(self, call: Call, command: c.RecordHandling) -> dict:
        return self._act_on_event(call, command.event_id, command.command_id, "record handling", HANDLERS,
                                  lambda report: report.record_handling(command.note))

    def record_feedback(self, call: Call, command: c.RecordFeedback) -> dict:
        return self._act_on_event(call, command.event_id, command.command_id, "record feedback", FEEDBACK_GIVERS,
                                  lambda report: report.record_feedback(command.feedback, command.satisfied))

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

        self.execute(call, act, tracking=tracking_for(envelope))

    def _act_on_event(self, call: Call, event_id: UUID, command_id: str | None, action: str, roles: set[Role],
                      change: Callable[[EventReport], None]) -> dict:
        # The role is checked before loading; the jurisdiction once the record names it.
        if call.caller.role not in roles:
            raise Forbidden(f"the role {call.caller.role.value!r} may not {action}")

        def act():
            report = self.load(EventReport, event_id, "event report")
            authorize(call.caller, action, roles, report.jurisdiction)
            change(report)
            return [report], _summary(report)

        return self.execute(call, act, command_id)


def _summary(report: EventReport) -> dict:
    return {"event_id": str(report.id), "status": report.status, "version": report.version}
