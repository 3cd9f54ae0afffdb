"""Read models of emergency_command: key areas with their plans and drills,
incidents with their tasks and situation reports, warnings with every CAP
message; and the figures (open incidents by level and county, drills overdue,
plans missing, key areas under-staffed, time from opening to the first
acknowledged task).

Personal columns (``SEALED_COLUMNS``) hold the sealed values of the events;
they are opened only after an audited read. Every figure is computed from the
shared read model at scrape time, so each replica reports the same value and a
dashboard's ``max by`` counts it once (docs/operations.md).
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_of, parent_of, scope_prefix
from shared.projections import Projection, RecordView, handles, row_to_dict
from shared.projections import page_of as shared_page_of
from shared.security.row_seal import checked_page, checked_row, seal_column

from .domain import (
    EmergencyWarning,
    Incident,
    IncidentStatus,
    KeyArea,
    KeyAreaStatus,
    TaskStatus,
    drill_due_on,
    missing_plan,
    overdue_drill,
    render_cap,
)

SERVICE = "emergency_command"
metadata = MetaData()


def _county(code: str) -> str:
    return county_of(code) or code


def _utc(instant: str) -> datetime:
    """A domain instant (ISO text with its offset) as a UTC time for a DateTime column."""
    return datetime.fromisoformat(instant).astimezone(UTC)


# -- key areas ----------------------------------------------------------------------------------

key_areas = Table(
    "emergency_key_areas_view", metadata,
    Column("area_id", String(36), primary_key=True),
    Column("registry_ref", String(100), nullable=False),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("managing_unit", String(64), nullable=False),
    Column("status", String(10), nullable=False),
    Column("registered_on", String(10), nullable=False),
    Column("drill_every_days", Integer, nullable=False),
    Column("last_drill_on", String(10)),
    Column("drill_due_on", String(10), nullable=False),
    Column("drills", Integer, nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("required", Text, nullable=False),  # JSON {staff, equipment}
    Column("actual", Text, nullable=False),
    Column("shortfall", Text, nullable=False),
    Column("understaffed", Boolean, nullable=False),
    Column("drill_overdue", Boolean, nullable=False),  # flagged for the current due date
    Column("plan_missing", Boolean, nullable=False),
    Column("drill_overdue_flagged", Text, nullable=False),  # JSON list of due dates flagged
    Column("plan_missing_flagged", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("area_id", "registry_ref", "jurisdiction", "county"),
)

plans = Table(
    "emergency_plans_view", metadata,
    Column("area_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("approved_by", String(64), nullable=False),
    Column("approved_on", String(10), nullable=False),
    Column("document_ref", String(100), nullable=False),
    Column("notes", Text),  # sealed with the area's key
)

drills = Table(
    "emergency_drills_view", metadata,
    Column("area_id", String(36), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("held_on", String(10), nullable=False),
    Column("scenario", String(20), nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("participant_count", Integer, nullable=False),
    Column("participant_units", Text, nullable=False),  # JSON list of unit ids
    Column("findings", Text),  # sealed with the area's key
)


class KeyAreasView(RecordView):
    name = "emergency_command.key_areas"
    tables = [key_areas, plans, drills]
    record, record_key = key_areas, "area_id"

    @handles(KeyArea.Registered)
    def on_registered(self, event: Any, conn: Connection) -> None:
        empty = json.dumps({"staff": 0, "equipment": {}})
        row = {"registered_on": event.registered_on, "last_drill_on": None,
               "drill_every_days": event.drill_every_days}
        conn.execute(insert(key_areas).values(
            area_id=str(event.originator_id), registry_ref=event.registry_ref, jurisdiction=event.jurisdiction,
            county=_county(event.jurisdiction), kind=event.kind, managing_unit=event.managing_unit,
            status=KeyAreaStatus.ACTIVE.value, registered_on=event.registered_on,
            drill_every_days=event.drill_every_days, last_drill_on=None,
            drill_due_on=drill_due_on(row).isoformat(), drills=0, plan_version=0, required=empty, actual=empty,
            shortfall=empty, understaffed=False, drill_overdue=False, plan_missing=False,
            drill_overdue_flagged="[]", plan_missing_flagged="[]", updated_at=event.timestamp,
            version=event.originator_version))

    @handles(KeyArea.RequirementsSet)
    def on_requirements_set(self, event: Any, conn: Connection) -> None:
        self._staffing(conn, event, required=json.dumps({"staff": event.staff, "equipment": event.equipment}))

    @handles(KeyArea.ResourcesReported)
    def on_resources_reported(self, event: Any, conn: Connection) -> None:
        self._staffing(conn, event, actual=json.dumps({"staff": event.staff, "equipment": event.equipment}))

    @handles(KeyArea.PlanAdopted)
    def on_plan_adopted(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(plans).values(area_id=str(event.originator_id), version=event.version,
                                          approved_by=event.approved_by, approved_on=event.approved_on,
                                          document_ref=event.document_ref, notes=event.notes))
        self._update(conn, event, plan_version=event.version, plan_missing=False)

    @handles(KeyArea.DrillsRescheduled)
    def on_drills_rescheduled(self, event: Any, conn: Connection) -> None:
        self._schedule(conn, event, drill_every_days=event.every_days)

    @handles(KeyArea.DrillRecorded)
    def on_drill_recorded(self, event: Any, conn: Connection) -> None:
        row = self._row(conn, event)
        conn.execute(insert(drills).values(
            area_id=str(event.originator_id), number=row.drills + 1, held_on=event.held_on, scenario=event.scenario,
            plan_version=event.plan_version, participant_count=event.participant_count,
            participant_units=json.dumps(event.participant_units), findings=event.findings))
        self._schedule(conn, event, drills=row.drills + 1, last_drill_on=max(event.held_on, row.last_drill_on or ""))

    @handles(KeyArea.DrillOverdueFlagged)
    def on_drill_overdue(self, event: Any, conn: Connection) -> None:
        flagged = json.loads(self._row(conn, event).drill_overdue_flagged) + [event.due_on]
        self._update(conn, event, drill_overdue=True, drill_overdue_flagged=json.dumps(flagged))

    @handles(KeyArea.PlanMissingFlagged)
    def on_plan_missing(self, event: Any, conn: Connection) -> None:
        flagged = json.loads(self._row(conn, event).plan_missing_flagged) + [event.due_on]
        self._update(conn, event, plan_missing=True, plan_missing_flagged=json.dumps(flagged))

    @handles(KeyArea.Retired)
    def on_retired(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=KeyAreaStatus.RETIRED.value, drill_overdue=False, plan_missing=False,
                     understaffed=False)

    def _staffing(self, conn: Connection, event: Any, **values: Any) -> None:
        gap = event.shortfall
        self._update(conn, event, shortfall=json.dumps(gap), understaffed=bool(gap["staff"] or gap["equipment"]),
                     **values)

    def _schedule(self, conn: Connection, event: Any, **values: Any) -> None:
        """A new drill or interval moves the due date; the overdue flag stands only for a due date flagged."""
        row = {**dict(self._row(conn, event)._mapping), **values}
        due = drill_due_on(row).isoformat()
        self._update(conn, event, drill_due_on=due, drill_overdue=due in json.loads(row["drill_overdue_flagged"]),
                     **values)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        return [_count_by_county(conn, "pingan_emergency_drills_overdue",
                                 "Key areas whose drill is overdue (flagged by the timer)", key_areas.c.drill_overdue),
                _count_by_county(conn, "pingan_emergency_plans_missing",
                                 "Key areas past their grace period without an emergency plan",
                                 key_areas.c.plan_missing),
                _count_by_county(conn, "pingan_emergency_key_areas_understaffed",
                                 "Key areas short of required security staff or equipment", key_areas.c.understaffed)]


def _count_by_county(conn: Connection, name: str, documentation: str, flag: Any) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=["service", "county"])
    rows = conn.execute(select(key_areas.c.county, func.count())
                        .where(key_areas.c.status == KeyAreaStatus.ACTIVE.value, flag.is_(True))
                        .group_by(key_areas.c.county))
    for county, count in rows:
        gauge.add_metric([SERVICE, county], count)
    return gauge


# -- incidents ---------------------------------------------------------------------------------

incidents = Table(
    "emergency_incidents_view", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("trigger", String(30), nullable=False),
    Column("source_service", String(40), nullable=False),
    Column("source_ref", String(100), nullable=False, index=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("classification", String(20), nullable=False),
    Column("level", String(3), nullable=False),
    Column("commander_unit", String(64), nullable=False),
    Column("status", String(10), nullable=False, index=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("first_acknowledged_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("summary", Text),  # sealed with the incident's key
    Column("open_tasks", Integer, nullable=False),
    Column("reports", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("incident_id", "source_service", "source_ref", "jurisdiction", "county"),
)

tasks = Table(
    "emergency_tasks_view", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("task_id", String(8), primary_key=True),
    Column("unit", String(64), nullable=False),
    Column("instructions", Text, nullable=False),  # sealed
    Column("status", String(15), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("note", Text),  # sealed
)

reports = Table(
    "emergency_reports_view", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("text", Text, nullable=False),  # sealed
)

# Time from opening to the first acknowledged task: a minute up to two days.
ACK_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0, 172800.0)


class IncidentsView(RecordView):
    name = "emergency_command.incidents"
    tables = [incidents, tasks, reports]
    record, record_key = incidents, "incident_id"

    @handles(Incident.Opened)
    def on_opened(self, event: Any, conn: Connection) -> None:
        # The person of a key-population trigger is never in a read model that lists.
        conn.execute(insert(incidents).values(
            incident_id=str(event.originator_id), trigger=event.trigger, source_service=event.source_service,
            source_ref=event.source_ref, jurisdiction=event.jurisdiction, county=_county(event.jurisdiction),
            classification=event.classification, level=event.level, commander_unit=event.commander_unit,
            status=IncidentStatus.OPEN.value, opened_at=_utc(event.opened_at), open_tasks=0, reports=0,
            updated_at=event.timestamp, version=event.originator_version))

    @handles(Incident.CommanderAppointed)
    def on_commander(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, commander_unit=event.unit)

    @handles(Incident.TaskAssigned)
    def on_task_assigned(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(tasks).values(
            incident_id=str(event.originator_id), task_id=event.task_id, unit=event.unit,
            instructions=event.instructions, status=TaskStatus.ASSIGNED.value, assigned_at=_utc(event.at),
            due_at=_utc(event.due_at)))
        self._update(conn, event, open_tasks=self._row(conn, event).open_tasks + 1)

    @handles(Incident.TaskAcknowledged)
    def on_task_acknowledged(self, event: Any, conn: Connection) -> None:
        self._task(conn, event, status=TaskStatus.ACKNOWLEDGED.value, acknowledged_at=_utc(event.at))
        if self._row(conn, event).first_acknowledged_at is None:
            self._update(conn, event, first_acknowledged_at=_utc(event.at))
        else:
            self._update(conn, event)

    @handles(Incident.TaskCompleted)
    def on_task_completed(self, event: Any, conn: Connection) -> None:
        self._finish(conn, event, TaskStatus.COMPLETED)

    @handles(Incident.TaskCancelled)
    def on_task_cancelled(self, event: Any, conn: Connection) -> None:
        self._finish(conn, event, TaskStatus.CANCELLED)

    @handles(Incident.SituationReported)
    def on_situation_reported(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(reports).values(incident_id=str(event.originator_id), seq=event.seq, at=_utc(event.at),
                                            text=event.text))
        self._update(conn, event, reports=event.seq)

    @handles(Incident.Escalated)
    def on_escalated(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, level=event.to_level)

    @handles(Incident.Deescalated)
    def on_deescalated(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, level=event.to_level)

    @handles(Incident.Closed)
    def on_closed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, status=IncidentStatus.CLOSED.value, closed_at=_utc(event.at), summary=event.summary)

    def _finish(self, conn: Connection, event: Any, status: TaskStatus) -> None:
        self._task(conn, event, status=status.value, finished_at=_utc(event.at), note=event.note)
        self._update(conn, event, open_tasks=self._row(conn, event).open_tasks - 1)

    def _task(self, conn: Connection, event: Any, **values: Any) -> None:
        conn.execute(update(tasks).where(tasks.c.incident_id == str(event.originator_id),
                                         tasks.c.task_id == event.task_id).values(**values))

    def gauges(self, conn: Connection) -> Iterable[Any]:
        return [open_incidents_gauge(conn), first_acknowledgement_histogram(conn)]


def open_incidents_gauge(conn: Connection) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily("pingan_emergency_incidents_open", "Incidents under command, by level and county",
                              labels=["service", "county", "level"])
    rows = conn.execute(select(incidents.c.county, incidents.c.level, func.count())
                        .where(incidents.c.status == IncidentStatus.OPEN.value)
                        .group_by(incidents.c.county, incidents.c.level))
    for county, level, count in rows:
        gauge.add_metric([SERVICE, county, level], count)
    return gauge


def first_acknowledgement_histogram(conn: Connection) -> HistogramMetricFamily:
    """Seconds from an incident's opening to its first acknowledged task, over every incident that has one."""
    counts = [0] * (len(ACK_BUCKETS) + 1)
    total = 0.0
    for opened, acknowledged in conn.execute(select(incidents.c.opened_at, incidents.c.first_acknowledged_at)
                                             .where(incidents.c.first_acknowledged_at.is_not(None))):
        seconds = max(0.0, (acknowledged - opened).total_seconds())
        counts[bisect_left(ACK_BUCKETS, seconds)] += 1
        total += seconds
    cumulative, buckets = 0, []
    for bound, count in zip([*map(str, ACK_BUCKETS), "+Inf"], counts, strict=True):
        cumulative += count
        buckets.append((bound, cumulative))
    histogram = HistogramMetricFamily(
        "pingan_emergency_first_acknowledgement_seconds",
        "Time from an incident's opening to its first acknowledged command task", labels=["service"])
    histogram.add_metric([SERVICE], buckets, total)
    return histogram


# -- warnings ----------------------------------------------------------------------------------

warnings_table = Table(
    "emergency_warnings_view", metadata,
    Column("warning_id", String(36), primary_key=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("incident_id", String(36)),
    Column("cap_status", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("level", String(10), nullable=False),
    Column("event", String(200), nullable=False),
    Column("areas", Text, nullable=False),  # JSON list of codes
    Column("identifier", String(100), nullable=False),
    Column("msg_type", String(10), nullable=False),
    Column("messages", Integer, nullable=False),
    Column("effective", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("sent", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    seal_column("warning_id", "jurisdiction", "incident_id"),
)

messages = Table(
    "emergency_warning_messages_view", metadata,
    Column("warning_id", String(36), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("identifier", String(100), nullable=False, unique=True),
    Column("msg_type", String(10), nullable=False),
    Column("sent", String(30), nullable=False),
    Column("cap_xml", Text, nullable=False),
)


class WarningsView(Projection):
    name = "emergency_command.warnings"
    tables = [warnings_table, messages]

    @handles(EmergencyWarning.Issued)
    def on_issued(self, event: Any, conn: Connection) -> None:
        m = event.message
        conn.execute(insert(warnings_table).values(
            warning_id=str(event.originator_id), jurisdiction=event.jurisdiction, incident_id=m["incident_id"],
            cap_status=m["status"], status="active", messages=0, updated_at=event.timestamp, **_current(m)))
        self._message(conn, event, 1)

    @handles(EmergencyWarning.Updated)
    def on_updated(self, event: Any, conn: Connection) -> None:
        self._next(conn, event, "active")

    @handles(EmergencyWarning.Cancelled)
    def on_cancelled(self, event: Any, conn: Connection) -> None:
        self._next(conn, event, "cancelled")

    def _next(self, conn: Connection, event: Any, status: str) -> None:
        number = conn.execute(select(warnings_table.c.messages)
                              .where(warnings_table.c.warning_id == str(event.originator_id))).scalar_one() + 1
        conn.execute(update(warnings_table).where(warnings_table.c.warning_id == str(event.originator_id))
                     .values(status=status, updated_at=event.timestamp, **_current(event.message)))
        self._message(conn, event, number)

    def _message(self, conn: Connection, event: Any, number: int) -> None:
        m = event.message
        conn.execute(insert(messages).values(warning_id=str(event.originator_id), number=number,
                                             identifier=m["identifier"], msg_type=m["msg_type"], sent=m["sent"],
                                             cap_xml=render_cap(m)))
        conn.execute(update(warnings_table).where(warnings_table.c.warning_id == str(event.originator_id))
                     .values(messages=number))


def _current(m: dict) -> dict:
    return {"level": m["level"], "event": m["event"][:200], "areas": json.dumps(m["areas"]),
            "identifier": m["identifier"], "msg_type": m["msg_type"], "effective": _utc(m["effective"]),
            "expires": _utc(m["expires"]), "sent": _utc(m["sent"])}


def projections() -> list[Projection]:
    return [KeyAreasView(), IncidentsView(), WarningsView()]


# -- queries ---------------------------------------------------------------------------------------

# The personal columns of each read model: sealed values, opened only by an audited read.
SEALED_COLUMNS = ("notes", "findings", "summary", "instructions", "note", "text")
_JSON_COLUMNS = frozenset({"required", "actual", "shortfall", "drill_overdue_flagged", "plan_missing_flagged",
                           "participant_units", "areas"})
LISTED_INCIDENT = [column for column in incidents.c if column.name != "summary"]


def page_of(conn: Connection, query: Any, page: int, page_size: int) -> dict:
    # Access is decided on sealed rows only: a row the database alone edited is left out.
    return checked_page(query, shared_page_of(conn, query, page, page_size, _JSON_COLUMNS))


def _rows(conn: Connection, query: Any) -> list[dict]:
    return [row_to_dict(row, _JSON_COLUMNS) for row in conn.execute(query).mappings()]


def _sealed_one(conn: Connection, table: Table, query: Any) -> dict | None:
    """The first row of ``query`` if its seal holds: access is decided on sealed rows only."""
    found = _rows(conn, query.limit(1))
    return checked_row(table, found[0]) if found else None


def key_areas_query(scope: str, kind: str | None, understaffed: bool | None, drill_overdue: bool | None,
                    plan_missing: bool | None) -> Any:
    query = select(key_areas).where(key_areas.c.jurisdiction.startswith(scope_prefix(scope)))
    if kind:
        query = query.where(key_areas.c.kind == kind)
    for column, value in ((key_areas.c.understaffed, understaffed), (key_areas.c.drill_overdue, drill_overdue),
                          (key_areas.c.plan_missing, plan_missing)):
        if value is not None:
            query = query.where(column.is_(value))
    return query.order_by(key_areas.c.registry_ref)


def key_area_by_id(conn: Connection, area_id: str) -> dict | None:
    found = _sealed_one(conn, key_areas, select(key_areas).where(key_areas.c.area_id == area_id))
    if found is None:
        return None
    # Plan notes and drill findings are sealed; the unaudited read leaves them out.
    return {**found,
            "plans": _rows(conn, select(*[c for c in plans.c if c.name != "notes"])
                           .where(plans.c.area_id == area_id).order_by(plans.c.version)),
            "drill_log": _rows(conn, select(*[c for c in drills.c if c.name != "findings"])
                               .where(drills.c.area_id == area_id).order_by(drills.c.number))}


def overdue_candidates(conn: Connection, today: date) -> list[str]:
    """Active key areas with a drill overdue or a plan missing on ``today`` and not yet flagged for it."""
    rows = conn.execute(select(key_areas).where(key_areas.c.status == KeyAreaStatus.ACTIVE.value,
                                                or_(key_areas.c.drill_due_on < today.isoformat(),
                                                    key_areas.c.plan_version == 0))).mappings()
    due = []
    for row in rows:
        facts = {**row, "drill_overdue_flagged": json.loads(row["drill_overdue_flagged"]),
                 "plan_missing_flagged": json.loads(row["plan_missing_flagged"])}
        if overdue_drill(facts, today) or missing_plan(facts, today):
            due.append(row["area_id"])
    return due


def incidents_query(scope: str, status: str | None, level: str | None) -> Any:
    query = select(*LISTED_INCIDENT).where(incidents.c.jurisdiction.startswith(scope_prefix(scope)))
    for column, value in ((incidents.c.status, status), (incidents.c.level, level)):
        if value:
            query = query.where(column == value)
    return query.order_by(incidents.c.opened_at.desc(), incidents.c.incident_id)


def incident_by_id(conn: Connection, incident_id: str) -> dict | None:
    found = _sealed_one(conn, incidents, select(incidents).where(incidents.c.incident_id == incident_id))
    if found is None:
        return None
    return {**found,
            "task_list": _rows(conn, select(tasks).where(tasks.c.incident_id == incident_id)
                               .order_by(tasks.c.assigned_at, tasks.c.task_id)),
            "situation_reports": _rows(conn, select(reports).where(reports.c.incident_id == incident_id)
                                       .order_by(reports.c.seq))}


def incident_by_source(conn: Connection, source_service: str, source_ref: str) -> dict | None:
    return _sealed_one(conn, incidents, select(*LISTED_INCIDENT).where(incidents.c.source_service == source_service,
                                                                       incidents.c.source_ref == source_ref))


def warnings_query(scope: str, in_force_at: datetime | None) -> Any:
    """Warnings issued within ``scope`` or by a unit above it (a county's warning concerns its townships)."""
    above, unit = [], parent_of(scope)
    while unit:
        above.append(unit)
        unit = parent_of(unit)
    query = select(warnings_table).where(or_(warnings_table.c.jurisdiction.startswith(scope_prefix(scope)),
                                             warnings_table.c.jurisdiction.in_(above)))
    if in_force_at is not None:
        moment = in_force_at.astimezone(UTC)
        query = query.where(warnings_table.c.status == "active", warnings_table.c.effective <= moment,
                            warnings_table.c.expires > moment)
    return query.order_by(warnings_table.c.sent.desc(), warnings_table.c.warning_id)


def warning_by_id(conn: Connection, warning_id: str) -> dict | None:
    found = _sealed_one(conn, warnings_table, select(warnings_table).where(warnings_table.c.warning_id == warning_id))
    if found is None:
        return None
    return {**found, "message_log": _rows(conn, select(messages).where(messages.c.warning_id == warning_id)
                                             .order_by(messages.c.number))}


def warning_cap(conn: Connection, warning_id: str, number: int | None) -> dict | None:
    query = select(messages).where(messages.c.warning_id == warning_id)
    query = query.where(messages.c.number == number) if number else query.order_by(messages.c.number.desc())
    found = _rows(conn, query.limit(1))
    return found[0] if found else None
