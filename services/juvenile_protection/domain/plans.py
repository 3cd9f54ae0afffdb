"""The coordinated protection plan of a minor's case.

Rules:
- Art. 7(5): civil affairs, education and other departments protect minors
  as one. A case has one plan with a lead department and tasks, each given
  to a department with a due date; a task without a department is refused.
- A task is assigned, acknowledged by its department, then done (or
  cancelled); the plan is complete only when it has a done task and every
  task not cancelled is done.
- A task past its due date and not done is overdue; the timer flags each
  task once. The plan is reviewed periodically: each review records its
  outcome and sets the next review date; a review date passed without a
  review is overdue, flagged once per review date by the timer.
- The lead department may change while the plan is active (never to itself).
- A plan ends with its case; an ended plan is read-only.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.security.sealing import require_sealed

from .cases import CaseStatus, MinorCase
from .common import case_key, department, iso_day, member


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_TASK = (TaskStatus.ASSIGNED.value, TaskStatus.ACKNOWLEDGED.value)


class ReviewOutcome(StrEnum):
    """What a periodic review of the plan found."""

    ON_TRACK = "on_track"
    TASKS_REVISED = "tasks_revised"  # the plan goes on with changed or added tasks
    ESCALATED = "escalated"  # the child's situation worsened: referred up (e.g. to the county)
    READY_TO_CLOSE = "ready_to_close"


class PlanStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


def plan_id_for(case_id: UUID | str) -> UUID:
    """One plan per case."""
    return stable_id("juvenile-plan", str(case_id))


class ProtectionPlan(AuditedAggregate):
    """The departments' joint work for one child."""

    PERSONAL_FIELDS = ("description", "note", "reason")  # free text, sealed under case_key(case id)

    @classmethod
    def draw_up(cls, case: MinorCase, lead_department: str, first_review_on: date, today: date) -> ProtectionPlan:
        if case.status != CaseStatus.OPEN:
            raise InvalidTransition(f"case {case.id} is {case.status}: no plan is drawn up for it")
        lead = department(lead_department, "lead department")
        if iso_day(first_review_on, "first review date") < iso_day(today, "today"):
            raise ValidationFailed("the first review cannot lie in the past")
        return cls.create_with_id(cls.DrawnUp, id=plan_id_for(case.id), case_id=str(case.id),
                                  jurisdiction=case.jurisdiction, lead_department=lead,
                                  next_review_on=first_review_on.isoformat())

    @event("DrawnUp")
    def __init__(self, case_id: str, jurisdiction: str, lead_department: str, next_review_on: str):
        self.case_id = case_id
        self.jurisdiction = jurisdiction
        self.lead_department = lead_department
        self.next_review_on = next_review_on
        self.tasks: dict[str, dict] = {}
        self.reviews: list[str] = []
        self.review_flagged_for: str | None = None  # the review date last flagged overdue
        self.status = PlanStatus.ACTIVE.value

    # -- derived facts ----------------------------------------------------------------

    @property
    def complete(self) -> bool:
        statuses = [task["status"] for task in self.tasks.values()]
        return TaskStatus.DONE in statuses and not any(status in OPEN_TASK for status in statuses)

    def overdue_tasks(self, today: date) -> list[str]:
        """Ids of tasks past their due date and not done or cancelled."""
        if self.status != PlanStatus.ACTIVE:
            return []
        return [task_id for task_id, task in self.tasks.items()
                if task["status"] in OPEN_TASK and task["due_on"] < today.isoformat()]

    def review_overdue(self, today: date) -> bool:
        return self.status == PlanStatus.ACTIVE and self.next_review_on < today.isoformat()

    # -- commands ------------------------------------------------------------------------

    def next_task_id(self) -> str:
        return f"T{len(self.tasks) + 1}"

    def assign_task(self, department_name: str, due_on: date, today: date, description: str) -> str:
        self._require_active("assign a task in")
        unit = department(department_name, "department for the task")
        if iso_day(due_on, "due date") < iso_day(today, "today"):
            raise ValidationFailed("a task cannot be due in the past")
        require_sealed(case_key(self.case_id), description=description)
        task_id = self.next_task_id()
        self._task_assigned(task_id=task_id, department=unit, due_on=due_on.isoformat(), description=description)
        return task_id

    def acknowledge_task(self, task_id: str) -> None:
        self._require_active("acknowledge a task in")
        if self._task(task_id)["status"] != TaskStatus.ASSIGNED:
            raise InvalidTransition(f"task {task_id} is {self.tasks[task_id]['status']}: "
                                    "only an assigned task is acknowledged")
        self._task_acknowledged(task_id=task_id, department=self.tasks[task_id]["department"])

    def complete_task(self, task_id: str, on: date, note: str) -> None:
        self._require_active("complete a task in")
        if self._task(task_id)["status"] != TaskStatus.ACKNOWLEDGED:
            raise InvalidTransition(f"task {task_id} is {self.tasks[task_id]['status']}: "
                                    "a department completes a task it has acknowledged")
        require_sealed(case_key(self.case_id), note=note)
        self._task_completed(task_id=task_id, department=self.tasks[task_id]["department"],
                             on=iso_day(on, "completion date"), note=note)

    def cancel_task(self, task_id: str, reason: str) -> None:
        self._require_active("cancel a task in")
        if self._task(task_id)["status"] not in OPEN_TASK:
            raise InvalidTransition(f"task {task_id} is {self.tasks[task_id]['status']}")
        require_sealed(case_key(self.case_id), reason=reason)
        self._task_cancelled(task_id=task_id, reason=reason)

    def flag_overdue_tasks(self, today: date) -> list[str]:
        """Flag each overdue task once; returns the ids flagged now."""
        flagged = [task_id for task_id in self.overdue_tasks(today) if not self.tasks[task_id]["overdue_flagged"]]
        for task_id in flagged:
            task = self.tasks[task_id]
            self._task_overdue_flagged(task_id=task_id, department=task["department"], due_on=task["due_on"])
        return flagged

    def change_lead(self, lead_department: str) -> None:
        self._require_active("change the lead of")
        lead = department(lead_department, "lead department")
        if lead == self.lead_department:
            raise Conflict(f"{lead} already leads the plan")
        self._lead_changed(lead_department=lead, jurisdiction=self.jurisdiction)

    def record_review(self, held_on: date, next_review_on: date, outcome: str, note: str) -> None:
        self._require_active("review")
        value = member(ReviewOutcome, outcome, "review outcome")
        if iso_day(next_review_on, "next review date") <= iso_day(held_on, "review date"):
            raise ValidationFailed("the next review comes after this one")
        if self.reviews and held_on.isoformat() < self.reviews[-1]:
            raise ValidationFailed("reviews are recorded in order")
        require_sealed(case_key(self.case_id), note=note)
        self._reviewed(held_on=held_on.isoformat(), next_review_on=next_review_on.isoformat(), outcome=value,
                       was_overdue=self.review_overdue(held_on), jurisdiction=self.jurisdiction, note=note)

    def flag_review_overdue(self, today: date) -> bool:
        """Flag the passed review date once (True when flagged now); a later review date is flagged afresh."""
        iso_day(today, "today")
        if not self.review_overdue(today) or self.review_flagged_for == self.next_review_on:
            return False
        self._review_overdue_flagged(review_on=self.next_review_on, lead_department=self.lead_department,
                                     jurisdiction=self.jurisdiction)
        return True

    def end(self, on: date) -> None:
        """End the plan with its case (closed, handed over); read-only after."""
        self._require_active("end")
        self._ended(on=iso_day(on, "end date"), complete=self.complete)

    def _task(self, task_id: str) -> dict:
        task = self.tasks.get(task_id)
        if task is None:
            raise NotFound(f"the plan has no task {task_id}")
        return task

    def _require_active(self, action: str) -> None:
        if self.status != PlanStatus.ACTIVE:
            raise InvalidTransition(f"cannot {action} a plan that has ended")

    # -- events (mutate only) -----------------------------------------------------------

    @event("TaskAssigned")
    def _task_assigned(self, task_id: str, department: str, due_on: str, description: str) -> None:
        self.tasks[task_id] = {"department": department, "due_on": due_on, "description": description,
                               "status": TaskStatus.ASSIGNED.value, "overdue_flagged": False}

    @event("TaskAcknowledged")
    def _task_acknowledged(self, task_id: str, department: str) -> None:
        self.tasks[task_id]["status"] = TaskStatus.ACKNOWLEDGED.value

    @event("TaskCompleted")
    def _task_completed(self, task_id: str, department: str, on: str, note: str) -> None:
        self.tasks[task_id]["status"] = TaskStatus.DONE.value

    @event("TaskCancelled")
    def _task_cancelled(self, task_id: str, reason: str) -> None:
        self.tasks[task_id]["status"] = TaskStatus.CANCELLED.value

    @event("TaskOverdueFlagged")
    def _task_overdue_flagged(self, task_id: str, department: str, due_on: str) -> None:
        self.tasks[task_id]["overdue_flagged"] = True

    @event("LeadChanged")
    def _lead_changed(self, lead_department: str, jurisdiction: str) -> None:
        self.lead_department = lead_department

    @event("Reviewed")
    def _reviewed(self, held_on: str, next_review_on: str, outcome: str, was_overdue: bool, jurisdiction: str,
                  note: str) -> None:
        self.reviews.append(held_on)
        self.next_review_on = next_review_on

    @event("ReviewOverdueFlagged")
    def _review_overdue_flagged(self, review_on: str, lead_department: str, jurisdiction: str) -> None:
        self.review_flagged_for = review_on

    @event("Ended")
    def _ended(self, on: str, complete: bool) -> None:
        self.status = PlanStatus.ENDED.value
