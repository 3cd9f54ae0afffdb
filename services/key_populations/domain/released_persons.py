"""Persons released from prison (Art. 7(4), served by justice and townships):
hand-over on release, then a resettlement-and-assistance period.

Rules:
- Enrolment needs the release date (on or before enrolment), the prison, and
  the assistance period in years (default five).
- The township acknowledges the hand-over once, within the county's deadline
  after release (``handover_overdue`` says when it is late; a late
  acknowledgement is still recorded, marked late).
- Assistance (employment, housing, training, ...) is recorded for a day inside
  the assistance period, not before enrolment, not in the future.
- The record ends when the assistance period is over.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict, Field

from shared.errors import Conflict, ValidationFailed

from ..contracts import (
    AssistanceKind,  # the public vocabulary
    Category,  # the public vocabulary
)
from .common import check_dated, member_of, person_key, require_sealed
from .enrolment import Enrolment
from .policy import FollowUpPolicy


class ReleaseFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    released_on: date
    prison: str = Field(min_length=1, max_length=200)
    assistance_years: int = Field(default=5, ge=1, le=10)


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def handover_overdue(handover_due_on: date, acknowledged_on: date | None, today: date) -> bool:
    """Whether a hand-over is late: not acknowledged, and its deadline has passed."""
    return acknowledged_on is None and today > handover_due_on


class ReleasedPerson(Enrolment):
    CATEGORY = Category.RELEASED_PERSONS
    FACTS = ReleaseFacts

    @classmethod
    def _check_facts(cls, person_id: str, facts: ReleaseFacts, enrolled_on: date) -> None:
        if facts.released_on > enrolled_on:
            raise ValidationFailed("a released person is enrolled on or after release", {"field": "released_on"})

    @classmethod
    def _stored_facts(cls, facts: ReleaseFacts, enrolled_on: date, policy: FollowUpPolicy) -> dict:
        return {**facts.model_dump(mode="json"),
                "assistance_until": years_after(facts.released_on, facts.assistance_years).isoformat(),
                "handover_due_on": policy.handover_due_on(facts.released_on).isoformat()}

    def _apply_facts(self, facts: dict) -> None:
        super()._apply_facts(facts)
        self.released_on = date.fromisoformat(facts["released_on"])
        self.assistance_until = date.fromisoformat(facts["assistance_until"])
        self.handover_due_on = date.fromisoformat(facts["handover_due_on"])
        self.handover_acknowledged_on: date | None = None
        self.assistance: list[dict] = []

    @property
    def period_ends_on(self) -> date:
        return self.assistance_until

    def handover_overdue(self, today: date) -> bool:
        return self.active and handover_overdue(self.handover_due_on, self.handover_acknowledged_on, today)

    def acknowledge_handover(self, on: date, today: date) -> None:
        self._require_active("acknowledge the hand-over of")
        if self.handover_acknowledged_on is not None:
            raise Conflict("the hand-over is already acknowledged")
        check_dated(on, today, self.released_on, "on")
        self._handover_acknowledged(**self._public(), on=on.isoformat(), late=on > self.handover_due_on)

    def record_assistance(self, kind: str, on: date, today: date, note: str | None = None) -> None:
        self._require_active("record assistance on")
        kind = member_of(AssistanceKind, kind, "kind")
        check_dated(on, today, self.enrolled_on, "on")
        if on > self.assistance_until:
            raise ValidationFailed("assistance is recorded inside the assistance period", {"field": "on"})
        require_sealed(person_key(self.person_id), note=note)
        self._assistance_recorded(kind=kind, on=on.isoformat(), note=note)

    @event("HandoverAcknowledged")
    def _handover_acknowledged(self, person_id: str, jurisdiction: str, category: str, on: str, late: bool) -> None:
        self.handover_acknowledged_on = date.fromisoformat(on)

    @event("AssistanceRecorded")
    def _assistance_recorded(self, kind: str, on: str, note: str | None) -> None:
        self.assistance.append({"kind": kind, "on": on})
