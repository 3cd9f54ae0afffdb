"""Read models of grid_events, for queries and the per-county gauges: one module per
family of the domain (registry, reports, work items, risks, decisions), sharing one
metadata (``common``). Everything is re-exported here, so ``projections.<name>`` works
as it did when this was one module."""

from __future__ import annotations

from shared.projections import Projection

from .common import (
    DOUBLY_SEALED_COLUMNS,
    DOUBLY_SEALED_PREFIX,
    JSON_COLUMNS,
    SEALED_COLUMNS,
    SERVICE,
    metadata,
    page_of,
)
from .decisions import DecisionsView, decisions, decisions_query, family_assessments, family_assessments_query
from .naming import places_naming, records_naming
from .registry import (
    RegistryView,
    contact_points,
    contact_points_query,
    grids,
    grids_query,
    jurisdictions,
    jurisdictions_query,
    member_units,
    member_units_query,
    participants,
    participants_query,
)
from .reports import CLOSURE_BUCKETS, EventReportsView, event_by_id, events_query, reports, source_report
from .risks import RisksView, risk_by_id, risks, risks_query
from .work_items import WorkItemsView, overdue_candidates, work_item_by_id, work_items, work_items_query


def projections() -> list[Projection]:
    return [RegistryView(), EventReportsView(), WorkItemsView(), RisksView(), DecisionsView()]


__all__ = [
    "CLOSURE_BUCKETS", "DOUBLY_SEALED_COLUMNS", "DOUBLY_SEALED_PREFIX", "JSON_COLUMNS", "SEALED_COLUMNS", "SERVICE",
    "DecisionsView", "EventReportsView", "RegistryView", "RisksView", "WorkItemsView",
    "contact_points", "contact_points_query", "decisions", "decisions_query", "event_by_id", "events_query",
    "family_assessments", "family_assessments_query", "grids", "grids_query", "jurisdictions", "jurisdictions_query",
    "member_units", "member_units_query", "metadata", "overdue_candidates", "page_of", "participants",
    "participants_query", "places_naming", "projections", "records_naming", "reports", "risk_by_id", "risks",
    "risks_query", "source_report", "work_item_by_id", "work_items", "work_items_query",
]
