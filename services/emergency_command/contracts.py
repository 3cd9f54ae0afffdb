"""The public face of emergency_command: RPC payloads, the events it publishes,
and its own view of the events it consumes.

Self-contained: nothing here imports a domain (this service's or another's),
so another system can take this module alone. The vocabulary (levels,
classifications, kinds, CAP enumerations) is defined here, once: the domain
imports it; which domain event becomes which public event is private
(``publishing.py``).

Published events carry ids, codes, levels and times, never free text or a
person: the texts of tasks, situation reports and the after-action review
are read by RPC, where the read is authorised and audited. A warning is public
by nature: ``warning_published`` carries its whole CAP 1.2 document.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts import Payload
from shared.jurisdiction import JurisdictionCode
from shared.security import history
from shared.security.history import AsOf
from shared.security.policy import Purpose
from shared.validation import LONG_TEXT, SHORT_TEXT, Command, Query

SERVICE = "emergency_command"

Text = Field(min_length=1, max_length=SHORT_TEXT)
LongText = Field(min_length=1, max_length=LONG_TEXT)
# A unit id: a member unit ("<body code>:<unit code>") or a department's id.
UnitId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\s,<&]+$")]
TaskId = Annotated[str, StringConstraints(pattern=r"^T[0-9]{1,4}$")]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
EquipmentKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


# -- vocabulary -----------------------------------------------------------------------


class Level(StrEnum):
    """The four-level emergency response scale: I particularly serious … IV general."""

    I = "I"  # noqa: E741 - the scale's own name
    II = "II"
    III = "III"
    IV = "IV"


class Classification(StrEnum):
    NATURAL_DISASTER = "natural_disaster"
    ACCIDENT = "accident"
    PUBLIC_HEALTH = "public_health"
    SOCIAL_SECURITY = "social_security"


class Trigger(StrEnum):
    SEVERE_GRID_EVENT = "severe_grid_event"
    RED_RISK = "red_risk"
    HIGHEST_RISK_PERSON = "highest_risk_person"
    OPERATOR = "operator"


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class KeyAreaKind(StrEnum):
    SQUARE = "square"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    PARK = "park"
    MALL = "mall"
    STATION = "station"
    AIRPORT = "airport"
    THEATRE = "theatre"
    STADIUM = "stadium"
    SCENIC_SPOT = "scenic_spot"


class DrillScenario(StrEnum):
    """What a drill practises; a closed list, so a drill record holds no free text but its sealed findings."""

    FIRE = "fire"
    EVACUATION = "evacuation"
    CROWD_CRUSH = "crowd_crush"
    EARTHQUAKE = "earthquake"
    FLOOD = "flood"
    GEOLOGICAL = "geological"
    VIOLENT_ATTACK = "violent_attack"
    PUBLIC_HEALTH = "public_health"
    OTHER = "other"


class WarningLevel(StrEnum):
    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class CapStatus(StrEnum):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class CapCategory(StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class Urgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class CapSeverity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


# -- RPC commands: key areas (Art. 7(1)) ---------------------------------------------------


class RegisterKeyArea(Command):
    registry_ref: Ref = Field(description="the managing unit's own reference; registering again names one record")
    jurisdiction: JurisdictionCode = Field(description="county code or below")
    kind: KeyAreaKind
    managing_unit: UnitId
    drill_every_days: int = Field(ge=7, le=366)
    registered_on: date


class SetRequirements(Command):
    area_id: UUID
    staff: Count
    equipment: dict[EquipmentKind, Count] = Field(default_factory=dict, max_length=50)


class ReportResources(Command):
    area_id: UUID
    staff: Count
    equipment: dict[EquipmentKind, Count] = Field(default_factory=dict, max_length=50)
    on: date


class AdoptPlan(Command):
    area_id: UUID
    version: int = Field(ge=1)
    approved_by: UnitId
    approved_on: date
    document_ref: Ref
    notes: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)


class RescheduleDrills(Command):
    area_id: UUID
    every_days: int = Field(ge=7, le=366)


class RecordDrill(Command):
    area_id: UUID
    held_on: date
    scenario: DrillScenario
    participant_count: int = Field(ge=1, le=1_000_000)
    participant_units: list[UnitId] = Field(default_factory=list, max_length=100)
    findings: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)


class RetireKeyArea(Command):
    area_id: UUID
    on: date


# -- RPC commands: incidents (Art. 6(3)) -----------------------------------------------------

# A step's time, when it is entered after the fact; omitted, the service's clock. Never in the future.
At = Field(default=None, description="when the step happened (with a UTC offset); defaults to now")


class OpenIncident(Command):
    incident_ref: Ref = Field(description="the operator's reference; opening again returns the same incident")
    jurisdiction: JurisdictionCode = Field(description="county code or below")
    classification: Classification
    level: Level
    commander_unit: UnitId
    at: AwareDatetime | None = At


class _OnIncident(Command):
    incident_id: UUID
    at: AwareDatetime | None = At


class AppointCommander(_OnIncident):
    unit: UnitId


class AssignTask(_OnIncident):
    unit: UnitId
    instructions: str = LongText
    due_at: AwareDatetime


class AcknowledgeTask(_OnIncident):
    task_id: TaskId


class CompleteTask(_OnIncident):
    task_id: TaskId
    note: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)


class CancelTask(_OnIncident):
    task_id: TaskId
    note: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)


class ReportSituation(_OnIncident):
    text: str = LongText


class ChangeLevel(_OnIncident):
    level: Level


class CloseIncident(_OnIncident):
    summary: str = LongText


# -- RPC commands: warnings (Art. 6(4)) --------------------------------------------------------

LatLon = Annotated[list[float], Field(min_length=2, max_length=2)]


class WarningInfo(BaseModel):
    """The CAP ``info`` of one message. The warning level goes with its CAP severity
    (blue Minor, yellow Moderate, orange Severe, red Extreme)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    categories: list[CapCategory] = Field(min_length=1, max_length=12)
    event: str = Text
    urgency: Urgency
    severity: CapSeverity
    certainty: Certainty
    level: WarningLevel
    effective: AwareDatetime
    expires: AwareDatetime
    areas: list[JurisdictionCode] = Field(min_length=1, max_length=200)
    polygon: list[LatLon] | None = Field(default=None, min_length=4, max_length=1000)
    headline: str | None = Field(default=None, min_length=1, max_length=SHORT_TEXT)
    description: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)
    instruction: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)


class IssueWarning(Command):
    """Issue a warning; ``command_id`` is required: it names the warning, so a repeat issues nothing new."""

    command_id: str = Field(min_length=1, max_length=100)
    jurisdiction: JurisdictionCode = Field(description="the issuer's unit; every area lies within it")
    status: CapStatus = CapStatus.ACTUAL
    info: WarningInfo
    incident_id: UUID | None = None
    at: AwareDatetime | None = At


class UpdateWarning(Command):
    warning_id: UUID
    info: WarningInfo
    at: AwareDatetime | None = At


class CancelWarning(Command):
    warning_id: UUID
    at: AwareDatetime | None = At


# -- RPC queries ------------------------------------------------------------------------------


class _Scoped(Query):
    jurisdiction: JurisdictionCode | None = Field(default=None, description="a subtree; defaults to the caller's")


class ListKeyAreas(_Scoped):
    kind: KeyAreaKind | None = None
    understaffed: bool | None = None
    drill_overdue: bool | None = None
    plan_missing: bool | None = None


class GetKeyArea(Query):
    area_id: UUID


class ListIncidents(_Scoped):
    status: IncidentStatus | None = None
    level: Level | None = None


class GetIncident(Query):
    """The incident with its tasks and situation reports: free text, so an audited read."""

    incident_id: UUID
    purpose: Purpose | None = Field(default=None, description="why the incident is read; kept in the audit trail")
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the incident as it stood then")


class ListWarnings(_Scoped):
    in_force_only: bool = False


class GetWarning(Query):
    warning_id: UUID


class GetWarningCap(BaseModel):
    """One message of a warning as its CAP 1.2 document; without ``version``, the latest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warning_id: UUID
    version: int | None = Field(default=None, ge=1)


# A record's events in order, each with who, when and through which call (shared.security.history).
History = history.History


# -- published events -----------------------------------------------------------------------

INCIDENT_OPENED = "incident_opened"
INCIDENT_LEVEL_CHANGED = "incident_level_changed"
COMMAND_TASK_ASSIGNED = "command_task_assigned"
COMMAND_TASK_ACKNOWLEDGED = "command_task_acknowledged"
INCIDENT_CLOSED = "incident_closed"
WARNING_PUBLISHED = "warning_published"
KEY_AREA_DRILL_OVERDUE = "key_area_drill_overdue"
KEY_AREA_PLAN_MISSING = "key_area_plan_missing"


class IncidentOpened(Payload):
    """An incident was opened. ``source_service``/``source_ref`` name what triggered it (a grid event or
    risk id for grid_events), so the source can link back; a person is never named."""

    schema_version: int = 1
    incident_id: UUID
    trigger: Trigger
    source_service: str
    source_ref: str
    jurisdiction: str
    county: str
    classification: Classification
    level: Level
    commander_unit: str
    opened_at: datetime


class IncidentLevelChanged(Payload):
    """Escalated (towards I) or de-escalated; where the incident lies is on its ``incident_opened``."""

    schema_version: int = 1
    incident_id: UUID
    from_level: Level
    to_level: Level
    at: datetime


class CommandTaskAssigned(Payload):
    """A command task went to a unit (its instructions are read by RPC)."""

    schema_version: int = 1
    incident_id: UUID
    task_id: str
    unit: str
    due_at: datetime
    at: datetime


class CommandTaskAcknowledged(Payload):
    """The unit a task went to (``command_task_assigned``) has taken it on."""

    schema_version: int = 1
    incident_id: UUID
    task_id: str
    at: datetime


class IncidentClosed(Payload):
    """Closed with its after-action review (read by RPC)."""

    schema_version: int = 1
    incident_id: UUID
    at: datetime


class WarningPublished(Payload):
    """One CAP message of a warning (Alert, Update or Cancel), with its CAP 1.2 document in ``cap_xml``."""

    schema_version: int = 1
    warning_id: UUID
    identifier: str
    msg_type: MsgType
    status: CapStatus
    references: list[str]
    level: WarningLevel
    severity: CapSeverity
    areas: list[str]
    effective: datetime
    expires: datetime
    sent: datetime
    cap_xml: str


class KeyAreaDrillOverdue(Payload):
    schema_version: int = 1
    area_id: UUID
    jurisdiction: str
    kind: KeyAreaKind
    due_on: date


class KeyAreaPlanMissing(Payload):
    schema_version: int = 1
    area_id: UUID
    jurisdiction: str
    kind: KeyAreaKind
    due_on: date


PUBLISHED: dict[str, type[Payload]] = {
    INCIDENT_OPENED: IncidentOpened, INCIDENT_LEVEL_CHANGED: IncidentLevelChanged,
    COMMAND_TASK_ASSIGNED: CommandTaskAssigned, COMMAND_TASK_ACKNOWLEDGED: CommandTaskAcknowledged,
    INCIDENT_CLOSED: IncidentClosed, WARNING_PUBLISHED: WarningPublished,
    KEY_AREA_DRILL_OVERDUE: KeyAreaDrillOverdue, KEY_AREA_PLAN_MISSING: KeyAreaPlanMissing,
}


# -- consumed events: this service's own view of them -------------------------------------------
# A tolerant reader: the fields used here, whatever else the publisher adds in the same version.

GRID_EVENTS = "grid_events"
SEVERE_EVENT_REPORTED = "severe_event_reported"
RISK_RAISED_TO_RED = "risk_raised_to_red"
KEY_POPULATIONS = "key_populations"
PERSON_AT_HIGHEST_RISK = "person_assessed_highest_risk"


class _Consumed(Payload):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SevereGridEvent(_Consumed):
    """grid_events' ``severe_event_reported`` (schema 1)."""

    schema_version: int = 1
    event_id: UUID
    jurisdiction: JurisdictionCode
    county: str
    category: str
    severity: str
    reported_at: datetime


class RedRisk(_Consumed):
    """grid_events' ``risk_raised_to_red`` (schema 1)."""

    schema_version: int = 1
    risk_id: UUID
    jurisdiction: JurisdictionCode
    county: str
    category: str
    level: str
    changed_at: datetime


class PersonAtHighestRisk(_Consumed):
    """key_populations' foreseen ``person_assessed_highest_risk`` (schema 1): the assessment and the
    person by opaque ids only. Not yet published; the consumer is ready for it."""

    schema_version: int = 1
    assessment_id: str = Field(min_length=1, max_length=100)
    person_id: str = Field(min_length=1, max_length=64)
    jurisdiction: JurisdictionCode
    assessed_at: datetime
