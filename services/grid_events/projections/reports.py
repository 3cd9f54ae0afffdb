"""Reported events' read model, their gauges and closure times, and the report by source (Art. 9)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from prometheus_client.core import HistogramMetricFamily
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from shared.jurisdiction import Level, county_or_self, level_of, scope_prefix, scope_prefixes
from shared.projections import TOTAL, BatchedInserts, handles
from shared.security.row_seal import seal_column

from ..contracts import SERVICE
from ..domain import EventReport, Status, Tier
from .common import GridRecordView, by_source_query, counted, erased_flag, metadata, one, open_or_closed
from .risks import risks

reports = Table(
    "grid_event_reports_view",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("grid_code", String(15), nullable=False),
    Column("jurisdiction", String(12), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("category", String(30), nullable=False),
    Column("source", String(30), nullable=False, index=True),
    Column("severity", String(20), nullable=False),
    Column("status", String(30), nullable=False, index=True),
    Column("tier", String(20), nullable=False),
    Column("place", Text, nullable=False),  # sealed under the record's key
    Column("description", Text, nullable=False),  # sealed under the record's key
    Column("reporter_id", String(64), nullable=False, index=True),
    Column("external_ref", String(100), index=True),  # the reporter's own reference
    Column("assigned_unit", String(100)),
    Column("contact_id", String(64)),
    Column("required_steps", Text, nullable=False),  # JSON list
    Column("ticked_steps", Text, nullable=False),  # JSON list
    Column("mediation_case_id", String(36)),
    Column("incident_id", String(36)),  # the emergency incident a severe event opened
    Column("reported_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("feedback", Text),  # sealed under the record's key
    Column("satisfied", Boolean),
    Column("version", Integer, nullable=False),
    erased_flag(),
    seal_column("event_id", "grid_code", "jurisdiction", "county", "category", "place", "description", "reporter_id"),
)
# The order of every list (events_query): a page is read from the index's head, not sorted from every
# row in scope.
Index("ix_grid_event_reports_view_recent", reports.c.reported_at.desc(), reports.c.event_id)
# A scope is a prefix of the grid code (LIKE 'prefix%'), which a plain index serves only under the C collation:
# with the pattern operators, a scope holding few of many reports is read from its range, not from every row.
Index("ix_grid_event_reports_view_grid_code", reports.c.grid_code, postgresql_ops={"grid_code": "varchar_pattern_ops"})

# How many reports lie under each scope prefix (every prefix of their grid codes), kept in the same
# transaction as their rows: a list's exact total is one key look-up, not a count of every row in scope
# (docs/services/grid_events.md, "Lists"). A report never leaves its grid and its row is never deleted.
report_counts = Table(
    "grid_event_report_counts",
    metadata,
    Column("prefix", String(15), primary_key=True),
    Column("reports", Integer, nullable=False),
)


class EventReportsView(GridRecordView):
    name = "grid_events.reports"
    tables = [reports, report_counts]
    record, record_key, erasure_kind = reports, "event_id", "event report"

    def apply(self, event: Any, conn: Connection) -> None:
        super().apply(event, conn)
        if not isinstance(conn, BatchedInserts):  # within a batch, apply_batch counts its reports once
            count_reports(conn, [event])

    def apply_batch(self, events: list[Any], conn: Connection) -> None:
        super().apply_batch(events, conn)
        count_reports(conn, events)

    @handles(EventReport.Reported)
    def on_reported(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(reports), dict(
            event_id=str(event.originator_id),
            grid_code=event.grid_code,
            jurisdiction=event.jurisdiction,
            county=county_or_self(event.jurisdiction),
            category=event.category,
            source=event.source,
            severity=event.severity,
            status=Status.REPORTED.value,
            tier=Tier.VILLAGE.value,
            place=event.place,
            description=event.description,
            reporter_id=event.reporter_id,
            external_ref=getattr(event, "external_ref", None),
            required_steps=json.dumps(getattr(event, "required_steps", None) or []),
            ticked_steps="[]",
            reported_at=event.timestamp,
            updated_at=event.timestamp,
            version=event.originator_version,
            personal_data_erased=False,
        ))

    @handles(EventReport.StepTicked)
    def on_step_ticked(self, event: Any, conn: Connection) -> None:
        row = reports.c.event_id == str(event.originator_id)
        ticked = json.loads(conn.execute(select(reports.c.ticked_steps).where(row)).scalar_one())
        self._update(conn, event, ticked_steps=json.dumps(ticked + [event.step]))

    @handles(EventReport.Accepted)
    def on_accepted(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.ACCEPTED.value)

    @handles(EventReport.Assigned)
    def on_assigned(self, event: Any, conn: Connection) -> None:
        body = getattr(event, "body_code", None)
        values: dict[str, Any] = {"assigned_unit": f"{body}:{event.unit}" if body else event.unit}
        if body:
            values.update(tier=level_of(body).value, contact_id=event.contact_id)
        self._update(conn, event, status=Status.ASSIGNED.value, **values)

    @handles(EventReport.Handled)
    def on_handled(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.HANDLED.value)

    @handles(EventReport.FeedbackRecorded)
    def on_feedback_recorded(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.FEEDBACK_RECORDED.value, feedback=event.feedback,
                     satisfied=event.satisfied)

    @handles(EventReport.MediationCaseLinked)
    def on_mediation_case_linked(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, mediation_case_id=event.case_id)

    @handles(EventReport.IncidentLinked)
    def on_incident_linked(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, incident_id=event.incident_id)

    @handles(EventReport.Closed)
    def on_closed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.CLOSED.value, closed_at=event.timestamp)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        open_events = counted(
            "pingan_grid_events_open", "Reported events not yet closed", ["county", "status"],
            conn.execute(select(reports.c.county, reports.c.status, func.count())
                         .where(reports.c.status != Status.CLOSED.value)
                         .group_by(reports.c.county, reports.c.status)),
        )
        by_source = counted(
            "pingan_grid_events_by_source", "Reported events by source, handling tier and open/closed (Art. 9)",
            ["county", "source", "tier", "state"], conn.execute(by_source_query(reports, reports.c.county)),
        )
        return [open_events, by_source, _closure_times(conn)]


# Closure-time buckets, in seconds: an hour, six hours, a day, three days, a week, two weeks, a month.
CLOSURE_BUCKETS = (3600, 21600, 86400, 259200, 604800, 1209600, 2592000)


def _closure_times(conn: Connection) -> HistogramMetricFamily:
    """Report-to-closure time of closed events per county, computed from the read
    model (closed events never reopen, so the buckets only grow)."""
    family = HistogramMetricFamily(
        "pingan_grid_event_closure_seconds", "Time from report to closure of grid events", labels=["service", "county"]
    )
    per_county: dict[str, list[float]] = {}
    rows = conn.execute(select(reports.c.county, reports.c.reported_at, reports.c.closed_at)
                        .where(reports.c.closed_at.is_not(None)))
    for county, reported_at, closed_at in rows:
        per_county.setdefault(county, []).append((closed_at - reported_at).total_seconds())
    for county, durations in sorted(per_county.items()):
        buckets = [(str(float(bound)), sum(1 for d in durations if d <= bound)) for bound in CLOSURE_BUCKETS]
        buckets.append(("+Inf", len(durations)))
        family.add_metric([SERVICE, county], buckets, sum(durations))
    return family


def count_reports(conn: Connection, events: Iterable[Any]) -> None:
    """Add the reports among ``events`` to the counts of every scope they lie in: one statement."""
    added = Counter(prefix for event in events if isinstance(event, EventReport.Reported)
                    for prefix in scope_prefixes(event.grid_code))
    if not added:
        return
    upsert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(report_counts)
    conn.execute(upsert.on_conflict_do_update(index_elements=[report_counts.c.prefix],
                                              set_={"reports": report_counts.c.reports + upsert.excluded.reports}),
                 [{"prefix": prefix, "reports": count} for prefix, count in added.items()])


# -- queries ------------------------------------------------------------------------


def events_query(jurisdiction: str, grid_code: str | None, status: str | None, source: str | None = None,
                 reporter_id: str | None = None, external_ref: str | None = None) -> Any:
    # A grid code extends its village's, so one prefix covers both a unit and a grid.
    prefix = scope_prefix(jurisdiction)
    query = select(reports).where(reports.c.grid_code.startswith(prefix))
    if grid_code:
        query = query.where(reports.c.grid_code == grid_code)
    if status:
        query = query.where(reports.c.status == status)
    if source:
        query = query.where(reports.c.source == source)
    if reporter_id:
        query = query.where(reports.c.reporter_id == reporter_id)
    if external_ref:
        query = query.where(reports.c.external_ref == external_ref)
    one_grid = grid_code is not None and level_of(grid_code) is Level.GRID and grid_code.startswith(prefix)
    if (grid_code is None or one_grid) and not (status or source or reporter_id or external_ref):
        # Every report of a scope, or of one grid in it: the total is its kept count (shared.projections.page_of).
        kept = select(report_counts.c.reports).where(report_counts.c.prefix == (grid_code or prefix))
        query = query.execution_options(**{TOTAL: kept})
    return query.order_by(reports.c.reported_at.desc(), reports.c.event_id)


def event_by_id(conn: Connection, event_id: str) -> dict | None:
    return one(conn, select(reports).where(reports.c.event_id == event_id))


def source_report(conn: Connection, scope: str) -> dict:
    """Open and closed events and risks by source and tier in ``scope`` (Art. 9)."""
    prefix = scope_prefix(scope)
    parts = []
    for kind, table, place in (("event", reports, reports.c.grid_code), ("risk", risks, risks.c.jurisdiction)):
        state = open_or_closed(table)
        parts.append(
            select(literal(kind).label("kind"), table.c.source, table.c.tier, state.label("state"),
                   func.count().label("count"))
            .where(place.startswith(prefix))
            .group_by(table.c.source, table.c.tier, state)
        )
    rows = conn.execute(union_all(*parts)).all()
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    for kind, source, tier, state, count in rows:
        counts.setdefault((kind, source, tier), {"open": 0, "closed": 0})[state] = count
    items = [{"kind": kind, "source": source, "tier": tier, **states}
             for (kind, source, tier), states in sorted(counts.items())]
    return {"jurisdiction": scope, "items": items}
