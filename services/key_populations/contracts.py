"""The public face of key_populations: RPC payloads and the events it publishes.

Self-contained: nothing here imports a domain, so another system can take this
module alone. The vocabulary is defined here, once: the domain imports it;
which domain event becomes which public event is private (``publishing.py``).

Published events carry opaque ids, the category, village and county codes,
levels and dates, never a name, an ID number, an address or a note: those are
read by RPC, where the read is authorised per category and audited.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import Payload
from shared.erasure import ErasureReason
from shared.jurisdiction import JurisdictionCode
from shared.security import history
from shared.security.policy import Purpose
from shared.validation import Command, Identifier, LongText, Query, Text

SERVICE = "key_populations"

RiskLevel = int  # 0 (none) … 5 (highest)
Level = Field(ge=0, le=5)


# -- vocabulary -----------------------------------------------------------------------


class Category(StrEnum):
    """The four key populations, named as the access policy names them."""

    COMMUNITY_CORRECTION = "community_correction"
    RELEASED_PERSONS = "released_persons"
    SEVERE_MENTAL_DISORDER = "severe_mental_disorder"
    DRUG_USERS = "drug_users"


class TeamRole(StrEnum):
    TOWNSHIP_OFFICIAL = "township_official"
    POLICE_OFFICER = "police_officer"
    HEALTH_WORKER = "health_worker"
    SOCIAL_WORKER = "social_worker"
    FAMILY_MEMBER = "family_member"


class FollowUpKind(StrEnum):
    HOME_VISIT = "home_visit"
    CHECK_IN = "check_in"  # the person reports in
    PHONE = "phone"


class FollowUpOutcome(StrEnum):
    STABLE = "stable"
    CONCERN = "concern"
    NOT_FOUND = "not_found"
    REFUSED = "refused"


class ExitReason(StrEnum):
    PERIOD_COMPLETED = "period_completed"
    REVOKED = "revoked"
    DIED = "died"
    MOVED_OUT = "moved_out"  # left the prefecture


class TransferRefusal(StrEnum):
    """Why a receiving township refuses a transfer: a code, never free text."""

    NOT_RESIDENT = "not_resident"
    WRONG_JURISDICTION = "wrong_jurisdiction"
    INCOMPLETE_FILE = "incomplete_file"


class ViolationKind(StrEnum):
    MISSED_REPORT = "missed_report"
    LEFT_WITHOUT_LEAVE = "left_without_leave"
    OVERSTAYED_LEAVE = "overstayed_leave"
    BROKE_PROHIBITION = "broke_prohibition"
    OTHER = "other"


class WarningGiven(StrEnum):
    REPRIMAND = "reprimand"
    WARNING = "warning"


class AssistanceKind(StrEnum):
    EMPLOYMENT = "employment"
    HOUSING = "housing"
    TRAINING = "training"
    SOCIAL_SECURITY = "social_security"
    EDUCATION = "education"


class TreatmentStatus(StrEnum):
    NOT_TREATED = "not_treated"
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    COMMUNITY_REHABILITATION = "community_rehabilitation"
    INTERRUPTED = "interrupted"


class TestResult(StrEnum):
    __test__ = False  # not a pytest class

    NEGATIVE = "negative"
    POSITIVE = "positive"


# -- RPC commands ------------------------------------------------------------------------


class TeamMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    member_id: Identifier
    role: TeamRole
    name: Text  # sealed under the person's key before it is recorded


class RegisterPerson(Command):
    person_id: Identifier = Field(description="opaque; never a resident ID number")
    jurisdiction: JurisdictionCode = Field(description="the village the person lives in")
    name: Text
    id_number: Text | None = None
    address: Text | None = None
    contact: Text | None = None


class Enrol(Command):
    """Enrol a registered person in one category, in the village they live in. ``facts`` are the
    category's own (docs/services/key_populations.md, "Enrolment"); a guardian's name and contact are
    sealed before they are recorded."""

    person_id: Identifier
    category: str = Field(min_length=1, max_length=40)  # an unknown category is refused by name
    enrolled_on: date
    facts: dict[str, Any]
    team: list[TeamMember] = Field(min_length=1, max_length=20)
    responsible_id: Identifier
    risk_level: int = Level
    minor_dependants: int = Field(default=0, ge=0, le=50)


class _OnEnrolment(Command):
    enrolment_id: UUID


class RecordFollowUp(_OnEnrolment):
    held_on: date
    kind: FollowUpKind
    outcome: FollowUpOutcome
    note: LongText | None = None
    next_due: date | None = None


class ReassessRisk(_OnEnrolment):
    level: int = Level
    assessed_on: date


class AssignTeam(_OnEnrolment):
    team: list[TeamMember] = Field(min_length=1, max_length=20)
    responsible_id: Identifier


class InitiateTransfer(_OnEnrolment):
    to_jurisdiction: JurisdictionCode


class AcceptTransfer(_OnEnrolment):
    team: list[TeamMember] = Field(min_length=1, max_length=20)
    responsible_id: Identifier


class RefuseTransfer(_OnEnrolment):
    reason: TransferRefusal


class ExitEnrolment(_OnEnrolment):
    reason: ExitReason
    on: date


class RequestLeave(_OnEnrolment):
    request_id: Identifier
    starts_on: date
    ends_on: date


class DecideLeave(_OnEnrolment):
    request_id: Identifier
    approved: bool


class RecordViolation(_OnEnrolment):
    on: date
    kind: ViolationKind
    warning: WarningGiven
    note: LongText | None = None


class AcknowledgeHandover(_OnEnrolment):
    on: date


class RecordAssistance(_OnEnrolment):
    kind: AssistanceKind
    on: date
    note: LongText | None = None


class ChangeTreatment(_OnEnrolment):
    status: TreatmentStatus


class ChangeGuardian(_OnEnrolment):
    guardian_name: Text
    guardian_contact: Text | None = None


class RecordDrugTest(_OnEnrolment):
    taken_on: date
    result: TestResult


class ErasePerson(Command):
    """Destroy the person's key: every sealed field of the person and their enrolments reads "[erased]"."""

    person_id: Identifier
    reason: ErasureReason = Field(description="PIPL Art. 47 ground; a code, so the record names no one")


# -- RPC queries -------------------------------------------------------------------------

PurposeField = Field(default=None,
                     description="why the record is read; required for these records and kept in the audit trail")


class GetPerson(Query):
    """The person's identity, read through one category the caller serves (the person is enrolled in it)."""

    person_id: Identifier
    category: Category
    purpose: Purpose | None = PurposeField


class GetEnrolment(Query):
    enrolment_id: UUID
    purpose: Purpose | None = PurposeField
    as_of: history.AsOf | None = Field(default=None, description="a version or an ISO time")


class ListEnrolments(Query):
    """One category's enrolments in a subtree: ids, codes, levels and dates (no identity fields)."""

    category: Category
    purpose: Purpose | None = PurposeField
    jurisdiction: JurisdictionCode | None = Field(default=None, description="a subtree; defaults to the caller's")
    active_only: bool = True
    overdue_only: bool = False
    risk_level: int | None = Field(default=None, ge=0, le=5)


History = history.History


# -- published events -----------------------------------------------------------------------

PERSON_ENROLLED = "person_enrolled"
PERSON_ASSESSED_HIGHEST_RISK = "person_assessed_highest_risk"
MINOR_DEPENDANTS_REPORTED = "minor_dependants_reported"
RISK_REASSESSED = "risk_reassessed"
JOINT_HANDLING_REQUIRED = "joint_handling_required"
FOLLOW_UP_OVERDUE = "follow_up_overdue"
TRANSFER_INITIATED = "transfer_initiated"
TRANSFER_ACCEPTED = "transfer_accepted"
TRANSFER_REFUSED = "transfer_refused"
ENROLMENT_EXITED = "enrolment_exited"


class PersonEnrolled(Payload):
    schema_version: int = 1
    enrolment_id: UUID
    person_id: str
    category: Category
    jurisdiction: str
    county: str
    enrolled_on: date
    risk_level: int


class PersonAssessedHighestRisk(Payload):
    """A person reached the highest risk level (5): emergency command opens an incident for it, once per
    ``assessment_id``. The person by opaque id only."""

    schema_version: int = 1
    assessment_id: str
    person_id: str
    enrolment_id: UUID
    category: Category
    jurisdiction: str
    county: str
    level: int
    assessed_at: datetime


class MinorDependantsReported(Payload):
    """A person enrolled with minor dependants: juvenile protection takes the referral, once per
    ``referral_id`` (Art. 7(5)). Counts and codes only."""

    schema_version: int = 1
    referral_id: str
    enrolment_id: UUID
    person_id: str
    category: Category
    jurisdiction: str
    county: str
    minor_dependants: int
    reported_at: datetime


class RiskReassessed(Payload):
    schema_version: int = 1
    enrolment_id: UUID
    category: Category
    jurisdiction: str
    level: int
    previous_level: int
    assessed_on: date
    reason: str
    next_due: date


class JointHandlingRequired(Payload):
    schema_version: int = 1
    enrolment_id: UUID
    category: Category
    jurisdiction: str
    level: int


class FollowUpOverdue(Payload):
    """Published once per enrolment per due date."""

    schema_version: int = 1
    enrolment_id: UUID
    category: Category
    jurisdiction: str
    county: str
    due_on: date
    responsible_id: str


class TransferInitiated(Payload):
    schema_version: int = 1
    enrolment_id: UUID
    category: Category
    jurisdiction: str
    to_jurisdiction: str


class TransferAccepted(Payload):
    schema_version: int = 1
    enrolment_id: UUID
    category: Category
    from_jurisdiction: str
    jurisdiction: str


class TransferRefused(Payload):
    schema_version: int = 1
    enrolment_id: UUID
    category: Category
    jurisdiction: str
    to_jurisdiction: str
    reason: TransferRefusal


class EnrolmentExited(Payload):
    schema_version: int = 1
    enrolment_id: UUID
    category: Category
    jurisdiction: str
    reason: ExitReason
    on: date


PUBLISHED: dict[str, type[Payload]] = {
    PERSON_ENROLLED: PersonEnrolled, PERSON_ASSESSED_HIGHEST_RISK: PersonAssessedHighestRisk,
    MINOR_DEPENDANTS_REPORTED: MinorDependantsReported, RISK_REASSESSED: RiskReassessed,
    JOINT_HANDLING_REQUIRED: JointHandlingRequired, FOLLOW_UP_OVERDUE: FollowUpOverdue,
    TRANSFER_INITIATED: TransferInitiated, TRANSFER_ACCEPTED: TransferAccepted, TRANSFER_REFUSED: TransferRefused,
    ENROLMENT_EXITED: EnrolmentExited,
}
