"""Each category's own rules: community correction (leave, violations, end of
supervision), released persons (hand-over, assistance), severe mental disorder
(diagnosis, guardian, treatment, joint handling), drug users (tests, risk)."""

from datetime import date, timedelta

import pytest

from services.key_populations.domain import handover_overdue, years_after
from shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed

from .test_key_populations_domain_support import ENROLLED, TODAY, acting, enrol, event_names, facts, sealed

SUPERVISION_END = ENROLLED + timedelta(days=365)


# -- community correction --------------------------------------------------------------------


@pytest.mark.parametrize("correction_type", ["public_surveillance", "suspended_sentence", "parole",
                                             "temporary_execution_outside_prison"])
def test_correction_enrolment_accepts_each_correction_type(correction_type):
    with acting():
        record = enrol("community_correction", facts={**facts("community_correction"),
                                                      "correction_type": correction_type})
    assert record.facts["correction_type"] == correction_type


def test_correction_enrolment_refuses_an_unknown_correction_type():
    with acting(), pytest.raises(ValidationFailed, match="correction_type"):
        enrol("community_correction", facts={**facts("community_correction"), "correction_type": "probation"})


def test_correction_enrolment_refuses_a_supervision_that_ends_before_it_starts():
    with acting(), pytest.raises(ValidationFailed, match="supervision"):
        enrol("community_correction",
              facts={**facts("community_correction"), "supervision_end": ENROLLED - timedelta(days=9)})


def test_correction_enrolment_refuses_no_reporting_duties():
    with acting(), pytest.raises(ValidationFailed, match="duties"):
        enrol("community_correction", facts={**facts("community_correction"), "duties": []})


def test_correction_leave_request_then_approval_is_recorded():
    with acting():
        record = enrol("community_correction")
        record.request_leave("L1", TODAY, TODAY + timedelta(days=6), TODAY)
        record.decide_leave("L1", approved=True)
    assert record.leave_requests["L1"]["decision"] == "approved"
    assert event_names(record)[-2:] == ["LeaveRequested", "LeaveApproved"]


def test_correction_leave_refusal_is_recorded():
    with acting():
        record = enrol("community_correction")
        record.request_leave("L1", TODAY, TODAY, TODAY)
        record.decide_leave("L1", approved=False)
    assert event_names(record)[-1] == "LeaveRefused"


def test_correction_leave_decided_twice_is_an_invalid_transition():
    with acting():
        record = enrol("community_correction")
        record.request_leave("L1", TODAY, TODAY, TODAY)
        record.decide_leave("L1", approved=False)
        with pytest.raises(InvalidTransition):
            record.decide_leave("L1", approved=True)


def test_correction_leave_decision_for_an_unknown_request_is_not_found():
    with acting():
        record = enrol("community_correction")
        with pytest.raises(NotFound):
            record.decide_leave("L9", approved=True)


def test_correction_leave_request_id_used_twice_is_a_conflict():
    with acting():
        record = enrol("community_correction")
        record.request_leave("L1", TODAY, TODAY, TODAY)
        with pytest.raises(Conflict):
            record.request_leave("L1", TODAY, TODAY, TODAY)


def test_correction_leave_longer_than_the_limit_is_refused():
    with acting():
        record = enrol("community_correction")
        with pytest.raises(ValidationFailed, match="at most 30 days"):
            record.request_leave("L1", TODAY, TODAY + timedelta(days=30), TODAY)


def test_correction_leave_past_the_end_of_supervision_is_refused():
    with acting():
        record = enrol("community_correction")
        start = SUPERVISION_END - timedelta(days=2)
        with pytest.raises(ValidationFailed, match="within the supervision"):
            record.request_leave("L1", start, start + timedelta(days=5), TODAY)


def test_correction_violation_records_its_warning_and_counts_it():
    with acting():
        record = enrol("community_correction")
        record.record_violation(TODAY, TODAY, "missed_report", "reprimand", note=sealed("did not report"))
        record.record_violation(TODAY, TODAY, "left_without_leave", "warning")
    last = record.pending_events[-1]
    assert (last.warning, last.warnings, record.warnings) == ("warning", 2, 2)


def test_correction_violation_with_a_plaintext_note_is_refused():
    with acting():
        record = enrol("community_correction")
        with pytest.raises(ValidationFailed, match="'note'"):
            record.record_violation(TODAY, TODAY, "missed_report", "reprimand", note="did not report")


def test_correction_supervision_is_due_to_end_on_its_end_date():
    with acting():
        record = enrol("community_correction")
    assert not record.supervision_due_to_end(SUPERVISION_END - timedelta(days=1))
    assert record.supervision_due_to_end(SUPERVISION_END)


def test_correction_complete_period_ends_the_record_on_its_end_date():
    with acting():
        record = enrol("community_correction")
        record.complete_period(SUPERVISION_END + timedelta(days=3))
    assert (record.exit_reason, record.exited_on) == ("period_completed", SUPERVISION_END)


def test_correction_complete_period_before_the_end_date_is_an_invalid_transition():
    with acting():
        record = enrol("community_correction")
        with pytest.raises(InvalidTransition):
            record.complete_period(SUPERVISION_END - timedelta(days=1))


def test_correction_revocation_ends_supervision():
    with acting():
        record = enrol("community_correction")
        record.exit("revoked", TODAY, TODAY)
    assert record.exit_reason == "revoked" and not record.supervision_due_to_end(SUPERVISION_END)


# -- released persons ---------------------------------------------------------------------------


def test_released_assistance_period_defaults_to_five_years_after_release():
    with acting():
        record = enrol("released_persons")
    assert record.period_ends_on == years_after(record.released_on, 5)


def test_released_enrolment_before_release_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="on or after release"):
        enrol("released_persons", facts={**facts("released_persons"), "released_on": ENROLLED + timedelta(days=1)})


def test_released_enrolment_without_the_prison_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="prison"):
        enrol("released_persons", facts={"released_on": ENROLLED})


def test_handover_overdue_only_after_the_deadline_and_while_unacknowledged():
    due = date(2026, 12, 9)
    assert not handover_overdue(due, None, due)
    assert handover_overdue(due, None, due + timedelta(days=1))
    assert not handover_overdue(due, due - timedelta(days=1), due + timedelta(days=5))


def test_released_handover_is_overdue_seven_days_after_release_by_default():
    with acting():
        record = enrol("released_persons")
    released = record.released_on
    assert not record.handover_overdue(released + timedelta(days=7))
    assert record.handover_overdue(released + timedelta(days=8))


def test_released_handover_acknowledged_late_is_marked_late():
    with acting():
        record = enrol("released_persons",
                       facts={**facts("released_persons"), "released_on": ENROLLED - timedelta(days=9)})
        record.acknowledge_handover(TODAY, TODAY)
    assert record.pending_events[-1].late is True and not record.handover_overdue(TODAY)


def test_released_handover_acknowledged_twice_is_a_conflict():
    with acting():
        record = enrol("released_persons")
        record.acknowledge_handover(TODAY, TODAY)
        with pytest.raises(Conflict):
            record.acknowledge_handover(TODAY, TODAY)


@pytest.mark.parametrize("kind", ["employment", "housing", "training"])
def test_released_assistance_is_recorded_by_kind(kind):
    with acting():
        record = enrol("released_persons")
        record.record_assistance(kind, TODAY, TODAY, note=sealed("job at the tea co-operative"))
    assert record.assistance == [{"kind": kind, "on": TODAY.isoformat()}]


def test_released_assistance_of_an_unknown_kind_is_refused():
    with acting():
        record = enrol("released_persons")
        with pytest.raises(ValidationFailed, match="kind"):
            record.record_assistance("cash", TODAY, TODAY)


# -- severe mental disorder -----------------------------------------------------------------------


@pytest.mark.parametrize("diagnosis", [
    "schizophrenia", "schizoaffective_disorder", "persistent_delusional_disorder", "bipolar_disorder",
    "epilepsy_associated_mental_disorder", "intellectual_disability_with_mental_disorder"])
def test_mental_disorder_enrolment_accepts_each_listed_diagnosis(diagnosis):
    with acting():
        record = enrol("severe_mental_disorder", facts={**facts("severe_mental_disorder"), "diagnosis": diagnosis})
    assert record.diagnosis == diagnosis


def test_mental_disorder_enrolment_refuses_an_unlisted_diagnosis():
    with acting(), pytest.raises(ValidationFailed, match="diagnosis"):
        enrol("severe_mental_disorder", facts={**facts("severe_mental_disorder"), "diagnosis": "depression"})


def test_mental_disorder_enrolment_refuses_a_plaintext_guardian():
    with acting(), pytest.raises(ValidationFailed, match="'guardian_name'"):
        enrol("severe_mental_disorder", facts={**facts("severe_mental_disorder"), "guardian_name": "Peng Lan"})


def test_mental_disorder_enrolment_without_a_guardian_is_refused():
    bare = {k: v for k, v in facts("severe_mental_disorder").items() if k != "guardian_name"}
    with acting(), pytest.raises(ValidationFailed, match="guardian_name"):
        enrol("severe_mental_disorder", facts=bare)


def test_mental_disorder_treatment_change_is_recorded():
    with acting():
        record = enrol("severe_mental_disorder")
        record.change_treatment("inpatient")
    assert record.treatment_status == "inpatient"


def test_mental_disorder_treatment_change_to_the_same_status_is_an_invalid_transition():
    with acting():
        record = enrol("severe_mental_disorder")
        with pytest.raises(InvalidTransition):
            record.change_treatment("outpatient")


def test_mental_disorder_guardian_change_requires_a_sealed_name():
    with acting():
        record = enrol("severe_mental_disorder")
        with pytest.raises(ValidationFailed, match="'guardian_name'"):
            record.change_guardian("Peng Lan")


def test_mental_disorder_reaching_level_four_requires_joint_handling_once():
    with acting():
        record = enrol("severe_mental_disorder", risk_level=2)
        record.reassess_risk(4, TODAY, TODAY)
        record.reassess_risk(5, TODAY, TODAY)
    assert event_names(record).count("JointHandlingRequired") == 1
    assert event_names(record).count("HighestRiskReached") == 1


def test_mental_disorder_record_does_not_end_as_a_completed_period():
    with acting():
        record = enrol("severe_mental_disorder")
        with pytest.raises(ValidationFailed):
            record.exit("period_completed", TODAY, TODAY)


# -- drug users ------------------------------------------------------------------------------------


def test_drug_measure_defaults_to_three_years():
    with acting():
        record = enrol("drug_users")
    assert record.period_ends_on == years_after(ENROLLED, 3)


def test_drug_enrolment_refuses_an_unknown_measure():
    with acting(), pytest.raises(ValidationFailed, match="measure"):
        enrol("drug_users", facts={**facts("drug_users"), "measure": "compulsory_isolation"})


def test_drug_test_negative_keeps_the_risk_level():
    with acting():
        record = enrol("drug_users", risk_level=2)
        record.record_drug_test(TODAY, "negative", TODAY)
    assert record.risk_level == 2 and record.next_test_due == TODAY + timedelta(days=30)


def test_drug_test_positive_raises_the_risk_by_one_level():
    with acting():
        record = enrol("drug_users", risk_level=2)
        record.record_drug_test(TODAY, "positive", TODAY)
    assert record.risk_level == 3
    assert event_names(record)[-2:] == ["DrugTestRecorded", "RiskReassessed"]


def test_drug_test_positive_at_level_four_reaches_the_highest_level():
    with acting():
        record = enrol("drug_users", risk_level=4)
        record.record_drug_test(TODAY, "positive", TODAY)
    assert event_names(record)[-1] == "HighestRiskReached"


def test_drug_test_positive_at_the_highest_level_records_the_test_only():
    with acting():
        record = enrol("drug_users", risk_level=5)
        record.record_drug_test(TODAY, "positive", TODAY)
    assert event_names(record)[-1] == "DrugTestRecorded" and record.risk_level == 5


def test_drug_test_dated_in_the_future_is_refused():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(ValidationFailed, match="future"):
            record.record_drug_test(TODAY + timedelta(days=1), "negative", TODAY)


def test_drug_missed_test_raises_the_risk_once_per_scheduled_date():
    with acting():
        record = enrol("drug_users", risk_level=1)
        day = record.next_test_due + timedelta(days=1)
        record.record_missed_test(day)
        with pytest.raises(InvalidTransition):
            record.record_missed_test(day)
    assert record.risk_level == 2 and event_names(record).count("DrugTestMissed") == 1


def test_drug_missed_test_before_its_date_is_an_invalid_transition():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(InvalidTransition, match="not missed"):
            record.record_missed_test(record.next_test_due)
