"""Stability-risk assessment of major decisions and family safety risk
assessments (Art. 6(4))."""

from uuid import UUID

import pytest

from services.grid_events import contracts as c
from services.grid_events import publishing
from shared.context import Role
from shared.errors import Forbidden, InvalidTransition

from .grid_support import ADMIN, GRID, World, call_as


@pytest.fixture
def world():
    return World().seed()


def assess(world, decision, level="medium"):
    return world.app.assess_decision(ADMIN, c.AssessDecision(
        decision_id=decision, risk_level=level, findings="traders oppose", measures="consult traders"), world.seal)


def test_clear_decision_without_assessment_is_refused_and_stores_nothing(world):
    decision = world.decision()
    before = world.stored()
    with pytest.raises(InvalidTransition, match="approved stability-risk assessment"):
        world.app.clear_decision(ADMIN, c.ClearDecision(decision_id=decision))
    assert world.stored() == before


def test_clear_decision_with_unapproved_assessment_is_refused(world):
    decision = world.decision()
    assess(world, decision)
    with pytest.raises(InvalidTransition, match="approved stability-risk assessment"):
        world.app.clear_decision(ADMIN, c.ClearDecision(decision_id=decision))


def test_clear_decision_after_approved_assessment_publishes_decision_cleared(world):
    decision = world.decision()
    assess(world, decision)
    world.app.approve_assessment(ADMIN, c.ApproveAssessment(decision_id=decision))
    cleared = world.app.clear_decision(ADMIN, c.ClearDecision(decision_id=decision))
    contracts = publishing.contracts()
    events = world.app.events.get(UUID(decision))
    published = [t for e in events for t, _ in contracts.public_events(e)]
    assert cleared["status"] == "cleared"
    assert published == ["decision_cleared"]


def test_rejected_assessment_must_be_redone_before_approval(world):
    decision = world.decision()
    assess(world, decision, "high")
    world.app.reject_assessment(ADMIN, c.RejectAssessment(decision_id=decision, reason="no consultation"), world.seal)
    with pytest.raises(InvalidTransition):
        world.app.approve_assessment(ADMIN, c.ApproveAssessment(decision_id=decision))
    assess(world, decision, "medium")
    assert world.app.approve_assessment(ADMIN, c.ApproveAssessment(decision_id=decision))["status"] == "approved"


def test_assess_decision_after_clearance_is_refused(world):
    decision = world.decision()
    assess(world, decision)
    world.app.approve_assessment(ADMIN, c.ApproveAssessment(decision_id=decision))
    world.app.clear_decision(ADMIN, c.ClearDecision(decision_id=decision))
    with pytest.raises(InvalidTransition):
        assess(world, decision)


def test_clear_decision_by_grid_worker_is_forbidden(world):
    decision = world.decision()
    with pytest.raises(Forbidden):
        world.app.clear_decision(world.worker(), c.ClearDecision(decision_id=decision))


def test_record_family_assessment_by_a_worker_of_another_grid_is_forbidden(world):
    outsider = call_as(Role.GRID_WORKER, "433101001001", "gw-1002")
    before = world.stored()
    with pytest.raises(Forbidden, match="not assigned"):
        world.app.record_family_assessment(outsider, c.RecordFamilyAssessment(
            grid_code=GRID, household_id="hh-17", risk_level="medium", findings="f", measures="m"), world.seal)
    assert world.stored() == before
    recorded = world.app.record_family_assessment(world.worker(), c.RecordFamilyAssessment(
        grid_code=GRID, household_id="hh-17", risk_level="medium", findings="f", measures="m"), world.seal)
    assert recorded["risk_level"] == "medium"
