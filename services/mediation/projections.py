"""Read models of mediation: cases, their parties and attempts, and the figures
of Arts. 9 and 11 (open cases by tier and source, local-resolution rate).

Personal columns (``SEALED_COLUMNS``) hold the sealed values of the events as
they are; queries open them after the audited read (``open_case_record``), and
after erasure they open as "[erased]". Nothing else here is personal: codes,
tiers, statuses, dates, actor ids of mediators and interpreters.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_of, scope_prefix
from shared.projections import Projection, RecordView, handles, row_to_dict
from shared.projections import page_of as shared_page_of
from shared.security.row_seal import checked_page, checked_row, checked_rows, seal_column

from .domain import MediationCase, Status, Step, Tier

metadata = MetaData()

cases = Table(
    "mediation_cases_view",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("grid_event_id", String(36), index=True),
    Column("jurisdiction", String(12), nullable=False, index=True),
    Column("township", String(9), nullable=False),
    Column("county", String(6), nullable=False, index=True),
    Column("tier", String(20), nullable=False),
    Column("source", String(30), nullable=False),
    Column("reported_source", String(30)),
    Column("status", String(20), nullable=False, index=True),
    Column("outcome", String(20)),  # "agreement" while one stands, "referral" once concluded
    Column("subject", Text),
    Column("village_failures", Integer, nullable=False),
    Column("township_failures", Integer, nullable=False),
    Column("county_failures", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("steps", Text, nullable=False),  # JSON list of completed checklist steps
    Column("partners", Text, nullable=False),  # JSON list of partner county codes
    Column("follow_up_on", Date),
    Column("follow_up_overdue", Boolean, nullable=False),
    Column("personal_data_erased", Boolean, nullable=False, default=False),
    Column("opened_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("case_id", "grid_event_id", "jurisdiction", "township", "county"),
)

parties = Table(
    "mediation_parties_view",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("party_id", String(8), primary_key=True),
    Column("name", Text, nullable=False),  # sealed with the party's key
    Column("languages", Text, nullable=False),  # JSON list
    Column("understands_mandarin", Boolean, nullable=False),
    Column("residence", String(15)),
    Column("erased", Boolean, nullable=False, default=False),
    seal_column("case_id", "party_id", "name", "residence"),
)

attempts = Table(
    "mediation_attempts_view",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("tier", String(20), nullable=False),
    Column("mode", String(30), nullable=False),
    Column("mediator_ids", Text, nullable=False),  # JSON list
    Column("place", Text, nullable=False),  # sealed with the case's key
    Column("on_site", Boolean, nullable=False),
    Column("held_on", Date, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("interpreters", Text, nullable=False),  # JSON list of {party_id, language, interpreter_id}
    seal_column("case_id", "number", "place"),
)

TIERS = [tier.value for tier in Tier]
FAILURE_COLUMN = {Tier.VILLAGE.value: "village_failures", Tier.TOWNSHIP.value: "township_failures",
                  Tier.COUNTY.value: "county_failures"}
OPEN_STATUSES = (Status.OPEN.value, Status.AGREED.value)


class CasesView(RecordView):
    name = "mediation.cases"
    tables = [cases, parties, attempts]
    record, record_key = cases, "case_id"

    @handles(MediationCase.Opened)
    def on_opened(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(cases), dict(
            case_id=str(event.originator_id),
            grid_event_id=str(event.grid_event_id) if event.grid_event_id else None,
            jurisdiction=event.jurisdiction,
            township=event.jurisdiction[:9],
            county=county_of(event.jurisdiction),
            tier=Tier.VILLAGE.value,
            source=event.source,
            reported_source=event.reported_source,
            status=Status.OPEN.value,
            subject=event.subject,
            personal_data_erased=False,
            village_failures=0, township_failures=0, county_failures=0, attempts=0,
            steps=json.dumps([Step.INTAKE.value]),
            partners="[]",
            follow_up_overdue=False,
            opened_at=event.timestamp,
            updated_at=event.timestamp,
            version=event.originator_version,
        ))

    @handles(MediationCase.SubjectRecorded)
    def on_subject_recorded(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, subject=event.subject)

    @handles(MediationCase.PartyAdded)
    def on_party_added(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(parties), dict(
            case_id=str(event.originator_id), party_id=event.party_id, name=event.name,
            languages=json.dumps(event.languages), understands_mandarin=event.understands_mandarin,
            residence=event.residence, erased=False))
        self._update(conn, event)

    @handles(MediationCase.PartnerJoined)
    def on_partner_joined(self, event: Any, conn: Connection) -> None:
        row = self._row(conn, event)
        self._update(conn, event, partners=json.dumps(json.loads(row.partners) + [event.partner_jurisdiction]))

    @handles(MediationCase.RiskChecked)
    def on_risk_checked(self, event: Any, conn: Connection) -> None:
        self._step(conn, event, Step.RISK_CHECK)

    @handles(MediationCase.Accepted)
    def on_accepted(self, event: Any, conn: Connection) -> None:
        self._step(conn, event, Step.ACCEPTANCE)

    @handles(MediationCase.AttemptRecorded)
    def on_attempt_recorded(self, event: Any, conn: Connection) -> None:
        row = self._row(conn, event)
        conn.execute(insert(attempts), dict(
            case_id=str(event.originator_id), number=row.attempts + 1, tier=event.tier, mode=event.mode,
            mediator_ids=json.dumps(event.mediator_ids), place=event.place, on_site=event.on_site,
            held_on=event.held_on, outcome=event.outcome, interpreters=json.dumps(event.interpreters)))
        failures = {}
        if event.outcome == "failed":
            column = FAILURE_COLUMN[event.tier]
            failures[column] = getattr(row, column) + 1
        self._step(conn, event, Step.MEDIATION, attempts=row.attempts + 1, **failures)

    @handles(MediationCase.Escalated)
    def on_escalated(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, tier=event.to_tier)

    @handles(MediationCase.AgreementReached)
    def on_agreement_reached(self, event: Any, conn: Connection) -> None:
        self._step(conn, event, Step.AGREEMENT_OR_CONCLUSION, status=Status.AGREED.value, outcome="agreement",
                   follow_up_on=event.follow_up_on, follow_up_overdue=False)

    @handles(MediationCase.AgreementBreached)
    def on_agreement_breached(self, event: Any, conn: Connection) -> None:
        row = self._row(conn, event)
        steps = [s for s in json.loads(row.steps) if s not in (Step.AGREEMENT_OR_CONCLUSION, Step.FOLLOW_UP)]
        self._update(conn, event, status=Status.OPEN.value, outcome=None, follow_up_on=None,
                     follow_up_overdue=False, steps=json.dumps(steps))

    @handles(MediationCase.FollowedUp)
    def on_followed_up(self, event: Any, conn: Connection) -> None:
        self._step(conn, event, Step.FOLLOW_UP, follow_up_overdue=False)

    @handles(MediationCase.FollowUpOverdueFlagged)
    def on_follow_up_overdue(self, event: Any, conn: Connection) -> None:
        self._update(conn, event, follow_up_overdue=True)

    @handles(MediationCase.Concluded)
    def on_concluded(self, event: Any, conn: Connection) -> None:
        self._step(conn, event, Step.AGREEMENT_OR_CONCLUSION, status=Status.CONCLUDED.value, outcome="referral")

    @handles(MediationCase.Archived)
    def on_archived(self, event: Any, conn: Connection) -> None:
        self._step(conn, event, Step.ARCHIVE, status=Status.ARCHIVED.value)

    @handles(MediationCase.PartyErased)
    def on_party_erased(self, event: Any, conn: Connection) -> None:
        conn.execute(update(parties).where(parties.c.case_id == str(event.originator_id),
                                           parties.c.party_id == event.party_id).values(erased=True))
        self._update(conn, event)

    @handles(MediationCase.PersonalDataErased)
    def on_personal_data_erased(self, event: Any, conn: Connection) -> None:
        conn.execute(update(parties).where(parties.c.case_id == str(event.originator_id)).values(erased=True))
        self._update(conn, event, personal_data_erased=True)

    def _step(self, conn: Connection, event: Any, step: Step, **values: Any) -> None:
        steps = json.loads(self._row(conn, event).steps)
        if step.value not in steps:
            steps.append(step.value)
        self._update(conn, event, steps=json.dumps(steps), **values)

    def gauges(self, conn: Connection) -> Iterable[Any]:
        return [open_cases_gauge(conn), local_resolution_gauge(conn), escalations_counter(conn), overdue_gauge(conn)]


def projections() -> list[Projection]:
    return [CasesView()]


# -- figures --------------------------------------------------------------------------


def open_cases_gauge(conn: Connection) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily("pingan_mediation_cases_open",
                              "Cases being mediated or under an agreement, by tier and source",
                              labels=["service", "county", "tier", "source"])
    rows = conn.execute(
        select(cases.c.county, cases.c.tier, cases.c.source, func.count())
        .where(cases.c.status.in_(OPEN_STATUSES))
        .group_by(cases.c.county, cases.c.tier, cases.c.source)
    )
    for county, tier, source, count in rows:
        gauge.add_metric(["mediation", county, tier, source], count)
    return gauge


def local_resolution(conn: Connection) -> dict[tuple[str, str], tuple[int, int]]:
    """(county, tier) → (resolved there, decided there).

    A tier has decided a case when the case left it (escalated), reached an
    agreement that stands there, or was concluded there. Cases still being
    mediated at a tier are not yet counted for it.
    """
    figures: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = conn.execute(
        select(cases.c.county, cases.c.tier, cases.c.outcome, func.count())
        .group_by(cases.c.county, cases.c.tier, cases.c.outcome)
    )
    for county, tier, outcome, count in rows:
        current = TIERS.index(tier)
        for below in TIERS[:current]:
            figures[(county, below)][1] += count
        if outcome is not None:
            figures[(county, tier)][1] += count
            if outcome == "agreement":
                figures[(county, tier)][0] += count
    return {key: (resolved, decided) for key, (resolved, decided) in figures.items()}


def local_resolution_gauge(conn: Connection) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily("pingan_mediation_local_resolution_ratio",
                              "Share of the cases a tier decided that it resolved by agreement (Art. 11)",
                              labels=["service", "county", "tier"])
    for (county, tier), (resolved, decided) in sorted(local_resolution(conn).items()):
        if decided:
            gauge.add_metric(["mediation", county, tier], resolved / decided)
    return gauge


def escalations_counter(conn: Connection) -> CounterMetricFamily:
    """Escalations so far, by target tier: a case at the county went up twice. Tiers never
    go down, so the count only grows, and a rebuilt read model gives the same figure."""
    counter = CounterMetricFamily("pingan_mediation_escalations", "Cases escalated, by the tier they went up to",
                                  labels=["service", "county", "to_tier"])
    counts: dict[tuple[str, str], int] = defaultdict(int)
    rows = conn.execute(select(cases.c.county, cases.c.tier, func.count()).group_by(cases.c.county, cases.c.tier))
    for county, tier, count in rows:
        for reached in TIERS[1 : TIERS.index(tier) + 1]:
            counts[(county, reached)] += count
    for (county, to_tier), count in sorted(counts.items()):
        counter.add_metric(["mediation", county, to_tier], count)
    return counter


def overdue_gauge(conn: Connection) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily("pingan_mediation_follow_ups_overdue",
                              "Agreements whose follow-up date passed without a follow-up",
                              labels=["service", "county"])
    rows = conn.execute(
        select(cases.c.county, func.count()).where(cases.c.follow_up_overdue.is_(True)).group_by(cases.c.county)
    )
    for county, count in rows:
        gauge.add_metric(["mediation", county], count)
    return gauge


# -- queries ------------------------------------------------------------------------

# The personal columns of each read model: sealed values, opened only by an audited read.
SEALED_COLUMNS = {
    "mediation_cases_view": ("subject",),
    "mediation_parties_view": ("name",),
    "mediation_attempts_view": ("place",),
}
LISTED = [c for c in cases.c if c.name not in SEALED_COLUMNS[cases.name]]  # lists carry no personal data


def page_of(conn: Connection, query: Any, page: int, page_size: int) -> dict:
    # Rows whose seal fails are left out: a list never trusts a row the database alone edited.
    return checked_page(query, shared_page_of(conn, query, page, page_size, _JSON_COLUMNS))


def cases_query(scope: str, tier: str | None, status: str | None, source: str | None) -> Any:
    query = select(*LISTED).where(cases.c.jurisdiction.startswith(scope_prefix(scope)))
    for column, value in ((cases.c.tier, tier), (cases.c.status, status), (cases.c.source, source)):
        if value:
            query = query.where(column == value)
    return query.order_by(cases.c.opened_at.desc(), cases.c.case_id)


def case_by_id(conn: Connection, case_id: str) -> dict | None:
    # Access is decided on the case's jurisdiction: only from a row whose seal holds (as its parties' and attempts').
    row = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()
    found = checked_row(cases, _jsonable(row) if row else None)
    if found is None:
        return None
    found["parties"] = checked_rows(
        parties,
        [
            _jsonable(p)
            for p in conn.execute(
                select(parties).where(parties.c.case_id == case_id).order_by(parties.c.party_id)
            ).mappings()
        ],
    )
    found["attempt_log"] = checked_rows(
        attempts,
        [
            _jsonable(a)
            for a in conn.execute(
                select(attempts).where(attempts.c.case_id == case_id).order_by(attempts.c.number)
            ).mappings()
        ],
    )
    return found


def open_case_record(found: dict, open_value: Any) -> dict:
    """A case from ``case_by_id`` with its sealed fields opened by ``open_value`` (the vault's ``open``)."""

    def opened(row: dict, table: Table) -> dict:
        return {**row, **{name: open_value(row[name]) for name in SEALED_COLUMNS[table.name] if name in row}}

    return {
        **opened(found, cases),
        "parties": [opened(p, parties) for p in found["parties"]],
        "attempt_log": [opened(a, attempts) for a in found["attempt_log"]],
    }


def overdue_candidates(conn: Connection, today: date) -> list[str]:
    """Cases whose agreement's follow-up date has passed, not yet followed up nor flagged."""
    rows = conn.execute(
        select(cases.c.case_id, cases.c.steps).where(
            cases.c.status == Status.AGREED.value, cases.c.follow_up_on < today, cases.c.follow_up_overdue.is_(False)
        )
    )
    return [case_id for case_id, steps in rows if Step.FOLLOW_UP.value not in json.loads(steps)]


_JSON_COLUMNS = frozenset({"steps", "partners", "languages", "mediator_ids", "interpreters"})


def _jsonable(row: Any) -> dict:
    return row_to_dict(row, _JSON_COLUMNS)
