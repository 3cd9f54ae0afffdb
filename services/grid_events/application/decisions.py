"""Major decisions (assessed, approved or rejected, cleared) and family safety assessments."""

from __future__ import annotations

from uuid import uuid4

from shared.access import authorize
from shared.commands import Commands
from shared.context import Role
from shared.errors import Forbidden, ValidationFailed
from shared.eventstore import Call
from shared.jurisdiction import Level, level_of

from .. import contracts as c
from ..domain import DECISION_TEXT, FAMILY_TEXT, FamilySafetyAssessment, Grid, MajorDecision, record_subject
from .common import DECISION, DECISION_ASSESSORS, FAMILY_ASSESSORS, OFFICERS, Seal, _decision_summary, person


class Decisions(Commands):
    # -- major decisions and family assessments -------------------------------------

    # A decision's texts (title, summary, findings, measures, rejection reasons) are sealed under decision.<id>.

    def register_decision(self, call: Call, command: c.RegisterDecision, seal: Seal) -> dict:
        authorize(call.caller, "register a major decision", OFFICERS, command.jurisdiction)
        if level_of(command.jurisdiction) is Level.GRID:
            raise ValidationFailed("RegisterDecision: a major decision belongs to a unit, not a grid")

        def act():
            self.require_place(command.jurisdiction)
            decision_id = uuid4()
            subject = record_subject(DECISION_TEXT, decision_id)
            decision = MajorDecision.create_with_id(
                MajorDecision.Registered, id=decision_id, jurisdiction=command.jurisdiction,
                title=seal(subject, command.title), summary=seal(subject, command.summary))
            return [decision], _decision_summary(decision)

        return self.execute(call, act, command.command_id)

    def assess_decision(self, call: Call, command: c.AssessDecision, seal: Seal) -> dict:
        def assess(decision: MajorDecision) -> None:
            decision.check_assessment()
            subject = record_subject(DECISION_TEXT, decision.id)
            decision.record_assessment(command.risk_level.value, seal(subject, command.findings),
                                       seal(subject, command.measures))

        return self.change(call, DECISION, command.decision_id, "assess a major decision",
                           DECISION_ASSESSORS, assess, command_id=command.command_id)

    def approve_assessment(self, call: Call, command: c.ApproveAssessment) -> dict:
        return self.change(call, DECISION, command.decision_id, "approve an assessment",
                           OFFICERS, lambda decision: decision.approve_assessment(), command_id=command.command_id)

    def reject_assessment(self, call: Call, command: c.RejectAssessment, seal: Seal) -> dict:
        def reject(decision: MajorDecision) -> None:
            decision.check_rejection()
            decision.reject_assessment(seal(record_subject(DECISION_TEXT, decision.id), command.reason))

        return self.change(call, DECISION, command.decision_id, "reject an assessment",
                           OFFICERS, reject, command_id=command.command_id)

    def clear_decision(self, call: Call, command: c.ClearDecision) -> dict:
        return self.change(call, DECISION, command.decision_id, "clear a decision",
                           OFFICERS, lambda decision: decision.clear_for_implementation(),
                           command_id=command.command_id)

    def record_family_assessment(self, call: Call, command: c.RecordFamilyAssessment, seal: Seal) -> dict:
        authorize(call.caller, "record a family safety assessment", FAMILY_ASSESSORS, command.grid_code)

        def act():
            grid = self.load(Grid, Grid.create_id(command.grid_code), "grid")
            if call.caller.role is Role.GRID_WORKER and call.caller.actor_id not in grid.workers:
                raise Forbidden(f"grid worker {call.caller.actor_id} is not assigned to grid {grid.code}")
            # Findings and measures describe the household's members: sealed under the household's
            # key, then under the assessment's own (family.<id>), so erasing either shreds them. The
            # household's seal comes first: an erased household is refused before a record key exists.
            household = person(command.household_id, "household_id")
            assessment_id = uuid4()
            subject = record_subject(FAMILY_TEXT, assessment_id)

            def sealed(text: str) -> str | None:
                return seal(subject, seal(household, text))

            assessment = FamilySafetyAssessment.create_with_id(
                FamilySafetyAssessment.Recorded, id=assessment_id,
                grid_code=grid.code, jurisdiction=grid.village_code, household_id=command.household_id,
                risk_level=command.risk_level.value, findings=sealed(command.findings),
                measures=sealed(command.measures),
            )
            return [assessment], {"assessment_id": str(assessment.id), "risk_level": assessment.risk_level}

        return self.execute(call, act, command.command_id)
