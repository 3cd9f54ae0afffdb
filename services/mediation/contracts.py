"""The public face of mediation: RPC payloads and the events it publishes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.contracts import Payload

SERVICE = "mediation"

CASE_OPENED = "case_opened"


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
