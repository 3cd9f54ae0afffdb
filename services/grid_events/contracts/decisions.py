"""Major decisions and family safety assessments (Art. 6(4))."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from shared.contracts import Payload
from shared.jurisdiction import JurisdictionCode
from shared.validation import Command, Identifier, LongText, Text

from .common import Personal, Scoped


class AssessedRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class DecisionStatus(StrEnum):
    REGISTERED = "registered"
    ASSESSED = "assessed"
    APPROVED = "approved"
    CLEARED = "cleared"


class RegisterDecision(Command):
    jurisdiction: JurisdictionCode
    title: Text
    summary: LongText


class AssessDecision(Command):
    decision_id: UUID
    risk_level: AssessedRisk
    findings: LongText
    measures: LongText


class ApproveAssessment(Command):
    decision_id: UUID


class RejectAssessment(Command):
    decision_id: UUID
    reason: LongText


class ClearDecision(Command):
    decision_id: UUID


class RecordFamilyAssessment(Command):
    grid_code: JurisdictionCode
    household_id: Identifier
    risk_level: AssessedRisk
    findings: LongText
    measures: LongText


class ListDecisions(Scoped, Personal):
    status: DecisionStatus | None = None


class ListFamilyAssessments(Scoped, Personal):
    household_id: Identifier | None = None


DECISION_CLEARED = "decision_cleared"


class DecisionCleared(Payload):
    """A major decision passed its stability-risk assessment and may be implemented."""

    schema_version: int = 1
    decision_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    risk_level: AssessedRisk
    cleared_at: datetime
