"""Read models of grid_events: jurisdictions, grids and reported events, for queries."""

from __future__ import annotations

import json
from typing import Any, Iterable

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func, insert, select, update
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_of, scope_prefix
from shared.projections import Projection, handles

from .domain import EventReport, Grid, Jurisdiction, Status

metadata = MetaData()

jurisdictions = Table(
    "grid_jurisdictions_view",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("parent_code", String(15), index=True),
)

grids = Table(
    "grid_grids_view",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("grid_id", String(36), nullable=False, unique=True),
    Column("village_code", String(12), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("workers", Text, nullable=False),  # JSON list of worker ids
)

reports = Table(
    "grid_event_reports_view",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("grid_code", String(15), nullable=False, index=True),
    Column("jurisdiction", String(12), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("category", String(30), nullable=False),
    Column("source", String(30), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("status", String(30), nullable=False, index=True),
    Column("place", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("reporter_id", String(64), nullable=False),
    Column("assigned_unit", String(100)),
    Column("mediation_case_id", String(36)),
    Column("reported_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
)


class RegistryView(Projection):
    name = "grid_events.registry"
    tables = [jurisdictions, grids]

    @handles(Jurisdiction.Registered)
    def on_jurisdiction_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(jurisdictions).values(
            code=event.code, name=event.name, level=event.level, parent_code=event.parent_code))

    @handles(Grid.Registered)
    def on_grid_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(grids).values(code=event.code, grid_id=str(event.originator_id), village_code=event.village_code, name=event.name, workers="[]"))

    @handles(Grid.WorkerAssigned)
    def on_worker_assigned(self, event: Any, conn: Connection) -> None:
        self._change_workers(conn, event, lambda workers: workers + [event.worker_id])

    @handles(Grid.WorkerUnassigned)
    def on_worker_unassigned(self, event: Any, conn: Connection) -> None:
        self._change_workers(conn, event, lambda workers: [w for w in workers if w != event.worker_id])

    def _change_workers(self, conn: Connection, event: Any, change: Any) -> None:
        grid = grids.c.grid_id == str(event.originator_id)
        workers = json.loads(conn.execute(select(grids.c.workers).where(grid)).scalar_one())
        conn.execute(update(grids).where(grid).values(workers=json.dumps(change(workers))))


class EventReportsView(Projection):
    name = "grid_events.reports"
    tables = [reports]

    @handles(EventReport.Reported)
    def on_reported(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(reports).values(
            event_id=str(event.originator_id),
            grid_code=event.grid_code,
            jurisdiction=event.jurisdiction,
            county=county_of(event.jurisdiction) or event.jurisdiction,
            category=event.category,
            source=event.source,
            severity=event.severity,
            status=Status.REPORTED.value,
            place=event.place,
            description=event.description,
            reporter_id=event.reporter_id,
            reported_at=event.timestamp,
            updated_at=event.timestamp,
            version=event.originator_version,
        ))

    @handles(EventReport.Accepted)
    def on_accepted(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.ACCEPTED.value)

    @handles(EventReport.Assigned)
    def on_assigned(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.ASSIGNED.value, assigned_unit=event.unit)

    @handles(EventReport.Handled)
    def on_handled(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.HANDLED.value)

    @handles(EventReport.FeedbackRecorded)
    def on_feedback_recorded(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.FEEDBACK_RECORDED.value)

    @handles(EventReport.MediationCaseLinked)
    def on_mediation_case_linked(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, mediation_case_id=event.case_id)

    @handles(EventReport.Closed)
    def on_closed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.CLOSED.value, closed_at=event.timestamp)

    def _update(self, conn: Connection, event: Any, **values: Any) -> None:
        conn.execute(
            update(reports)
            .where(reports.c.event_id == str(event.originator_id))
            .values(updated_at=event.timestamp, version=event.originator_version, **values)
        )

    def gauges(self, conn: Connection) -> Iterable[Any]:
        open_events = GaugeMetricFamily(
            "pingan_grid_events_open", "Reported events not yet closed", labels=["service", "county", "status"]
        )
        rows = conn.execute(
            select(reports.c.county, reports.c.status, func.count())
            .where(reports.c.status != Status.CLOSED.value)
            .group_by(reports.c.county, reports.c.status)
        )
        for county, status, count in rows:
            open_events.add_metric(["grid_events", county, status], count)
        return [open_events]


def projections() -> list[Projection]:
    return [RegistryView(), EventReportsView()]


# -- queries ------------------------------------------------------------------------


def page_of(conn: Connection, query: Any, page: int, page_size: int) -> dict:
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.limit(page_size).offset((page - 1) * page_size)).mappings()
    return {"items": [_jsonable(row) for row in rows], "page": page, "page_size": page_size, "total": total}


def events_query(jurisdiction: str, grid_code: str | None, status: str | None) -> Any:
    # A grid code extends its village's, so one prefix covers both a unit and a grid.
    query = select(reports).where(reports.c.grid_code.startswith(scope_prefix(jurisdiction)))
    if grid_code:
        query = query.where(reports.c.grid_code == grid_code)
    if status:
        query = query.where(reports.c.status == status)
    return query.order_by(reports.c.reported_at.desc(), reports.c.event_id)


def event_by_id(conn: Connection, event_id: str) -> dict | None:
    row = conn.execute(select(reports).where(reports.c.event_id == event_id)).mappings().first()
    return _jsonable(row) if row else None


def grids_query(jurisdiction: str) -> Any:
    return select(grids).where(grids.c.code.startswith(scope_prefix(jurisdiction))).order_by(grids.c.code)


def jurisdictions_query(scope: str, parent_code: str | None) -> Any:
    query = select(jurisdictions).where(jurisdictions.c.code.startswith(scope_prefix(scope)))
    if parent_code:
        query = query.where(jurisdictions.c.parent_code == parent_code)
    return query.order_by(jurisdictions.c.code)


def _jsonable(row: Any) -> dict:
    out = {}
    for key, value in dict(row).items():
        if key == "workers":
            value = json.loads(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out
