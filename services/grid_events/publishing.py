"""Which of grid_events' domain events become which public events: the service's private
mapping onto its public contract (``contracts``), used by the relay only.

Kept out of ``contracts`` so that the public contract imports no domain and another
service may import it (docs/architecture.md, "The contract split").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.contracts import Contracts, Payload
from shared.jurisdiction import county_or_self

from . import contracts as c
from .domain import EventReport, MajorDecision, Risk, WorkItem


def contracts() -> Contracts:
    published = Contracts.declaring(c.SERVICE, c.PUBLISHED)

    @published.maps(EventReport.Reported)
    def reported(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        payload = c.EventReported(
            event_id=domain_event.originator_id,
            grid_code=domain_event.grid_code,
            jurisdiction=domain_event.jurisdiction,
            county=county_or_self(domain_event.jurisdiction),
            category=domain_event.category,
            source=domain_event.source,
            severity=domain_event.severity,
            reported_at=domain_event.timestamp,
            external_ref=getattr(domain_event, "external_ref", None),
        )
        if domain_event.category == c.Category.DISPUTE:
            yield c.DISPUTE_REPORTED, payload
        if domain_event.severity == c.Severity.SEVERE:
            yield c.SEVERE_EVENT_REPORTED, payload

    @published.maps(EventReport.Assigned)
    def assigned(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        body = getattr(domain_event, "body_code", None)
        if body is None:
            return  # assigned before member units existed: no unit id to publish
        yield c.EVENT_ASSIGNED, c.EventAssigned(
            event_id=domain_event.originator_id,
            grid_code=domain_event.grid_code,
            jurisdiction=domain_event.jurisdiction,
            county=county_or_self(domain_event.jurisdiction),
            unit_id=f"{body}:{domain_event.unit}",
            contact_id=domain_event.contact_id,
            assigned_at=domain_event.timestamp,
            external_ref=getattr(domain_event, "external_ref", None),
        )

    def progress(event_type: str, payload: type[c.EventProgress], at: str, *extra: str):
        def mapper(domain_event: Any) -> Iterable[tuple[str, Payload]]:
            jurisdiction = getattr(domain_event, "jurisdiction", None)
            if jurisdiction is None:
                return  # stored before lifecycle events carried where they lie: nothing to publish
            yield event_type, payload(
                event_id=domain_event.originator_id,
                grid_code=domain_event.grid_code,
                jurisdiction=jurisdiction,
                county=county_or_self(jurisdiction),
                external_ref=domain_event.external_ref,
                **{at: domain_event.timestamp},
                **{name: getattr(domain_event, name) for name in extra},
            )

        return mapper

    published.maps(EventReport.Accepted)(progress(c.EVENT_ACCEPTED, c.EventAccepted, "accepted_at"))
    published.maps(EventReport.Handled)(progress(c.EVENT_HANDLED, c.EventHandled, "handled_at"))
    published.maps(EventReport.FeedbackRecorded)(
        progress(c.FEEDBACK_RECORDED, c.FeedbackRecorded, "recorded_at", "satisfied"))
    published.maps(EventReport.Closed)(progress(c.EVENT_CLOSED, c.EventClosed, "closed_at", "satisfied"))

    @published.maps(WorkItem.MarkedOverdue)
    def overdue(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield c.WORK_ITEM_OVERDUE, c.WorkItemOverdue(
            item_id=domain_event.originator_id,
            grid_code=domain_event.grid_code,
            jurisdiction=domain_event.jurisdiction,
            county=county_or_self(domain_event.jurisdiction),
            kind=domain_event.kind,
            due_date=domain_event.due_date,
            marked_at=domain_event.timestamp,
        )

    @published.maps(Risk.Registered)
    def risk_registered(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield c.RISK_REGISTERED, c.RiskRegistered(
            risk_id=domain_event.originator_id,
            jurisdiction=domain_event.jurisdiction,
            county=county_or_self(domain_event.jurisdiction),
            category=domain_event.category,
            source=domain_event.source,
            level=domain_event.level,
            responsible_unit=domain_event.responsible_unit,
            registered_at=domain_event.timestamp,
        )
        if domain_event.level == c.WarningLevel.RED:
            yield c.RISK_RAISED_TO_RED, _level_payload(domain_event, None)

    def risk_level(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        payload = _level_payload(domain_event, domain_event.previous_level)
        yield c.RISK_LEVEL_CHANGED, payload
        if domain_event.level == c.WarningLevel.RED and domain_event.previous_level != c.WarningLevel.RED:
            yield c.RISK_RAISED_TO_RED, payload

    published.maps(Risk.WarningIssued)(risk_level)
    published.maps(Risk.LevelChanged)(risk_level)

    @published.maps(Risk.Closed)
    def risk_closed(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield c.RISK_CLOSED, c.RiskClosed(
            risk_id=domain_event.originator_id,
            jurisdiction=domain_event.jurisdiction,
            county=county_or_self(domain_event.jurisdiction),
            category=domain_event.category,
            closed_at=domain_event.timestamp,
        )

    @published.maps(MajorDecision.Cleared)
    def decision_cleared(domain_event: Any) -> Iterable[tuple[str, Payload]]:
        yield c.DECISION_CLEARED, c.DecisionCleared(
            decision_id=domain_event.originator_id,
            jurisdiction=domain_event.jurisdiction,
            county=county_or_self(domain_event.jurisdiction),
            risk_level=domain_event.risk_level,
            cleared_at=domain_event.timestamp,
        )

    return published


def _level_payload(domain_event: Any, previous_level: str | None) -> c.RiskLevelChanged:
    return c.RiskLevelChanged(
        risk_id=domain_event.originator_id,
        jurisdiction=domain_event.jurisdiction,
        county=county_or_self(domain_event.jurisdiction),
        category=domain_event.category,
        level=domain_event.level,
        previous_level=previous_level,
        changed_at=domain_event.timestamp,
    )
