"""Referral of a child with serious misconduct to a special (专门) school.

Rules:
- Art. 7(5) provides special schools where needed. Only a case that carries
  serious misconduct, and is open, may be referred.
- The referral is proposed, then assessed by both education and public
  security; the guardian's view is recorded; only then the evaluation body
  decides (admit or not, with its basis). Each step only after the previous
  one: a decision before both assessments is refused.
- An admitted child is placed in a special school, reviewed periodically
  (each review sets the next), and returns to an ordinary school. A review
  date passed without a review is overdue, flagged once per date by the timer.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import Conflict, InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate
from shared.security.sealing import require_sealed

from .cases import CaseStatus, Category, MinorCase
from .common import Department, case_key, department, iso_day, member

ASSESSORS = (Department.EDUCATION.value, Department.PUBLIC_SECURITY.value)


class ReferralStatus(StrEnum):
    PROPOSED = "proposed"
    ASSESSED = "assessed"  # both assessments recorded
    ADMITTED = "admitted"
    NOT_ADMITTED = "not_admitted"
    PLACED = "placed"
    RETURNED = "returned"  # back in an ordinary school


class GuardianView(StrEnum):
    AGREES = "agrees"
    OBJECTS = "objects"
    NOT_REACHABLE = "not_reachable"


class SpecialSchoolReferral(AuditedAggregate):
    """One referral of one child, from proposal to return to an ordinary school."""

    PERSONAL_FIELDS = ("grounds", "findings", "note", "basis")  # free text, sealed under case_key(case id)

    @classmethod
    def propose(cls, referral_id: UUID, case: MinorCase, proposed_by: str, grounds: str) -> SpecialSchoolReferral:
        if case.status != CaseStatus.OPEN:
            raise InvalidTransition(f"case {case.id} is {case.status}: it is not referred")
        if Category.SERIOUS_MISCONDUCT not in case.categories:
            raise InvalidTransition("only a child with serious misconduct is referred to a special school")
        by = department(proposed_by, "proposing department")
        require_sealed(case_key(case.id), grounds=grounds)
        return cls.create_with_id(cls.Proposed, id=referral_id, case_id=str(case.id), jurisdiction=case.jurisdiction,
                                  proposed_by=by, grounds=grounds)

    @event("Proposed")
    def __init__(self, case_id: str, jurisdiction: str, proposed_by: str, grounds: str):
        self.case_id = case_id
        self.jurisdiction = jurisdiction
        self.proposed_by = proposed_by
        self.assessments: dict[str, bool] = {}
        self.guardian_view: str | None = None
        self.status = ReferralStatus.PROPOSED.value
        self.school_id: str | None = None
        self.next_review_on: str | None = None
        self.review_flagged_for: str | None = None  # the review date last flagged overdue

    def review_overdue(self, today: date) -> bool:
        return (self.status == ReferralStatus.PLACED and self.next_review_on is not None
                and self.next_review_on < today.isoformat())

    def flag_review_overdue(self, today: date) -> bool:
        """Flag the passed review date once (True when flagged now); a later review date is flagged afresh."""
        iso_day(today, "today")
        if not self.review_overdue(today) or self.review_flagged_for == self.next_review_on:
            return False
        self._review_overdue_flagged(review_on=self.next_review_on, jurisdiction=self.jurisdiction)
        return True

    # -- commands -----------------------------------------------------------------------

    def record_assessment(self, by: str, recommends: bool, findings: str) -> None:
        self._require(ReferralStatus.PROPOSED, "assess")
        unit = department(by, "assessing department")
        if unit not in ASSESSORS:
            raise ValidationFailed("education and public security assess a referral")
        if unit in self.assessments:
            raise Conflict(f"{unit} has already assessed this referral")
        if not isinstance(recommends, bool):
            raise ValidationFailed("an assessment recommends placement or not")
        require_sealed(case_key(self.case_id), findings=findings)
        self._assessed(by=unit, recommends=recommends, findings=findings,
                       complete=len(self.assessments) + 1 == len(ASSESSORS))

    def record_guardian_view(self, view: str, note: str | None) -> None:
        if self.status not in (ReferralStatus.PROPOSED, ReferralStatus.ASSESSED):
            raise InvalidTransition(f"the referral is {self.status}: the guardian is heard before the decision")
        value = member(GuardianView, view, "guardian view")
        if self.guardian_view is not None:
            raise Conflict("the guardian's view is already recorded")
        require_sealed(case_key(self.case_id), note=note)
        self._guardian_heard(view=value, note=note)

    def decide(self, admitted: bool, decided_on: date, basis: str) -> None:
        if self.status == ReferralStatus.PROPOSED:
            raise InvalidTransition("the decision comes after both education and public security have assessed")
        self._require(ReferralStatus.ASSESSED, "decide")
        if self.guardian_view is None:
            raise InvalidTransition("record the guardian's view before the decision")
        if not isinstance(admitted, bool):
            raise ValidationFailed("a decision admits the child or not")
        require_sealed(case_key(self.case_id), basis=basis)
        if basis is None:
            raise ValidationFailed("a decision states its basis")
        self._decided(admitted=admitted, decided_on=iso_day(decided_on, "decision date"), basis=basis)

    def place(self, school_id: str, on: date, first_review_on: date) -> None:
        self._require(ReferralStatus.ADMITTED, "place")
        if not school_id:
            raise ValidationFailed("a placement names the special school")
        if iso_day(first_review_on, "first review date") <= iso_day(on, "placement date"):
            raise ValidationFailed("the first review comes after the placement")
        self._placed(school_id=school_id, on=on.isoformat(), next_review_on=first_review_on.isoformat())

    def record_review(self, held_on: date, next_review_on: date, note: str) -> None:
        self._require(ReferralStatus.PLACED, "review")
        if iso_day(next_review_on, "next review date") <= iso_day(held_on, "review date"):
            raise ValidationFailed("the next review comes after this one")
        require_sealed(case_key(self.case_id), note=note)
        self._reviewed(held_on=held_on.isoformat(), next_review_on=next_review_on.isoformat(), note=note)

    def return_to_ordinary_school(self, school_id: str, on: date) -> None:
        self._require(ReferralStatus.PLACED, "return")
        if not school_id:
            raise ValidationFailed("a return names the ordinary school")
        self._returned(school_id=school_id, on=iso_day(on, "return date"))

    def _require(self, status: ReferralStatus, action: str) -> None:
        if self.status != status:
            raise InvalidTransition(f"cannot {action} a referral that is {self.status}")

    # -- events (mutate only) ---------------------------------------------------------

    @event("Assessed")
    def _assessed(self, by: str, recommends: bool, findings: str, complete: bool) -> None:
        self.assessments[by] = recommends
        if complete:
            self.status = ReferralStatus.ASSESSED.value

    @event("GuardianHeard")
    def _guardian_heard(self, view: str, note: str | None) -> None:
        self.guardian_view = view

    @event("Decided")
    def _decided(self, admitted: bool, decided_on: str, basis: str) -> None:
        self.status = (ReferralStatus.ADMITTED if admitted else ReferralStatus.NOT_ADMITTED).value

    @event("Placed")
    def _placed(self, school_id: str, on: str, next_review_on: str) -> None:
        self.status = ReferralStatus.PLACED.value
        self.school_id = school_id
        self.next_review_on = next_review_on

    @event("Reviewed")
    def _reviewed(self, held_on: str, next_review_on: str, note: str) -> None:
        self.next_review_on = next_review_on

    @event("ReviewOverdueFlagged")
    def _review_overdue_flagged(self, review_on: str, jurisdiction: str) -> None:
        self.review_flagged_for = review_on

    @event("Returned")
    def _returned(self, school_id: str, on: str) -> None:
        self.status = ReferralStatus.RETURNED.value
        self.school_id = school_id
