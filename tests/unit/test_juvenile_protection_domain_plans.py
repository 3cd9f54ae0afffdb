"""Coordinated protection plan: departments' tasks, completion, overdue tasks, reviews."""

from datetime import timedelta

import pytest

from services.juvenile_protection.domain import ProtectionPlan, plan_id_for
from shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed

from .test_juvenile_protection_domain_support import TODAY, acting, new_case, new_plan, note, refused

DUE = TODAY + timedelta(days=7)


def plan_with_task(department="education"):
    plan = new_plan()
    task_id = plan.assign_task(department, DUE, TODAY, note(plan.case_id, "home visit"))
    return plan, task_id


def test_plan_is_one_per_case():
    with acting():
        case = new_case()
        assert new_plan(case).id == plan_id_for(case.id)


def test_plan_with_unknown_lead_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="department"):
        new_plan(lead="chamber_of_commerce")


def test_plan_for_closed_case_is_refused():
    with acting():
        case = new_case()
        case.close("moved", TODAY)
        with pytest.raises(InvalidTransition):
            new_plan(case)


def test_plan_first_review_in_the_past_is_refused():
    with acting():
        case = new_case()
        with pytest.raises(ValidationFailed, match="past"):
            ProtectionPlan.draw_up(case, "civil_affairs", TODAY - timedelta(days=1), TODAY)


def test_task_without_department_is_refused():
    with acting():
        plan = new_plan()
        refused(plan, ValidationFailed, plan.assign_task, None, DUE, TODAY, note(plan.case_id))
        refused(plan, ValidationFailed, plan.assign_task, "", DUE, TODAY, note(plan.case_id))


def test_task_for_unknown_department_is_refused():
    with acting():
        plan = new_plan()
        refused(plan, ValidationFailed, plan.assign_task, "bank", DUE, TODAY, note(plan.case_id))


def test_task_due_in_the_past_is_refused():
    with acting():
        plan = new_plan()
        refused(plan, ValidationFailed, plan.assign_task, "health", TODAY - timedelta(days=1), TODAY,
                note(plan.case_id))


def test_task_with_plaintext_description_is_refused():
    with acting():
        plan = new_plan()
        refused(plan, ValidationFailed, plan.assign_task, "health", DUE, TODAY, "visit Long Xiaomei")


def test_task_completed_only_after_acknowledgement():
    with acting():
        plan, task = plan_with_task()
        refused(plan, InvalidTransition, plan.complete_task, task, DUE, note(plan.case_id))
        plan.acknowledge_task(task)
        plan.complete_task(task, DUE, note(plan.case_id))
    assert plan.tasks[task]["status"] == "done"


def test_unknown_task_is_not_found():
    with acting():
        plan = new_plan()
        refused(plan, NotFound, plan.acknowledge_task, "T9")


def test_plan_complete_only_when_every_task_is_done():
    with acting():
        plan, first = plan_with_task("education")
        second = plan.assign_task("womens_federation", DUE, TODAY, note(plan.case_id))
        for task in (first, second):
            plan.acknowledge_task(task)
        plan.complete_task(first, TODAY, note(plan.case_id))
        assert not plan.complete
        plan.complete_task(second, TODAY, note(plan.case_id))
    assert plan.complete


def test_plan_without_tasks_is_not_complete():
    with acting():
        assert not new_plan().complete


def test_cancelled_task_does_not_hold_completion():
    with acting():
        plan, first = plan_with_task()
        second = plan.assign_task("youth_league", DUE, TODAY, note(plan.case_id))
        plan.cancel_task(second, note(plan.case_id, "no longer needed"))
        plan.acknowledge_task(first)
        plan.complete_task(first, TODAY, note(plan.case_id))
    assert plan.complete


def test_overdue_tasks_listed_after_due_date():
    with acting():
        plan, task = plan_with_task()
    assert plan.overdue_tasks(DUE) == []
    assert plan.overdue_tasks(DUE + timedelta(days=1)) == [task]


def test_overdue_task_flagged_once():
    with acting():
        plan, task = plan_with_task()
        later = DUE + timedelta(days=2)
        assert plan.flag_overdue_tasks(later) == [task]
        assert plan.flag_overdue_tasks(later + timedelta(days=5)) == []
    assert [type(e).__name__ for e in plan.pending_events].count("TaskOverdueFlagged") == 1


def test_done_task_is_never_overdue():
    with acting():
        plan, task = plan_with_task()
        plan.acknowledge_task(task)
        plan.complete_task(task, TODAY, note(plan.case_id))
    assert plan.overdue_tasks(DUE + timedelta(days=30)) == []


def test_lead_changed_to_same_department_is_refused():
    with acting():
        plan = new_plan(lead="civil_affairs")
        refused(plan, Conflict, plan.change_lead, "civil_affairs")
        plan.change_lead("education")
    assert plan.lead_department == "education"


def test_review_sets_the_next_review():
    with acting():
        plan = new_plan()
        plan.record_review(TODAY, TODAY + timedelta(days=90), "on_track", note(plan.case_id))
    assert plan.next_review_on == (TODAY + timedelta(days=90)).isoformat()


def test_review_with_next_date_not_after_is_refused():
    with acting():
        plan = new_plan()
        refused(plan, ValidationFailed, plan.record_review, TODAY, TODAY, "on_track", note(plan.case_id))


def test_review_overdue_after_review_date():
    with acting():
        plan = new_plan()
    review_on = TODAY + timedelta(days=30)
    assert not plan.review_overdue(review_on)
    assert plan.review_overdue(review_on + timedelta(days=1))


def test_review_with_an_unknown_outcome_is_refused():
    with acting():
        plan = new_plan()
        refused(plan, ValidationFailed, plan.record_review, TODAY, TODAY + timedelta(days=90), "fine",
                note(plan.case_id))


def test_overdue_review_is_flagged_once_per_review_date():
    review_on = TODAY + timedelta(days=30)
    with acting():
        plan = new_plan()
        flags = [plan.flag_review_overdue(review_on), *(plan.flag_review_overdue(review_on + timedelta(days=d))
                                                        for d in (1, 2))]
        plan.record_review(review_on + timedelta(days=3), review_on + timedelta(days=10), "tasks_revised",
                           note(plan.case_id))
        flags.append(plan.flag_review_overdue(review_on + timedelta(days=11)))
    assert flags == [False, True, False, True]


def test_ended_plan_review_is_never_flagged():
    with acting():
        plan = new_plan()
        plan.end(TODAY)
        refused(plan, InvalidTransition, plan.record_review, TODAY, TODAY + timedelta(days=9), "on_track",
                note(plan.case_id))
    assert not plan.flag_review_overdue(TODAY + timedelta(days=365))


def test_ended_plan_is_read_only():
    with acting():
        plan, task = plan_with_task()
        plan.end(TODAY)
        refused(plan, InvalidTransition, plan.acknowledge_task, task)
        refused(plan, InvalidTransition, plan.assign_task, "health", DUE, TODAY, note(plan.case_id))
        refused(plan, InvalidTransition, plan.end, TODAY)
    assert plan.overdue_tasks(DUE + timedelta(days=3)) == []
