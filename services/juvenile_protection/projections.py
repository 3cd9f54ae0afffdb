"""Read models of juvenile_protection: reports, cases with their guardians,
protection plans with their tasks and reviews, special-school referrals; and the
figures (open cases by category and county, overdue report acceptances, stalled
plan tasks, plan and placement reviews overdue).

One projection holds every table, so a sealing marks the case, its reports
and its plan in the same transaction. A sealed row is left out of every query,
count and figure unless the read is a judicial one with an approval
(``sealed_too``), so each answers exactly as if the record did not exist.

Every table carries a ``row_seal`` (shared/security/row_seal.py) over its id,
its jurisdiction codes and the sealed values written with it; reads go through
``checked_page`` / ``checked_row``. Figures are computed from the shared read
model at scrape time, so every replica reports the same value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, func, insert, select, update
from sqlalchemy.engine import Connection

from shared.jurisdiction import county_of, scope_prefix
from shared.projections import Projection, handles, row_to_dict
from shared.projections import page_of as shared_page_of
from shared.security.row_seal import checked_page, checked_row, checked_rows, seal_column

from .domain import Category, MinorCase, ProtectionPlan, Report, SpecialSchoolReferral, majority_on

SERVICE = "juvenile_protection"
metadata = MetaData()


def _utc(instant: str) -> datetime:
    return datetime.fromisoformat(instant).astimezone(UTC)


reports = Table(
    "jp_reports_view", metadata,
    Column("report_id", String(36), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("status", String(12), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("deadline_at", DateTime(timezone=True), nullable=False),
    Column("overdue", Boolean, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("case_id", String(36), index=True),
    Column("redirected_to", String(20)),
    Column("summary", Text),  # sealed under the report's key
    Column("note", Text),  # sealed
    Column("sealed", Boolean, nullable=False),  # its case's record is sealed
    Column("version", Integer, nullable=False),
    seal_column("report_id", "source", "reference", "jurisdiction", "county", "summary"),
)

cases = Table(
    "jp_cases_view", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("report_id", String(36), nullable=False),
    Column("minor_id", String(40), nullable=False, index=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("county", String(6), nullable=False, index=True),
    Column("birth_month", String(7), nullable=False),
    Column("majority_on", String(10), nullable=False),
    Column("categories", Text, nullable=False),  # JSON list
    Column("status", String(12), nullable=False, index=True),
    Column("opened_on", String(10), nullable=False),
    Column("school_id", String(100)),
    Column("name", Text),  # sealed under the child's key
    Column("date_of_birth", Text),
    Column("id_number", Text),
    Column("address", Text),
    Column("closure_reason", String(20)),
    Column("closed_on", String(10)),
    Column("handed_over_to", String(20)),
    Column("sealed", Boolean, nullable=False, index=True),
    Column("reports", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("case_id", "report_id", "minor_id", "jurisdiction", "county", "birth_month", "name",
                "date_of_birth", "id_number", "address"),
)

guardians = Table(
    "jp_guardians_view", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("guardian_id", String(8), primary_key=True),
    Column("jurisdiction", String(15), nullable=False),
    Column("relation", String(20), nullable=False),
    Column("guardian_name", Text),  # sealed under the guardian's key
    Column("guardian_phone", Text),
    seal_column("case_id", "guardian_id", "jurisdiction", "guardian_name", "guardian_phone"),
)

plans = Table(
    "jp_plans_view", metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("county", String(6), nullable=False),
    Column("lead_department", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("next_review_on", String(10), nullable=False),
    Column("review_overdue", Boolean, nullable=False),  # flagged by the timer, until the next review
    Column("reviews", Integer, nullable=False),
    Column("last_reviewed_on", String(10)),
    Column("last_review_outcome", String(20)),
    Column("tasks", Integer, nullable=False),
    Column("open_tasks", Integer, nullable=False),
    Column("done_tasks", Integer, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("sealed", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("plan_id", "case_id", "jurisdiction", "county"),
)

tasks = Table(
    "jp_plan_tasks_view", metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("task_id", String(8), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("jurisdiction", String(15), nullable=False),
    Column("county", String(6), nullable=False),
    Column("department", String(20), nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("status", String(12), nullable=False),
    Column("stalled", Boolean, nullable=False),
    Column("description", Text, nullable=False),  # sealed under the case's text key
    Column("note", Text),  # sealed
    Column("sealed", Boolean, nullable=False),
    seal_column("plan_id", "task_id", "case_id", "jurisdiction", "county", "description"),
)

referrals = Table(
    "jp_special_school_referrals_view", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("jurisdiction", String(15), nullable=False, index=True),
    Column("proposed_by", String(20), nullable=False),
    Column("status", String(15), nullable=False),
    Column("assessments", Text, nullable=False),  # JSON {department: recommends}
    Column("guardian_view", String(15)),
    Column("admitted", Boolean),
    Column("decided_on", String(10)),
    Column("school_id", String(100)),
    Column("next_review_on", String(10)),
    Column("review_overdue", Boolean, nullable=False),  # flagged by the timer, until the next review
    Column("grounds", Text, nullable=False),  # sealed under the case's text key
    Column("basis", Text),  # sealed
    Column("sealed", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    seal_column("referral_id", "case_id", "jurisdiction", "grounds"),
)

OPEN_TASK = ("assigned", "acknowledged")


class CasesView(Projection):
    name = "juvenile_protection.cases"
    tables = [reports, cases, guardians, plans, tasks, referrals]

    # -- reports --------------------------------------------------------------------------

    @handles(Report.Received)
    def on_received(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(reports).values(
            report_id=str(event.originator_id), source=event.source, reference=event.reference,
            jurisdiction=event.jurisdiction, county=county_of(event.jurisdiction), status="received",
            received_at=_utc(event.received_at), deadline_at=_utc(event.deadline_at), overdue=False, late=False,
            summary=event.summary, sealed=False, version=event.originator_version))

    @handles(Report.OverdueFlagged)
    def on_overdue(self, event: Any, conn: Connection) -> None:
        self._report(conn, event, overdue=True)

    @handles(Report.Accepted)
    def on_accepted(self, event: Any, conn: Connection) -> None:
        sealed = conn.execute(select(cases.c.sealed).where(cases.c.case_id == event.case_id)).scalar()
        self._report(conn, event, status="accepted", case_id=event.case_id, late=event.late, sealed=bool(sealed))

    @handles(Report.Redirected)
    def on_redirected(self, event: Any, conn: Connection) -> None:
        self._report(conn, event, status="redirected", redirected_to=event.to_department, note=event.note,
                     late=event.late)

    def _report(self, conn: Connection, event: Any, **values: Any) -> None:
        conn.execute(update(reports).where(reports.c.report_id == str(event.originator_id))
                     .values(version=event.originator_version, **values))

    # -- cases --------------------------------------------------------------------------------

    @handles(MinorCase.Opened)
    def on_opened(self, event: Any, conn: Connection) -> None:
        conn.execute(insert(cases).values(
            case_id=str(event.originator_id), report_id=event.report_id, minor_id=event.minor_id,
            jurisdiction=event.jurisdiction, county=county_of(event.jurisdiction), birth_month=event.birth_month,
            majority_on=majority_on(event.birth_month).isoformat(), categories=json.dumps(event.categories),
            status="open",
            opened_on=event.opened_on, school_id=event.school_id, name=event.name, date_of_birth=event.date_of_birth,
            id_number=event.id_number, address=event.address, sealed=False, reports=1,
            version=event.originator_version))

    @handles(MinorCase.ReportLinked)
    def on_report_linked(self, event: Any, conn: Connection) -> None:
        self._case(conn, event, reports=cases.c.reports + 1)

    @handles(MinorCase.CategoryAdded)
    def on_category_added(self, event: Any, conn: Connection) -> None:
        self._categories(conn, event, lambda values: [*values, event.category])

    @handles(MinorCase.CategoryRemoved)
    def on_category_removed(self, event: Any, conn: Connection) -> None:
        self._categories(conn, event, lambda values: [v for v in values if v != event.category])

    @handles(MinorCase.GuardianAdded)
    def on_guardian_added(self, event: Any, conn: Connection) -> None:
        jurisdiction = conn.execute(select(cases.c.jurisdiction)
                                    .where(cases.c.case_id == str(event.originator_id))).scalar_one()
        conn.execute(insert(guardians).values(
            case_id=str(event.originator_id), guardian_id=event.guardian_id, jurisdiction=jurisdiction,
            relation=event.relation, guardian_name=event.guardian_name, guardian_phone=event.guardian_phone))
        self._case(conn, event)

    @handles(MinorCase.SchoolRecorded)
    def on_school(self, event: Any, conn: Connection) -> None:
        self._case(conn, event, school_id=event.school_id)

    @handles(MinorCase.HandedOver)
    def on_handed_over(self, event: Any, conn: Connection) -> None:
        self._case(conn, event, status="handed_over", closure_reason="reached_majority", closed_on=event.on,
                   handed_over_to=event.to_department)

    @handles(MinorCase.Closed)
    def on_closed(self, event: Any, conn: Connection) -> None:
        self._case(conn, event, status="closed", closure_reason=event.reason, closed_on=event.on)

    @handles(MinorCase.RecordSealed)
    def on_sealed(self, event: Any, conn: Connection) -> None:
        self._sealing(conn, event, True)

    @handles(MinorCase.RecordUnsealed)
    def on_unsealed(self, event: Any, conn: Connection) -> None:
        self._sealing(conn, event, False)

    def _sealing(self, conn: Connection, event: Any, sealed: bool) -> None:
        """The case and everything that hangs on it vanish (or come back) together."""
        case_id = str(event.originator_id)
        self._case(conn, event, sealed=sealed)
        for table in (reports, plans, tasks, referrals):
            conn.execute(update(table).where(table.c.case_id == case_id).values(sealed=sealed))

    def _categories(self, conn: Connection, event: Any, change: Any) -> None:
        current = json.loads(conn.execute(select(cases.c.categories)
                                          .where(cases.c.case_id == str(event.originator_id))).scalar_one())
        self._case(conn, event, categories=json.dumps(change(current)))

    def _case(self, conn: Connection, event: Any, **values: Any) -> None:
        conn.execute(update(cases).where(cases.c.case_id == str(event.originator_id))
                     .values(version=event.originator_version, **values))

    # -- plans ----------------------------------------------------------------------------------

    @handles(ProtectionPlan.DrawnUp)
    def on_drawn_up(self, event: Any, conn: Connection) -> None:
        sealed = conn.execute(select(cases.c.sealed).where(cases.c.case_id == event.case_id)).scalar()
        conn.execute(insert(plans).values(
            plan_id=str(event.originator_id), case_id=event.case_id, jurisdiction=event.jurisdiction,
            county=county_of(event.jurisdiction), lead_department=event.lead_department, status="active",
            next_review_on=event.next_review_on, review_overdue=False, reviews=0, tasks=0, open_tasks=0,
            done_tasks=0, complete=False, sealed=bool(sealed), version=event.originator_version))

    @handles(ProtectionPlan.TaskAssigned)
    def on_task_assigned(self, event: Any, conn: Connection) -> None:
        plan = self._plan_row(conn, event)
        conn.execute(insert(tasks).values(
            plan_id=str(event.originator_id), task_id=event.task_id, case_id=plan.case_id,
            jurisdiction=plan.jurisdiction, county=plan.county, department=event.department, due_on=event.due_on,
            status="assigned", stalled=False, description=event.description, sealed=plan.sealed))
        self._recount(conn, event)

    @handles(ProtectionPlan.TaskAcknowledged)
    def on_task_acknowledged(self, event: Any, conn: Connection) -> None:
        self._task(conn, event, status="acknowledged")

    @handles(ProtectionPlan.TaskCompleted)
    def on_task_completed(self, event: Any, conn: Connection) -> None:
        self._task(conn, event, status="done", note=event.note, stalled=False)

    @handles(ProtectionPlan.TaskCancelled)
    def on_task_cancelled(self, event: Any, conn: Connection) -> None:
        self._task(conn, event, status="cancelled", note=event.reason, stalled=False)

    @handles(ProtectionPlan.TaskOverdueFlagged)
    def on_task_overdue(self, event: Any, conn: Connection) -> None:
        self._task(conn, event, stalled=True)

    @handles(ProtectionPlan.LeadChanged)
    def on_lead_changed(self, event: Any, conn: Connection) -> None:
        self._plan(conn, event, lead_department=event.lead_department)

    @handles(ProtectionPlan.Reviewed)
    def on_reviewed(self, event: Any, conn: Connection) -> None:
        self._plan(conn, event, next_review_on=event.next_review_on, review_overdue=False,
                   reviews=plans.c.reviews + 1, last_reviewed_on=event.held_on, last_review_outcome=event.outcome)

    @handles(ProtectionPlan.ReviewOverdueFlagged)
    def on_plan_review_overdue(self, event: Any, conn: Connection) -> None:
        self._plan(conn, event, review_overdue=True)

    @handles(ProtectionPlan.Ended)
    def on_ended(self, event: Any, conn: Connection) -> None:
        self._plan(conn, event, status="ended", review_overdue=False)
        conn.execute(update(tasks).where(tasks.c.plan_id == str(event.originator_id)).values(stalled=False))

    def _task(self, conn: Connection, event: Any, **values: Any) -> None:
        conn.execute(update(tasks).where(tasks.c.plan_id == str(event.originator_id),
                                         tasks.c.task_id == event.task_id).values(**values))
        self._recount(conn, event)

    def _recount(self, conn: Connection, event: Any) -> None:
        statuses = [row.status for row in conn.execute(select(tasks.c.status)
                                                       .where(tasks.c.plan_id == str(event.originator_id)))]
        open_count = sum(status in OPEN_TASK for status in statuses)
        done = statuses.count("done")
        self._plan(conn, event, tasks=len(statuses), open_tasks=open_count, done_tasks=done,
                   complete=bool(done and not open_count))

    def _plan_row(self, conn: Connection, event: Any) -> Any:
        return conn.execute(select(plans).where(plans.c.plan_id == str(event.originator_id))).one()

    def _plan(self, conn: Connection, event: Any, **values: Any) -> None:
        conn.execute(update(plans).where(plans.c.plan_id == str(event.originator_id))
                     .values(version=event.originator_version, **values))

    # -- special-school referrals ------------------------------------------------------------------

    @handles(SpecialSchoolReferral.Proposed)
    def on_proposed(self, event: Any, conn: Connection) -> None:
        sealed = conn.execute(select(cases.c.sealed).where(cases.c.case_id == event.case_id)).scalar()
        conn.execute(insert(referrals).values(
            referral_id=str(event.originator_id), case_id=event.case_id, jurisdiction=event.jurisdiction,
            proposed_by=event.proposed_by, status="proposed", assessments="{}", review_overdue=False,
            grounds=event.grounds,
            sealed=bool(sealed), version=event.originator_version))

    @handles(SpecialSchoolReferral.Assessed)
    def on_assessed(self, event: Any, conn: Connection) -> None:
        done = json.loads(conn.execute(select(referrals.c.assessments).where(
            referrals.c.referral_id == str(event.originator_id))).scalar_one())
        done[event.by] = event.recommends
        self._referral(conn, event, assessments=json.dumps(done), **({"status": "assessed"} if event.complete else {}))

    @handles(SpecialSchoolReferral.GuardianHeard)
    def on_guardian_heard(self, event: Any, conn: Connection) -> None:
        self._referral(conn, event, guardian_view=event.view)

    @handles(SpecialSchoolReferral.Decided)
    def on_decided(self, event: Any, conn: Connection) -> None:
        self._referral(conn, event, status="admitted" if event.admitted else "not_admitted", admitted=event.admitted,
                       decided_on=event.decided_on, basis=event.basis)

    @handles(SpecialSchoolReferral.Placed)
    def on_placed(self, event: Any, conn: Connection) -> None:
        self._referral(conn, event, status="placed", school_id=event.school_id, next_review_on=event.next_review_on)

    @handles(SpecialSchoolReferral.Reviewed)
    def on_referral_reviewed(self, event: Any, conn: Connection) -> None:
        self._referral(conn, event, next_review_on=event.next_review_on, review_overdue=False)

    @handles(SpecialSchoolReferral.ReviewOverdueFlagged)
    def on_placement_review_overdue(self, event: Any, conn: Connection) -> None:
        self._referral(conn, event, review_overdue=True)

    @handles(SpecialSchoolReferral.Returned)
    def on_returned(self, event: Any, conn: Connection) -> None:
        self._referral(conn, event, status="returned", school_id=event.school_id, next_review_on=None,
                       review_overdue=False)

    def _referral(self, conn: Connection, event: Any, **values: Any) -> None:
        conn.execute(update(referrals).where(referrals.c.referral_id == str(event.originator_id))
                     .values(version=event.originator_version, **values))

    # -- figures (bounded labels: county, category, department) -------------------------------------

    def gauges(self, conn: Connection) -> Iterable[Any]:
        return [open_cases_gauge(conn), overdue_reports_gauge(conn), stalled_tasks_gauge(conn),
                overdue_reviews_gauge(conn)]


def open_cases_gauge(conn: Connection) -> GaugeMetricFamily:
    """Open cases by category and county; a sealed case is never counted, and the category that
    sealing rests on is not a label (others must not learn of it)."""
    gauge = GaugeMetricFamily("pingan_juvenile_open_cases", "Open minors' cases by category and county",
                              labels=["service", "county", "category"])
    counts: dict[tuple[str, str], int] = {}
    for county, categories in conn.execute(select(cases.c.county, cases.c.categories)
                                           .where(cases.c.status == "open", cases.c.sealed.is_(False))):
        for category in json.loads(categories):
            if category != Category.IN_CONFLICT_WITH_LAW:
                counts[(county, category)] = counts.get((county, category), 0) + 1
    for (county, category), count in sorted(counts.items()):
        gauge.add_metric([SERVICE, county, category], count)
    return gauge


def overdue_reports_gauge(conn: Connection) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily("pingan_juvenile_reports_overdue",
                              "Mandatory reports still waiting for acceptance after their deadline",
                              labels=["service", "county"])
    for county, count in conn.execute(select(reports.c.county, func.count())
                                      .where(reports.c.status == "received", reports.c.overdue.is_(True),
                                             reports.c.sealed.is_(False)).group_by(reports.c.county)):
        gauge.add_metric([SERVICE, county], count)
    return gauge


def stalled_tasks_gauge(conn: Connection) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily("pingan_juvenile_plan_tasks_stalled",
                              "Protection-plan tasks past their due date and not done",
                              labels=["service", "county", "department"])
    for county, department, count in conn.execute(
            select(tasks.c.county, tasks.c.department, func.count())
            .where(tasks.c.stalled.is_(True), tasks.c.sealed.is_(False))
            .group_by(tasks.c.county, tasks.c.department)):
        gauge.add_metric([SERVICE, county, department], count)
    return gauge


def overdue_reviews_gauge(conn: Connection) -> GaugeMetricFamily:
    """Plans and special-school placements past their review date, by county and kind (plan, placement)."""
    gauge = GaugeMetricFamily("pingan_juvenile_reviews_overdue",
                              "Protection plans and special-school placements past their periodic review date",
                              labels=["service", "county", "kind"])
    counts: dict[tuple[str, str], int] = {}
    for county, count in conn.execute(select(plans.c.county, func.count())
                                      .where(plans.c.review_overdue.is_(True), plans.c.sealed.is_(False))
                                      .group_by(plans.c.county)):
        counts[(county, "plan")] = count
    for county, count in conn.execute(select(cases.c.county, func.count()).select_from(
            referrals.join(cases, cases.c.case_id == referrals.c.case_id))
            .where(referrals.c.review_overdue.is_(True), referrals.c.sealed.is_(False)).group_by(cases.c.county)):
        counts[(county, "placement")] = count
    for (county, kind), count in sorted(counts.items()):
        gauge.add_metric([SERVICE, county, kind], count)
    return gauge


def projections() -> list[Projection]:
    return [CasesView()]


# -- queries ------------------------------------------------------------------------------------------

# The personal columns of the read models: sealed values, opened only after an audited read.
SEALED_COLUMNS = ("summary", "note", "name", "date_of_birth", "id_number", "address", "guardian_name",
                  "guardian_phone", "description", "grounds", "basis")
_JSON_COLUMNS = frozenset({"categories", "assessments"})


def page_of(conn: Connection, query: Any, page: int, page_size: int) -> dict:
    # Rows whose seal fails are left out: a list never trusts a row the database alone edited.
    return checked_page(query, shared_page_of(conn, query, page, page_size, _JSON_COLUMNS))


def _one(conn: Connection, query: Any) -> dict | None:
    row = conn.execute(query).mappings().first()
    return checked_row(query, row_to_dict(row, _JSON_COLUMNS) if row else None)


def _all(conn: Connection, query: Any) -> list[dict]:
    return checked_rows(query, [row_to_dict(row, _JSON_COLUMNS) for row in conn.execute(query).mappings()])


def _visible(query: Any, table: Table, sealed_too: bool) -> Any:
    return query if sealed_too else query.where(table.c.sealed.is_(False))


def cases_query(scope: str, status: str | None, category: str | None, sealed_too: bool) -> Any:
    query = _visible(select(cases).where(cases.c.jurisdiction.startswith(scope_prefix(scope))), cases, sealed_too)
    if status:
        query = query.where(cases.c.status == status)
    if category:
        query = query.where(cases.c.categories.contains(json.dumps(category)))
    return query.order_by(cases.c.opened_on.desc(), cases.c.case_id)


def case_by_id(conn: Connection, case_id: str, sealed_too: bool) -> dict | None:
    found = _one(conn, _visible(select(cases).where(cases.c.case_id == case_id), cases, sealed_too))
    if found is None:
        return None
    return {**found, "guardian_list": _all(conn, select(guardians).where(guardians.c.case_id == case_id)
                                           .order_by(guardians.c.guardian_id))}


def case_counts(conn: Connection, scope: str, sealed_too: bool) -> dict:
    """Open cases by category in ``scope``, from rows whose seal holds."""
    rows = _all(conn, _visible(select(cases).where(cases.c.jurisdiction.startswith(scope_prefix(scope)),
                                                   cases.c.status == "open"), cases, sealed_too))
    counts = {category.value: 0 for category in Category}
    for row in rows:
        for category in row["categories"]:
            counts[category] += 1
    return {"jurisdiction": scope, "open": len(rows), "by_category": counts}


def reports_query(scope: str, status: str | None, overdue: bool | None, sealed_too: bool) -> Any:
    query = _visible(select(reports).where(reports.c.jurisdiction.startswith(scope_prefix(scope))), reports,
                     sealed_too)
    if status:
        query = query.where(reports.c.status == status)
    if overdue is not None:
        query = query.where(reports.c.overdue.is_(overdue))
    return query.order_by(reports.c.received_at.desc(), reports.c.report_id)


def plan_by_id(conn: Connection, plan_id: str, sealed_too: bool) -> dict | None:
    found = _one(conn, _visible(select(plans).where(plans.c.plan_id == plan_id), plans, sealed_too))
    if found is None:
        return None
    return {**found, "task_list": _all(conn, select(tasks).where(tasks.c.plan_id == plan_id)
                                       .order_by(tasks.c.task_id))}


def referral_by_id(conn: Connection, referral_id: str, sealed_too: bool) -> dict | None:
    return _one(conn, _visible(select(referrals).where(referrals.c.referral_id == referral_id), referrals,
                               sealed_too))


# -- what the timers look for ---------------------------------------------------------------------------


def overdue_report_candidates(conn: Connection, now: datetime) -> list[str]:
    return list(conn.execute(select(reports.c.report_id).where(
        reports.c.status == "received", reports.c.overdue.is_(False),
        reports.c.deadline_at < now.astimezone(UTC))).scalars())


def majority_candidates(conn: Connection, today: date) -> list[str]:
    return list(conn.execute(select(cases.c.case_id).where(
        cases.c.status == "open", cases.c.majority_on <= today.isoformat())).scalars())


def plan_review_candidates(conn: Connection, today: date) -> list[str]:
    return list(conn.execute(select(plans.c.plan_id).where(
        plans.c.status == "active", plans.c.review_overdue.is_(False),
        plans.c.next_review_on < today.isoformat())).scalars())


def placement_review_candidates(conn: Connection, today: date) -> list[str]:
    return list(conn.execute(select(referrals.c.referral_id).where(
        referrals.c.status == "placed", referrals.c.review_overdue.is_(False),
        referrals.c.next_review_on < today.isoformat())).scalars())


def stalled_task_candidates(conn: Connection, today: date) -> list[str]:
    return list(conn.execute(select(tasks.c.plan_id).distinct().where(
        tasks.c.status.in_(OPEN_TASK), tasks.c.stalled.is_(False), tasks.c.due_on < today.isoformat())).scalars())
