"""Emergency command domain, one module per aggregate family: key areas
(Art. 7(1)), incidents under command (Art. 6(3)) and warnings published as
CAP 1.2 (Art. 6(4))."""

from .alerts import (
    LEVEL_SEVERITY,
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    EmergencyWarning,
    MsgType,
    Urgency,
    WarningLevel,
    WarningStatus,
    message_identifier,
)
from .cap import CAP_NAMESPACE, area_description, render_cap
from .incidents import (
    LEVEL_RANK,
    Classification,
    Incident,
    IncidentStatus,
    Level,
    TaskStatus,
    Trigger,
    incident_subject,
    parse_level,
)
from .key_areas import (
    PLAN_GRACE_DAYS,
    DrillScenario,
    KeyArea,
    KeyAreaKind,
    KeyAreaStatus,
    drill_due_on,
    key_area_subject,
    missing_plan,
    overdue_drill,
    plan_due_on,
    shortfall,
)

__all__ = [
    "CAP_NAMESPACE", "LEVEL_RANK", "LEVEL_SEVERITY", "PLAN_GRACE_DAYS",
    "CapCategory", "CapSeverity", "CapStatus", "Certainty", "Classification", "DrillScenario", "EmergencyWarning",
    "Incident", "IncidentStatus", "KeyArea", "KeyAreaKind", "KeyAreaStatus", "Level", "MsgType", "TaskStatus",
    "Trigger", "Urgency", "WarningLevel", "WarningStatus",
    "area_description", "drill_due_on", "incident_subject", "key_area_subject", "message_identifier",
    "missing_plan", "overdue_drill", "parse_level", "plan_due_on", "render_cap", "shortfall",
]
