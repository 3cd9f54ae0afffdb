"""Stability-risk assessment of major decisions, and family safety risk
assessments (Art. 6(4))."""

from __future__ import annotations

from eventsourcing.domain import event

from shared.errors import InvalidTransition
from shared.eventstore import AuditedAggregate

from ..contracts.decisions import DecisionStatus  # the public vocabulary


class MajorDecision(AuditedAggregate):
    """A major decision: registered → assessed → assessment approved → cleared
    for implementation. It cannot be cleared without an approved assessment;
    a rejected assessment sends it back to be assessed again."""

    @event("Registered")
    def __init__(self, jurisdiction: str, title: str, summary: str):
        self.jurisdiction = jurisdiction
        self.title = title  # sealed under decision.<id>, as are the summary, findings, measures, reasons
        self.summary = summary
        self.status = DecisionStatus.REGISTERED.value
        self.assessments = 0
        self.risk_level: str | None = None

    # Steps with free text (title, summary, findings, measures, reason: sealed under the
    # decision's key) are checked before the text is sealed, and again by the step.

    def record_assessment(self, risk_level: str, findings: str, measures: str) -> None:
        self.check_assessment()
        self._assessed(risk_level, findings, measures)

    def check_assessment(self) -> None:
        if self.status not in (DecisionStatus.REGISTERED, DecisionStatus.ASSESSED):
            raise InvalidTransition(f"cannot assess a decision that is {self.status}")

    def approve_assessment(self) -> None:
        if self.status != DecisionStatus.ASSESSED:
            raise InvalidTransition(f"cannot approve the assessment of a decision that is {self.status}")
        self._assessment_approved()

    def reject_assessment(self, reason: str) -> None:
        self.check_rejection()
        self._assessment_rejected(reason)

    def check_rejection(self) -> None:
        if self.status != DecisionStatus.ASSESSED:
            raise InvalidTransition(f"cannot reject the assessment of a decision that is {self.status}")

    def clear_for_implementation(self) -> None:
        if self.status != DecisionStatus.APPROVED:
            raise InvalidTransition(
                f"a decision cannot be cleared for implementation without an approved "
                f"stability-risk assessment (it is {self.status})"
            )
        self._cleared(self.jurisdiction, self.risk_level)

    @event("Assessed")
    def _assessed(self, risk_level: str, findings: str, measures: str) -> None:
        self.assessments += 1
        self.risk_level = risk_level
        self.status = DecisionStatus.ASSESSED.value

    @event("AssessmentApproved")
    def _assessment_approved(self) -> None:
        self.status = DecisionStatus.APPROVED.value

    @event("AssessmentRejected")
    def _assessment_rejected(self, reason: str) -> None:
        self.status = DecisionStatus.REGISTERED.value

    @event("Cleared")
    def _cleared(self, jurisdiction: str, risk_level: str) -> None:
        # Repeated so the public event can be made from this one.
        self.status = DecisionStatus.CLEARED.value


class FamilySafetyAssessment(AuditedAggregate):
    """A family safety risk assessment of one household in a grid: a record
    made once; a later assessment of the same household is a new record."""

    @event("Recorded")
    def __init__(self, grid_code: str, jurisdiction: str, household_id: str, risk_level: str,
                 findings: str, measures: str):
        self.grid_code = grid_code
        self.jurisdiction = jurisdiction
        self.household_id = household_id
        self.risk_level = risk_level
        # Personal: about a household's members. Both are sealed twice, under the
        # household's key and the assessment's (family.<id>), so erasing either shreds them.
        self.findings = findings
        self.measures = measures
