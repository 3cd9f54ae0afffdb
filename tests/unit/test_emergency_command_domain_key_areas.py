"""Key areas (Art. 7(1)): staffing shortfall, versioned plans with approvals, drills, and the
overdue-drill / missing-plan flags on a fixed clock."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from services.emergency_command.domain import (
    PLAN_GRACE_DAYS,
    KeyArea,
    drill_due_on,
    key_area_subject,
    missing_plan,
    overdue_drill,
)
from shared.errors import Conflict, InvalidTransition, ValidationFailed

from .test_emergency_command_domain_support import NOW, TODAY, TOWNSHIP, VAULT, acting, names_of

REGISTERED = date(2026, 1, 5)


def area(every_days=90, **changes) -> KeyArea:
    facts = {"registry_ref": f"school-{uuid4().hex}", "jurisdiction": TOWNSHIP, "kind": "school",
             "managing_unit": "education-bureau-433101", "drill_every_days": every_days,
             "registered_on": REGISTERED, **changes}
    with acting():
        return KeyArea.register(**facts)


def with_plan(every_days=90, approved_on=REGISTERED) -> KeyArea:
    key_area = area(every_days)
    with acting():
        key_area.adopt_plan(1, "county-emergency-office", approved_on, "plan-doc-1", None, TODAY)
    return key_area


def refused(key_area, error, command):
    """Run ``command`` inside a call and check it raised ``error`` and triggered no event."""
    before = len(names_of(key_area))
    with acting(), pytest.raises(error):
        command()
    assert len(names_of(key_area)) == before


def test_register_unknown_kind_refused():
    with acting(), pytest.raises(ValidationFailed):
        KeyArea.register("x", TOWNSHIP, "casino", "unit-1", 90, REGISTERED)


def test_register_prefecture_code_refused():
    with acting(), pytest.raises(ValidationFailed):
        KeyArea.register("x", "433100", "square", "unit-1", 90, REGISTERED)


def test_register_full_width_digit_code_refused():
    with acting(), pytest.raises(ValidationFailed):
        KeyArea.register("x", "４３３１０１００１", "square", "unit-1", 90, REGISTERED)


def test_register_without_managing_unit_refused():
    with acting(), pytest.raises(ValidationFailed):
        KeyArea.register("x", TOWNSHIP, "square", " ", 90, REGISTERED)


def test_register_drill_interval_out_of_range_refused():
    with acting(), pytest.raises(ValidationFailed):
        KeyArea.register("x", TOWNSHIP, "square", "unit-1", 3, REGISTERED)


def test_register_same_reference_same_id():
    assert KeyArea.create_id("station-jishou") == KeyArea.create_id("station-jishou") != KeyArea.create_id("other")


def test_shortfall_computed_from_required_and_actual():
    key_area = area()
    with acting():
        key_area.set_requirements(10, {"camera": 8, "extinguisher": 20})
        key_area.report_resources(6, {"camera": 5, "extinguisher": 25}, TODAY)
    assert key_area.shortfall == {"staff": 4, "equipment": {"camera": 3}}
    assert key_area.understaffed


def test_shortfall_carried_on_reported_event():
    key_area = area()
    with acting():
        key_area.set_requirements(10, {"camera": 8})
        key_area.report_resources(10, {"camera": 2}, TODAY)
    assert key_area.pending_events[-1].shortfall == {"staff": 0, "equipment": {"camera": 6}}


def test_shortfall_none_when_standard_met():
    key_area = area()
    with acting():
        key_area.set_requirements(4, {"camera": 2})
        key_area.report_resources(5, {"camera": 2, "radio": 3}, TODAY)
    assert not key_area.understaffed


def test_resources_negative_count_refused():
    key_area = area()
    refused(key_area, ValidationFailed, lambda: key_area.report_resources(3, {"camera": -1}, TODAY))


def test_plan_new_version_keeps_old_with_approvals():
    key_area = with_plan()
    with acting():
        key_area.adopt_plan(2, "county-emergency-office", date(2026, 6, 1), "plan-doc-2", None, TODAY)
    assert [(p["version"], p["approved_by"], p["approved_on"]) for p in key_area.plans] == [
        (1, "county-emergency-office", REGISTERED.isoformat()), (2, "county-emergency-office", "2026-06-01")]


def test_plan_older_version_refused():
    key_area = with_plan()
    with acting():
        key_area.adopt_plan(3, "office", date(2026, 6, 1), "doc-3", None, TODAY)
    refused(key_area, ValidationFailed, lambda: key_area.adopt_plan(2, "office", TODAY, "doc-2", None, TODAY))


def test_plan_current_version_again_conflict():
    key_area = with_plan()
    refused(key_area, Conflict, lambda: key_area.adopt_plan(1, "office", TODAY, "doc-1", None, TODAY))


def test_plan_approved_in_future_refused():
    key_area = area()
    refused(key_area, ValidationFailed,
            lambda: key_area.adopt_plan(1, "office", TODAY + timedelta(days=1), "doc", None, TODAY))


def test_plan_without_approving_unit_refused():
    key_area = area()
    refused(key_area, ValidationFailed, lambda: key_area.adopt_plan(1, "", TODAY, "doc", None, TODAY))


def test_plan_plaintext_notes_refused():
    key_area = area()
    refused(key_area, ValidationFailed,
            lambda: key_area.adopt_plan(1, "office", TODAY, "doc", "Principal Wang leads evacuation", TODAY))


def test_plan_notes_sealed_under_area_key_accepted():
    key_area = area()
    notes = VAULT.seal(key_area_subject(key_area.id), "Principal Wang leads evacuation")
    with acting():
        key_area.adopt_plan(1, "office", TODAY, "doc", notes, TODAY)
    assert key_area.pending_events[-1].notes == notes


def test_drill_dated_in_future_refused():
    key_area = with_plan()
    refused(key_area, ValidationFailed,
            lambda: key_area.record_drill(TODAY + timedelta(days=1), "fire", 40, ["school-1"], None, TODAY))


def test_drill_dated_with_time_of_day_refused():
    key_area = with_plan()
    refused(key_area, ValidationFailed,
            lambda: key_area.record_drill(NOW, "fire", 40, ["school-1"], None, TODAY))


def test_drill_before_registration_refused():
    key_area = with_plan()
    refused(key_area, ValidationFailed,
            lambda: key_area.record_drill(REGISTERED - timedelta(days=1), "fire", 40, [], None, TODAY))


def test_drill_without_plan_refused():
    key_area = area()
    refused(key_area, InvalidTransition, lambda: key_area.record_drill(TODAY, "fire", 40, [], None, TODAY))


def test_drill_unknown_scenario_refused():
    key_area = with_plan()
    refused(key_area, ValidationFailed, lambda: key_area.record_drill(TODAY, "Mr Wu's idea", 40, [], None, TODAY))


def test_drill_without_participants_refused():
    key_area = with_plan()
    refused(key_area, ValidationFailed, lambda: key_area.record_drill(TODAY, "fire", 0, [], None, TODAY))


def test_drill_plaintext_findings_refused():
    key_area = with_plan()
    refused(key_area, ValidationFailed,
            lambda: key_area.record_drill(TODAY, "fire", 40, [], "Teacher Li froze at the exit", TODAY))


def test_drill_findings_sealed_under_other_key_refused():
    key_area = with_plan()
    findings = VAULT.seal("keyarea.someone-else", "exit 3 blocked")
    refused(key_area, ValidationFailed, lambda: key_area.record_drill(TODAY, "fire", 40, [], findings, TODAY))


def test_drill_records_counts_units_and_plan_version():
    key_area = with_plan()
    findings = VAULT.seal(key_area_subject(key_area.id), "exit 3 blocked")
    with acting():
        key_area.record_drill(TODAY, "fire", 120, ["school-1", "fire-brigade-433101"], findings, TODAY)
    recorded = key_area.pending_events[-1]
    assert (recorded.participant_count, recorded.participant_units, recorded.plan_version) == (
        120, ["school-1", "fire-brigade-433101"], 1)


def test_drill_entered_late_keeps_schedule():
    key_area = with_plan()
    with acting():
        key_area.record_drill(date(2026, 11, 1), "fire", 10, [], None, TODAY)
        key_area.record_drill(date(2026, 10, 1), "flood", 10, [], None, TODAY)
    assert drill_due_on(key_area.as_row()) == date(2026, 11, 1) + timedelta(days=90)


def test_overdue_drill_flagged_once_per_due_date():
    key_area = with_plan(every_days=30)
    due = REGISTERED + timedelta(days=30)
    with acting():
        first = key_area.flag_overdue(due + timedelta(days=1))
        second = key_area.flag_overdue(due + timedelta(days=2))
    assert (first, second) == (["drill"], [])
    assert names_of(key_area).count("DrillOverdueFlagged") == 1


def test_overdue_drill_not_flagged_on_due_date():
    key_area = with_plan(every_days=30)
    with acting():
        assert key_area.flag_overdue(REGISTERED + timedelta(days=30)) == []


def test_overdue_drill_flagged_again_for_next_due_date():
    key_area = with_plan(every_days=30)
    with acting():
        key_area.flag_overdue(date(2026, 3, 1))
        key_area.record_drill(date(2026, 3, 2), "fire", 10, [], None, date(2026, 3, 2))
        key_area.flag_overdue(date(2026, 4, 10))
    assert [e.due_on for e in key_area.pending_events if type(e).__name__ == "DrillOverdueFlagged"] == [
        "2026-02-04", "2026-04-01"]


def test_missing_plan_flagged_once_after_grace():
    key_area = area(every_days=366)
    day_after = REGISTERED + timedelta(days=PLAN_GRACE_DAYS + 1)
    with acting():
        flags = [key_area.flag_overdue(day_after), key_area.flag_overdue(day_after + timedelta(days=5))]
    assert flags == [["plan"], []]


def test_missing_plan_not_flagged_once_adopted():
    key_area = with_plan(every_days=366)
    with acting():
        assert key_area.flag_overdue(REGISTERED + timedelta(days=PLAN_GRACE_DAYS + 1)) == []


def test_timer_functions_read_a_read_model_row():
    row = {"status": "active", "registered_on": "2026-01-05", "last_drill_on": "2026-06-01", "drill_every_days": 30,
           "drill_overdue_flagged": ["2026-02-04"], "plan_version": 0, "plan_missing_flagged": []}
    assert (overdue_drill(row, date(2026, 7, 2)), missing_plan(row, date(2026, 7, 2))) == ("2026-07-01", "2026-02-04")


def test_timer_functions_skip_already_flagged_due_dates():
    row = {"status": "active", "registered_on": "2026-01-05", "last_drill_on": None, "drill_every_days": 30,
           "drill_overdue_flagged": ["2026-02-04"], "plan_version": 0, "plan_missing_flagged": ["2026-02-04"]}
    assert (overdue_drill(row, date(2026, 7, 2)), missing_plan(row, date(2026, 7, 2))) == (None, None)


def test_retired_area_not_flagged():
    key_area = area(every_days=30)
    with acting():
        key_area.retire(date(2026, 1, 10))
        assert key_area.flag_overdue(date(2026, 12, 1)) == []


def test_retired_area_refuses_drills():
    key_area = with_plan()
    with acting():
        key_area.retire(TODAY)
    refused(key_area, InvalidTransition, lambda: key_area.record_drill(TODAY, "fire", 5, [], None, TODAY))


def test_reschedule_changes_due_date():
    key_area = with_plan(every_days=90)
    with acting():
        key_area.reschedule_drills(30)
    assert drill_due_on(key_area.as_row()) == REGISTERED + timedelta(days=30)
