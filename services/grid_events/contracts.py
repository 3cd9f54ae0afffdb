"""The public face of grid_events: RPC payloads and the events it publishes.

Published events carry facts and ids, not personal data (no place, no
description, no names): a consumer that needs the details asks by RPC, where
the read is authorised and audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable
from uuid import UUID

from pydantic import Field

from shared.contracts import Contracts, Payload
from shared.jurisdiction import JurisdictionCode, county_of
from shared.validation import LONG_TEXT, SHORT_TEXT, Command, Query

from .domain import Category, EventReport, Severity, Source, Status

SERVICE = "grid_events"

Text = Field(min_length=1, max_length=SHORT_TEXT)
LongText = Field(min_length=1, max_length=LONG_TEXT)


# -- RPC commands ---------------------------------------------------------------


class RegisterJurisdiction(Command):
    code: JurisdictionCode
    name: str = Text


class RegisterGrid(Command):
    code: JurisdictionCode = Field(description="the village code plus a 3-digit grid number (15 digits)")
    name: str = Text


class AssignWorker(Command):
    grid_code: JurisdictionCode
    worker_id: str = Field(min_length=1, max_length=64)


class UnassignWorker(AssignWorker):
    pass


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
    unit: str = Field(min_length=1, max_length=100, description="the member unit (department) that handles it")


class RecordHandling(Command):
    event_id: UUID
    note: str = LongText


class RecordFeedback(Command):
    event_id: UUID
    feedback: str = LongText
    satisfied: bool


class CloseEvent(Command):
    event_id: UUID


# -- RPC queries ------------------------------------------------------------------


class ListEvents(Query):
    jurisdiction: JurisdictionCode | None = Field(default=None, description="a subtree; defaults to the caller's")
    grid_code: JurisdictionCode | None = None
    status: Status | None = None


class GetEvent(Query):
    event_id: UUID


class ListGrids(Query):
    jurisdiction: JurisdictionCode | None = None


class ListJurisdictions(Query):
    parent_code: JurisdictionCode | None = None


# -- published events -------------------------------------------------------------


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


DISPUTE_REPORTED = "dispute_reported"
SEVERE_EVENT_REPORTED = "severe_event_reported"


def contracts() -> Contracts:
    published = Contracts(SERVICE)
    published.publishes(DISPUTE_REPORTED, EventReported)
    published.publishes(SEVERE_EVENT_REPORTED, EventReported)

    @published.maps(EventReport.Reported)
    def reported(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        payload = EventReported(
            event_id=domain_event.originator_id,
            grid_code=domain_event.grid_code,
            jurisdiction=domain_event.jurisdiction,
            county=county_of(domain_event.jurisdiction) or domain_event.jurisdiction,
            category=domain_event.category,
            source=domain_event.source,
            severity=domain_event.severity,
            reported_at=domain_event.timestamp,
        )
        if domain_event.category == Category.DISPUTE:
            yield DISPUTE_REPORTED, payload
        if domain_event.severity == Severity.SEVERE:
            yield SEVERE_EVENT_REPORTED, payload

    return published
