"""Read models of grid_events, for queries and the per-county gauges."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Iterable

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import (
    Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, Text, and_, case, func, insert, literal,
    select, union_all, update,
)
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_of, level_of, scope_prefix
from shared.projections import Projection, handles, row_to_dict
from shared.projections import page_of as shared_page_of

from .domain import (
    DecisionStatus,
    Erasure,
    EventReport,
    FamilySafetyAssessment,
    Grid,
    Jurisdiction,
    MajorDecision,
    MemberUnit,
    Participant,
    Risk,
    RiskStatus,
    Status,
    Tier,
    WorkItem,
    WorkItemStatus,
)

SERVICE = "grid_events"
metadata = MetaData()

# Columns that hold values sealed per person or per record by the service
# (shared/security/personal_data.py); queries open them, everything else passes through.
SEALED_COLUMNS = ("responsible_person_name", "contact_name", "contact_phone", "name", "findings",
                  "place", "description", "title", "measures")
# A family assessment's findings and measures are sealed twice: under the assessment's key
# (family.<id>) around the household's; opening the outer seal gives the inner one.
DOUBLY_SEALED_COLUMNS = ("findings", "measures")
DOUBLY_SEALED_PREFIX = "pii1:family."


def _erased_flag() -> Column:
    """True once the record's own personal data is erased (its key destroyed): its free text reads [erased]."""
    return Column("personal_data_erased", Boolean, nullable=False, default=False)


def _county(code: str) -> str:
    return county_of(code) or code


jurisdictions = Table(
    "grid_jurisdictions_view",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("jurisdiction_id", String(36), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("parent_code", String(15), index=True),
    Column("responsible_office", String(200)),
    Column("responsible_person_id", String(64)),
    Column("responsible_person_name", Text),  # personal, sealed
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

contact_points = Table(
    "grid_contact_points_view",
    metadata,
    Column("grid_code", String(15), primary_key=True),
    Column("unit_id", String(100), primary_key=True),
    Column("contact_id", String(64), nullable=False),
    Column("contact_name", Text, nullable=False),  # personal, sealed
    Column("contact_phone", Text),  # personal, sealed
)

member_units = Table(
    "grid_member_units_view",
    metadata,
    Column("unit_id", String(100), primary_key=True),
    Column("member_unit_id", String(36), nullable=False, unique=True),
    Column("body_code", String(6), nullable=False, index=True),
    Column("unit_code", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("duties", Text, nullable=False),  # JSON list
)

participants = Table(
    "grid_participants_view",
    metadata,
    Column("participant_id", String(36), primary_key=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("name", Text, nullable=False),  # personal for a volunteer, sealed
    Column("recognitions", Integer, nullable=False),  # how many; the notes are sealed, in the log only
    _erased_flag(),
)

reports = Table(
    "grid_event_reports_view",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("grid_code", String(15), nullable=False, index=True),
    Column("jurisdiction", String(12), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("category", String(30), nullable=False),
    Column("source", String(30), nullable=False, index=True),
    Column("severity", String(20), nullable=False),
    Column("status", String(30), nullable=False, index=True),
    Column("tier", String(20), nullable=False),
    Column("place", Text, nullable=False),  # sealed under the record's key
    Column("description", Text, nullable=False),  # sealed under the record's key
    Column("reporter_id", String(64), nullable=False),
    Column("assigned_unit", String(100)),
    Column("contact_id", String(64)),
    Column("required_steps", Text, nullable=False),  # JSON list
    Column("ticked_steps", Text, nullable=False),  # JSON list
    Column("mediation_case_id", String(36)),
    Column("reported_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    _erased_flag(),
)

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
    _erased_flag(),
)

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
    Column("registered_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    _erased_flag(),
)

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
    _erased_flag(),
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
    _erased_flag(),  # the assessment erased, or its household
)


def _mark_erased(conn: Connection, table: Table, key: Column, event: Any, *kinds: str) -> None:
    """Flag the record an Erasure names (the record's version is not the erasure's: left as is)."""
    if event.kind in kinds and event.record_id:
        conn.execute(update(table).where(key == event.record_id).values(personal_data_erased=True))


def _update(conn: Connection, table: Table, key: Column, event: Any, **values: Any) -> None:
    if "updated_at" in table.c:
        values["updated_at"] = event.timestamp
    if "version" in table.c:
        values["version"] = event.originator_version
    conn.execute(update(table).where(key == str(event.originator_id)).values(**values))


class RegistryView(Projection):
    name = "grid_events.registry"
    tables = [jurisdictions, grids, contact_points, member_units, participants]

    @handles(Jurisdiction.Registered)
    def on_jurisdiction_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(jurisdictions), dict(
            code=event.code, jurisdiction_id=str(event.originator_id), name=event.name, level=event.level,
            parent_code=event.parent_code))

    @handles(Jurisdiction.ResponsibleNamed)
    def on_responsible_named(self, event: Any, conn: Connection) -> None:
        conn.execute(update(jurisdictions).where(jurisdictions.c.jurisdiction_id == str(event.originator_id)).values(
            responsible_office=event.office, responsible_person_id=event.person_id,
            responsible_person_name=event.person_name))

    @handles(Grid.Registered)
    def on_grid_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(grids), dict(code=event.code, grid_id=str(event.originator_id), village_code=event.village_code, name=event.name, workers="[]"))

    @handles(Grid.WorkerAssigned)
    def on_worker_assigned(self, event: Any, conn: Connection) -> None:
        self._change_workers(conn, event, lambda workers: workers + [event.worker_id])

    @handles(Grid.WorkerUnassigned)
    def on_worker_unassigned(self, event: Any, conn: Connection) -> None:
        self._change_workers(conn, event, lambda workers: [w for w in workers if w != event.worker_id])

    @handles(Grid.ContactPointNamed)
    def on_contact_point_named(self, event: Any, conn: Connection) -> None:
        grid_code = conn.execute(select(grids.c.code).where(grids.c.grid_id == str(event.originator_id))).scalar_one()
        key = and_(contact_points.c.grid_code == grid_code, contact_points.c.unit_id == event.unit_id)
        values = dict(contact_id=event.contact_id, contact_name=event.contact_name, contact_phone=event.contact_phone)
        if conn.execute(select(contact_points.c.unit_id).where(key)).first():
            conn.execute(update(contact_points).where(key).values(**values))
        else:
            conn.execute(insert(contact_points), dict(grid_code=grid_code, unit_id=event.unit_id, **values))

    @handles(MemberUnit.Registered)
    def on_member_unit_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(member_units), dict(
            unit_id=f"{event.body_code}:{event.unit_code}", member_unit_id=str(event.originator_id), body_code=event.body_code, unit_code=event.unit_code,
            name=event.name, duties=json.dumps(event.duties)))

    @handles(MemberUnit.DutiesChanged)
    def on_duties_changed(self, event: Any, conn: Connection) -> None:
        conn.execute(update(member_units).where(member_units.c.member_unit_id == str(event.originator_id))
                     .values(duties=json.dumps(event.duties)))

    @handles(Participant.Registered)
    def on_participant_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(participants), dict(
            participant_id=str(event.originator_id), jurisdiction=event.jurisdiction, kind=event.kind,
            name=event.name, recognitions=0, personal_data_erased=False))

    @handles(Participant.Recognised)
    def on_participant_recognised(self, event: Any, conn: Connection) -> None:
        conn.execute(update(participants).where(participants.c.participant_id == str(event.originator_id))
                     .values(recognitions=participants.c.recognitions + 1))

    @handles(Erasure.Recorded)
    def on_erased(self, event: Any, conn: Connection) -> None:
        _mark_erased(conn, participants, participants.c.participant_id, event, "volunteer", "participant")

    def _change_workers(self, conn: Connection, event: Any, change: Any) -> None:
        grid = grids.c.grid_id == str(event.originator_id)
        workers = json.loads(conn.execute(select(grids.c.workers).where(grid)).scalar_one())
        conn.execute(update(grids).where(grid).values(workers=json.dumps(change(workers))))



class EventReportsView(Projection):
    name = "grid_events.reports"
    tables = [reports]

    @handles(EventReport.Reported)
    def on_reported(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(reports), dict(
            event_id=str(event.originator_id),
            grid_code=event.grid_code,
            jurisdiction=event.jurisdiction,
            county=_county(event.jurisdiction),
            category=event.category,
            source=event.source,
            severity=event.severity,
            status=Status.REPORTED.value,
            tier=Tier.VILLAGE.value,
            place=event.place,
            description=event.description,
            reporter_id=event.reporter_id,
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
        self._update(conn, event, status=Status.FEEDBACK_RECORDED.value)

    @handles(EventReport.MediationCaseLinked)
    def on_mediation_case_linked(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, mediation_case_id=event.case_id)

    @handles(EventReport.Closed)
    def on_closed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=Status.CLOSED.value, closed_at=event.timestamp)

    @handles(Erasure.Recorded)
    def on_erased(self, event: Any, conn: Connection) -> None:
        _mark_erased(conn, reports, reports.c.event_id, event, "event report")

    def _update(self, conn: Connection, event: Any, **values: Any) -> None:
        _update(conn, reports, reports.c.event_id, event, **values)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        open_events = _counted(
            "pingan_grid_events_open", "Reported events not yet closed", ["county", "status"],
            conn.execute(select(reports.c.county, reports.c.status, func.count())
                         .where(reports.c.status != Status.CLOSED.value)
                         .group_by(reports.c.county, reports.c.status)),
        )
        by_source = _counted(
            "pingan_grid_events_by_source", "Reported events by source, handling tier and open/closed (Art. 9)",
            ["county", "source", "tier", "state"], conn.execute(_by_source(reports, reports.c.county)),
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


class WorkItemsView(Projection):
    name = "grid_events.work_items"
    tables = [work_items]

    @handles(WorkItem.Listed)
    def on_listed(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(work_items), dict(
            item_id=str(event.originator_id),
            grid_code=event.grid_code,
            jurisdiction=event.jurisdiction,
            county=_county(event.jurisdiction),
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

    @handles(Erasure.Recorded)
    def on_erased(self, event: Any, conn: Connection) -> None:
        _mark_erased(conn, work_items, work_items.c.item_id, event, "work item")

    def _update(self, conn: Connection, event: Any, **values: Any) -> None:
        _update(conn, work_items, work_items.c.item_id, event, **values)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        return [_counted(
            "pingan_work_items_overdue", "Open work items marked overdue for their current due date", ["county"],
            conn.execute(select(work_items.c.county, func.count())
                         .where(work_items.c.status == WorkItemStatus.OPEN.value, work_items.c.overdue.is_(True))
                         .group_by(work_items.c.county)),
        )]


class RisksView(Projection):
    name = "grid_events.risks"
    tables = [risks]

    @handles(Risk.Registered)
    def on_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(risks), dict(
            risk_id=str(event.originator_id),
            jurisdiction=event.jurisdiction,
            county=_county(event.jurisdiction),
            category=event.category,
            source=event.source,
            level=event.level,
            status=RiskStatus.IDENTIFIED.value,
            tier=_tier_of(event.jurisdiction),
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

    @handles(Erasure.Recorded)
    def on_erased(self, event: Any, conn: Connection) -> None:
        _mark_erased(conn, risks, risks.c.risk_id, event, "risk")

    def _update(self, conn: Connection, event: Any, **values: Any) -> None:
        _update(conn, risks, risks.c.risk_id, event, **values)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        open_risks = _counted(
            "pingan_risks_open", "Registered risks not yet closed, by warning level", ["county", "level"],
            conn.execute(select(risks.c.county, risks.c.level, func.count())
                         .where(risks.c.status != RiskStatus.CLOSED.value)
                         .group_by(risks.c.county, risks.c.level)),
        )
        by_source = _counted(
            "pingan_risks_by_source", "Registered risks by source, tier and open/closed (Art. 9)",
            ["county", "source", "tier", "state"], conn.execute(_by_source(risks, risks.c.county)),
        )
        return [open_risks, by_source]


class DecisionsView(Projection):
    name = "grid_events.decisions"
    tables = [decisions, family_assessments]

    @handles(MajorDecision.Registered)
    def on_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(decisions), dict(
            decision_id=str(event.originator_id), jurisdiction=event.jurisdiction,
            county=_county(event.jurisdiction), title=event.title, status=DecisionStatus.REGISTERED.value,
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
        _mark_erased(conn, decisions, decisions.c.decision_id, event, "major decision")
        _mark_erased(conn, family_assessments, family_assessments.c.assessment_id, event, "family assessment")
        if event.kind == "person":  # a household erased: its assessments' texts read [erased] too
            conn.execute(update(family_assessments).where(family_assessments.c.household_id == event.subject)
                         .values(personal_data_erased=True))

    def _update(self, conn: Connection, event: Any, **values: Any) -> None:
        _update(conn, decisions, decisions.c.decision_id, event, **values)


def projections() -> list[Projection]:
    return [RegistryView(), EventReportsView(), WorkItemsView(), RisksView(), DecisionsView()]


def _tier_of(code: str) -> str:
    """The tier a record placed at ``code`` is handled by; a grid's is its village's."""
    level = level_of(code).value
    return Tier.VILLAGE.value if level == "grid" else level


def _state(table: Table) -> Any:
    return case((table.c.status == "closed", literal("closed")), else_=literal("open"))


def _counted(name: str, documentation: str, labels: list[str], rows: Iterable[Any]) -> GaugeMetricFamily:
    """A gauge from (label values..., count) rows; labels are bounded (county codes, enums), never ids."""
    family = GaugeMetricFamily(name, documentation, labels=["service", *labels])
    for *values, count in rows:
        family.add_metric([SERVICE, *values], count)
    return family


def _by_source(table: Table, group: Column) -> Any:
    state = _state(table)
    return (select(group, table.c.source, table.c.tier, state, func.count())
            .group_by(group, table.c.source, table.c.tier, state))


# -- queries ------------------------------------------------------------------------


def page_of(conn: Connection, query: Any, page: int, page_size: int) -> dict:
    return shared_page_of(conn, query, page, page_size, _JSON_COLUMNS)


def events_query(jurisdiction: str, grid_code: str | None, status: str | None, source: str | None = None) -> Any:
    # A grid code extends its village's, so one prefix covers both a unit and a grid.
    query = select(reports).where(reports.c.grid_code.startswith(scope_prefix(jurisdiction)))
    if grid_code:
        query = query.where(reports.c.grid_code == grid_code)
    if status:
        query = query.where(reports.c.status == status)
    if source:
        query = query.where(reports.c.source == source)
    return query.order_by(reports.c.reported_at.desc(), reports.c.event_id)


def event_by_id(conn: Connection, event_id: str) -> dict | None:
    return _one(conn, select(reports).where(reports.c.event_id == event_id))


def grids_query(jurisdiction: str) -> Any:
    return select(grids).where(grids.c.code.startswith(scope_prefix(jurisdiction))).order_by(grids.c.code)


def jurisdictions_query(scope: str, parent_code: str | None) -> Any:
    query = select(jurisdictions).where(jurisdictions.c.code.startswith(scope_prefix(scope)))
    if parent_code:
        query = query.where(jurisdictions.c.parent_code == parent_code)
    return query.order_by(jurisdictions.c.code)


def member_units_query(scope: str) -> Any:
    """Units of the bodies in ``scope`` and of the bodies above it that serve it."""
    above = [code for code in {scope[:6], scope[:4] + "00"} if level_of(code).value in ("county", "prefecture")]
    query = select(member_units).where(
        member_units.c.body_code.startswith(scope_prefix(scope)) | member_units.c.body_code.in_(above))
    return query.order_by(member_units.c.unit_id)


def places_naming(conn: Connection, person_id: str) -> list[str]:
    """Where the read models name ``person_id`` now: townships, grids, risks, households' grids."""
    found = union_all(
        select(jurisdictions.c.code).where(jurisdictions.c.responsible_person_id == person_id),
        select(contact_points.c.grid_code).where(contact_points.c.contact_id == person_id),
        select(risks.c.jurisdiction).where(risks.c.responsible_person_id == person_id),
        select(family_assessments.c.grid_code).where(family_assessments.c.household_id == person_id),
    )
    return sorted(set(conn.execute(found).scalars()))


def records_naming(conn: Connection, person_id: str) -> list[tuple[str, str]]:
    """The records that name ``person_id`` now, as their reads are audited (record id, jurisdiction):
    townships by code, contact points by the person's id, risks, households' assessments."""
    found = union_all(
        select(jurisdictions.c.code, jurisdictions.c.code).where(jurisdictions.c.responsible_person_id == person_id),
        select(contact_points.c.contact_id, contact_points.c.grid_code).where(contact_points.c.contact_id == person_id),
        select(risks.c.risk_id, risks.c.jurisdiction).where(risks.c.responsible_person_id == person_id),
        select(family_assessments.c.assessment_id, family_assessments.c.grid_code)
        .where(family_assessments.c.household_id == person_id),
    )
    return sorted(set(map(tuple, conn.execute(found))))


def contact_points_query(grid_code: str) -> Any:
    return select(contact_points).where(contact_points.c.grid_code == grid_code).order_by(contact_points.c.unit_id)


def participants_query(scope: str, kind: str | None) -> Any:
    query = select(participants).where(participants.c.jurisdiction.startswith(scope_prefix(scope)))
    if kind:
        query = query.where(participants.c.kind == kind)
    return query.order_by(participants.c.participant_id)


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
    return _one(conn, select(work_items).where(work_items.c.item_id == item_id))


def overdue_candidates(conn: Connection, today: date) -> list[str]:
    """Open items past their due date and not yet marked for it: the timer's work."""
    return list(conn.execute(
        select(work_items.c.item_id).where(
            work_items.c.status == WorkItemStatus.OPEN.value,
            work_items.c.due_date < today,
            work_items.c.overdue.is_(False),
        ).order_by(work_items.c.due_date)
    ).scalars())


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
    return _one(conn, select(risks).where(risks.c.risk_id == risk_id))


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


def source_report(conn: Connection, scope: str) -> dict:
    """Open and closed events and risks by source and tier in ``scope`` (Art. 9)."""
    prefix = scope_prefix(scope)
    parts = []
    for kind, table, place in (("event", reports, reports.c.grid_code), ("risk", risks, risks.c.jurisdiction)):
        state = _state(table)
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


def _one(conn: Connection, query: Any) -> dict | None:
    row = conn.execute(query).mappings().first()
    return _jsonable(row) if row else None


_JSON_COLUMNS = {"workers", "duties", "required_steps", "ticked_steps"}


def _jsonable(row: Any) -> dict:
    return row_to_dict(row, _JSON_COLUMNS)
