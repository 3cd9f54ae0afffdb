"""The public face of mediation: RPC payloads and the events it publishes.

Published events carry ids and facts, never names, ID numbers, the subject or
other free text: a consumer that needs details asks by RPC, where the read is
authorised. Every payload names the case by ``case_id``; ``case_opened``
carries its place (village, county) and the grid event it came from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Iterable
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.contracts import Contracts, Payload
from shared.jurisdiction import JurisdictionCode, Level, level_of
from shared.security import history
from shared.security.history import AsOf
from shared.security.policy import Purpose
from shared.validation import LONG_TEXT, SHORT_TEXT, Command, Query

from .domain import (
    MANDARIN,
    ErasureReason,
    FollowUpOutcome,
    MediationCase,
    Mode,
    Outcome,
    ReferralRoute,
    RiskLevel,
    Source,
    Status,
    Tier,
    local_today,
)

SERVICE = "mediation"

Text = Field(min_length=1, max_length=SHORT_TEXT)
LongText = Field(min_length=1, max_length=LONG_TEXT)

# A language by name, lower-cased: "tujia", "miao", "mandarin", "xiangxi dialect".
Language = Annotated[str, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
                     StringConstraints(pattern=r"^[a-z][a-z _-]{1,39}$")]
PartyId = Annotated[str, StringConstraints(pattern=r"^P[0-9]{1,3}$")]
ActorId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
IdNumber = Annotated[str, StringConstraints(pattern=r"^\d{17}[\dX]$")]  # resident ID number


def _village(code: str) -> str:
    if level_of(code) is not Level.VILLAGE:
        raise ValueError("a case arises in a village or residents' community: a 12-digit code")
    return code


# -- RPC commands ---------------------------------------------------------------


class _PartyFields(BaseModel):
    name: str = Text
    id_number: IdNumber | None = None
    languages: list[Language] = Field(min_length=1, max_length=10)
    understands_mandarin: bool
    residence: JurisdictionCode | None = Field(
        default=None, description="division code where the party lives; a Hubei, Chongqing or Guizhou code makes the case joint")

    @model_validator(mode="after")
    def _languages_agree(self) -> "_PartyFields":
        if not self.understands_mandarin and not set(self.languages) - {MANDARIN}:
            raise ValueError("a party who does not understand Mandarin needs another language for the interpreter")
        return self


class Party(_PartyFields):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class OpenCase(Command):
    jurisdiction: JurisdictionCode = Field(description="the village/community where the dispute arose (12 digits)")
    source: Source
    subject: str = LongText
    parties: list[Party] = Field(default_factory=list, max_length=50)
    grid_event_id: UUID | None = Field(default=None, description="the grid event this dispute was reported as, if any")

    _check_village = field_validator("jurisdiction")(_village)


class AddParty(Command, _PartyFields):
    case_id: UUID


class RecordSubject(Command):
    case_id: UUID
    subject: str = LongText


class RecordRiskCheck(Command):
    case_id: UUID
    level: RiskLevel
    note: str = LongText


class AcceptCase(Command):
    case_id: UUID


class Interpreter(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    party_id: PartyId
    language: Language
    interpreter_id: ActorId


class Agreement(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    terms: str = LongText
    follow_up_on: date


class Referral(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    route: ReferralRoute
    note: str = LongText


def _not_future(day: date) -> date:
    if day > local_today():
        raise ValueError("the date is in the future")
    return day


class RecordAttempt(Command):
    case_id: UUID
    tier: Tier = Field(description="the tier the caller acts at; must be the case's current tier")
    mode: Mode
    mediator_ids: list[ActorId] = Field(min_length=1, max_length=20)
    place: str = Text
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
    note: str = LongText

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
    jurisdiction: str
    county: str
    tier: str
    source: str
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
    partner_jurisdiction: str
    partner_province: str
    county: str
    township: str
    tier: Tier
    source: Source
    party_count: int
    shared_at: datetime


def contracts() -> Contracts:
    published = Contracts(SERVICE)
    for event_type, schema in (
        (CASE_OPENED, CaseOpened), (CASE_ESCALATED, CaseEscalated), (AGREEMENT_REACHED, AgreementReached),
        (AGREEMENT_BREACHED, AgreementBreached), (FOLLOW_UP_OVERDUE, FollowUpOverdue),
        (CASE_CONCLUDED, CaseConcluded), (CASE_ARCHIVED, CaseArchived), (JOINT_CASE_SHARED, JointCaseShared),
    ):
        published.publishes(event_type, schema)

    @published.maps(MediationCase.Opened)
    def opened(e: Any) -> Iterable[tuple[str, Payload]]:
        yield CASE_OPENED, CaseOpened(case_id=e.originator_id, grid_event_id=e.grid_event_id,
                                      jurisdiction=e.jurisdiction, county=e.jurisdiction[:6],
                                      tier=Tier.VILLAGE.value, source=e.source, opened_at=e.timestamp)

    @published.maps(MediationCase.Escalated)
    def escalated(e: Any) -> Iterable[tuple[str, Payload]]:
        yield CASE_ESCALATED, CaseEscalated(case_id=e.originator_id, from_tier=e.from_tier, to_tier=e.to_tier,
                                            failed_attempts=e.failed_attempts, escalated_at=e.timestamp)

    @published.maps(MediationCase.AgreementReached)
    def agreed(e: Any) -> Iterable[tuple[str, Payload]]:
        yield AGREEMENT_REACHED, AgreementReached(case_id=e.originator_id, tier=e.tier,
                                                  follow_up_on=e.follow_up_on, reached_at=e.timestamp)

    @published.maps(MediationCase.AgreementBreached)
    def breached(e: Any) -> Iterable[tuple[str, Payload]]:
        yield AGREEMENT_BREACHED, AgreementBreached(case_id=e.originator_id, breached_on=e.held_on)

    @published.maps(MediationCase.FollowUpOverdueFlagged)
    def overdue(e: Any) -> Iterable[tuple[str, Payload]]:
        yield FOLLOW_UP_OVERDUE, FollowUpOverdue(case_id=e.originator_id, follow_up_on=e.follow_up_on)

    @published.maps(MediationCase.Concluded)
    def concluded(e: Any) -> Iterable[tuple[str, Payload]]:
        yield CASE_CONCLUDED, CaseConcluded(case_id=e.originator_id, route=e.route, concluded_at=e.timestamp)

    @published.maps(MediationCase.Archived)
    def archived(e: Any) -> Iterable[tuple[str, Payload]]:
        yield CASE_ARCHIVED, CaseArchived(case_id=e.originator_id, archived_at=e.timestamp)

    @published.maps(MediationCase.PartnerJoined)
    def joined(e: Any) -> Iterable[tuple[str, Payload]]:
        yield JOINT_CASE_SHARED, JointCaseShared(
            case_id=e.originator_id, partner_jurisdiction=e.partner_jurisdiction, partner_province=e.province,
            county=e.county, township=e.township, tier=e.tier, source=e.source, party_count=e.party_count,
            shared_at=e.timestamp)

    return published
