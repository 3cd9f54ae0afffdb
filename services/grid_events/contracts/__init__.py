"""The public face of grid_events: RPC payloads and the events it publishes, one module
per family of the domain (registry, reports, work items, risks, decisions, erasure).

This package imports nothing from the service's domain: another service may import it
(docs/architecture.md, "The contract split"). Which domain event becomes which public event is
the service's private business, in ``services/grid_events/publishing.py``.

Published events carry facts and ids, not personal data (no place, no
description, no names, no notes): a consumer that needs the details asks by
RPC, where the read is authorised. docs/services/grid_events.md lists them all.
"""

from __future__ import annotations

from shared.contracts import Payload
from shared.erasure import ErasureReason
from shared.security.history import AsOf

from .common import SERVICE, AccessLog, AssigneeRef, History, Personal, Scoped, UnitRef
from .decisions import (
    DECISION_CLEARED,
    ApproveAssessment,
    AssessDecision,
    AssessedRisk,
    ClearDecision,
    DecisionCleared,
    DecisionStatus,
    ListDecisions,
    ListFamilyAssessments,
    RecordFamilyAssessment,
    RegisterDecision,
    RejectAssessment,
)
from .erasure import ErasePerson, EraseRecordPersonalData
from .registry import (
    AssignWorker,
    ChangeMemberUnitDuties,
    ListContactPoints,
    ListGrids,
    ListJurisdictions,
    ListMemberUnits,
    ListParticipants,
    NameContactPoint,
    NameTownshipResponsible,
    ParticipantKind,
    RecogniseParticipant,
    RegisterGrid,
    RegisterJurisdiction,
    RegisterMemberUnit,
    RegisterParticipant,
    UnassignWorker,
)
from .reports import (
    DISPUTE_REPORTED,
    EVENT_ACCEPTED,
    EVENT_ASSIGNED,
    EVENT_CLOSED,
    EVENT_HANDLED,
    FEEDBACK_RECORDED,
    SEVERE_EVENT_REPORTED,
    AcceptEvent,
    AssignEvent,
    Category,
    CloseEvent,
    EventAccepted,
    EventAssigned,
    EventClosed,
    EventHandled,
    EventProgress,
    EventReported,
    FeedbackRecorded,
    GetEvent,
    ListEvents,
    RecordFeedback,
    RecordHandling,
    ReportEvent,
    Severity,
    Source,
    SourceReport,
    Status,
    TickChecklistStep,
    Tier,
)
from .risks import (
    RISK_CLOSED,
    RISK_LEVEL_CHANGED,
    RISK_RAISED_TO_RED,
    RISK_REGISTERED,
    AssignRiskResponsibility,
    ChangeRiskLevel,
    CloseRisk,
    DefuseRisk,
    GetRisk,
    IssueWarning,
    ListRisks,
    RecordReinspection,
    RegisterRisk,
    ReportRiskFeedback,
    RiskCategory,
    RiskClosed,
    RiskLevelChanged,
    RiskRegistered,
    RiskStatus,
    StartRiskMeasures,
    WarningLevel,
)
from .work_items import (
    WORK_ITEM_OVERDUE,
    AddWorkItem,
    AssigneeKind,
    CancelWorkItem,
    CompleteWorkItem,
    GetWorkItem,
    ListWorkItems,
    ReassignWorkItem,
    WorkItemKind,
    WorkItemOverdue,
    WorkItemStatus,
)

# Every public event type and the schema of its payload (docs/services/grid_events.md).
PUBLISHED: dict[str, type[Payload]] = {
    DISPUTE_REPORTED: EventReported,
    SEVERE_EVENT_REPORTED: EventReported,
    EVENT_ASSIGNED: EventAssigned,
    EVENT_ACCEPTED: EventAccepted,
    EVENT_HANDLED: EventHandled,
    FEEDBACK_RECORDED: FeedbackRecorded,
    EVENT_CLOSED: EventClosed,
    WORK_ITEM_OVERDUE: WorkItemOverdue,
    RISK_REGISTERED: RiskRegistered,
    RISK_LEVEL_CHANGED: RiskLevelChanged,
    RISK_RAISED_TO_RED: RiskLevelChanged,
    RISK_CLOSED: RiskClosed,
    DECISION_CLEARED: DecisionCleared,
}

__all__ = [
    "SERVICE", "PUBLISHED", "AccessLog", "AsOf", "AssigneeRef", "ErasureReason", "History", "Personal", "Scoped",
    "UnitRef",
    # registry
    "AssignWorker", "ChangeMemberUnitDuties", "ListContactPoints", "ListGrids", "ListJurisdictions",
    "ListMemberUnits", "ListParticipants", "NameContactPoint", "NameTownshipResponsible", "ParticipantKind",
    "RecogniseParticipant", "RegisterGrid", "RegisterJurisdiction", "RegisterMemberUnit", "RegisterParticipant",
    "UnassignWorker",
    # reports
    "DISPUTE_REPORTED", "EVENT_ACCEPTED", "EVENT_ASSIGNED", "EVENT_CLOSED", "EVENT_HANDLED", "FEEDBACK_RECORDED",
    "SEVERE_EVENT_REPORTED", "AcceptEvent", "AssignEvent", "Category", "CloseEvent", "EventAccepted",
    "EventAssigned", "EventClosed", "EventHandled", "EventProgress", "EventReported", "FeedbackRecorded",
    "GetEvent", "ListEvents", "RecordFeedback", "RecordHandling",
    "ReportEvent", "Severity", "Source", "SourceReport", "Status", "TickChecklistStep", "Tier",
    # work items
    "WORK_ITEM_OVERDUE", "AddWorkItem", "AssigneeKind", "CancelWorkItem", "CompleteWorkItem", "GetWorkItem",
    "ListWorkItems", "ReassignWorkItem", "WorkItemKind", "WorkItemOverdue", "WorkItemStatus",
    # risks
    "RISK_CLOSED", "RISK_LEVEL_CHANGED", "RISK_RAISED_TO_RED", "RISK_REGISTERED", "AssignRiskResponsibility",
    "ChangeRiskLevel", "CloseRisk", "DefuseRisk", "GetRisk", "IssueWarning", "ListRisks", "RecordReinspection",
    "RegisterRisk", "ReportRiskFeedback", "RiskCategory", "RiskClosed", "RiskLevelChanged", "RiskRegistered",
    "RiskStatus", "StartRiskMeasures", "WarningLevel",
    # decisions and family assessments
    "DECISION_CLEARED", "ApproveAssessment", "AssessDecision", "AssessedRisk", "ClearDecision", "DecisionCleared",
    "DecisionStatus", "ListDecisions", "ListFamilyAssessments", "RecordFamilyAssessment", "RegisterDecision",
    "RejectAssessment",
    # erasure
    "ErasePerson", "EraseRecordPersonalData",
]
