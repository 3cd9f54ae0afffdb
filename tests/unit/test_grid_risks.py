"""The risk and hazard register (Arts. 6(1)(2), 7(2)(3)): a lifecycle that
cannot skip feedback, the responsibility list, traffic black spots, and the
public events a red warning raises."""

from datetime import date
from uuid import UUID

import pytest

from services.grid_events import contracts as c
from services.grid_events import publishing
from shared.errors import InvalidTransition, NotFound, ValidationFailed

from .grid_support import ADMIN, World


@pytest.fixture
def world():
    return World().seed()


def advance(world, risk, to):
    """Walk a risk through its lifecycle up to ``to``."""
    app = world.app
    steps = [
        ("warning_issued", lambda: app.issue_warning(ADMIN, c.IssueWarning(risk_id=risk, level="orange"))),
        (
            "measures_under_way",
            lambda: app.start_risk_measures(
                ADMIN,
                c.StartRiskMeasures(risk_id=risk, measures="visit lenders", reinspection_date=date(2026, 12, 1)),
                world.seal,
            ),
        ),
        ("defused", lambda: app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=risk, note="circle disbanded"), world.seal)),
        (
            "feedback_reported",
            lambda: app.report_risk_feedback(ADMIN, c.ReportRiskFeedback(risk_id=risk, feedback="calm"), world.seal),
        ),
        ("closed", lambda: app.close_risk(ADMIN, c.CloseRisk(risk_id=risk))),
    ]
    for status, step in steps:
        result = step()
        if status == to:
            return result
    raise ValueError(to)


def test_risk_lifecycle_reaches_closed_through_feedback(world):
    risk = world.risk()
    closed = advance(world, risk, "closed")
    assert closed["status"] == "closed"
    assert world.events_of(risk) == [
        "Registered",
        "WarningIssued",
        "MeasuresStarted",
        "Defused",
        "FeedbackReported",
        "Closed",
    ]


def test_close_risk_without_feedback_is_refused_and_stores_nothing(world):
    risk = world.risk()
    advance(world, risk, "defused")
    before = world.stored()
    with pytest.raises(InvalidTransition, match="without feedback"):
        world.app.close_risk(ADMIN, c.CloseRisk(risk_id=risk))
    assert world.stored() == before


def test_lower_level_of_closed_risk_is_refused_and_stores_nothing(world):
    risk = world.risk(level="orange")
    advance(world, risk, "closed")
    before = world.stored()
    with pytest.raises(InvalidTransition, match="closed"):
        world.app.change_risk_level(ADMIN, c.ChangeRiskLevel(risk_id=risk, level="blue"))
    assert world.stored() == before


def test_start_measures_before_warning_is_refused(world):
    risk = world.risk()
    with pytest.raises(InvalidTransition, match="identified"):
        world.app.start_risk_measures(ADMIN, c.StartRiskMeasures(risk_id=risk, measures="m"), world.seal)


def test_register_risk_names_a_registered_member_unit(world):
    before = world.stored()
    with pytest.raises(NotFound, match="member unit"):
        world.risk(responsible_unit="no-such-bureau")
    assert world.stored() == before
    risk = world.app.repository.get(UUID(world.risk(responsible_unit="public-security")))
    assert risk.responsible_unit == "433100:public-security"


def test_traffic_black_spot_without_reinspection_date_is_refused(world):
    risk = world.risk(category="traffic_black_spot", source="police_call")
    world.app.issue_warning(ADMIN, c.IssueWarning(risk_id=risk, level="yellow"))
    before = world.stored()
    with pytest.raises(ValidationFailed, match="re-inspection date"):
        world.app.start_risk_measures(ADMIN, c.StartRiskMeasures(risk_id=risk, measures="guard rail"), world.seal)
    assert world.stored() == before


def test_traffic_black_spot_is_defused_only_after_a_passed_reinspection(world):
    risk = world.risk(category="traffic_black_spot", source="police_call")
    world.app.issue_warning(ADMIN, c.IssueWarning(risk_id=risk, level="yellow"))
    world.app.start_risk_measures(
        ADMIN,
        c.StartRiskMeasures(risk_id=risk, measures="guard rail and signs", reinspection_date=date(2026, 12, 15)),
        world.seal,
    )
    with pytest.raises(InvalidTransition, match="re-inspection"):
        world.app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=risk, note="done"), world.seal)
    world.app.record_reinspection(
        ADMIN, c.RecordReinspection(risk_id=risk, passed=False, note="signs missing"), world.seal
    )
    with pytest.raises(InvalidTransition, match="re-inspection"):
        world.app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=risk, note="done"), world.seal)
    world.app.record_reinspection(ADMIN, c.RecordReinspection(risk_id=risk, passed=True, note="fixed"), world.seal)
    assert world.app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=risk, note="done"), world.seal)["status"] == "defused"


def test_reinspection_of_a_non_traffic_risk_is_refused(world):
    risk = world.risk()
    advance(world, risk, "measures_under_way")
    with pytest.raises(InvalidTransition, match="traffic"):
        world.app.record_reinspection(ADMIN, c.RecordReinspection(risk_id=risk, passed=True, note="n"), world.seal)


def published(world, risk):
    contracts = publishing.contracts()
    return [event_type for e in world.app.events.get(UUID(risk)) for event_type, _ in contracts.public_events(e)]


def test_raise_risk_to_red_publishes_risk_raised_to_red_once(world):
    risk = world.risk(level="yellow")
    world.app.issue_warning(ADMIN, c.IssueWarning(risk_id=risk, level="orange"))
    world.app.change_risk_level(ADMIN, c.ChangeRiskLevel(risk_id=risk, level="red"))
    world.app.change_risk_level(ADMIN, c.ChangeRiskLevel(risk_id=risk, level="orange"))
    assert published(world, risk) == [
        "risk_registered",
        "risk_level_changed",
        "risk_level_changed",
        "risk_raised_to_red",
        "risk_level_changed",
    ]


def test_register_risk_at_red_publishes_risk_raised_to_red(world):
    risk = world.risk(level="red")
    assert published(world, risk) == ["risk_registered", "risk_raised_to_red"]


def test_change_risk_level_to_same_level_is_refused(world):
    risk = world.risk(level="yellow")
    with pytest.raises(InvalidTransition, match="already"):
        world.app.change_risk_level(ADMIN, c.ChangeRiskLevel(risk_id=risk, level="yellow"))


def test_refused_risk_commands_seal_nothing(world):
    """A person key is made only for data that is stored: refusals come first."""
    sealed = []

    def seal(person_id, value):
        sealed.append(person_id)
        return value

    command = c.RegisterRisk(
        jurisdiction="433101001001",
        category="lending",
        source="risk",
        level="yellow",
        place="p",
        description="d",
        responsible_unit="no-such-bureau",
        responsible_person_id="p-9",
        responsible_person_name="n",
    )
    with pytest.raises(NotFound):
        world.app.register_risk(ADMIN, command, seal)
    risk = world.risk()
    advance(world, risk, "closed")
    with pytest.raises(InvalidTransition):
        world.app.assign_risk_responsibility(
            ADMIN,
            c.AssignRiskResponsibility(risk_id=risk, unit="justice-bureau", person_id="p-9", person_name="n"),
            seal,
        )
    assert sealed == []
