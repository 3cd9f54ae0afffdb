"""Patients with severe mental disorders (Art. 7(4), served by health
departments and townships).

Rules:
- Enrolment needs one of the six listed diagnoses, a guardian (sealed under
  the person's key) and the treatment status; the risk level 0–5 sets the
  follow-up interval from the county's table, and from level 4 joint handling
  starts at once (a JointHandlingRequired event).
- Treatment status and guardian change by new events.
- There is no fixed period: the record ends by death or by moving out.
"""

from __future__ import annotations

from enum import StrEnum

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict

from shared.errors import InvalidTransition, ValidationFailed

from ..contracts import (  # the public vocabulary
    Category,
    ExitReason,
    TreatmentStatus,  # the public vocabulary
)
from .common import member_of, person_key, require_sealed
from .enrolment import Enrolment


class Diagnosis(StrEnum):
    SCHIZOPHRENIA = "schizophrenia"
    SCHIZOAFFECTIVE_DISORDER = "schizoaffective_disorder"
    PERSISTENT_DELUSIONAL_DISORDER = "persistent_delusional_disorder"
    BIPOLAR_DISORDER = "bipolar_disorder"
    EPILEPSY_ASSOCIATED_MENTAL_DISORDER = "epilepsy_associated_mental_disorder"
    INTELLECTUAL_DISABILITY_WITH_MENTAL_DISORDER = "intellectual_disability_with_mental_disorder"


class MentalDisorderFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    diagnosis: Diagnosis
    guardian_name: str
    guardian_contact: str | None = None
    treatment_status: TreatmentStatus


class SevereMentalDisorder(Enrolment):
    CATEGORY = Category.SEVERE_MENTAL_DISORDER
    FACTS = MentalDisorderFacts
    PERSONAL_FIELDS = Enrolment.PERSONAL_FIELDS + ("facts.guardian_name", "facts.guardian_contact",
                                                   "guardian_name", "guardian_contact")
    EXIT_REASONS = frozenset({ExitReason.DIED, ExitReason.MOVED_OUT})

    @classmethod
    def _check_facts(cls, person_id, facts: MentalDisorderFacts, enrolled_on) -> None:
        require_sealed(person_key(person_id), guardian_name=facts.guardian_name,
                       guardian_contact=facts.guardian_contact)

    def _apply_facts(self, facts: dict) -> None:
        super()._apply_facts(facts)
        self.diagnosis = facts["diagnosis"]
        self.treatment_status = facts["treatment_status"]
        self.guardian_name = facts["guardian_name"]
        self.guardian_contact = facts.get("guardian_contact")

    def change_treatment(self, status: str) -> None:
        self._require_active("change the treatment on")
        status = member_of(TreatmentStatus, status, "treatment_status")
        if status == self.treatment_status:
            raise InvalidTransition(f"the treatment status is already {status}")
        self._treatment_changed(**self._public(), status=status, previous=self.treatment_status)

    def change_guardian(self, guardian_name: str, guardian_contact: str | None = None) -> None:
        self._require_active("change the guardian on")
        if guardian_name is None:
            raise ValidationFailed("a guardian has a name", {"field": "guardian_name"})
        require_sealed(person_key(self.person_id), guardian_name=guardian_name, guardian_contact=guardian_contact)
        self._guardian_changed(guardian_name=guardian_name, guardian_contact=guardian_contact)

    @event("TreatmentChanged")
    def _treatment_changed(self, person_id: str, jurisdiction: str, category: str, status: str,
                           previous: str) -> None:
        self.treatment_status = status

    @event("GuardianChanged")
    def _guardian_changed(self, guardian_name: str, guardian_contact: str | None) -> None:
        self.guardian_name = guardian_name
        self.guardian_contact = guardian_contact
