"""Which domain events become which public events (private to this service).

The payload schemas are the public contract (``contracts.py``); this module is
the only place that knows the domain events behind them. Nothing about sealing
is published (nor a category removed or a school recorded: they would tell of a case's categories and
of the child), and ``in_conflict_with_law`` is left out of a case's categories,
so no other system learns of a record the law seals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.contracts import Contracts, Payload
from shared.jurisdiction import county_of

from . import contracts as c
from .domain import Category, MinorCase, ProtectionPlan, Report, SpecialSchoolReferral

Mapped = Iterable[tuple[str, Payload]]


def _county(code: str) -> str:
    return county_of(code) or code  # a village always has one


def published() -> Contracts:
    """The service's published events and the domain events behind them."""
    contracts = Contracts(c.SERVICE)
    for event_type, schema in c.PUBLISHED.items():
        contracts.publishes(event_type, schema)

    @contracts.maps(Report.OverdueFlagged)
    def report_overdue(e: Any) -> Mapped:
        yield c.REPORT_OVERDUE, c.ReportOverdue(report_id=e.originator_id, source=e.source,
                                                jurisdiction=e.jurisdiction, county=_county(e.jurisdiction),
                                                deadline_at=e.deadline_at)

    @contracts.maps(MinorCase.Opened)
    def case_opened(e: Any) -> Mapped:
        yield c.CASE_OPENED, c.CaseOpened(
            case_id=e.originator_id, report_id=e.report_id, jurisdiction=e.jurisdiction,
            county=_county(e.jurisdiction), opened_on=e.opened_on,
            categories=[category for category in e.categories if category != Category.IN_CONFLICT_WITH_LAW])

    @contracts.maps(MinorCase.HandedOver)
    def handed_over(e: Any) -> Mapped:
        yield c.CASE_HANDED_OVER, c.CaseHandedOver(case_id=e.originator_id,
                                                   to_department=e.to_department, on=e.on)

    @contracts.maps(MinorCase.Closed)
    def closed(e: Any) -> Mapped:
        yield c.CASE_CLOSED, c.CaseClosed(case_id=e.originator_id, reason=e.reason, on=e.on)

    @contracts.maps(ProtectionPlan.TaskAssigned)
    def task_assigned(e: Any) -> Mapped:
        yield c.PLAN_TASK_ASSIGNED, c.PlanTaskAssigned(plan_id=e.originator_id, task_id=e.task_id,
                                                       department=e.department,
                                                       due_on=e.due_on)

    @contracts.maps(ProtectionPlan.TaskOverdueFlagged)
    def task_overdue(e: Any) -> Mapped:
        yield c.PLAN_TASK_OVERDUE, c.PlanTaskOverdue(plan_id=e.originator_id, task_id=e.task_id,
                                                     department=e.department,
                                                     due_on=e.due_on)

    @contracts.maps(SpecialSchoolReferral.Decided)
    def special_school_decided(e: Any) -> Mapped:
        yield c.SPECIAL_SCHOOL_DECIDED, c.SpecialSchoolDecided(referral_id=e.originator_id, admitted=e.admitted,
                                                               decided_on=e.decided_on)

    @contracts.maps(ProtectionPlan.LeadChanged)
    def lead_changed(e: Any) -> Mapped:
        yield c.PLAN_LEAD_CHANGED, c.PlanLeadChanged(plan_id=e.originator_id, jurisdiction=e.jurisdiction,
                                                     county=_county(e.jurisdiction), lead_department=e.lead_department)

    @contracts.maps(ProtectionPlan.Reviewed)
    def reviewed(e: Any) -> Mapped:
        yield c.PLAN_REVIEWED, c.PlanReviewed(plan_id=e.originator_id, jurisdiction=e.jurisdiction,
                                              county=_county(e.jurisdiction), outcome=e.outcome, held_on=e.held_on,
                                              next_review_on=e.next_review_on, was_overdue=e.was_overdue)

    @contracts.maps(ProtectionPlan.ReviewOverdueFlagged)
    def plan_review_overdue(e: Any) -> Mapped:
        yield c.PLAN_REVIEW_OVERDUE, c.PlanReviewOverdue(plan_id=e.originator_id, jurisdiction=e.jurisdiction,
                                                         county=_county(e.jurisdiction),
                                                         lead_department=e.lead_department, review_on=e.review_on)

    @contracts.maps(SpecialSchoolReferral.ReviewOverdueFlagged)
    def placement_review_overdue(e: Any) -> Mapped:
        yield c.PLACEMENT_REVIEW_OVERDUE, c.PlacementReviewOverdue(referral_id=e.originator_id,
                                                                   jurisdiction=e.jurisdiction,
                                                                   county=_county(e.jurisdiction),
                                                                   review_on=e.review_on)

    return contracts
