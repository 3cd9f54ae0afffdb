"""Incidents and emergency command (Art. 6(3)): what escalates from routine risk
work is taken over by a command structure until it is handled.

Rules:
- An incident is opened once per source: its id is derived from (source
  service, source reference), so a redelivered trigger finds the incident it
  opened (``intake``). Triggers: a severe grid event or a risk raised to red
  (``grid_events``), a key person at the highest risk level
  (``key_populations``, naming the person by opaque id only), or an operator.
- Classification: natural disaster, accident, public health, social security;
  level I–IV on the four-level emergency response scale (I particularly
  serious, II serious, III relatively serious, IV general).
- A command post has a commander unit; command tasks go to a unit with a due
  time after they are assigned, and move assigned → acknowledged → completed
  (or are cancelled).
- Situation reports are appended in time order, never before the incident.
- The level may be raised at any time; lowering it needs a situation report
  made since the last level change (the assessment it rests on).
- Closure needs every task completed or cancelled and a summary (the
  after-action review); a closed incident is read only.
- Times are instants passed by the caller, in order with the incident's own.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import InvalidTransition, NotFound, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.security.sealing import check_opaque_id, require_sealed

from ..contracts import Classification, IncidentStatus, Level, Trigger  # the public vocabulary
from .common import instant, parse_instant, require_local_unit, require_unit

# Lower rank = more serious.
LEVEL_RANK = {Level.I: 1, Level.II: 2, Level.III: 3, Level.IV: 4}


# The service whose event each trigger comes from.
TRIGGER_SOURCE = {
    Trigger.SEVERE_GRID_EVENT: "grid_events",
    Trigger.RED_RISK: "grid_events",
    Trigger.HIGHEST_RISK_PERSON: "key_populations",
    Trigger.OPERATOR: "emergency_command",
}


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_TASK = (TaskStatus.ASSIGNED.value, TaskStatus.ACKNOWLEDGED.value)


def incident_subject(incident_id: UUID | str) -> str:
    """The vault key subject an incident's free text (tasks, reports, notes, summary) is sealed under."""
    return f"incident.{incident_id}"


def parse_level(level: str) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise ValidationFailed(f"{level!r} is not an emergency response level (I, II, III or IV)") from None


class Incident(AuditedAggregate):
    """One incident under command, from opening to the after-action review."""

    PERSONAL_FIELDS = ("instructions", "note", "text", "summary")  # under incident_subject(id)

    @staticmethod
    def create_id(source_service: str, source_ref: str) -> UUID:
        return stable_id("incident", f"{source_service}:{source_ref}")

    @classmethod
    def intake(cls, existing: Incident | None, trigger: str, source_ref: str, jurisdiction: str,
               classification: str, level: str, commander_unit: str, opened_at: datetime,
               person_id: str | None = None) -> Incident:
        """Open the incident of a source, or return the one it already opened, unchanged.

        ``existing`` is what the repository holds under ``create_id`` of the source;
        a redelivered trigger therefore records nothing.
        """
        if existing is not None:
            return existing
        try:
            trigger = Trigger(trigger)
        except ValueError:
            raise ValidationFailed(f"{trigger!r} is not an incident trigger") from None
        require_local_unit("jurisdiction", jurisdiction)
        try:
            classification = Classification(classification).value
        except ValueError:
            raise ValidationFailed(f"{classification!r} is not an incident classification") from None
        level = parse_level(level).value
        require_unit("commander_unit", commander_unit)
        if source_ref is not None:
            check_opaque_id(source_ref, "source_ref")
        if trigger is Trigger.HIGHEST_RISK_PERSON:
            if not person_id:
                raise ValidationFailed("an incident about a key person names the person (opaque id)")
            check_opaque_id(person_id, "person_id")
        elif person_id is not None:
            raise ValidationFailed(f"an incident from {trigger.value} names no person")
        source_service = TRIGGER_SOURCE[trigger]
        return cls.create_with_id(cls.Opened, id=cls.create_id(source_service, source_ref), trigger=trigger.value,
                                  source_service=source_service, source_ref=source_ref, jurisdiction=jurisdiction,
                                  classification=classification, level=level, commander_unit=commander_unit,
                                  opened_at=instant("opened_at", opened_at), person_id=person_id)

    @event("Opened")
    def __init__(self, trigger: str, source_service: str, source_ref: str, jurisdiction: str, classification: str,
                 level: str, commander_unit: str, opened_at: str, person_id: str | None):
        self.trigger = trigger
        self.source_service = source_service
        self.source_ref = source_ref
        self.jurisdiction = jurisdiction
        self.classification = classification
        self.level = level
        self.commander_unit = commander_unit
        self.opened_at = opened_at
        self.person_id = person_id
        self.status = IncidentStatus.OPEN.value
        self.tasks: dict[str, dict] = {}
        self.reports: list[dict] = []
        self.levels: list[dict] = [{"level": level, "at": opened_at}]
        self.reported_since_level_change = False
        self.last_at = opened_at

    # -- commands ----------------------------------------------------------------

    def appoint_commander(self, unit: str, at: datetime) -> None:
        self._require_open("appoint a commander of")
        require_unit("unit", unit)
        when = self._in_order("at", at)
        if unit == self.commander_unit:
            raise InvalidTransition(f"{unit} already commands incident {self.id}")
        self._commander_appointed(unit=unit, at=when)

    def assign_task(self, unit: str, instructions: str, due_at: datetime, at: datetime) -> str:
        """Dispatch a command task to a unit; returns the task id."""
        self._require_open("assign a task in")
        require_unit("unit", unit)
        when = self._in_order("at", at)
        due = instant("due_at", due_at)
        if parse_instant(due) <= parse_instant(when):
            raise ValidationFailed("a task is due after it is assigned")
        task_id = f"T{len(self.tasks) + 1}"
        require_sealed(incident_subject(self.id), instructions=instructions)
        self._task_assigned(task_id=task_id, unit=unit, instructions=instructions, due_at=due, at=when)
        return task_id

    def acknowledge_task(self, task_id: str, at: datetime) -> None:
        self._require_open("acknowledge a task of")
        self._task_in(task_id, (TaskStatus.ASSIGNED.value,), "acknowledged")
        self._task_acknowledged(task_id=task_id, at=self._in_order("at", at))

    def complete_task(self, task_id: str, note: str | None, at: datetime) -> None:
        self._require_open("complete a task of")
        self._task_in(task_id, OPEN_TASK, "completed")
        when = self._in_order("at", at)
        require_sealed(incident_subject(self.id), note=note)
        self._task_completed(task_id=task_id, note=note, at=when)

    def cancel_task(self, task_id: str, note: str | None, at: datetime) -> None:
        self._require_open("cancel a task of")
        self._task_in(task_id, OPEN_TASK, "cancelled")
        when = self._in_order("at", at)
        require_sealed(incident_subject(self.id), note=note)
        self._task_cancelled(task_id=task_id, note=note, at=when)

    def report_situation(self, text: str, at: datetime) -> int:
        """Append a situation report (in time order); returns its sequence number."""
        self._require_open("report on")
        when = self._in_order("at", at)
        require_sealed(incident_subject(self.id), text=text)
        seq = len(self.reports) + 1
        self._situation_reported(seq=seq, text=text, at=when)
        return seq

    def change_level(self, level: str, at: datetime) -> None:
        """Escalate (towards I) at any time; de-escalate only on a situation report since the last change."""
        self._require_open("change the level of")
        new = parse_level(level)
        current = Level(self.level)
        when = self._in_order("at", at)
        if new is current:
            raise InvalidTransition(f"incident {self.id} is already at level {current.value}")
        if LEVEL_RANK[new] < LEVEL_RANK[current]:
            self._escalated(from_level=current.value, to_level=new.value, at=when)
        elif not self.reported_since_level_change:
            raise InvalidTransition("lowering the level rests on a situation report made since the last change")
        else:
            self._deescalated(from_level=current.value, to_level=new.value, at=when)

    def close(self, summary: str, at: datetime) -> None:
        """Close with the after-action summary once no task is still open."""
        self._require_open("close")
        when = self._in_order("at", at)
        still_open = sorted(task_id for task_id, task in self.tasks.items() if task["status"] in OPEN_TASK)
        if still_open:
            raise InvalidTransition(f"tasks {', '.join(still_open)} are still open: complete or cancel them first",
                                    {"open_tasks": still_open})
        if not summary:
            raise ValidationFailed("an incident is closed with an after-action summary")
        require_sealed(incident_subject(self.id), summary=summary)
        self._closed(summary=summary, at=when)

    # -- where the incident stands ----------------------------------------------------

    def overdue_tasks(self, now: datetime) -> list[str]:
        """Open tasks past their due time at ``now`` (for the command post's board and its timer)."""
        moment = parse_instant(instant("now", now))
        return [task_id for task_id, task in self.tasks.items()
                if task["status"] in OPEN_TASK and parse_instant(task["due_at"]) < moment]

    def _require_open(self, action: str) -> None:
        if self.status != IncidentStatus.OPEN:
            raise InvalidTransition(f"cannot {action} incident {self.id}: it is closed and read only")

    def _in_order(self, name: str, at: datetime) -> str:
        """``at`` as stored, refused if it comes before the incident's last recorded step."""
        when = instant(name, at)
        if parse_instant(when) < parse_instant(self.last_at):
            raise ValidationFailed(f"{name} comes before the incident's last recorded step ({self.last_at})")
        return when

    def _task_in(self, task_id: str, statuses: tuple[str, ...], becoming: str) -> None:
        task = self.tasks.get(task_id)
        if task is None:
            raise NotFound(f"incident {self.id} has no task {task_id}")
        if task["status"] not in statuses:
            raise InvalidTransition(f"task {task_id} is {task['status']}; it cannot be {becoming}")

    # -- events (mutate only) -----------------------------------------------------------

    @event("CommanderAppointed")
    def _commander_appointed(self, unit: str, at: str) -> None:
        self.commander_unit = unit
        self.last_at = at

    @event("TaskAssigned")
    def _task_assigned(self, task_id: str, unit: str, instructions: str, due_at: str, at: str) -> None:
        self.tasks[task_id] = {"unit": unit, "due_at": due_at, "assigned_at": at, "status": TaskStatus.ASSIGNED.value}
        self.last_at = at

    @event("TaskAcknowledged")
    def _task_acknowledged(self, task_id: str, at: str) -> None:
        self.tasks[task_id]["status"] = TaskStatus.ACKNOWLEDGED.value
        self.last_at = at

    @event("TaskCompleted")
    def _task_completed(self, task_id: str, note: str | None, at: str) -> None:
        self.tasks[task_id]["status"] = TaskStatus.COMPLETED.value
        self.last_at = at

    @event("TaskCancelled")
    def _task_cancelled(self, task_id: str, note: str | None, at: str) -> None:
        self.tasks[task_id]["status"] = TaskStatus.CANCELLED.value
        self.last_at = at

    @event("SituationReported")
    def _situation_reported(self, seq: int, text: str, at: str) -> None:
        self.reports.append({"seq": seq, "at": at})
        self.reported_since_level_change = True
        self.last_at = at

    @event("Escalated")
    def _escalated(self, from_level: str, to_level: str, at: str) -> None:
        self._level_changed(to_level, at)

    @event("Deescalated")
    def _deescalated(self, from_level: str, to_level: str, at: str) -> None:
        self._level_changed(to_level, at)

    @event("Closed")
    def _closed(self, summary: str, at: str) -> None:
        self.status = IncidentStatus.CLOSED.value
        self.last_at = at

    def _level_changed(self, level: str, at: str) -> None:
        self.level = level
        self.levels.append({"level": level, "at": at})
        self.reported_since_level_change = False
        self.last_at = at
