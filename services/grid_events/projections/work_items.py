"""Work items' read model and the overdue timer's candidates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Column, Date, DateTime, Integer, String, Table, Text, func, insert, select
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_or_self, scope_prefix
from shared.projections import handles
from shared.security.row_seal import seal_column

from ..domain import WorkItem, WorkItemStatus
from .common import GridRecordView, counted, erased_flag, metadata, one

work_items = Table(
    "grid_work_items_view",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("grid_code", String(15), nullable=False, index=True),
    Column("jurisdiction", String(12), nullable=False),
    Column("county", String(6), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("title", Text, nullable=False),  # sealed under the record's key
    Column("due_date", Date, nullable=False, index=True),
    Column("every_days", Integer),
    Column("assignee_kind", String(20), nullable=False),
    Column("assignee_id", String(100), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("overdue", Boolean, nullable=False),  # marked overdue for its current due date
    Column("completions", Integer, nullable=False),
    Column("listed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    erased_flag(),
    seal_column("item_id", "grid_code", "jurisdiction", "county", "title"),
)


class WorkItemsView(GridRecordView):
    name = "grid_events.work_items"
    tables = [work_items]
    record, record_key, erasure_kind = work_items, "item_id", "work item"

    @handles(WorkItem.Listed)
    def on_listed(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(work_items), dict(
            item_id=str(event.originator_id),
            grid_code=event.grid_code,
            jurisdiction=event.jurisdiction,
            county=county_or_self(event.jurisdiction),
            kind=event.kind,
            title=event.title,
            due_date=date.fromisoformat(event.due_date),
            every_days=event.every_days,
            assignee_kind=event.assignee_kind,
            assignee_id=event.assignee_id,
            status=WorkItemStatus.OPEN.value,
            overdue=False,
            completions=0,
            listed_at=event.timestamp,
            updated_at=event.timestamp,
            version=event.originator_version,
            personal_data_erased=False,
        ))

    @handles(WorkItem.MarkedOverdue)
    def on_marked_overdue(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, overdue=True)

    @handles(WorkItem.Completed)
    def on_completed(self, event: Any, conn: Connection) -> None:
        values: dict[str, Any] = {"completions": work_items.c.completions + 1, "overdue": False}
        if event.next_due_date is None:
            values["status"] = WorkItemStatus.COMPLETED.value
        else:
            values["due_date"] = date.fromisoformat(event.next_due_date)
        self._update(conn, event, **values)

    @handles(WorkItem.Reassigned)
    def on_reassigned(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, assignee_kind=event.assignee_kind, assignee_id=event.assignee_id)

    @handles(WorkItem.Cancelled)
    def on_cancelled(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=WorkItemStatus.CANCELLED.value, overdue=False)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        return [counted(
            "pingan_work_items_overdue", "Open work items marked overdue for their current due date", ["county"],
            conn.execute(select(work_items.c.county, func.count())
                         .where(work_items.c.status == WorkItemStatus.OPEN.value, work_items.c.overdue.is_(True))
                         .group_by(work_items.c.county)),
        )]


# -- queries ------------------------------------------------------------------------


def work_items_query(scope: str, grid_code: str | None, status: str | None, overdue: bool | None) -> Any:
    query = select(work_items).where(work_items.c.grid_code.startswith(scope_prefix(scope)))
    if grid_code:
        query = query.where(work_items.c.grid_code == grid_code)
    if status:
        query = query.where(work_items.c.status == status)
    if overdue is not None:
        query = query.where(work_items.c.overdue.is_(overdue))
    return query.order_by(work_items.c.due_date, work_items.c.item_id)


def work_item_by_id(conn: Connection, item_id: str) -> dict | None:
    return one(conn, select(work_items).where(work_items.c.item_id == item_id))


def overdue_candidates(conn: Connection, today: date) -> list[str]:
    """Open items past their due date and not yet marked for it: the timer's work."""
    return list(conn.execute(
        select(work_items.c.item_id).where(
            work_items.c.status == WorkItemStatus.OPEN.value,
            work_items.c.due_date < today,
            work_items.c.overdue.is_(False),
        ).order_by(work_items.c.due_date)
    ).scalars())
