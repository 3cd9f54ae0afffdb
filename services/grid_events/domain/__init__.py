"""Grid events domain, one module per aggregate family.

Events stored before the split name ``services.grid_events.domain:<Class>``
as their topic; the names below keep those topics resolving.
"""

from shared.erasure import ErasureReason

# The vocabulary is public (the contract's); the domain uses it as is.
from ..contracts.decisions import AssessedRisk, DecisionStatus
from ..contracts.registry import ParticipantKind
from ..contracts.reports import Category, Severity, Source, Status, Tier
from ..contracts.risks import RiskCategory, RiskStatus, WarningLevel
from ..contracts.work_items import AssigneeKind, WorkItemKind, WorkItemStatus
from .decisions import FamilySafetyAssessment, MajorDecision
from .erasure import (
    DECISION_TEXT,
    EVENT_TEXT,
    FAMILY_TEXT,
    ITEM_TEXT,
    PARTICIPANT_TEXT,
    RISK_TEXT,
    VOLUNTEER,
    Erasure,
    is_reserved_subject,
    record_subject,
)
from .registry import Grid, Jurisdiction, MemberUnit, Participant
from .reports import EventReport, checklist_for
from .risks import TRAFFIC_CATEGORIES, Risk
from .work_items import WorkItem

# Fields holding personal data, per stored event, sealed by the application
# (a person's key, or the record's own key for free text, see erasure.py);
# none of them is ever published, logged or a metric label.
PERSONAL_FIELDS: dict[type, tuple[str, ...]] = {
    Jurisdiction.ResponsibleNamed: ("person_name",),
    Grid.ContactPointNamed: ("contact_name", "contact_phone"),
    Participant.Registered: ("name",),
    Participant.Recognised: ("note",),
    EventReport.Reported: ("place", "description"),
    EventReport.StepTicked: ("note",),
    EventReport.Handled: ("note",),
    EventReport.FeedbackRecorded: ("feedback",),
    Risk.Registered: ("place", "description", "responsible_person_name"),
    Risk.ResponsibilityAssigned: ("person_name",),
    Risk.MeasuresStarted: ("measures",),
    Risk.Reinspected: ("note",),
    Risk.Defused: ("note",),
    Risk.FeedbackReported: ("feedback",),
    WorkItem.Listed: ("title",),
    WorkItem.Completed: ("note",),
    WorkItem.Cancelled: ("reason",),
    MajorDecision.Registered: ("title", "summary"),
    MajorDecision.Assessed: ("findings", "measures"),
    MajorDecision.AssessmentRejected: ("reason",),
    FamilySafetyAssessment.Recorded: ("findings", "measures"),
}

__all__ = [
    "DECISION_TEXT", "EVENT_TEXT", "FAMILY_TEXT", "ITEM_TEXT", "PARTICIPANT_TEXT", "RISK_TEXT", "VOLUNTEER", "Erasure",
    "ErasureReason", "is_reserved_subject", "record_subject",
    "AssessedRisk", "AssigneeKind", "Category", "DecisionStatus", "EventReport", "FamilySafetyAssessment",
    "Grid", "Jurisdiction", "MajorDecision", "MemberUnit", "PERSONAL_FIELDS", "Participant", "ParticipantKind",
    "Risk", "RiskCategory", "RiskStatus", "Severity", "Source", "Status", "TRAFFIC_CATEGORIES", "Tier",
    "WarningLevel", "WorkItem", "WorkItemKind", "WorkItemStatus", "checklist_for",
]
