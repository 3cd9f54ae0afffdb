"""Key-populations domain, one module per category over a shared enrolment.

``enrolment_class(category)`` picks the aggregate for a category name and
refuses an unknown one.
"""

from shared.errors import ValidationFailed

# The vocabulary is public (the contract's); the domain uses it as is.
from ..contracts import Category, ExitReason, TransferRefusal
from .common import RiskLevel, TeamRole, check_opaque_person_id, person_key, require_sealed
from .community_correction import MAX_LEAVE_DAYS, CommunityCorrection, CorrectionType, Duty, ViolationKind, WarningGiven
from .drug_users import MEASURE_YEARS, DrugUser, Measure, TestResult
from .enrolment import Enrolment, FollowUpKind, FollowUpOutcome
from .person import Person
from .policy import FollowUpPolicy, default_policy
from .released_persons import AssistanceKind, ReleasedPerson, handover_overdue, years_after
from .severe_mental_disorder import Diagnosis, SevereMentalDisorder, TreatmentStatus

ENROLMENT_CLASSES: dict[Category, type[Enrolment]] = {
    Category.COMMUNITY_CORRECTION: CommunityCorrection,
    Category.RELEASED_PERSONS: ReleasedPerson,
    Category.SEVERE_MENTAL_DISORDER: SevereMentalDisorder,
    Category.DRUG_USERS: DrugUser,
}


def enrolment_class(category: str) -> type[Enrolment]:
    try:
        return ENROLMENT_CLASSES[Category(category)]
    except ValueError:
        raise ValidationFailed(f"{category!r} is not a key-population category",
                               {"field": "category"}) from None


__all__ = [
    "AssistanceKind", "Category", "CommunityCorrection", "CorrectionType", "Diagnosis", "DrugUser", "Duty",
    "ENROLMENT_CLASSES", "Enrolment", "ExitReason", "FollowUpKind", "FollowUpOutcome", "FollowUpPolicy",
    "MAX_LEAVE_DAYS", "MEASURE_YEARS", "Measure", "Person", "ReleasedPerson", "RiskLevel", "SevereMentalDisorder",
    "TeamRole", "TestResult", "TransferRefusal", "TreatmentStatus", "ViolationKind", "WarningGiven",
    "check_opaque_person_id", "default_policy", "enrolment_class", "handover_overdue", "person_key",
    "require_sealed", "years_after",
]
