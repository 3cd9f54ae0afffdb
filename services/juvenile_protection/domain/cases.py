"""A minor's case: the child, guardians, school, categories, majority, sealing, closure.

Rules:
- Art. 7(5) covers children under 18: a case opens only for a child born in
  a month not in the future and under 18 on the day of intake; the age rule
  uses the plain birth month (see ``common``), never the sealed date of birth.
- A case carries one or more categories (left-behind, in difficulty, with
  misconduct, with serious misconduct, victim, in conflict with the law).
- Reaching 18 ends the protection: ``due_for_majority(today)`` tells the
  timer, and ``reach_majority`` records the hand-over to a department (or the
  closure) once.
- Criminal records of minors are sealed by law: a case of a child in
  conflict with the law, for an offence before 18 with a sentence of five
  years or less (or none), is sealed by an event, never deleted. While sealed,
  ``opens_for(purpose)`` lets only a judicial purpose (police investigation,
  prosecution, trial) read it; unsealing needs a legal ground. Sealing and
  unsealing stay possible after closure: they change who may read, not what
  the record says.
- A closed or handed-over case is read-only.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.security.sealing import require_sealed

from .common import (
    ADULT_AGE,
    age_on,
    check_birth_month,
    check_minor_id,
    check_month,
    check_village,
    department,
    guardian_key,
    iso_day,
    majority_on,
    member,
    minor_key,
)

MAX_SEALABLE_SENTENCE_MONTHS = 60  # five years


class Category(StrEnum):
    LEFT_BEHIND = "left_behind"
    IN_DIFFICULTY = "in_difficulty"
    MISCONDUCT = "misconduct"
    SERIOUS_MISCONDUCT = "serious_misconduct"
    VICTIM = "victim"
    IN_CONFLICT_WITH_LAW = "in_conflict_with_law"


class CaseStatus(StrEnum):
    OPEN = "open"
    HANDED_OVER = "handed_over"  # reached 18, passed to a department's adult services
    CLOSED = "closed"


class ClosureReason(StrEnum):
    PROTECTED = "protected"
    REACHED_MAJORITY = "reached_majority"
    MOVED = "moved"
    OTHER = "other"


class GuardianRelation(StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    APPOINTED = "appointed"  # a guardian appointed by a village committee, civil affairs or a court


class SealingGround(StrEnum):
    """Why the law seals the record."""

    SENTENCE_FIVE_YEARS_OR_LESS = "sentence_five_years_or_less"
    NOT_PROSECUTED = "not_prosecuted"


class UnsealingGround(StrEnum):
    """The legal grounds on which a sealed record is opened again."""

    NEW_OFFENCE_COMBINED_OVER_FIVE_YEARS = "new_offence_combined_over_five_years"
    EARLIER_OFFENCE_FOUND_COMBINED_OVER_FIVE_YEARS = "earlier_offence_found_combined_over_five_years"
    RECIDIVISM_AS_ADULT = "recidivism_as_adult"
    SEALED_IN_ERROR = "sealed_in_error"


class SealedAccessPurpose(StrEnum):
    """The only purposes that may read a sealed record."""

    CRIMINAL_INVESTIGATION = "criminal_investigation"  # public security
    PROSECUTION = "prosecution"  # procuratorate
    TRIAL = "trial"  # court


def case_id_for(report_id: UUID | str) -> UUID:
    """The case a report opens: one case per report, however often the report arrives."""
    return stable_id("juvenile-case", str(report_id))


class MinorCase(AuditedAggregate):
    """One child's protection case, from intake to hand-over or closure."""

    # Command arguments and event attributes of the same name. Sealed under
    # minor_key(minor_id): name, id_number, date_of_birth, address; under
    # guardian_key(case id, guardian id): guardian_name, guardian_phone.
    PERSONAL_FIELDS = ("name", "id_number", "date_of_birth", "address", "guardian_name", "guardian_phone")

    @classmethod
    def open(cls, report_id: UUID, minor_id: str, jurisdiction: str, birth_month: str, categories: list[str],
             today: date, name: str, date_of_birth: str, id_number: str | None = None, address: str | None = None,
             school_id: str | None = None) -> MinorCase:
        """Open the case an accepted report asks for (id ``case_id_for(report_id)``)."""
        check_minor_id(minor_id)
        require_sealed(minor_key(minor_id), name=name, date_of_birth=date_of_birth, id_number=id_number,
                       address=address)
        if name is None or date_of_birth is None:
            raise ValidationFailed("a case names the child and their date of birth")
        check_birth_month(birth_month, today)
        if age_on(birth_month, today) >= ADULT_AGE:
            raise ValidationFailed(f"the child is {ADULT_AGE} or older: not a minor's case")
        return cls.create_with_id(cls.Opened, id=case_id_for(report_id), report_id=str(report_id), minor_id=minor_id,
                                  jurisdiction=check_village(jurisdiction), birth_month=birth_month,
                                  categories=_categories(categories), opened_on=iso_day(today, "today"), name=name,
                                  date_of_birth=date_of_birth, id_number=id_number, address=address,
                                  school_id=school_id)

    @event("Opened")
    def __init__(self, report_id: str, minor_id: str, jurisdiction: str, birth_month: str, categories: list[str],
                 opened_on: str, name: str, date_of_birth: str, id_number: str | None, address: str | None,
                 school_id: str | None):
        self.report_ids = [report_id]
        self.minor_id = minor_id
        self.jurisdiction = jurisdiction
        self.birth_month = birth_month
        self.categories = list(categories)
        self.opened_on = opened_on
        self.name = name
        self.date_of_birth = date_of_birth
        self.id_number = id_number
        self.address = address
        self.school_id = school_id
        self.guardians: dict[str, dict] = {}
        self.status = CaseStatus.OPEN.value
        self.closure: dict | None = None
        self.sealed = False
        self.sealing: dict | None = None
        self.unsealed = False

    # -- derived facts ------------------------------------------------------------

    def age(self, today: date) -> int:
        return age_on(self.birth_month, today)

    @property
    def majority_on(self) -> date:
        return majority_on(self.birth_month)

    def due_for_majority(self, today: date) -> bool:
        """The child has reached 18 and the case is still open: hand it over or close it."""
        return self.status == CaseStatus.OPEN and today >= self.majority_on

    def opens_for(self, purpose: str) -> bool:
        """Whether a read for ``purpose`` may see this case: anyone when unsealed, judicial purposes when sealed."""
        return not self.sealed or purpose in set(SealedAccessPurpose)

    # -- commands -------------------------------------------------------------------

    def link_report(self, report_id: UUID) -> None:
        """A further report about the same child, accepted into this case."""
        self._require_open("link a report to")
        if str(report_id) in self.report_ids:
            raise Conflict(f"report {report_id} is already part of case {self.id}")
        self._report_linked(report_id=str(report_id))

    def add_category(self, category: str) -> None:
        self._require_open("add a category to")
        value = member(Category, category, "category of a minor's case")
        if value in self.categories:
            raise Conflict(f"case {self.id} already carries {value}")
        self._category_added(category=value)

    def remove_category(self, category: str) -> None:
        self._require_open("remove a category from")
        value = member(Category, category, "category of a minor's case")
        if value not in self.categories:
            raise NotFound(f"case {self.id} does not carry {value}")
        if self.categories == [value]:
            raise InvalidTransition("a case keeps at least one category")
        if value == Category.IN_CONFLICT_WITH_LAW and self.sealed:
            raise InvalidTransition("the sealed record rests on this category: it stays while sealed")
        self._category_removed(category=value)

    def next_guardian_id(self) -> str:
        """The id the next guardian will get (its vault key is ``guardian_key(case id, guardian id)``)."""
        return f"G{len(self.guardians) + 1}"

    def add_guardian(self, relation: str, guardian_name: str, guardian_phone: str | None = None) -> str:
        self._require_open("add a guardian to")
        guardian_id = self.next_guardian_id()
        value = member(GuardianRelation, relation, "guardian relation")
        require_sealed(guardian_key(self.id, guardian_id), guardian_name=guardian_name, guardian_phone=guardian_phone)
        if guardian_name is None:
            raise ValidationFailed("a guardian is named")
        self._guardian_added(guardian_id=guardian_id, relation=value, guardian_name=guardian_name,
                             guardian_phone=guardian_phone)
        return guardian_id

    def record_school(self, school_id: str | None) -> None:
        """The school the child attends (an institution's id, not personal); None: out of school."""
        self._require_open("record the school of")
        if school_id == self.school_id:
            raise Conflict(f"case {self.id} already records this school")
        self._school_recorded(school_id=school_id)

    def reach_majority(self, today: date, handed_over_to: str | None) -> None:
        """The child is 18: hand the case to a department's adult services, or (None) close it."""
        self._require_open("record majority on")
        to = department(handed_over_to, "department to hand over to") if handed_over_to is not None else None
        iso_day(today, "today")
        if not self.due_for_majority(today):
            raise InvalidTransition(f"the child counts as a minor until {self.majority_on.isoformat()}")
        if to is None:
            self._closed(reason=ClosureReason.REACHED_MAJORITY.value, on=today.isoformat(), handed_over_to=None)
        else:
            self._handed_over(majority_on=self.majority_on.isoformat(), on=today.isoformat(), to_department=to)

    def close(self, reason: str, today: date, plan_complete: bool = False) -> None:
        """Close the case. ``protected`` needs a completed protection plan; ``reached_majority`` the 18th year."""
        self._require_open("close")
        value = member(ClosureReason, reason, "closure reason")
        iso_day(today, "today")
        if value == ClosureReason.PROTECTED and not plan_complete:
            raise InvalidTransition("a case is closed as protected once its protection plan is complete")
        if value == ClosureReason.REACHED_MAJORITY and not self.due_for_majority(today):
            raise InvalidTransition(f"the child counts as a minor until {self.majority_on.isoformat()}")
        self._closed(reason=value, on=today.isoformat(), handed_over_to=None)

    def seal(self, ground: str, offence_month: str, sentence_months: int | None, reference: str) -> None:
        """Seal the criminal record (an event; nothing is deleted)."""
        value = member(SealingGround, ground, "sealing ground")
        if self.sealed:
            raise Conflict(f"the record of case {self.id} is already sealed")
        if self.unsealed:
            raise InvalidTransition("a record opened on a legal ground is not sealed again")
        if Category.IN_CONFLICT_WITH_LAW not in self.categories:
            raise InvalidTransition("only the record of a minor in conflict with the law is sealed")
        if not reference:
            raise ValidationFailed("sealing cites the decision it follows")
        minority = (self.birth_month, self.majority_on.isoformat()[:7])  # birth month up to, not incl., majority
        if not minority[0] <= check_month(offence_month, "offence month") < minority[1]:
            raise ValidationFailed("the offence lies outside the child's minority")
        if value == SealingGround.NOT_PROSECUTED and sentence_months is not None:
            raise ValidationFailed("a child not prosecuted has no sentence")
        if value == SealingGround.SENTENCE_FIVE_YEARS_OR_LESS and not _sealable_sentence(sentence_months):
            raise ValidationFailed("the law seals a sentence of 0 to 60 months (five years or less)")
        self._record_sealed(ground=value, offence_month=offence_month, sentence_months=sentence_months,
                            reference=reference)

    def unseal(self, ground: str, reference: str) -> None:
        value = member(UnsealingGround, ground, "unsealing ground")
        if not self.sealed:
            raise InvalidTransition(f"the record of case {self.id} is not sealed")
        if not reference:
            raise ValidationFailed("unsealing cites the decision it follows")
        self._record_unsealed(ground=value, reference=reference)

    def _require_open(self, action: str) -> None:
        if self.status != CaseStatus.OPEN:
            raise InvalidTransition(f"cannot {action} a case that is {self.status}: it is read-only")

    # -- events (mutate only) -------------------------------------------------------

    @event("ReportLinked")
    def _report_linked(self, report_id: str) -> None:
        self.report_ids.append(report_id)

    @event("CategoryAdded")
    def _category_added(self, category: str) -> None:
        self.categories.append(category)

    @event("CategoryRemoved")
    def _category_removed(self, category: str) -> None:
        self.categories.remove(category)

    @event("GuardianAdded")
    def _guardian_added(self, guardian_id: str, relation: str, guardian_name: str,
                        guardian_phone: str | None) -> None:
        self.guardians[guardian_id] = {"relation": relation, "name": guardian_name, "phone": guardian_phone}

    @event("SchoolRecorded")
    def _school_recorded(self, school_id: str | None) -> None:
        self.school_id = school_id

    @event("HandedOver")
    def _handed_over(self, majority_on: str, on: str, to_department: str) -> None:
        self.status = CaseStatus.HANDED_OVER.value
        self.closure = {"reason": ClosureReason.REACHED_MAJORITY.value, "on": on, "handed_over_to": to_department}

    @event("Closed")
    def _closed(self, reason: str, on: str, handed_over_to: str | None) -> None:
        self.status = CaseStatus.CLOSED.value
        self.closure = {"reason": reason, "on": on, "handed_over_to": handed_over_to}

    @event("RecordSealed")
    def _record_sealed(self, ground: str, offence_month: str, sentence_months: int | None, reference: str) -> None:
        self.sealed = True
        self.sealing = {"ground": ground, "offence_month": offence_month, "sentence_months": sentence_months,
                        "reference": reference}

    @event("RecordUnsealed")
    def _record_unsealed(self, ground: str, reference: str) -> None:
        self.sealed = False
        self.unsealed = True


def _categories(values: list[str]) -> list[str]:
    if not values:
        raise ValidationFailed("a case carries at least one category")
    result = [member(Category, value, "category of a minor's case") for value in values]
    if len(set(result)) != len(result):
        raise ValidationFailed("a category is listed twice")
    return result


def _sealable_sentence(months: object) -> bool:
    return (isinstance(months, int) and not isinstance(months, bool)
            and 0 <= months <= MAX_SEALABLE_SENTENCE_MONTHS)
