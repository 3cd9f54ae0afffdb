"""The public face of mediation: RPC payloads and the events it publishes.

Published events carry ids and facts, never names, ID numbers, the subject or
other free text: a consumer that needs details asks by RPC, where the read is
authorised. Every payload names the case by ``case_id``; ``case_opened``
carries its place (village, county) and the grid event it came from.

This module imports nothing from the service's domain, so another service may
import it (docs/architecture.md, "The contract split"); which domain event becomes which
public event is private, in ``services/mediation/publishing.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.clock import local_today
from shared.contracts import Payload
from shared.erasure import ErasureReason
from shared.jurisdiction import JurisdictionCode, Level, level_of
from shared.security import history
from shared.security.history import AsOf
from shared.security.policy import Purpose
from shared.validation import Command, Identifier, LongText, Query, ResidentIdNumber, Slug, Text

SERVICE = "mediation"


# -- the public vocabulary (the domain uses these too) ------------------------------


class Tier(StrEnum):
    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"


class Source(StrEnum):
    """Where a dispute came from (Art. 9: police calls, petitions, lawsuits and risks)."""

    POLICE_CALL = "police_call"
    PETITION = "petition"
    LAWSUIT = "lawsuit"
    RISK = "risk"


class Mode(StrEnum):
    PEOPLES = "peoples"
    JUDICIAL = "judicial"
    ADMINISTRATIVE = "administrative"
    THIRD_PARTY = "third_party"


class Outcome(StrEnum):
    AGREEMENT = "agreement"
    FAILED = "failed"


class ReferralRoute(StrEnum):
    LITIGATION = "litigation"
    ARBITRATION = "arbitration"
    ADMINISTRATIVE_RULING = "administrative_ruling"
    OTHER = "other"


class FollowUpOutcome(StrEnum):
    COMPLIED = "complied"  # the agreement is being kept
    BREACHED = "breached"  # the agreement is broken: the case reopens at its tier
    REFERRAL_CONFIRMED = "referral_confirmed"  # a concluded case: the referred body took it up


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Status(StrEnum):
    OPEN = "open"  # being mediated at its current tier
    AGREED = "agreed"  # an agreement stands; follow-up pending or done
    CONCLUDED = "concluded"  # the county tier failed; referred elsewhere
    ARCHIVED = "archived"


MANDARIN = "mandarin"

# A language by name, lower-cased: "tujia", "miao", "mandarin", "xiangxi dialect" (ASCII letters,
# spaces, '_' or '-').
Language = Annotated[str, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
                     StringConstraints(pattern=r"^[a-z][a-z _-]{1,39}$")]
PartyId = Annotated[str, StringConstraints(pattern=r"^P[0-9]{1,3}$")]  # "P1", "P2"… in the order added
ActorId = Identifier  # a mediator or interpreter, as the caller's directory names them


def _village(code: str) -> str:
    if level_of(code) is not Level.VILLAGE:
        raise ValueError("a case arises in a village or residents' community: a 12-digit code")
    return code


# -- RPC commands ---------------------------------------------------------------


class _PartyFields(BaseModel):
    name: Text
    id_number: ResidentIdNumber | None = None
    languages: list[Language] = Field(min_length=1, max_length=10)
    understands_mandarin: bool
    residence: JurisdictionCode | None = Field(
        default=None,
        description="division code where the party lives; a Hubei, Chongqing or Guizhou code makes the case joint",
    )

    @model_validator(mode="after")
    def _languages_agree(self) -> _PartyFields:
        if not self.understands_mandarin and not set(self.languages) - {MANDARIN}:
            raise ValueError("a party who does not understand Mandarin needs another language for the interpreter")
        return self


class Party(_PartyFields):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class OpenCase(Command):
    jurisdiction: JurisdictionCode = Field(description="the village/community where the dispute arose (12 digits)")
    source: Source
    subject: LongText
    parties: list[Party] = Field(default_factory=list, max_length=50)
    grid_event_id: UUID | None = Field(default=None, description="the grid event this dispute was reported as, if any")

    _check_village = field_validator("jurisdiction")(_village)


class AddParty(Command, _PartyFields):
    case_id: UUID


class RecordSubject(Command):
    case_id: UUID
    subject: LongText


class RecordRiskCheck(Command):
    case_id: UUID
    level: RiskLevel
    note: LongText


class AcceptCase(Command):
    case_id: UUID


class Interpreter(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    party_id: PartyId
    language: Language
    interpreter_id: ActorId


class Agreement(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    terms: LongText
    follow_up_on: date


class Referral(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    route: ReferralRoute
    note: LongText


def _not_future(day: date) -> date:
    if day > local_today():
        raise ValueError("the date is in the future")
    return day


class RecordAttempt(Command):
    case_id: UUID
    tier: Tier = Field(description="the tier the caller acts at; must be the case's current tier")
    mode: Mode
    mediator_ids: list[ActorId] = Field(min_length=1, max_length=20)
    place: Text
    on_site: bool = Field(default=False, description="held where the dispute is: a courtyard, a field")
    place_code: JurisdictionCode | None = Field(default=None, description="division code of the place, if known")
    held_on: date
    outcome: Outcome
    interpreters: list[Interpreter] = Field(default_factory=list, max_length=20)
    agreement: Agreement | None = None
    referral: Referral | None = None

    _check_held_on = field_validator("held_on")(_not_future)


class RecordFollowUp(Command):
    case_id: UUID
    held_on: date
    outcome: FollowUpOutcome
    note: LongText

    _check_held_on = field_validator("held_on")(_not_future)


class ArchiveCase(Command):
    case_id: UUID


class ErasePartyData(Command):
    """Erase one party's name and ID number (their key is destroyed); the case goes on without them."""

    case_id: UUID
    party_id: PartyId
    reason: ErasureReason = Field(description="PIPL Art. 47 ground; a code, so the record names no one")


class EraseCasePersonalData(Command):
    """At the end of retention: erase every personal field of an archived case."""

    case_id: UUID
    reason: ErasureReason = ErasureReason.RETENTION_ENDED


# -- RPC queries ------------------------------------------------------------------


class GetCase(Query):
    case_id: UUID
    purpose: Purpose | None = Field(default=None, description="why the case is read; kept in the audit trail")
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the case as it stood then")


# The case's events, and who read a party (docs/services/mediation.md, "History and access log").
History = history.History
AccessLog = history.AccessLog


class ListCases(Query):
    jurisdiction: JurisdictionCode | None = Field(default=None, description="a subtree; defaults to the caller's")
    tier: Tier | None = None
    status: Status | None = None
    source: Source | None = None


# -- published events -------------------------------------------------------------

CASE_OPENED = "case_opened"
CASE_ESCALATED = "case_escalated"
AGREEMENT_REACHED = "agreement_reached"
AGREEMENT_BREACHED = "agreement_breached"
FOLLOW_UP_OVERDUE = "follow_up_overdue"
CASE_CONCLUDED = "case_concluded"
CASE_ARCHIVED = "case_archived"
JOINT_CASE_SHARED = "joint_case_shared"


class CaseOpened(Payload):
    """A mediation case was opened; ``grid_event_id`` names the grid event it came from, if any."""

    schema_version: int = 1
    case_id: UUID
    grid_event_id: UUID | None = None
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    tier: Slug  # a Tier value
    source: Slug  # a Source value
    opened_at: datetime


class CaseEscalated(Payload):
    """The case failed its tier's last allowed attempt and moved up (Art. 8)."""

    schema_version: int = 1
    case_id: UUID
    from_tier: Tier
    to_tier: Tier
    failed_attempts: int
    escalated_at: datetime


class AgreementReached(Payload):
    schema_version: int = 1
    case_id: UUID
    tier: Tier
    follow_up_on: date
    reached_at: datetime


class AgreementBreached(Payload):
    """The agreement was broken; the case is open again at its current tier."""

    schema_version: int = 1
    case_id: UUID
    breached_on: date


class FollowUpOverdue(Payload):
    schema_version: int = 1
    case_id: UUID
    follow_up_on: date


class CaseConcluded(Payload):
    """The county tier failed: the case is concluded and referred (litigation, arbitration…)."""

    schema_version: int = 1
    case_id: UUID
    route: ReferralRoute
    concluded_at: datetime


class CaseArchived(Payload):
    schema_version: int = 1
    case_id: UUID
    archived_at: datetime


class JointCaseShared(Payload):
    """De-identified summary for a partner jurisdiction across the border (Art. 4): no names, ID numbers or text."""

    schema_version: int = 1
    case_id: UUID
    partner_jurisdiction: JurisdictionCode
    partner_province: Slug
    county: JurisdictionCode
    township: JurisdictionCode
    tier: Tier
    source: Source
    party_count: int
    shared_at: datetime


# Every public event type and the schema of its payload (docs/services/mediation.md).
PUBLISHED: dict[str, type[Payload]] = {
    CASE_OPENED: CaseOpened,
    CASE_ESCALATED: CaseEscalated,
    AGREEMENT_REACHED: AgreementReached,
    AGREEMENT_BREACHED: AgreementBreached,
    FOLLOW_UP_OVERDUE: FollowUpOverdue,
    CASE_CONCLUDED: CaseConcluded,
    CASE_ARCHIVED: CaseArchived,
    JOINT_CASE_SHARED: JointCaseShared,
}
