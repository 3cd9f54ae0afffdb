"""The public face of juvenile_protection: RPC payloads, the events it publishes,
and its own view of the events it consumes.

Self-contained: nothing here imports a domain, so another system can take this
module alone. The vocabulary is spelled out here and checked against the
domain by a unit test; which domain event becomes which public event is
private (``publishing.py``).

Published events carry ids, codes, departments and dates, never the child or
free text; the ``in_conflict_with_law`` category and anything about sealing
never leave the service (docs/services/juvenile_protection.md).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints

from shared.contracts import Payload
from shared.jurisdiction import JurisdictionCode
from shared.security.policy import Purpose
from shared.validation import LONG_TEXT, SHORT_TEXT, Command, Query

SERVICE = "juvenile_protection"
KEY_POPULATIONS = "key_populations"

Text = Field(min_length=1, max_length=SHORT_TEXT)
LongText = Field(min_length=1, max_length=LONG_TEXT)
OptionalText = Field(default=None, min_length=1, max_length=SHORT_TEXT)
OptionalLongText = Field(default=None, min_length=1, max_length=LONG_TEXT)
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\s<&]+$")]
OpaqueId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
TaskId = Annotated[str, StringConstraints(pattern=r"^T[0-9]{1,4}$")]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


# -- vocabulary -------------------------------------------------------------------------


class Category(StrEnum):
    LEFT_BEHIND = "left_behind"
    IN_DIFFICULTY = "in_difficulty"
    MISCONDUCT = "misconduct"
    SERIOUS_MISCONDUCT = "serious_misconduct"
    VICTIM = "victim"
    IN_CONFLICT_WITH_LAW = "in_conflict_with_law"


class Department(StrEnum):
    CIVIL_AFFAIRS = "civil_affairs"
    EDUCATION = "education"
    PUBLIC_SECURITY = "public_security"
    PROCURATORATE = "procuratorate"
    COURT = "court"
    JUSTICE = "justice"
    HEALTH = "health"
    WOMENS_FEDERATION = "womens_federation"
    YOUTH_LEAGUE = "youth_league"
    SCHOOL = "school"
    TOWNSHIP = "township"
    VILLAGE_COMMITTEE = "village_committee"


class ReviewOutcome(StrEnum):
    """What a periodic review of a protection plan found."""

    ON_TRACK = "on_track"
    TASKS_REVISED = "tasks_revised"
    ESCALATED = "escalated"
    READY_TO_CLOSE = "ready_to_close"


class ReportingUnit(StrEnum):
    """Units bound to report (the referring services arrive as events, not by RPC)."""

    SCHOOL = "school"
    HOSPITAL = "hospital"
    VILLAGE_COMMITTEE = "village_committee"
    POLICE = "police"
    OTHER_UNIT = "other_unit"


class ReportStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REDIRECTED = "redirected"


class CaseStatus(StrEnum):
    OPEN = "open"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


class ClosureReason(StrEnum):
    PROTECTED = "protected"
    MOVED = "moved"
    OTHER = "other"


class GuardianRelation(StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    APPOINTED = "appointed"


class SealingGround(StrEnum):
    SENTENCE_FIVE_YEARS_OR_LESS = "sentence_five_years_or_less"
    NOT_PROSECUTED = "not_prosecuted"


class UnsealingGround(StrEnum):
    NEW_OFFENCE_COMBINED_OVER_FIVE_YEARS = "new_offence_combined_over_five_years"
    EARLIER_OFFENCE_FOUND_COMBINED_OVER_FIVE_YEARS = "earlier_offence_found_combined_over_five_years"
    RECIDIVISM_AS_ADULT = "recidivism_as_adult"
    SEALED_IN_ERROR = "sealed_in_error"


class ErasureReason(StrEnum):
    """PIPL Art. 47 grounds."""

    PURPOSE_ACHIEVED = "purpose_achieved"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    RETENTION_EXPIRED = "retention_expired"
    UNLAWFUL_PROCESSING = "unlawful_processing"


# The purpose each judicial role states to read a sealed record, and no other.
SEALED_PURPOSE_OF_ROLE = {"police": Purpose.CRIMINAL_INVESTIGATION, "procuratorate": Purpose.PROSECUTION,
                          "court": Purpose.TRIAL}


# -- commands: intake -------------------------------------------------------------------


class ReceiveReport(Command):
    """A mandatory report from a unit; the same ``(source, reference)`` again is the same report."""

    source: ReportingUnit
    reference: Ref = Field(description="the reporting unit's own reference")
    jurisdiction: JurisdictionCode = Field(description="the child's village (12 digits)")
    summary: str | None = OptionalLongText
    deadline_hours: int = Field(default=24, ge=1, le=168)


class AcceptReport(Command):
    """Accept a report: into the child's open case (``case_id``), or opening a new case (the child)."""

    report_id: UUID
    case_id: UUID | None = Field(default=None, description="the child's open case; omitted: open a new one")
    minor_id: OpaqueId | None = None
    birth_month: Month | None = None
    date_of_birth: date | None = None
    name: str | None = OptionalText
    id_number: str | None = Field(default=None, min_length=1, max_length=30)
    address: str | None = OptionalText
    categories: list[Category] = Field(default_factory=list, max_length=6)
    school_id: Ref | None = None


class RedirectReport(Command):
    report_id: UUID
    to_department: Department
    note: str = LongText


# -- commands: cases ----------------------------------------------------------------------


class AddGuardian(Command):
    case_id: UUID
    relation: GuardianRelation
    guardian_name: str = Text
    guardian_phone: str | None = Field(default=None, min_length=1, max_length=30)


class AddCategory(Command):
    case_id: UUID
    category: Category


class RemoveCategory(Command):
    """Take a category off a case (a case keeps at least one; a sealed record keeps the one it rests on)."""

    case_id: UUID
    category: Category


class RecordSchool(Command):
    """Record or change the school the child attends (an institution's id); null: out of school."""

    case_id: UUID
    school_id: Ref | None = Field(description="the school's institution id; null when the child is out of school")


class CloseCase(Command):
    case_id: UUID
    reason: ClosureReason


class SealRecord(Command):
    """Seal the criminal record of a minor in conflict with the law (nothing is deleted)."""

    case_id: UUID
    ground: SealingGround
    offence_month: Month
    sentence_months: int | None = Field(default=None, ge=0, le=600)
    reference: Ref = Field(description="the decision sealing it")


class UnsealRecord(Command):
    case_id: UUID
    ground: UnsealingGround
    reference: Ref


class EraseChildPersonalData(Command):
    """Crypto-shred the child's identity, guardians and the case's free text; the facts stay."""

    case_id: UUID
    reason: ErasureReason


# -- commands: coordinated protection plan ----------------------------------------------------


class DrawUpPlan(Command):
    case_id: UUID
    lead_department: Department
    first_review_on: date


class AssignPlanTask(Command):
    plan_id: UUID
    department: Department
    due_on: date
    description: str = LongText


class AcknowledgePlanTask(Command):
    plan_id: UUID
    task_id: TaskId


class CompletePlanTask(Command):
    plan_id: UUID
    task_id: TaskId
    note: str = LongText


class CancelPlanTask(Command):
    plan_id: UUID
    task_id: TaskId
    reason: str = LongText


class ReviewPlan(Command):
    """The plan's periodic review, held today: its outcome and the date of the next one."""

    plan_id: UUID
    outcome: ReviewOutcome
    next_review_on: date
    note: str = LongText


class ChangePlanLead(Command):
    """Hand the lead of an active plan to another department."""

    plan_id: UUID
    lead_department: Department


# -- commands: special (专门) school referral ---------------------------------------------------


class GuardianView(StrEnum):
    AGREES = "agrees"
    OBJECTS = "objects"
    NOT_REACHABLE = "not_reachable"


class Assessor(StrEnum):
    EDUCATION = "education"
    PUBLIC_SECURITY = "public_security"


class ProposeSpecialSchool(Command):
    """Propose referring a child with serious misconduct; the same ``command_id`` names the same referral."""

    case_id: UUID
    proposed_by: Department
    grounds: str = LongText


class AssessReferral(Command):
    referral_id: UUID
    by: Assessor
    recommends: bool
    findings: str = LongText


class HearGuardian(Command):
    referral_id: UUID
    view: GuardianView
    note: str | None = OptionalLongText


class DecideReferral(Command):
    """The evaluation body's decision, with its basis."""

    referral_id: UUID
    admitted: bool
    basis: str = LongText


class PlaceInSpecialSchool(Command):
    referral_id: UUID
    school_id: Ref
    first_review_on: date


class ReviewPlacement(Command):
    referral_id: UUID
    next_review_on: date
    note: str = LongText


class ReturnToOrdinarySchool(Command):
    referral_id: UUID
    school_id: Ref


# -- queries ---------------------------------------------------------------------------------


class _Minors(Query):
    """Every read of a minor's record is audited, with its purpose (required by the access policy).
    A sealed record is read only by a judicial role for its own purpose, citing an approval in force."""

    purpose: Purpose | None = None
    approval_ref: Ref | None = Field(default=None, description="the approval to read sealed records")
    approval_expires: AwareDatetime | None = Field(default=None, description="when that approval ends")


class ListCases(_Minors):
    jurisdiction: JurisdictionCode | None = None
    status: CaseStatus | None = None
    category: Category | None = None


class GetCase(_Minors):
    case_id: UUID


class CountCases(_Minors):
    """Open cases by category in a subtree (no personal data, but a sealed case must not be counted)."""

    jurisdiction: JurisdictionCode | None = None


class ListReports(_Minors):
    jurisdiction: JurisdictionCode | None = None
    status: ReportStatus | None = None
    overdue: bool | None = None


class GetPlan(_Minors):
    plan_id: UUID


class GetReferral(_Minors):
    referral_id: UUID


# -- published events --------------------------------------------------------------------------

REPORT_OVERDUE = "report_overdue"
CASE_OPENED = "case_opened"
CASE_HANDED_OVER = "case_handed_over"
CASE_CLOSED = "case_closed"
PLAN_TASK_ASSIGNED = "plan_task_assigned"
PLAN_TASK_OVERDUE = "plan_task_overdue"
SPECIAL_SCHOOL_DECIDED = "special_school_decided"
PLAN_LEAD_CHANGED = "plan_lead_changed"
PLAN_REVIEWED = "plan_reviewed"
PLAN_REVIEW_OVERDUE = "plan_review_overdue"
PLACEMENT_REVIEW_OVERDUE = "placement_review_overdue"


class ReportOverdue(Payload):
    schema_version: int = 1
    report_id: UUID
    source: str
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    deadline_at: AwareDatetime


class CaseOpened(Payload):
    schema_version: int = 1
    case_id: UUID
    report_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    categories: list[Category] = Field(description="without in_conflict_with_law")
    opened_on: date


class CaseHandedOver(Payload):
    schema_version: int = 1
    case_id: UUID
    to_department: Department
    on: date


class CaseClosed(Payload):
    schema_version: int = 1
    case_id: UUID
    reason: str
    on: date


class PlanTaskAssigned(Payload):
    schema_version: int = 1
    plan_id: UUID
    task_id: TaskId
    department: Department
    due_on: date


class PlanTaskOverdue(Payload):
    schema_version: int = 1
    plan_id: UUID
    task_id: TaskId
    department: Department
    due_on: date


class SpecialSchoolDecided(Payload):
    schema_version: int = 1
    referral_id: UUID
    admitted: bool
    decided_on: date


class PlanLeadChanged(Payload):
    """The department now leading the plan (it takes over the reviews)."""

    schema_version: int = 1
    plan_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    lead_department: Department


class PlanReviewed(Payload):
    schema_version: int = 1
    plan_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    outcome: ReviewOutcome
    held_on: date
    next_review_on: date
    was_overdue: bool = Field(description="held after the review date had passed")


class PlanReviewOverdue(Payload):
    """A plan's review date passed without a review (once per review date)."""

    schema_version: int = 1
    plan_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    lead_department: Department
    review_on: date


class PlacementReviewOverdue(Payload):
    """A special-school placement's periodic review date passed without a review (once per date)."""

    schema_version: int = 1
    referral_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    review_on: date


PUBLISHED: dict[str, type[Payload]] = {
    REPORT_OVERDUE: ReportOverdue,
    CASE_OPENED: CaseOpened,
    CASE_HANDED_OVER: CaseHandedOver,
    CASE_CLOSED: CaseClosed,
    PLAN_TASK_ASSIGNED: PlanTaskAssigned,
    PLAN_TASK_OVERDUE: PlanTaskOverdue,
    SPECIAL_SCHOOL_DECIDED: SpecialSchoolDecided,
    PLAN_LEAD_CHANGED: PlanLeadChanged,
    PLAN_REVIEWED: PlanReviewed,
    PLAN_REVIEW_OVERDUE: PlanReviewOverdue,
    PLACEMENT_REVIEW_OVERDUE: PlacementReviewOverdue,
}


# -- consumed: our view of key_populations' event ---------------------------------------------

MINOR_DEPENDANTS_REPORTED = "minor_dependants_reported"


class MinorDependantsReported(Payload):
    """An enrolled person has minor dependants (key_populations, at enrolment): one referral per person."""

    schema_version: int = 1
    referral_id: str = Field(min_length=1, max_length=200)
    enrolment_id: UUID
    person_id: str = Field(min_length=1, max_length=64)
    jurisdiction: JurisdictionCode
    county: str = Field(min_length=1, max_length=12)
    category: str = Field(min_length=1, max_length=40)
    minor_dependants: int = Field(ge=1, le=50)
    reported_at: datetime
