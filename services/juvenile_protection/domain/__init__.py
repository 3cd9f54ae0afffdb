"""Juvenile-protection domain (Art. 7(5)), one module per aggregate family.

Every aggregate names its personal fields in ``PERSONAL_FIELDS``; the key
subject each is sealed under is given by ``minor_key``, ``guardian_key``,
``case_key`` and ``report_key`` (see each class's comment). Reads of a case
check ``MinorCase.sealed`` / ``opens_for(purpose)`` first.
"""

from .cases import (
    CaseStatus,
    Category,
    ClosureReason,
    GuardianRelation,
    MinorCase,
    SealedAccessPurpose,
    SealingGround,
    UnsealingGround,
    case_id_for,
)
from .common import (
    ADULT_AGE,
    RECORD_CATEGORY,
    Department,
    age_on,
    case_key,
    check_minor_id,
    guardian_key,
    majority_on,
    minor_key,
    report_key,
)
from .intake import DEFAULT_DEADLINE_HOURS, REFERRING_SERVICES, Report, ReportStatus, Source, report_id_for
from .plans import PlanStatus, ProtectionPlan, ReviewOutcome, TaskStatus, plan_id_for
from .special_school import GuardianView, ReferralStatus, SpecialSchoolReferral

__all__ = [
    "ADULT_AGE", "CaseStatus", "Category", "ClosureReason", "DEFAULT_DEADLINE_HOURS", "Department", "GuardianRelation",
    "GuardianView", "MinorCase", "PlanStatus", "ProtectionPlan", "RECORD_CATEGORY", "REFERRING_SERVICES",
    "ReferralStatus", "Report",
    "ReportStatus", "ReviewOutcome", "SealedAccessPurpose", "SealingGround", "Source", "SpecialSchoolReferral",
    "TaskStatus",
    "UnsealingGround", "age_on", "case_id_for", "case_key", "check_minor_id", "guardian_key", "majority_on",
    "minor_key", "plan_id_for", "report_id_for", "report_key",
]
