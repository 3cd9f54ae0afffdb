"""Risks' read model and gauges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Column, Date, DateTime, Integer, String, Table, Text, func, insert, select
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_or_self, scope_prefix
from shared.projections import handles
from shared.security.row_seal import seal_column

from ..domain import Risk, RiskStatus
from .common import GridRecordView, by_source_query, counted, erased_flag, metadata, one, tier_of

risks = Table(
    "grid_risks_view",
    metadata,
    Column("risk_id", String(36), primary_key=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("category", String(30), nullable=False),
    Column("source", String(30), nullable=False),
    Column("level", String(10), nullable=False, index=True),
    Column("status", String(30), nullable=False, index=True),
    Column("tier", String(20), nullable=False),
    Column("place", Text, nullable=False),  # sealed under the record's key
    Column("description", Text, nullable=False),  # sealed under the record's key
    Column("responsible_unit", String(100), nullable=False),
    Column("responsible_person_id", String(64), nullable=False),
    Column("responsible_person_name", Text, nullable=False),  # personal, sealed
    Column("measures", Text),  # sealed under the record's key
    Column("reinspection_date", Date),
    Column("reinspection_passed", Boolean),
    Column("incident_id", String(36)),  # the emergency incident the risk opened when it went red
    Column("registered_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    erased_flag(),
    seal_column("risk_id", "jurisdiction", "county", "category", "place", "description"),
)


class RisksView(GridRecordView):
    name = "grid_events.risks"
    tables = [risks]
    record, record_key, erasure_kind = risks, "risk_id", "risk"

    @handles(Risk.Registered)
    def on_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(risks), dict(
            risk_id=str(event.originator_id),
            jurisdiction=event.jurisdiction,
            county=county_or_self(event.jurisdiction),
            category=event.category,
            source=event.source,
            level=event.level,
            status=RiskStatus.IDENTIFIED.value,
            tier=tier_of(event.jurisdiction),
            place=event.place,
            description=event.description,
            responsible_unit=event.responsible_unit,
            responsible_person_id=event.responsible_person_id,
            responsible_person_name=event.responsible_person_name,
            registered_at=event.timestamp,
            updated_at=event.timestamp,
            version=event.originator_version,
            personal_data_erased=False,
        ))

    @handles(Risk.WarningIssued)
    def on_warning_issued(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, level=event.level, status=RiskStatus.WARNING_ISSUED.value)

    @handles(Risk.LevelChanged)
    def on_level_changed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, level=event.level)

    @handles(Risk.ResponsibilityAssigned)
    def on_responsibility_assigned(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, responsible_unit=event.unit, responsible_person_id=event.person_id,
                     responsible_person_name=event.person_name)

    @handles(Risk.MeasuresStarted)
    def on_measures_started(self, event: Any, conn: Connection) -> None:
        reinspection = date.fromisoformat(event.reinspection_date) if event.reinspection_date else None
        self._update(conn, event, status=RiskStatus.MEASURES_UNDER_WAY.value, measures=event.measures,
                     reinspection_date=reinspection)

    @handles(Risk.Reinspected)
    def on_reinspected(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, reinspection_passed=event.passed)

    @handles(Risk.Defused)
    def on_defused(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=RiskStatus.DEFUSED.value)

    @handles(Risk.FeedbackReported)
    def on_feedback_reported(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=RiskStatus.FEEDBACK_REPORTED.value)

    @handles(Risk.Closed)
    def on_closed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=RiskStatus.CLOSED.value, closed_at=event.timestamp)

    @handles(Risk.IncidentLinked)
    def on_incident_linked(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, incident_id=event.incident_id)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        open_risks = counted(
            "pingan_risks_open", "Registered risks not yet closed, by warning level", ["county", "level"],
            conn.execute(select(risks.c.county, risks.c.level, func.count())
                         .where(risks.c.status != RiskStatus.CLOSED.value)
                         .group_by(risks.c.county, risks.c.level)),
        )
        by_source = counted(
            "pingan_risks_by_source", "Registered risks by source, tier and open/closed (Art. 9)",
            ["county", "source", "tier", "state"], conn.execute(by_source_query(risks, risks.c.county)),
        )
        return [open_risks, by_source]


# -- queries ------------------------------------------------------------------------


def risks_query(scope: str, level: str | None, status: str | None, category: str | None, open_only: bool) -> Any:
    query = select(risks).where(risks.c.jurisdiction.startswith(scope_prefix(scope)))
    if level:
        query = query.where(risks.c.level == level)
    if status:
        query = query.where(risks.c.status == status)
    if category:
        query = query.where(risks.c.category == category)
    if open_only:
        query = query.where(risks.c.status != RiskStatus.CLOSED.value)
    return query.order_by(risks.c.registered_at.desc(), risks.c.risk_id)


def risk_by_id(conn: Connection, risk_id: str) -> dict | None:
    return one(conn, select(risks).where(risks.c.risk_id == risk_id))
