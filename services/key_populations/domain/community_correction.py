"""Community correction (Art. 7(4), served by justice and police): a person
under public surveillance, a suspended sentence, parole or temporary
execution outside prison, supervised in the community.

Rules:
- Enrolment needs the correction type, the supervision period (start before
  end, enrolment inside it), how often the person reports in and their duties.
- Leave: requested for a span inside the supervision period, starting today or
  later and lasting at most MAX_LEAVE_DAYS; each request is approved or refused
  once.
- A violation is recorded with the warning it earned.
- Supervision ends on its end date (``supervision_due_to_end``, then
  ``complete_period``) or by revocation.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict, Field

from shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed

from ..contracts import (  # the public vocabulary
    Category,
    ExitReason,
    ViolationKind,
    WarningGiven,
)
from .common import check_dated, member_of, person_key, require_sealed
from .enrolment import Enrolment

MAX_LEAVE_DAYS = 30  # a single leave of absence lasts at most a month


class CorrectionType(StrEnum):
    PUBLIC_SURVEILLANCE = "public_surveillance"
    SUSPENDED_SENTENCE = "suspended_sentence"
    PAROLE = "parole"
    TEMPORARY_EXECUTION_OUTSIDE_PRISON = "temporary_execution_outside_prison"


class Duty(StrEnum):
    REPORT_IN_PERSON = "report_in_person"
    PHONE_CHECK_IN = "phone_check_in"
    COMMUNITY_SERVICE = "community_service"
    EDUCATION = "education"
    ELECTRONIC_MONITORING = "electronic_monitoring"


class CorrectionFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    correction_type: CorrectionType
    supervision_start: date
    supervision_end: date
    reporting_every_days: int = Field(ge=1, le=90)
    duties: list[Duty] = Field(min_length=1)


class CommunityCorrection(Enrolment):
    CATEGORY = Category.COMMUNITY_CORRECTION
    FACTS = CorrectionFacts
    PERSONAL_FIELDS = Enrolment.PERSONAL_FIELDS
    EXIT_REASONS = Enrolment.EXIT_REASONS | {ExitReason.REVOKED}

    @classmethod
    def _check_facts(cls, person_id: str, facts: CorrectionFacts, enrolled_on: date) -> None:
        if facts.supervision_start >= facts.supervision_end:
            raise ValidationFailed("supervision starts before it ends", {"field": "supervision_end"})
        if not facts.supervision_start <= enrolled_on < facts.supervision_end:
            raise ValidationFailed("a person is enrolled during their supervision", {"field": "enrolled_on"})

    def _apply_facts(self, facts: dict) -> None:
        super()._apply_facts(facts)
        self.supervision_end = date.fromisoformat(facts["supervision_end"])
        self.leave_requests: dict[str, dict] = {}
        self.warnings = 0

    @property
    def period_ends_on(self) -> date:
        return self.supervision_end

    def supervision_due_to_end(self, today: date) -> bool:
        return self.period_due_to_end(today)

    def request_leave(self, request_id: str, starts_on: date, ends_on: date, today: date) -> None:
        self._require_active("request leave on")
        if request_id in self.leave_requests:
            raise Conflict(f"leave request {request_id} is already recorded")
        if starts_on < today or ends_on < starts_on:
            raise ValidationFailed("a leave starts today or later and ends on or after its start",
                                   {"field": "starts_on"})
        if (ends_on - starts_on).days + 1 > MAX_LEAVE_DAYS:
            raise ValidationFailed(f"a leave lasts at most {MAX_LEAVE_DAYS} days", {"field": "ends_on"})
        if ends_on > self.supervision_end:
            raise ValidationFailed("a leave ends within the supervision period", {"field": "ends_on"})
        self._leave_requested(request_id=request_id, starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())

    def decide_leave(self, request_id: str, approved: bool) -> None:
        self._require_active("decide leave on")
        request = self.leave_requests.get(request_id)
        if request is None:
            raise NotFound(f"no leave request {request_id}")
        if request["decision"] is not None:
            raise InvalidTransition(f"leave request {request_id} is already {request['decision']}")
        if approved:
            self._leave_approved(request_id=request_id)
        else:
            self._leave_refused(request_id=request_id)

    def record_violation(self, on: date, today: date, kind: str, warning: str, note: str | None = None) -> None:
        self._require_active("record a violation on")
        check_dated(on, today, self.enrolled_on, "on")
        kind, warning = member_of(ViolationKind, kind, "kind"), member_of(WarningGiven, warning, "warning")
        require_sealed(person_key(self.person_id), note=note)
        self._violation_recorded(on=on.isoformat(), kind=kind, warning=warning, note=note,
                                 warnings=self.warnings + 1)

    @event("LeaveRequested")
    def _leave_requested(self, request_id: str, starts_on: str, ends_on: str) -> None:
        self.leave_requests[request_id] = {"starts_on": starts_on, "ends_on": ends_on, "decision": None}

    @event("LeaveApproved")
    def _leave_approved(self, request_id: str) -> None:
        self.leave_requests[request_id]["decision"] = "approved"

    @event("LeaveRefused")
    def _leave_refused(self, request_id: str) -> None:
        self.leave_requests[request_id]["decision"] = "refused"

    @event("ViolationRecorded")
    def _violation_recorded(self, on: str, kind: str, warning: str, note: str | None, warnings: int) -> None:
        self.warnings = warnings
