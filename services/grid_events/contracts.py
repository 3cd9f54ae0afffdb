"""The public face of grid_events: RPC payloads and the events it publishes.

Published events carry facts and ids, not personal data (no place, no
description, no names, no notes): a consumer that needs the details asks by
RPC, where the read is authorised. docs/services/grid_events.md lists them all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable
from uuid import UUID

from pydantic import Field

from shared.contracts import Contracts, Payload
from shared.jurisdiction import JurisdictionCode, county_of
from shared.security import history
from shared.security.history import AsOf
from shared.security.policy import Purpose
from shared.validation import LONG_TEXT, SHORT_TEXT, Command, Query

from .domain import (
    AssessedRisk,
    AssigneeKind,
    Category,
    DecisionStatus,
    ErasureReason,
    EventReport,
    MajorDecision,
    ParticipantKind,
    Risk,
    RiskCategory,
    RiskStatus,
    Severity,
    Source,
    Status,
    WarningLevel,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)

SERVICE = "grid_events"

Text = Field(min_length=1, max_length=SHORT_TEXT)
LongText = Field(min_length=1, max_length=LONG_TEXT)
OptionalText = Field(default=None, min_length=1, max_length=SHORT_TEXT)
Id = Field(min_length=1, max_length=64)
Slug = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")
UnitRef = Field(min_length=1, max_length=100, pattern=r"^([0-9]{6}:)?[a-z0-9][a-z0-9_-]*$",
                description="a member unit: its code (the event's county body first, then the "
                            "prefecture's) or its full id '<body code>:<unit code>'")


# -- RPC commands: registry (Arts. 2, 3, 5, 10) -----------------------------------


class RegisterJurisdiction(Command):
    code: JurisdictionCode
    name: str = Text


class RegisterGrid(Command):
    code: JurisdictionCode = Field(description="the village code plus a 3-digit grid number (15 digits)")
    name: str = Text


class AssignWorker(Command):
    grid_code: JurisdictionCode
    worker_id: str = Id


class UnassignWorker(AssignWorker):
    pass


class NameTownshipResponsible(Command):
    code: JurisdictionCode = Field(description="a township (9 digits)")
    office: str = Text
    person_id: str = Id
    person_name: str = Text


class RegisterMemberUnit(Command):
    body_code: JurisdictionCode = Field(description="the coordination body: the prefecture or a county")
    unit_code: str = Slug
    name: str = Text
    duties: list[str] = Field(min_length=1, max_length=30)


class ChangeMemberUnitDuties(Command):
    unit_id: str = UnitRef
    duties: list[str] = Field(min_length=1, max_length=30)


class NameContactPoint(Command):
    grid_code: JurisdictionCode
    unit: str = UnitRef
    contact_id: str = Id
    contact_name: str = Text
    contact_phone: str | None = Field(default=None, min_length=3, max_length=30)


class RegisterParticipant(Command):
    jurisdiction: JurisdictionCode
    kind: ParticipantKind
    name: str = Text


class RecogniseParticipant(Command):
    participant_id: UUID
    note: str = LongText


# -- RPC commands: reported events (Arts. 5, 6(1), 9) -------------------------------


class ReportEvent(Command):
    grid_code: JurisdictionCode
    category: Category
    source: Source
    severity: Severity
    place: str = Text
    description: str = LongText


class AcceptEvent(Command):
    event_id: UUID


class AssignEvent(Command):
    event_id: UUID
    unit: str = UnitRef


class RecordHandling(Command):
    event_id: UUID
    note: str = LongText


class RecordFeedback(Command):
    event_id: UUID
    feedback: str = LongText
    satisfied: bool


class TickChecklistStep(Command):
    event_id: UUID
    step: str = Slug
    note: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)


class CloseEvent(Command):
    event_id: UUID


# -- RPC commands: work items (Arts. 5(2), 10) ------------------------------------------


class AddWorkItem(Command):
    grid_code: JurisdictionCode
    kind: WorkItemKind
    title: str = Text
    due_date: date
    every_days: int | None = Field(default=None, ge=1, le=366, description="recurring every N days; omit for one-off")
    assignee_kind: AssigneeKind
    assignee_id: str = Field(min_length=1, max_length=100)


class CompleteWorkItem(Command):
    item_id: UUID
    note: str = LongText


class ReassignWorkItem(Command):
    item_id: UUID
    assignee_kind: AssigneeKind
    assignee_id: str = Field(min_length=1, max_length=100)


class CancelWorkItem(Command):
    item_id: UUID
    reason: str = LongText


# -- RPC commands: risks (Arts. 6(1)(2), 7(2)(3)) -----------------------------------------


class RegisterRisk(Command):
    jurisdiction: JurisdictionCode = Field(description="where the risk is: a registered unit or grid")
    category: RiskCategory
    source: Source
    level: WarningLevel
    place: str = Text
    description: str = LongText
    responsible_unit: str = UnitRef
    responsible_person_id: str = Id
    responsible_person_name: str = Text


class IssueWarning(Command):
    risk_id: UUID
    level: WarningLevel


class ChangeRiskLevel(Command):
    risk_id: UUID
    level: WarningLevel


class AssignRiskResponsibility(Command):
    risk_id: UUID
    unit: str = UnitRef
    person_id: str = Id
    person_name: str = Text


class StartRiskMeasures(Command):
    risk_id: UUID
    measures: str = LongText
    reinspection_date: date | None = Field(default=None, description="required for traffic black spots")


class RecordReinspection(Command):
    risk_id: UUID
    passed: bool
    note: str = LongText


class DefuseRisk(Command):
    risk_id: UUID
    note: str = LongText


class ReportRiskFeedback(Command):
    risk_id: UUID
    feedback: str = LongText


class CloseRisk(Command):
    risk_id: UUID


# -- RPC commands: decisions and family assessments (Art. 6(4)) ------------------------------


class RegisterDecision(Command):
    jurisdiction: JurisdictionCode
    title: str = Text
    summary: str = LongText


class AssessDecision(Command):
    decision_id: UUID
    risk_level: AssessedRisk
    findings: str = LongText
    measures: str = LongText


class ApproveAssessment(Command):
    decision_id: UUID


class RejectAssessment(Command):
    decision_id: UUID
    reason: str = LongText


class ClearDecision(Command):
    decision_id: UUID


class RecordFamilyAssessment(Command):
    grid_code: JurisdictionCode
    household_id: str = Id
    risk_level: AssessedRisk
    findings: str = LongText
    measures: str = LongText


# -- RPC commands: erasure (PIPL Art. 47) -------------------------------------------------


class ErasePerson(Command):
    """Destroy the key of a person named in the registry, a risk or a family assessment:
    their sealed fields read ``[erased]`` from then on, everywhere."""

    person_id: str = Id
    reason: ErasureReason


class EraseRecordPersonalData(Command):
    """Crypto-shred the free text of a reported event, a risk, a work item, a major decision or a
    family assessment (or a volunteer's name and recognition notes, an organisation's recognition
    notes, by participant id); the record's facts stay."""

    record_id: UUID
    reason: ErasureReason


# -- RPC queries (read models; every list is a jurisdiction subtree, paginated) --------------


class Scoped(Query):
    jurisdiction: JurisdictionCode | None = Field(default=None, description="a subtree; defaults to the caller's")


class Personal(Query):
    """A query that returns personal data: the read is audited, with its purpose if stated."""

    purpose: Purpose | None = None


class ListEvents(Scoped, Personal):
    grid_code: JurisdictionCode | None = None
    status: Status | None = None
    source: Source | None = None


class GetEvent(Personal):
    event_id: UUID
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the record as it stood then")


# A record's events, and who read a person (docs/services/grid_events.md, "History and access log").
History = history.History
AccessLog = history.AccessLog


class ListGrids(Scoped):
    pass


class ListJurisdictions(Personal):
    parent_code: JurisdictionCode | None = None


class ListMemberUnits(Scoped):
    pass


class ListContactPoints(Personal):
    grid_code: JurisdictionCode


class ListParticipants(Scoped, Personal):
    kind: ParticipantKind | None = None


class ListWorkItems(Scoped, Personal):
    grid_code: JurisdictionCode | None = None
    status: WorkItemStatus | None = None
    overdue: bool | None = Field(default=None, description="only items marked overdue for their current due date")


class GetWorkItem(Personal):
    item_id: UUID
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the record as it stood then")


class ListRisks(Scoped, Personal):
    level: WarningLevel | None = None
    status: RiskStatus | None = None
    category: RiskCategory | None = None
    open_only: bool = False


class GetRisk(Personal):
    risk_id: UUID
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the record as it stood then")


class ListDecisions(Scoped, Personal):
    status: DecisionStatus | None = None


class ListFamilyAssessments(Scoped, Personal):
    household_id: str | None = Field(default=None, min_length=1, max_length=64)


class SourceReport(Scoped):
    pass


# -- published events -------------------------------------------------------------------------


class EventReported(Payload):
    """Published for a dispute (mediation opens a case) or a severe event (emergency command)."""

    schema_version: int = 1
    event_id: UUID
    grid_code: str
    jurisdiction: str
    county: str
    category: Category
    source: Source
    severity: Severity
    reported_at: datetime


class EventAssigned(Payload):
    """An event was assigned to a member unit; ``contact_id`` is the unit's contact
    point for the grid (None when the unit has not named one), to be notified."""

    schema_version: int = 1
    event_id: UUID
    grid_code: str
    jurisdiction: str
    county: str
    unit_id: str
    contact_id: str | None
    assigned_at: datetime


class WorkItemOverdue(Payload):
    """A work item passed its due date unfinished; published once per item per due date."""

    schema_version: int = 1
    item_id: UUID
    grid_code: str
    jurisdiction: str
    county: str
    kind: WorkItemKind
    due_date: date
    marked_at: datetime


class RiskRegistered(Payload):
    schema_version: int = 1
    risk_id: UUID
    jurisdiction: str
    county: str
    category: RiskCategory
    source: Source
    level: WarningLevel
    responsible_unit: str
    registered_at: datetime


class RiskLevelChanged(Payload):
    """A warning was issued or a risk's warning level changed. ``risk_raised_to_red``
    carries the same payload when the new level is red (emergency command consumes it)."""

    schema_version: int = 1
    risk_id: UUID
    jurisdiction: str
    county: str
    category: RiskCategory
    level: WarningLevel
    previous_level: WarningLevel | None
    changed_at: datetime


class RiskClosed(Payload):
    schema_version: int = 1
    risk_id: UUID
    jurisdiction: str
    county: str
    category: RiskCategory
    closed_at: datetime


class DecisionCleared(Payload):
    """A major decision passed its stability-risk assessment and may be implemented."""

    schema_version: int = 1
    decision_id: UUID
    jurisdiction: str
    county: str
    risk_level: AssessedRisk
    cleared_at: datetime


DISPUTE_REPORTED = "dispute_reported"
SEVERE_EVENT_REPORTED = "severe_event_reported"
EVENT_ASSIGNED = "event_assigned"
WORK_ITEM_OVERDUE = "work_item_overdue"
RISK_REGISTERED = "risk_registered"
RISK_LEVEL_CHANGED = "risk_level_changed"
RISK_RAISED_TO_RED = "risk_raised_to_red"
RISK_CLOSED = "risk_closed"
DECISION_CLEARED = "decision_cleared"


def _county(jurisdiction: str) -> str:
    return county_of(jurisdiction) or jurisdiction


def contracts() -> Contracts:
    published = Contracts(SERVICE)
    published.publishes(DISPUTE_REPORTED, EventReported)
    published.publishes(SEVERE_EVENT_REPORTED, EventReported)
    published.publishes(EVENT_ASSIGNED, EventAssigned)
    published.publishes(WORK_ITEM_OVERDUE, WorkItemOverdue)
    published.publishes(RISK_REGISTERED, RiskRegistered)
    published.publishes(RISK_LEVEL_CHANGED, RiskLevelChanged)
    published.publishes(RISK_RAISED_TO_RED, RiskLevelChanged)
    published.publishes(RISK_CLOSED, RiskClosed)
    published.publishes(DECISION_CLEARED, DecisionCleared)

    @published.maps(EventReport.Reported)
    def reported(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        payload = EventReported(
            event_id=domain_event.originator_id,
            grid_code=domain_event.grid_code,
            jurisdiction=domain_event.jurisdiction,
            county=_county(domain_event.jurisdiction),
            category=domain_event.category,
            source=domain_event.source,
            severity=domain_event.severity,
            reported_at=domain_event.timestamp,
        )
        if domain_event.category == Category.DISPUTE:
            yield DISPUTE_REPORTED, payload
        if domain_event.severity == Severity.SEVERE:
            yield SEVERE_EVENT_REPORTED, payload

    @published.maps(EventReport.Assigned)
    def assigned(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        body = getattr(domain_event, "body_code", None)
        if body is None:
            return  # assigned before member units existed: no unit id to publish
        yield EVENT_ASSIGNED, EventAssigned(
            event_id=domain_event.originator_id,
            grid_code=domain_event.grid_code,
            jurisdiction=domain_event.jurisdiction,
            county=_county(domain_event.jurisdiction),
            unit_id=f"{body}:{domain_event.unit}",
            contact_id=domain_event.contact_id,
            assigned_at=domain_event.timestamp,
        )

    @published.maps(WorkItem.MarkedOverdue)
    def overdue(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield WORK_ITEM_OVERDUE, WorkItemOverdue(
            item_id=domain_event.originator_id,
            grid_code=domain_event.grid_code,
            jurisdiction=domain_event.jurisdiction,
            county=_county(domain_event.jurisdiction),
            kind=domain_event.kind,
            due_date=domain_event.due_date,
            marked_at=domain_event.timestamp,
        )

    @published.maps(Risk.Registered)
    def risk_registered(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield RISK_REGISTERED, RiskRegistered(
            risk_id=domain_event.originator_id,
            jurisdiction=domain_event.jurisdiction,
            county=_county(domain_event.jurisdiction),
            category=domain_event.category,
            source=domain_event.source,
            level=domain_event.level,
            responsible_unit=domain_event.responsible_unit,
            registered_at=domain_event.timestamp,
        )
        if domain_event.level == WarningLevel.RED:
            yield RISK_RAISED_TO_RED, _level_payload(domain_event, domain_event.category, None)

    def risk_level(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        payload = _level_payload(domain_event, domain_event.category, domain_event.previous_level)
        yield RISK_LEVEL_CHANGED, payload
        if domain_event.level == WarningLevel.RED and domain_event.previous_level != WarningLevel.RED:
            yield RISK_RAISED_TO_RED, payload

    published.maps(Risk.WarningIssued)(risk_level)
    published.maps(Risk.LevelChanged)(risk_level)

    @published.maps(Risk.Closed)
    def risk_closed(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield RISK_CLOSED, RiskClosed(
            risk_id=domain_event.originator_id,
            jurisdiction=domain_event.jurisdiction,
            county=_county(domain_event.jurisdiction),
            category=domain_event.category,
            closed_at=domain_event.timestamp,
        )

    @published.maps(MajorDecision.Cleared)
    def decision_cleared(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield DECISION_CLEARED, DecisionCleared(
            decision_id=domain_event.originator_id,
            jurisdiction=domain_event.jurisdiction,
            county=_county(domain_event.jurisdiction),
            risk_level=domain_event.risk_level,
            cleared_at=domain_event.timestamp,
        )

    return published


def _level_payload(domain_event: Any, category: str, previous_level: str | None) -> RiskLevelChanged:
    return RiskLevelChanged(
        risk_id=domain_event.originator_id,
        jurisdiction=domain_event.jurisdiction,
        county=_county(domain_event.jurisdiction),
        category=category,
        level=domain_event.level,
        previous_level=previous_level,
        changed_at=domain_event.timestamp,
    )
