"""What every grid_events contract family shares: the service name, unit references, and
the query bases (scoped to a jurisdiction subtree; audited when they return personal data)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from shared.jurisdiction import JurisdictionCode
from shared.security import history
from shared.security.policy import Purpose
from shared.validation import Query

SERVICE = "grid_events"

UnitRef = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^([0-9]{6}:)?[a-z0-9][a-z0-9_-]*$")]
"""A member unit: its code (the event's county body first, then the prefecture's) or its
full id '<body code>:<unit code>' (ASCII digits, lower-case letters, '_', '-')."""

AssigneeRef = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z_.:-]+$")]
"""Whoever a work item is assigned to: a grid worker's id, a participant's id or a member unit
(``UnitRef``): ASCII letters, digits, '_', '.', ':' or '-'."""


class Scoped(Query):
    jurisdiction: JurisdictionCode | None = Field(default=None, description="a subtree; defaults to the caller's")


class Personal(Query):
    """A query that returns personal data: the read is audited, with its purpose if stated."""

    purpose: Purpose | None = None


# A record's events, and who read a person (docs/services/grid_events.md, "History and access log").
History = history.History
AccessLog = history.AccessLog
