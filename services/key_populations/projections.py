"""Read models of key_populations: persons (identity sealed), enrolments (one row per
enrolment, with its category, place, risk and follow-up schedule) and their follow-ups;
and the figures (enrolled by category and county, overdue follow-ups, risk levels, hand-overs
not acknowledged in time — the one figure read against today's date at scrape time).

Personal columns (``SEALED_COLUMNS``, and the member names and guardian inside the
JSON ``team``/``facts``) hold the sealed values of the events; they are opened only
after an audited read. Every table carries a row seal over the columns that place and
identify a record (shared/security/row_seal.py): access is decided on a row only when
its seal holds. A transfer moves a record, so those handlers write a fresh seal.

Every figure is computed from the shared read model at scrape time, so each replica
reports the same value and a dashboard's ``max by`` counts it once (docs/operations.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, func, insert, select, update
from sqlalchemy.engine import Connection

from shared.clock import local_today
from shared.jurisdiction import county_or_self, scope_prefix
from shared.projections import Projection, RecordView, handles, row_to_dict
from shared.projections import page_of as shared_page_of
from shared.security.row_seal import SEAL, checked_page, checked_row, checked_rows, row_key, seal_column, seal_of

from .domain import ENROLMENT_CLASSES, Enrolment, Person

SERVICE = "key_populations"
metadata = MetaData()

persons = Table(
    "kp_persons_view", metadata,
    Column("person_id", String(64), primary_key=True),
    Column("record_id", String(36), nullable=False, unique=True),  # the aggregate's id, which later events carry
    Column("jurisdiction", String(12), nullable=False, index=True),
    Column("county", String(6), nullable=False),
    Column("name", Text, nullable=False),  # sealed under the person's key, as are the next three
    Column("id_number", Text),
    Column("address", Text),
    Column("contact", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("person_id", "jurisdiction", "name", "id_number", "address", "contact"),
)

enrolments = Table(
    "kp_enrolments_view", metadata,
    Column("enrolment_id", String(36), primary_key=True),
    Column("person_id", String(64), nullable=False, index=True),
    Column("category", String(40), nullable=False),
    Column("jurisdiction", String(12), nullable=False, index=True),
    Column("county", String(6), nullable=False),
    Column("transfer_to", String(12)),  # a pending transfer's receiving village
    Column("active", Boolean, nullable=False),
    Column("enrolled_on", String(10), nullable=False),
    Column("period_ends_on", String(10)),
    Column("risk_level", Integer, nullable=False),
    Column("next_follow_up_due", String(10), nullable=False),
    Column("last_follow_up_on", String(10)),
    Column("follow_up_overdue", Boolean, nullable=False),  # flagged for the current due date
    Column("next_test_due", String(10)),  # drug users
    Column("handover_due_on", String(10)),  # released persons: the township acknowledges by then
    Column("handover_acknowledged_on", String(10)),
    Column("responsible_id", String(64), nullable=False),
    Column("minor_dependants", Integer, nullable=False),
    Column("team", Text, nullable=False),  # JSON [{member_id, role, name (sealed)}]
    Column("facts", Text, nullable=False),  # JSON; a guardian's name and contact sealed
    Column("exit_reason", String(20)),
    Column("exited_on", String(10)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("enrolment_id", "person_id", "category", "jurisdiction", "transfer_to"),
)

follow_ups = Table(
    "kp_follow_ups_view", metadata,
    Column("enrolment_id", String(36), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("held_on", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("note", Text),  # sealed under the person's key
    Column("next_due", String(10), nullable=False),
    seal_column("enrolment_id", "number", "note"),
)

# The personal columns of each read model: sealed values, opened only after an audited read.
SEALED_COLUMNS = ("name", "id_number", "address", "contact", "note")
_JSON_COLUMNS = frozenset({"team", "facts"})
LISTED = [column for column in enrolments.c if column.name not in ("team", "facts")]


def _resealed(conn: Connection, table: Table, where: Any, **values: Any) -> None:
    """Update a row's covered columns with a fresh seal (the column default seals inserts only)."""
    row = dict(conn.execute(select(table).where(where)).mappings().one())
    merged = {**row, **values}
    conn.execute(update(table).where(where).values(**values, **{SEAL: seal_of(row_key(), table, merged)}))


# -- persons ------------------------------------------------------------------------------------


class PersonsView(Projection):
    name = "key_populations.persons"
    tables = [persons]

    @handles(Person.Registered)
    def on_registered(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(persons).values(
            person_id=event.person_id, record_id=str(event.originator_id), jurisdiction=event.jurisdiction,
            county=county_or_self(event.jurisdiction),
            name=event.name, id_number=event.id_number, address=event.address, contact=event.contact,
            updated_at=event.timestamp, version=event.originator_version))

    @handles(Person.IdentityCorrected)
    def on_corrected(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, **event.changes)

    @handles(Person.Moved)
    def on_moved(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, jurisdiction=event.to_jurisdiction, county=county_or_self(event.to_jurisdiction))

    def _update(self, conn: Connection, event: Any, **values: Any) -> None:
        _resealed(conn, persons, persons.c.record_id == str(event.originator_id), updated_at=event.timestamp,
                  version=event.originator_version, **values)


# -- enrolments ----------------------------------------------------------------------------------


def on_every_category(event_name: str) -> Callable:
    """Mark a handler for the event of that name in every category's class and in the shared base (an event
    raised by a shared command is the base's class; ``Enrolled`` is each category's own)."""

    def mark(method: Callable) -> Callable:
        method.handles_named = event_name  # type: ignore[attr-defined]
        return method

    return mark


class _ByCategory(Projection):
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attribute in vars(cls).values():
            name = getattr(attribute, "handles_named", None)
            if not isinstance(name, str):
                continue
            for kind in (Enrolment, *ENROLMENT_CLASSES.values()):
                if hasattr(kind, name):
                    cls._handlers[getattr(kind, name)] = attribute


class EnrolmentsView(_ByCategory, RecordView):
    name = "key_populations.enrolments"
    tables = [enrolments, follow_ups]
    record, record_key = enrolments, "enrolment_id"

    @on_every_category("Enrolled")
    def on_enrolled(self, event: Any, conn: Connection) -> None:
        facts = event.facts
        ends = facts.get("supervision_end") or facts.get("assistance_until") or facts.get("measure_end")
        conn.execute(insert(enrolments).values(
            enrolment_id=str(event.originator_id), person_id=event.person_id, category=event.category,
            jurisdiction=event.jurisdiction, county=county_or_self(event.jurisdiction), transfer_to=None,
            active=True, enrolled_on=event.enrolled_on, period_ends_on=ends, risk_level=event.risk_level,
            next_follow_up_due=event.next_follow_up_due, last_follow_up_on=None, follow_up_overdue=False,
            next_test_due=facts.get("next_test_due"), handover_due_on=facts.get("handover_due_on"),
            handover_acknowledged_on=None, responsible_id=event.responsible_id,
            minor_dependants=event.minor_dependants, team=json.dumps(event.team), facts=json.dumps(facts),
            exit_reason=None, exited_on=None, updated_at=event.timestamp, version=event.originator_version))

    @on_every_category("FollowedUp")
    def on_followed_up(self, event: Any, conn: Connection) -> None:
        key = str(event.originator_id)
        number = conn.execute(select(func.count()).where(follow_ups.c.enrolment_id == key)).scalar_one() + 1
        conn.execute(insert(follow_ups).values(enrolment_id=key, number=number, held_on=event.held_on,
                                               kind=event.kind, outcome=event.outcome, note=event.note,
                                               next_due=event.next_due))
        self._update(conn, event, last_follow_up_on=event.held_on, next_follow_up_due=event.next_due,
                     follow_up_overdue=False)

    @on_every_category("FollowUpOverdueFlagged")
    def on_overdue(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, follow_up_overdue=True)

    @on_every_category("RiskReassessed")
    def on_reassessed(self, event: Any, conn: Connection) -> None:
        due = event.next_due
        row = self._row(conn, event)
        # A closer due date clears a flag raised for the later one only if that one was not yet passed.
        self._update(conn, event, risk_level=event.level, next_follow_up_due=due,
                     follow_up_overdue=row.follow_up_overdue and due == row.next_follow_up_due)

    @on_every_category("TeamAssigned")
    def on_team(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, team=json.dumps(event.team), responsible_id=event.responsible_id)

    @on_every_category("TransferInitiated")
    def on_transfer_initiated(self, event: Any, conn: Connection) -> None:
        self._moved(conn, event, transfer_to=event.to_jurisdiction)

    @on_every_category("TransferAccepted")
    def on_transfer_accepted(self, event: Any, conn: Connection) -> None:
        self._moved(conn, event, jurisdiction=event.to_jurisdiction, county=county_or_self(event.to_jurisdiction),
                    transfer_to=None, team=json.dumps(event.team), responsible_id=event.responsible_id)

    @on_every_category("TransferRefused")
    def on_transfer_refused(self, event: Any, conn: Connection) -> None:
        self._moved(conn, event, transfer_to=None)

    @on_every_category("Exited")
    def on_exited(self, event: Any, conn: Connection) -> None:
        self._moved(conn, event, active=False, exit_reason=event.reason, exited_on=event.on, transfer_to=None,
                    follow_up_overdue=False)

    @on_every_category("GuardianChanged")
    def on_guardian(self, event: Any, conn: Connection) -> None:
        facts = json.loads(self._row(conn, event).facts)
        facts.update(guardian_name=event.guardian_name, guardian_contact=event.guardian_contact)
        self._update(conn, event, facts=json.dumps(facts))

    @on_every_category("TreatmentChanged")
    def on_treatment(self, event: Any, conn: Connection) -> None:
        facts = json.loads(self._row(conn, event).facts)
        facts.update(treatment_status=event.status)
        self._update(conn, event, facts=json.dumps(facts))

    @on_every_category("HandoverAcknowledged")
    def on_handover(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, handover_acknowledged_on=event.on)

    @on_every_category("DrugTestRecorded")
    def on_test(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, next_test_due=event.next_test_due)

    @on_every_category("DrugTestMissed")
    def on_missed(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, next_test_due=event.next_test_due)

    def _moved(self, conn: Connection, event: Any, **values: Any) -> None:
        _resealed(conn, enrolments, enrolments.c.enrolment_id == str(event.originator_id),
                  updated_at=event.timestamp, version=event.originator_version, **values)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        active = enrolments.c.active.is_(True)
        enrolled = GaugeMetricFamily("pingan_key_population_enrolled", "Active enrolments by category and county",
                                     labels=["service", "category", "county"])
        for category, county, count in conn.execute(
                select(enrolments.c.category, enrolments.c.county, func.count()).where(active)
                .group_by(enrolments.c.category, enrolments.c.county)):
            enrolled.add_metric([SERVICE, category, county], count)
        overdue = GaugeMetricFamily("pingan_key_population_follow_ups_overdue",
                                    "Active enrolments whose follow-up is overdue (flagged by the timer)",
                                    labels=["service", "category", "county"])
        for category, county, count in conn.execute(
                select(enrolments.c.category, enrolments.c.county, func.count())
                .where(active, enrolments.c.follow_up_overdue.is_(True))
                .group_by(enrolments.c.category, enrolments.c.county)):
            overdue.add_metric([SERVICE, category, county], count)
        levels = GaugeMetricFamily("pingan_key_population_risk_level",
                                   "Active enrolments by category and risk level (0-5)",
                                   labels=["service", "category", "level"])
        for category, level, count in conn.execute(
                select(enrolments.c.category, enrolments.c.risk_level, func.count()).where(active)
                .group_by(enrolments.c.category, enrolments.c.risk_level)):
            levels.add_metric([SERVICE, category, str(level)], count)
        late = GaugeMetricFamily("pingan_key_population_handovers_late",
                                 "Released persons whose hand-over the township has not acknowledged by its deadline",
                                 labels=["service", "county"])
        for county, count in conn.execute(
                select(enrolments.c.county, func.count())
                .where(active, enrolments.c.handover_acknowledged_on.is_(None),
                       enrolments.c.handover_due_on < local_today().isoformat())
                .group_by(enrolments.c.county)):
            late.add_metric([SERVICE, county], count)
        return [enrolled, overdue, levels, late]


def projections() -> list[Projection]:
    return [PersonsView(), EnrolmentsView()]


# -- queries ----------------------------------------------------------------------------------------


def page_of(conn: Connection, query: Any, page: int, page_size: int) -> dict:
    # Rows whose seal fails are left out: a list never trusts a row the database alone edited.
    return checked_page(query, shared_page_of(conn, query, page, page_size, _JSON_COLUMNS))


def enrolments_query(scope: str, category: str, active_only: bool, overdue_only: bool,
                     risk_level: int | None) -> Any:
    """One category's enrolments lying in ``scope``, or pending transfer into it (both ends see a record
    until the receiver accepts)."""
    prefix = scope_prefix(scope)
    query = select(*LISTED).where(enrolments.c.category == category,
                                  enrolments.c.jurisdiction.startswith(prefix)
                                  | enrolments.c.transfer_to.startswith(prefix))
    if active_only:
        query = query.where(enrolments.c.active.is_(True))
    if overdue_only:
        query = query.where(enrolments.c.follow_up_overdue.is_(True))
    if risk_level is not None:
        query = query.where(enrolments.c.risk_level == risk_level)
    return query.order_by(enrolments.c.next_follow_up_due, enrolments.c.enrolment_id)


def enrolment_by_id(conn: Connection, enrolment_id: str) -> dict | None:
    row = conn.execute(select(enrolments).where(enrolments.c.enrolment_id == enrolment_id)).mappings().first()
    found = checked_row(enrolments, row_to_dict(row, _JSON_COLUMNS) if row else None)
    if found is None:
        return None
    found["follow_up_log"] = checked_rows(follow_ups, [row_to_dict(r) for r in conn.execute(
        select(follow_ups).where(follow_ups.c.enrolment_id == enrolment_id).order_by(follow_ups.c.number)
    ).mappings()])
    return found


def person_in_category(conn: Connection, person_id: str, category: str) -> dict | None:
    """The person's row, if the person is enrolled in ``category`` (the category the read is decided on)."""
    enrolled = conn.execute(select(enrolments.c.enrolment_id).where(
        enrolments.c.person_id == person_id, enrolments.c.category == category)).first()
    if enrolled is None:
        return None
    row = conn.execute(select(persons).where(persons.c.person_id == person_id)).mappings().first()
    found = checked_row(persons, row_to_dict(row) if row else None)
    return None if found is None else {**found, "category": category}


def open_enrolment(found: dict, open_value: Callable[[Any], Any]) -> dict:
    """An enrolment from ``enrolment_by_id`` with its sealed values opened (after the audited decision)."""
    facts = dict(found["facts"])
    for name in ("guardian_name", "guardian_contact"):
        if name in facts:
            facts[name] = open_value(facts[name])
    return {**found, "facts": facts, "team": [{**m, "name": open_value(m["name"])} for m in found["team"]],
            "follow_up_log": [{**f, "note": open_value(f["note"])} for f in found["follow_up_log"]]}


def check_candidates(conn: Connection, today: date) -> list[str]:
    """Active enrolments the timer must look at: a follow-up past due and not yet flagged, a drug test past
    due, or a period that is over."""
    day = today.isoformat()
    rows = conn.execute(select(enrolments.c.enrolment_id).where(
        enrolments.c.active.is_(True),
        ((enrolments.c.next_follow_up_due < day) & enrolments.c.follow_up_overdue.is_(False))
        | (enrolments.c.next_test_due < day) | (enrolments.c.period_ends_on <= day)))
    return [enrolment_id for (enrolment_id,) in rows]
