"""The grid work-item list (Art. 5(2)): assignment, completion, recurrence and
the overdue mark, enforced by the aggregate and the application."""

from datetime import date
from uuid import UUID

import pytest

from services.grid_events import contracts as c
from shared.context import Role
from shared.errors import Forbidden, InvalidTransition, ValidationFailed

from .grid_support import ADMIN, GRID, OTHER_GRID, OTHER_WORKER, SERVICE, UNIT, WORKER, World, call_as


@pytest.fixture
def world():
    return World().seed()


def test_complete_work_item_by_its_grid_worker_completes_a_one_off_item(world):
    item = world.add_item()
    done = world.app.complete_work_item(world.worker(), c.CompleteWorkItem(item_id=item, note="patrolled"), world.seal)
    assert done["status"] == "completed"
    assert world.events_of(item) == ["Listed", "Completed"]


def test_complete_work_item_of_another_grid_is_forbidden_and_stores_nothing(world):
    item = world.add_item(grid=OTHER_GRID, assignee_id=OTHER_WORKER)
    before = world.stored()
    with pytest.raises(Forbidden, match="not assigned to grid"):
        world.app.complete_work_item(
            world.worker(WORKER), c.CompleteWorkItem(item_id=item, note="not mine"), world.seal
        )
    assert world.stored() == before


def test_complete_work_item_twice_is_refused_and_stores_nothing(world):
    item = world.add_item()
    world.app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="done"), world.seal)
    before = world.stored()
    with pytest.raises(InvalidTransition, match="completed"):
        world.app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="again"), world.seal)
    assert world.stored() == before


def test_complete_recurring_work_item_moves_it_to_the_next_due_date(world):
    item = world.add_item(due=date(2026, 11, 1), every_days=7)
    done = world.app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="week 1"), world.seal)
    assert (done["status"], done["due_date"]) == ("open", "2026-11-08")


def test_add_work_item_for_a_worker_of_another_grid_is_refused_and_stores_nothing(world):
    before = world.stored()
    with pytest.raises(ValidationFailed, match="not a grid worker"):
        world.add_item(grid=GRID, assignee_id=OTHER_WORKER)
    assert world.stored() == before


def test_add_work_item_assigned_to_member_unit_and_volunteer_is_listed(world):
    volunteer = world.app.register_participant(
        ADMIN, c.RegisterParticipant(jurisdiction="433101001001", kind="volunteer", name="Volunteer Li"), world.seal
    )["participant_id"]
    by_unit = world.add_item(assignee_kind="member_unit", assignee_id=UNIT)
    by_volunteer = world.add_item(assignee_kind="participant", assignee_id=volunteer)
    assert world.app.repository.get(UUID(by_unit)).assignee_id == "433101:justice-bureau"
    assert world.app.repository.get(UUID(by_volunteer)).assignee_id == volunteer


def test_add_work_item_for_volunteer_of_another_county_is_refused(world):
    world.app.register_jurisdiction(ADMIN, c.RegisterJurisdiction(code="433123", name="Fenghuang"))
    elsewhere = world.app.register_participant(
        ADMIN, c.RegisterParticipant(jurisdiction="433123", kind="volunteer", name="Volunteer Wu"), world.seal
    )["participant_id"]
    before = world.stored()
    with pytest.raises(ValidationFailed, match="does not serve"):
        world.add_item(assignee_kind="participant", assignee_id=elsewhere)
    assert world.stored() == before


def test_mark_overdue_marks_once_per_due_date(world):
    item = UUID(world.add_item(due=date(2026, 11, 1), every_days=7))
    marks = [world.app.mark_overdue(SERVICE, item, date(2026, 11, day)) for day in (1, 2, 3, 4)]
    world.app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="late"), world.seal)
    marks += [world.app.mark_overdue(SERVICE, item, date(2026, 11, day)) for day in (8, 9, 10)]
    assert marks == [False, True, False, False, False, True, False]
    overdue = [e.due_date for e in world.app.events.get(item) if type(e).__name__ == "MarkedOverdue"]
    assert overdue == ["2026-11-01", "2026-11-08"]


def test_mark_overdue_of_completed_item_stores_nothing(world):
    item = world.add_item(due=date(2026, 11, 1))
    world.app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="done"), world.seal)
    before = world.stored()
    assert world.app.mark_overdue(SERVICE, UUID(item), date(2026, 12, 1)) is False
    assert world.stored() == before


def test_mark_overdue_by_a_person_is_forbidden(world):
    item = world.add_item(due=date(2026, 11, 1))
    with pytest.raises(Forbidden):
        world.app.mark_overdue(ADMIN, UUID(item), date(2026, 12, 1))


def test_department_officer_completes_only_member_unit_items(world):
    officer = call_as(Role.DEPARTMENT_OFFICER, "433101", "dept-1")
    workers_item = world.add_item()
    units_item = world.add_item(assignee_kind="member_unit", assignee_id=UNIT)
    with pytest.raises(Forbidden, match="member unit"):
        world.app.complete_work_item(officer, c.CompleteWorkItem(item_id=workers_item, note="x"), world.seal)
    done = world.app.complete_work_item(officer, c.CompleteWorkItem(item_id=units_item, note="checked"), world.seal)
    assert done["status"] == "completed"
