"""Work items: patrols, home visits, checks; one-off or recurring (Arts. 5(2), 10)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared.contracts import Payload
from shared.jurisdiction import JurisdictionCode
from shared.security.history import AsOf
from shared.validation import Command, LongText, Text

from .common import AssigneeRef, Personal, Scoped


class WorkItemKind(StrEnum):
    PATROL = "patrol"
    HOME_VISIT = "home_visit"
    HAZARD_CHECK = "hazard_check"
    DISPUTE_SCREENING = "dispute_screening"
    PUBLICITY = "publicity"
    OTHER = "other"


class AssigneeKind(StrEnum):
    GRID_WORKER = "grid_worker"
    PARTICIPANT = "participant"  # a volunteer or social organisation (Art. 10)
    MEMBER_UNIT = "member_unit"


class WorkItemStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class AddWorkItem(Command):
    grid_code: JurisdictionCode
    kind: WorkItemKind
    title: Text
    due_date: date
    every_days: int | None = Field(default=None, ge=1, le=366, description="recurring every N days; omit for one-off")
    assignee_kind: AssigneeKind
    assignee_id: AssigneeRef


class CompleteWorkItem(Command):
    item_id: UUID
    note: LongText


class ReassignWorkItem(Command):
    item_id: UUID
    assignee_kind: AssigneeKind
    assignee_id: AssigneeRef


class CancelWorkItem(Command):
    item_id: UUID
    reason: LongText


class ListWorkItems(Scoped, Personal):
    grid_code: JurisdictionCode | None = None
    status: WorkItemStatus | None = None
    overdue: bool | None = Field(default=None, description="only items marked overdue for their current due date")


class GetWorkItem(Personal):
    item_id: UUID
    as_of: AsOf | None = Field(default=None, description="a version or an ISO time: the record as it stood then")


WORK_ITEM_OVERDUE = "work_item_overdue"


class WorkItemOverdue(Payload):
    """A work item passed its due date unfinished; published once per item per due date."""

    schema_version: int = 1
    item_id: UUID
    grid_code: JurisdictionCode
    jurisdiction: JurisdictionCode
    county: JurisdictionCode
    kind: WorkItemKind
    due_date: date
    marked_at: datetime
