"""The grid work-item list (Art. 5(2)): what a grid's workers, volunteers and
member units must do, one-off or recurring, with due dates, completion notes
and an overdue mark made once per due date."""

from __future__ import annotations

from datetime import date, timedelta

from eventsourcing.domain import event

from shared.errors import InvalidTransition
from shared.eventstore import AuditedAggregate

from ..contracts.work_items import WorkItemStatus  # the public vocabulary


class WorkItem(AuditedAggregate):
    """One item of a grid's list. A recurring item (``every_days``) stays open and
    moves to its next due date when an occurrence is completed. Dates are ISO
    strings in events (local dates, Asia/Shanghai)."""

    @event("Listed")
    def __init__(
        self,
        grid_code: str,
        jurisdiction: str,
        kind: str,
        title: str,
        due_date: str,
        every_days: int | None,
        assignee_kind: str,
        assignee_id: str,
    ):
        self.grid_code = grid_code
        self.jurisdiction = jurisdiction
        self.kind = kind
        self.title = title
        self.due_date = due_date
        self.every_days = every_days
        self.assignee_kind = assignee_kind
        self.assignee_id = assignee_id
        self.status = WorkItemStatus.OPEN.value
        self.overdue_marked_for: list[str] = []  # due dates already marked overdue
        self.completions = 0

    def is_overdue(self, today: date) -> bool:
        return self.status == WorkItemStatus.OPEN and date.fromisoformat(self.due_date) < today

    def needs_overdue_mark(self, today: date) -> bool:
        return self.is_overdue(today) and self.due_date not in self.overdue_marked_for

    def mark_overdue(self, today: date) -> None:
        if not self.is_overdue(today):
            raise InvalidTransition(f"work item {self.id} is not overdue on {today.isoformat()}")
        if self.due_date in self.overdue_marked_for:
            raise InvalidTransition(f"work item {self.id} is already marked overdue for {self.due_date}")
        self._marked_overdue(self.due_date, self.grid_code, self.jurisdiction, self.kind)

    def complete(self, note: str) -> None:
        self._require_open("complete")
        next_due = None
        if self.every_days:
            next_due = (date.fromisoformat(self.due_date) + timedelta(days=self.every_days)).isoformat()
        self._completed(self.due_date, note, next_due)

    def reassign(self, assignee_kind: str, assignee_id: str) -> None:
        self._require_open("reassign")
        self._reassigned(assignee_kind, assignee_id)

    def cancel(self, reason: str) -> None:
        self._require_open("cancel")
        self._cancelled(reason)

    def require_open(self, action: str) -> None:
        """Refuse ``action`` unless the item is open (checked before free text is sealed)."""
        self._require_open(action)

    def _require_open(self, action: str) -> None:
        if self.status != WorkItemStatus.OPEN:
            raise InvalidTransition(f"cannot {action} a work item that is {self.status}")

    @event("MarkedOverdue")
    def _marked_overdue(self, due_date: str, grid_code: str, jurisdiction: str, kind: str) -> None:
        # Grid, jurisdiction and kind are repeated so the public event can be made from this one.
        self.overdue_marked_for.append(due_date)

    @event("Completed")
    def _completed(self, due_date: str, note: str, next_due_date: str | None) -> None:
        self.completions += 1
        if next_due_date is None:
            self.status = WorkItemStatus.COMPLETED.value
        else:
            self.due_date = next_due_date

    @event("Reassigned")
    def _reassigned(self, assignee_kind: str, assignee_id: str) -> None:
        self.assignee_kind = assignee_kind
        self.assignee_id = assignee_id

    @event("Cancelled")
    def _cancelled(self, reason: str) -> None:
        self.status = WorkItemStatus.CANCELLED.value
