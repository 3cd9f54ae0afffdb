"""Reported events: their vocabulary, commands, queries and published payloads (Arts. 5, 6(1), 9)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared.contracts import Payload
from shared.jurisdiction import JurisdictionCode
from shared.security.history import AsOf
from shared.validation import Command, Identifier, LongText, Slug, Text

from .common import Personal, Scoped, UnitRef


class Category(StrEnum):
    DISPUTE = "dispute"
    PUBLIC_SECURITY = "public_security"
    SAFETY_HAZARD = "safety_hazard"
    FIRE = "fire"
    TRAFFIC = "traffic"
    PUBLIC_HEALTH = "public_health"
    ENVIRONMENT = "environment"
    OTHER = "other"


class Source(StrEnum):
    """Where a matter came from (Art. 9: govern the sources together)."""

    POLICE_CALL = "police_call"
    PETITION = "petition"
    LAWSUIT = "lawsuit"
    RISK = "risk"
    PATROL = "patrol"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    SEVERE = "severe"


class Status(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    HANDLED = "handled"
    FEEDBACK_RECORDED = "feedback_recorded"
    CLOSED = "closed"


class Tier(StrEnum):
    """The tier that handles a matter, for reports by source and tier (Art. 9)."""

    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"
    PREFECTURE = "prefecture"


# -- commands ------------------------------------------------------------------------


class ReportEvent(Command):
    grid_code: JurisdictionCode
    category: Category
    source: Source
    severity: Severity
    place: Text
    description: LongText
    external_ref: Identifier | None = Field(
        default=None, description="the caller's own id for this report (e.g. a hotline ticket number): unique per "
                                  "caller; reporting it again returns the same event")


class AcceptEvent(Command):
    event_id: UUID


class AssignEvent(Command):
    event_id: UUID
    unit: UnitRef


class RecordHandling(Command):
    event_id: UUID
    note: LongText


class RecordFeedback(Command):
    event_id: UUID
    feedback: LongText
    satisfied: bool


class TickChecklistStep(Command):
    event_id: UUID
    step: Slug
    note: LongText | None = None


class CloseEvent(Command):
    event_id: UUID


# -- queries ---------------------------------------------------------------------------


class ListEvents(Scoped, Personal):
    grid_code: JurisdictionCode | None = None
    status: Status | None = None
    source: Source | None = None
    reporter_id: Identifier | None = Field(default=None, description="only events this caller reported "
                                                                     "(an integration client: always its own)")
    external_ref: Identifier | None = None


class GetEvent(Personal):
    event_id: UUID
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the record as it stood then")


class SourceReport(Scoped):
    pass


# -- published events --------------------------------------------------------------------

DISPUTE_REPORTED = "dispute_reported"
SEVERE_EVENT_REPORTED = "severe_event_reported"
EVENT_ASSIGNED = "event_assigned"
# The rest of the lifecycle, for whoever follows a report to its outcome (docs/integration.md).
EVENT_ACCEPTED = "event_accepted"
EVENT_HANDLED = "event_handled"
FEEDBACK_RECORDED = "feedback_recorded"
EVENT_CLOSED = "event_closed"


class EventReported(Payload):
    """Published for a dispute (mediation opens a case) or a severe event (emergency command)."""

    schema_version: int = 1
    event_id: UUID
    grid_code: JurisdictionCode
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    category: Category
    source: Source
    severity: Severity
    reported_at: datetime
    external_ref: Identifier | None = None  # the reporter's own reference, if it gave one


class EventAssigned(Payload):
    """An event was assigned to a member unit; ``contact_id`` is the unit's contact
    point for the grid (None when the unit has not named one), to be notified."""

    schema_version: int = 1
    event_id: UUID
    grid_code: JurisdictionCode
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    unit_id: UnitRef
    contact_id: Identifier | None
    assigned_at: datetime
    external_ref: Identifier | None = None  # the reporter's own reference, if it gave one


class EventProgress(Payload):
    """Where an event lies; the lifecycle payloads below add when and what happened (never free text)."""

    schema_version: int = 1
    event_id: UUID
    grid_code: JurisdictionCode
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    external_ref: Identifier | None = None  # the reporter's own reference, if it gave one


class EventAccepted(EventProgress):
    accepted_at: datetime


class EventHandled(EventProgress):
    """Handling was recorded; the note itself is read by RPC (``get_event``)."""

    handled_at: datetime


class FeedbackRecorded(EventProgress):
    """The citizen's feedback was recorded: whether they are satisfied (the text is read by RPC)."""

    satisfied: bool
    recorded_at: datetime


class EventClosed(EventProgress):
    """The event is closed; ``satisfied`` repeats the feedback's (None for events closed before it was kept)."""

    satisfied: bool | None
    closed_at: datetime
