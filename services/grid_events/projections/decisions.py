"""Major decisions' and family assessments' read model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, Integer, String, Table, Text, insert, select, update
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_or_self, scope_prefix
from shared.projections import handles
from shared.security.row_seal import seal_column

from ..domain import DecisionStatus, Erasure, FamilySafetyAssessment, MajorDecision
from .common import GridRecordView, erased_flag, mark_erased, metadata

decisions = Table(
    "grid_decisions_view",
    metadata,
    Column("decision_id", String(36), primary_key=True),
    Column("jurisdiction", String(12), nullable=False, index=True),
    Column("county", String(6), nullable=False),
    Column("title", Text, nullable=False),  # sealed under the record's key
    Column("status", String(20), nullable=False),
    Column("risk_level", String(10)),
    Column("assessments", Integer, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    erased_flag(),
    seal_column("decision_id", "jurisdiction", "county", "title"),
)

family_assessments = Table(
    "grid_family_assessments_view",
    metadata,
    Column("assessment_id", String(36), primary_key=True),
    Column("grid_code", String(15), nullable=False, index=True),
    Column("household_id", String(64), nullable=False, index=True),
    Column("risk_level", String(10), nullable=False),
    Column("findings", Text, nullable=False),  # sealed twice: the record's key around the household's
    Column("measures", Text, nullable=False),  # likewise
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    erased_flag(),  # the assessment erased, or its household
    seal_column("assessment_id", "grid_code", "household_id", "findings", "measures"),
)


class DecisionsView(GridRecordView):
    name = "grid_events.decisions"
    tables = [decisions, family_assessments]
    record, record_key, erasure_kind = decisions, "decision_id", "major decision"

    @handles(MajorDecision.Registered)
    def on_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(decisions), dict(
            decision_id=str(event.originator_id), jurisdiction=event.jurisdiction,
            county=county_or_self(event.jurisdiction), title=event.title, status=DecisionStatus.REGISTERED.value,
            assessments=0, registered_at=event.timestamp, updated_at=event.timestamp, personal_data_erased=False))

    @handles(MajorDecision.Assessed)
    def on_assessed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=DecisionStatus.ASSESSED.value, risk_level=event.risk_level,
                     assessments=decisions.c.assessments + 1)

    @handles(MajorDecision.AssessmentApproved)
    def on_approved(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=DecisionStatus.APPROVED.value)

    @handles(MajorDecision.AssessmentRejected)
    def on_rejected(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=DecisionStatus.REGISTERED.value)

    @handles(MajorDecision.Cleared)
    def on_cleared(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=DecisionStatus.CLEARED.value)

    @handles(FamilySafetyAssessment.Recorded)
    def on_family_assessment(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(family_assessments), dict(
            assessment_id=str(event.originator_id), grid_code=event.grid_code, household_id=event.household_id,
            risk_level=event.risk_level, findings=event.findings, measures=event.measures,
            recorded_at=event.timestamp, personal_data_erased=False))

    @handles(Erasure.Recorded)
    def on_erased(self, event: Any, conn: Connection) -> None:
        super().on_erased(event, conn)
        mark_erased(conn, family_assessments, family_assessments.c.assessment_id, event, "family assessment")
        if event.kind == "person":  # a household erased: its assessments' texts read [erased] too
            conn.execute(update(family_assessments).where(family_assessments.c.household_id == event.subject)
                         .values(personal_data_erased=True))


# -- queries ------------------------------------------------------------------------


def decisions_query(scope: str, status: str | None) -> Any:
    query = select(decisions).where(decisions.c.jurisdiction.startswith(scope_prefix(scope)))
    if status:
        query = query.where(decisions.c.status == status)
    return query.order_by(decisions.c.registered_at.desc(), decisions.c.decision_id)


def family_assessments_query(scope: str, household_id: str | None) -> Any:
    query = select(family_assessments).where(family_assessments.c.grid_code.startswith(scope_prefix(scope)))
    if household_id:
        query = query.where(family_assessments.c.household_id == household_id)
    return query.order_by(family_assessments.c.recorded_at.desc(), family_assessments.c.assessment_id)
