"""Reported events: the process checklist (Art. 9) and assignment to member
units with their grid contact points (Arts. 2, 5(3))."""

from uuid import UUID

import pytest

from services.grid_events import contracts as c
from services.grid_events import publishing
from shared.errors import InvalidTransition, NotFound, ValidationFailed

from .grid_support import ADMIN, GRID, UNIT, World


@pytest.fixture
def world():
    return World().seed()


def handle_to_feedback(world, event_id, unit=UNIT):
    app = world.app
    app.accept_event(ADMIN, c.AcceptEvent(event_id=event_id))
    app.assign_event(ADMIN, c.AssignEvent(event_id=event_id, unit=unit))
    app.record_handling(ADMIN, c.RecordHandling(event_id=event_id, note="met both households"), world.seal)
    app.record_feedback(
        ADMIN, c.RecordFeedback(event_id=event_id, feedback="both satisfied", satisfied=True), world.seal
    )


def tick_all(world, event_id):
    for step in world.app.repository.get(UUID(event_id)).required_steps:
        world.app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=event_id, step=step), world.seal)


def test_report_event_gets_the_checklist_of_its_category(world):
    dispute = world.app.repository.get(UUID(world.report(category="dispute")))
    fire = world.app.repository.get(UUID(world.report(category="fire")))
    assert dispute.required_steps == ["verify_facts", "contact_parties", "mediate", "return_visit"]
    assert fire.required_steps == ["verify_facts", "handle_on_site", "return_visit"]


def test_close_event_with_unticked_steps_is_refused_and_stores_nothing(world):
    event_id = world.report()
    handle_to_feedback(world, event_id)
    world.app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=event_id, step="verify_facts"), world.seal)
    before = world.stored()
    with pytest.raises(InvalidTransition, match="contact_parties, mediate, return_visit"):
        world.app.close_event(ADMIN, c.CloseEvent(event_id=event_id))
    assert world.stored() == before


def test_close_event_with_all_steps_ticked_closes(world):
    event_id = world.report()
    handle_to_feedback(world, event_id)
    tick_all(world, event_id)
    assert world.app.close_event(ADMIN, c.CloseEvent(event_id=event_id))["status"] == "closed"


def test_tick_unknown_step_is_refused_and_stores_nothing(world):
    event_id = world.report()
    before = world.stored()
    with pytest.raises(ValidationFailed, match="not a step"):
        world.app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=event_id, step="pray"), world.seal)
    assert world.stored() == before


def test_tick_step_twice_is_refused(world):
    event_id = world.report()
    world.app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=event_id, step="verify_facts"), world.seal)
    with pytest.raises(InvalidTransition, match="already ticked"):
        world.app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=event_id, step="verify_facts"), world.seal)


def test_assign_event_to_unregistered_unit_is_refused_and_stores_nothing(world):
    event_id = world.report()
    world.app.accept_event(ADMIN, c.AcceptEvent(event_id=event_id))
    before = world.stored()
    with pytest.raises(NotFound, match="member unit"):
        world.app.assign_event(ADMIN, c.AssignEvent(event_id=event_id, unit="no-such-bureau"))
    assert world.stored() == before


def test_assign_event_publishes_event_assigned_with_the_grid_contact_point(world):
    world.app.name_contact_point(
        ADMIN,
        c.NameContactPoint(
            grid_code=GRID, unit=UNIT, contact_id="jb-contact-7", contact_name="Officer Wang", contact_phone="0743-1234"
        ),
        world.seal,
    )
    event_id = world.report()
    world.app.accept_event(ADMIN, c.AcceptEvent(event_id=event_id))
    world.app.assign_event(ADMIN, c.AssignEvent(event_id=event_id, unit=UNIT))
    contracts = publishing.contracts()
    assigned = [
        p for e in world.app.events.get(UUID(event_id)) for t, p in contracts.public_events(e) if t == "event_assigned"
    ]
    assert len(assigned) == 1
    assert (assigned[0].unit_id, assigned[0].contact_id, assigned[0].county) == (
        "433101:justice-bureau",
        "jb-contact-7",
        "433101",
    )


def test_assign_event_to_prefecture_unit_by_code_finds_the_prefecture_body(world):
    event_id = world.report()
    world.app.accept_event(ADMIN, c.AcceptEvent(event_id=event_id))
    world.app.assign_event(ADMIN, c.AssignEvent(event_id=event_id, unit="public-security"))
    report = world.app.repository.get(UUID(event_id))
    assert (report.assigned_unit, report.handling_body) == ("public-security", "433100")
