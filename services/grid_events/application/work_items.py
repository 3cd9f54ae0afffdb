"""Work items: listed, completed, reassigned, cancelled, marked overdue by the timer."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from shared.access import authorize
from shared.commands import Commands, require_role
from shared.context import Role
from shared.errors import Forbidden, ValidationFailed
from shared.eventstore import Call
from shared.jurisdiction import covers
from shared.security.sealing import made_here

from .. import contracts as c
from ..domain import ITEM_TEXT, AssigneeKind, Grid, Participant, WorkItem, record_subject
from .common import ITEM, SERVICE_ONLY, WORK_DOERS, WORK_LIST_KEEPERS, Seal, _item_summary


class WorkItems(Commands):
    # -- work items ---------------------------------------------------------------

    def add_work_item(self, call: Call, command: c.AddWorkItem, seal: Seal) -> dict:
        authorize(call.caller, "add a work item", WORK_LIST_KEEPERS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            assignee = self._assignee(grid, command.assignee_kind, command.assignee_id)
            item_id = uuid4()
            item = WorkItem.create_with_id(
                WorkItem.Listed, id=item_id,
                grid_code=grid.code,
                jurisdiction=grid.village_code,
                kind=command.kind.value,
                title=seal(made_here(record_subject(ITEM_TEXT, item_id)), command.title),
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

        return self.change(call, ITEM, command.item_id, "complete a work item", WORK_DOERS, complete,
                           command_id=command.command_id)

    def reassign_work_item(self, call: Call, command: c.ReassignWorkItem) -> dict:
        def reassign(item: WorkItem) -> None:
            grid = self.load(Grid, Grid.create_id(item.grid_code), "grid")
            item.reassign(command.assignee_kind.value, self._assignee(grid, command.assignee_kind, command.assignee_id))

        return self.change(call, ITEM, command.item_id, "reassign a work item",
                           WORK_LIST_KEEPERS, reassign, command_id=command.command_id)

    def cancel_work_item(self, call: Call, command: c.CancelWorkItem, seal: Seal) -> dict:
        def cancel(item: WorkItem) -> None:
            item.require_open("cancel")
            item.cancel(seal(record_subject(ITEM_TEXT, item.id), command.reason))

        return self.change(call, ITEM, command.item_id, "cancel a work item",
                           WORK_LIST_KEEPERS, cancel, command_id=command.command_id)

    def mark_overdue(self, call: Call, item_id: UUID, today: date) -> bool:
        """The overdue timer's command: mark the item once for its current due date.
        A repeat (another replica, a restart) finds the mark and stores nothing."""
        require_role(call, "mark a work item overdue", SERVICE_ONLY)

        def act():
            item = self.load(WorkItem, item_id, "work item")
            authorize(call.caller, "mark a work item overdue", SERVICE_ONLY, item.grid_code)
            if not item.needs_overdue_mark(today):
                return [], {"marked": False}
            item.mark_overdue(today)
            return [item], {"marked": True}

        return self.execute(call, act)["marked"]

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
