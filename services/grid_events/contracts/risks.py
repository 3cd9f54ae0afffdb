"""Risks and warnings: register, warn, act, re-inspect, defuse, close (Arts. 6(1)(2), 7(2)(3))."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared.contracts import Payload
from shared.jurisdiction import JurisdictionCode
from shared.security.history import AsOf
from shared.validation import Command, Identifier, LongText, Text

from .common import Personal, Scoped, UnitRef
from .reports import Source


class RiskCategory(StrEnum):
    # Key domains, Art. 7(2)
    LAND_EXPROPRIATION = "land_expropriation"
    PUBLIC_HEALTH = "public_health"
    LENDING = "lending"
    TELECOM_FRAUD = "telecom_fraud"
    # Road traffic, Art. 7(3)
    TRAFFIC_BLACK_SPOT = "traffic_black_spot"
    HAZARDOUS_ROAD_SECTION = "hazardous_road_section"
    # Found by routine investigation, Art. 6(1)
    PUBLIC_SECURITY = "public_security"
    SAFETY_HAZARD = "safety_hazard"
    DISPUTE = "dispute"
    OTHER = "other"


class WarningLevel(StrEnum):
    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class RiskStatus(StrEnum):
    IDENTIFIED = "identified"
    WARNING_ISSUED = "warning_issued"
    MEASURES_UNDER_WAY = "measures_under_way"
    DEFUSED = "defused"
    FEEDBACK_REPORTED = "feedback_reported"
    CLOSED = "closed"


# -- commands ------------------------------------------------------------------------


class RegisterRisk(Command):
    jurisdiction: JurisdictionCode = Field(description="where the risk is: a registered unit or grid")
    category: RiskCategory
    source: Source
    level: WarningLevel
    place: Text
    description: LongText
    responsible_unit: UnitRef
    responsible_person_id: Identifier
    responsible_person_name: Text


class IssueWarning(Command):
    risk_id: UUID
    level: WarningLevel


class ChangeRiskLevel(Command):
    risk_id: UUID
    level: WarningLevel


class AssignRiskResponsibility(Command):
    risk_id: UUID
    unit: UnitRef
    person_id: Identifier
    person_name: Text


class StartRiskMeasures(Command):
    risk_id: UUID
    measures: LongText
    reinspection_date: date | None = Field(default=None, description="required for traffic black spots")


class RecordReinspection(Command):
    risk_id: UUID
    passed: bool
    note: LongText


class DefuseRisk(Command):
    risk_id: UUID
    note: LongText


class ReportRiskFeedback(Command):
    risk_id: UUID
    feedback: LongText


class CloseRisk(Command):
    risk_id: UUID


# -- queries ---------------------------------------------------------------------------


class ListRisks(Scoped, Personal):
    level: WarningLevel | None = None
    status: RiskStatus | None = None
    category: RiskCategory | None = None
    open_only: bool = False


class GetRisk(Personal):
    risk_id: UUID
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the record as it stood then")


# -- published events --------------------------------------------------------------------

RISK_REGISTERED = "risk_registered"
RISK_LEVEL_CHANGED = "risk_level_changed"
RISK_RAISED_TO_RED = "risk_raised_to_red"
RISK_CLOSED = "risk_closed"


class RiskRegistered(Payload):
    schema_version: int = 1
    risk_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    category: RiskCategory
    source: Source
    level: WarningLevel
    responsible_unit: UnitRef
    registered_at: datetime


class RiskLevelChanged(Payload):
    """A warning was issued or a risk's warning level changed. ``risk_raised_to_red``
    carries the same payload when the new level is red (emergency command consumes it)."""

    schema_version: int = 1
    risk_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    category: RiskCategory
    level: WarningLevel
    previous_level: WarningLevel | None
    changed_at: datetime


class RiskClosed(Payload):
    schema_version: int = 1
    risk_id: UUID
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    category: RiskCategory
    closed_at: datetime
