"""Key areas (Art. 7(1)): places of dense population — squares, schools,
hospitals, parks, malls, stations, airports, theatres, stadiums, scenic spots —
each staffed and equipped for security by standard, with an emergency plan and
regular drills.

Rules:
- A key area has a managing unit, a kind from the list above, and a place on
  the ground (county code or below).
- Required and actual security staff and equipment are recorded; the shortfall
  (required minus actual, never negative) is computed and carried on the events.
- The emergency plan is versioned: each version has its approval (approving unit
  and date) and a version number above the current one; a new version is
  appended, never replacing the old.
- Drills follow a schedule (every N days). A drill practises the current plan,
  is dated no later than ``today`` and records participants as a head count and
  unit ids (no names) and findings (sealed: they may name people).
- Timers: a drill is due N days after the last drill (or after registration);
  a plan is due ``PLAN_GRACE_DAYS`` after registration. ``overdue_drill`` and
  ``missing_plan`` are pure functions over a read-model row; ``flag_overdue``
  records each flag once per due date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import Conflict, InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.security.sealing import require_sealed

from ..contracts import DrillScenario, KeyAreaKind  # the public vocabulary
from .common import day, require_count, require_local_unit, require_unit

# Days a newly registered key area has to adopt its first emergency plan.
PLAN_GRACE_DAYS = 30
# A drill interval of at least a week and at most a year.
MIN_DRILL_DAYS, MAX_DRILL_DAYS = 7, 366


class KeyAreaStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


def key_area_subject(area_id: UUID | str) -> str:
    """The vault key subject a key area's free text (drill findings, plan notes) is sealed under."""
    return f"keyarea.{area_id}"


def shortfall(required: Mapping[str, Any], actual: Mapping[str, Any]) -> dict:
    """Staff and each kind of equipment still missing: required minus actual, never below zero."""
    equipment = {kind: max(0, need - actual["equipment"].get(kind, 0))
                 for kind, need in sorted(required["equipment"].items())}
    return {"staff": max(0, required["staff"] - actual["staff"]),
            "equipment": {kind: gap for kind, gap in equipment.items() if gap}}


def drill_due_on(row: Mapping[str, Any]) -> date:
    """The day the next drill is due: the interval after the last drill, or after registration."""
    since = row["last_drill_on"] or row["registered_on"]
    return date.fromisoformat(since) + timedelta(days=row["drill_every_days"])


def plan_due_on(row: Mapping[str, Any]) -> date:
    return date.fromisoformat(row["registered_on"]) + timedelta(days=PLAN_GRACE_DAYS)


def overdue_drill(row: Mapping[str, Any], today: date) -> str | None:
    """The due date of an overdue drill not yet flagged on ``today``, else None.

    ``row`` holds ``status``, ``registered_on``, ``last_drill_on``, ``drill_every_days``
    and ``drill_overdue_flagged`` (due dates already flagged), as ``KeyArea.as_row`` gives.
    """
    if row["status"] != KeyAreaStatus.ACTIVE:
        return None
    due = drill_due_on(row)
    if due >= today or due.isoformat() in row["drill_overdue_flagged"]:
        return None
    return due.isoformat()


def missing_plan(row: Mapping[str, Any], today: date) -> str | None:
    """The due date of a plan still missing on ``today`` and not yet flagged, else None."""
    if row["status"] != KeyAreaStatus.ACTIVE or row["plan_version"]:
        return None
    due = plan_due_on(row)
    if due >= today or due.isoformat() in row["plan_missing_flagged"]:
        return None
    return due.isoformat()


class KeyArea(AuditedAggregate):
    """One key area with its staffing, plan versions, drill schedule and drills."""

    PERSONAL_FIELDS = ("notes", "findings")  # plan notes, drill findings: under key_area_subject(id)

    @staticmethod
    def create_id(registry_ref: str) -> UUID:
        # One record per key area however often it is registered: the managing unit's own reference.
        return stable_id("key-area", registry_ref)

    @classmethod
    def register(cls, registry_ref: str, jurisdiction: str, kind: str, managing_unit: str,
                 drill_every_days: int, registered_on: date) -> KeyArea:
        require_local_unit("jurisdiction", jurisdiction)
        try:
            kind = KeyAreaKind(kind).value
        except ValueError:
            raise ValidationFailed(f"{kind!r} is not a kind of key area") from None
        require_unit("managing_unit", managing_unit)
        _check_interval(drill_every_days)
        return cls.create_with_id(cls.Registered, id=cls.create_id(registry_ref), registry_ref=registry_ref,
                                  jurisdiction=jurisdiction, kind=kind, managing_unit=managing_unit,
                                  drill_every_days=drill_every_days, registered_on=day("registered_on", registered_on))

    @event("Registered")
    def __init__(self, registry_ref: str, jurisdiction: str, kind: str, managing_unit: str,
                 drill_every_days: int, registered_on: str):
        self.registry_ref = registry_ref
        self.jurisdiction = jurisdiction
        self.kind = kind
        self.managing_unit = managing_unit
        self.drill_every_days = drill_every_days
        self.registered_on = registered_on
        self.status = KeyAreaStatus.ACTIVE.value
        self.required = {"staff": 0, "equipment": {}}
        self.actual = {"staff": 0, "equipment": {}}
        self.plans: list[dict] = []
        self.drills: list[dict] = []
        self.last_drill_on: str | None = None
        self.drill_overdue_flagged: list[str] = []
        self.plan_missing_flagged: list[str] = []

    # -- where the area stands ---------------------------------------------------

    @property
    def plan_version(self) -> int:
        return self.plans[-1]["version"] if self.plans else 0

    @property
    def shortfall(self) -> dict:
        return shortfall(self.required, self.actual)

    @property
    def understaffed(self) -> bool:
        gap = self.shortfall
        return bool(gap["staff"] or gap["equipment"])

    def as_row(self) -> dict:
        """The facts the timer functions read, as a read model would hold them."""
        return {"status": self.status, "registered_on": self.registered_on, "last_drill_on": self.last_drill_on,
                "drill_every_days": self.drill_every_days, "drill_overdue_flagged": list(self.drill_overdue_flagged),
                "plan_version": self.plan_version, "plan_missing_flagged": list(self.plan_missing_flagged)}

    # -- commands ------------------------------------------------------------------

    def set_requirements(self, staff: int, equipment: dict[str, int]) -> None:
        """Record the security staff and equipment the area's standard requires."""
        self._require_active("set requirements for")
        required = _resources(staff, equipment)
        self._requirements_set(staff=required["staff"], equipment=required["equipment"],
                               shortfall=shortfall(required, self.actual))

    def report_resources(self, staff: int, equipment: dict[str, int], on: date) -> None:
        """Record the staff and equipment actually in place on ``on``."""
        self._require_active("report resources of")
        actual = _resources(staff, equipment)
        self._resources_reported(staff=actual["staff"], equipment=actual["equipment"], on=day("on", on),
                                 shortfall=shortfall(self.required, actual))

    def adopt_plan(self, version: int, approved_by: str, approved_on: date, document_ref: str,
                   notes: str | None, today: date) -> None:
        """Append an approved version of the emergency plan; earlier versions stay."""
        self._require_active("adopt a plan for")
        approved = day("approved_on", approved_on)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValidationFailed("a plan version is a whole number from 1")
        if version == self.plan_version:
            raise Conflict(f"plan version {version} of key area {self.id} is already adopted")
        if version < self.plan_version:
            raise ValidationFailed(f"plan version {version} is older than the current version {self.plan_version}")
        require_unit("approved_by", approved_by)
        if approved > day("today", today):
            raise ValidationFailed("a plan cannot be approved in the future")
        if self.plans and approved < self.plans[-1]["approved_on"]:
            raise ValidationFailed("a new plan version cannot be approved before the current one")
        require_sealed(key_area_subject(self.id), notes=notes)
        self._plan_adopted(version=version, approved_by=approved_by, approved_on=approved,
                           document_ref=document_ref, notes=notes)

    def reschedule_drills(self, every_days: int) -> None:
        self._require_active("reschedule drills of")
        _check_interval(every_days)
        if every_days == self.drill_every_days:
            raise InvalidTransition(f"drills of key area {self.id} are already every {every_days} days")
        self._drills_rescheduled(every_days=every_days)

    def record_drill(self, held_on: date, scenario: str, participant_count: int, participant_units: list[str],
                     findings: str | None, today: date) -> None:
        """Record a drill of the current plan: a head count and unit ids, never names."""
        self._require_active("record a drill of")
        held = day("held_on", held_on)
        if held > day("today", today):
            raise ValidationFailed("a drill cannot be dated in the future")
        if held < self.registered_on:
            raise ValidationFailed("a drill cannot be dated before the key area was registered")
        try:
            scenario = DrillScenario(scenario).value
        except ValueError:
            raise ValidationFailed(f"{scenario!r} is not a drill scenario") from None
        if not self.plans:
            raise InvalidTransition("a drill practises the emergency plan: adopt a plan first")
        if require_count("participant_count", participant_count) < 1:
            raise ValidationFailed("a drill has at least one participant")
        for unit in participant_units:
            require_unit("participant_units", unit)
        require_sealed(key_area_subject(self.id), findings=findings)
        self._drill_recorded(held_on=held, scenario=scenario, plan_version=self.plan_version,
                             participant_count=participant_count, participant_units=list(participant_units),
                             findings=findings)

    def flag_overdue(self, today: date) -> list[str]:
        """Flag an overdue drill and a missing plan, each once per due date; returns what was flagged."""
        day("today", today)
        flagged = []
        drill_due = overdue_drill(self.as_row(), today)
        plan_due = missing_plan(self.as_row(), today)
        if drill_due:
            self._drill_overdue_flagged(due_on=drill_due, jurisdiction=self.jurisdiction, kind=self.kind)
            flagged.append("drill")
        if plan_due:
            self._plan_missing_flagged(due_on=plan_due, jurisdiction=self.jurisdiction, kind=self.kind)
            flagged.append("plan")
        return flagged

    def retire(self, on: date) -> None:
        """The place is no longer a key area (closed, merged); its record stays."""
        self._require_active("retire")
        self._retired(on=day("on", on))

    def _require_active(self, action: str) -> None:
        if self.status != KeyAreaStatus.ACTIVE:
            raise InvalidTransition(f"cannot {action} key area {self.id}: it is {self.status}")

    # -- events (mutate only) -------------------------------------------------------

    @event("RequirementsSet")
    def _requirements_set(self, staff: int, equipment: dict, shortfall: dict) -> None:
        self.required = {"staff": staff, "equipment": dict(equipment)}

    @event("ResourcesReported")
    def _resources_reported(self, staff: int, equipment: dict, on: str, shortfall: dict) -> None:
        self.actual = {"staff": staff, "equipment": dict(equipment)}

    @event("PlanAdopted")
    def _plan_adopted(self, version: int, approved_by: str, approved_on: str, document_ref: str,
                      notes: str | None) -> None:
        self.plans.append({"version": version, "approved_by": approved_by, "approved_on": approved_on,
                           "document_ref": document_ref})

    @event("DrillsRescheduled")
    def _drills_rescheduled(self, every_days: int) -> None:
        self.drill_every_days = every_days

    @event("DrillRecorded")
    def _drill_recorded(self, held_on: str, scenario: str, plan_version: int, participant_count: int,
                        participant_units: list[str], findings: str | None) -> None:
        self.drills.append({"held_on": held_on, "plan_version": plan_version, "participant_count": participant_count})
        # A drill entered late does not move the schedule back.
        self.last_drill_on = max(held_on, self.last_drill_on or held_on)

    @event("DrillOverdueFlagged")
    def _drill_overdue_flagged(self, due_on: str, jurisdiction: str, kind: str) -> None:
        self.drill_overdue_flagged.append(due_on)

    @event("PlanMissingFlagged")
    def _plan_missing_flagged(self, due_on: str, jurisdiction: str, kind: str) -> None:
        self.plan_missing_flagged.append(due_on)

    @event("Retired")
    def _retired(self, on: str) -> None:
        self.status = KeyAreaStatus.RETIRED.value


def _check_interval(every_days: object) -> None:
    if not isinstance(every_days, int) or isinstance(every_days, bool) or not (
            MIN_DRILL_DAYS <= every_days <= MAX_DRILL_DAYS):
        raise ValidationFailed(f"drills are scheduled every {MIN_DRILL_DAYS} to {MAX_DRILL_DAYS} days")


def _resources(staff: int, equipment: dict[str, int]) -> dict:
    require_count("staff", staff)
    for kind, count in equipment.items():
        require_count(f"equipment[{kind}]", count)
    return {"staff": staff, "equipment": {kind: count for kind, count in sorted(equipment.items())}}
