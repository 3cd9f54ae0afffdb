"""Follow-ups and risk: dates, next due dates from the county's policy table,
the overdue rule flagged exactly once per due date, reassessment."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.key_populations.domain import FollowUpPolicy
from shared.errors import ValidationFailed

from .test_key_populations_domain_support import ENROLLED, TODAY, acting, enrol, event_names, sealed

SMD_DEFAULTS = {0: 90, 1: 30, 2: 30, 3: 14, 4: 7, 5: 7}


def test_follow_up_records_outcome_and_default_next_due_date():
    with acting():
        record = enrol("community_correction")
        due = record.record_follow_up(TODAY, TODAY, "home_visit", "stable", note=sealed("at home, working"))
    assert due == TODAY + timedelta(days=30) and record.next_follow_up_due == due


def test_follow_up_accepts_an_earlier_next_due_date():
    with acting():
        record = enrol("community_correction")
        record.record_follow_up(TODAY, TODAY, "phone", "concern", next_due=TODAY + timedelta(days=3))
    assert record.next_follow_up_due == TODAY + timedelta(days=3)


def test_follow_up_refuses_a_next_due_date_beyond_the_policy_interval():
    with acting():
        record = enrol("community_correction")
        with pytest.raises(ValidationFailed, match="next follow-up"):
            record.record_follow_up(TODAY, TODAY, "phone", "stable", next_due=TODAY + timedelta(days=31))


def test_follow_up_dated_in_the_future_is_refused():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(ValidationFailed, match="future"):
            record.record_follow_up(TODAY + timedelta(days=1), TODAY, "home_visit", "stable")
    assert event_names(record) == ["Enrolled"]


def test_follow_up_dated_before_enrolment_is_refused():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(ValidationFailed, match="before"):
            record.record_follow_up(ENROLLED - timedelta(days=1), TODAY, "home_visit", "stable")
    assert event_names(record) == ["Enrolled"]


def test_follow_up_dated_before_the_last_one_is_refused():
    with acting():
        record = enrol("drug_users")
        record.record_follow_up(TODAY, TODAY, "home_visit", "stable")
        with pytest.raises(ValidationFailed, match="before"):
            record.record_follow_up(TODAY - timedelta(days=1), TODAY, "home_visit", "stable")


def test_follow_up_with_an_unknown_outcome_is_refused():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(ValidationFailed, match="outcome"):
            record.record_follow_up(TODAY, TODAY, "home_visit", "fine")


def test_follow_up_overdue_starts_the_day_after_the_due_date():
    with acting():
        record = enrol("drug_users")
    due = record.next_follow_up_due
    assert not record.follow_up_overdue(due)
    assert record.follow_up_overdue(due + timedelta(days=1))


def test_follow_up_overdue_flag_is_recorded_once_per_due_date():
    with acting():
        record = enrol("drug_users")
        late = record.next_follow_up_due + timedelta(days=1)
        flags = [record.flag_follow_up_overdue(late + timedelta(days=n)) for n in range(5)]
    assert flags == [True, False, False, False, False]
    assert event_names(record).count("FollowUpOverdueFlagged") == 1


def test_follow_up_overdue_flag_is_not_repeated_after_a_restart():
    with acting():
        record = enrol("drug_users")
        late = record.next_follow_up_due + timedelta(days=1)
        record.flag_follow_up_overdue(late)
    replayed = None
    for stored in record.collect_events():
        replayed = stored.mutate(replayed)
    with acting():
        assert not replayed.flag_follow_up_overdue(late + timedelta(days=1))
    assert not replayed.pending_events


def test_follow_up_overdue_flag_is_recorded_again_for_the_next_due_date():
    with acting():
        record = enrol("drug_users")
        first_due = record.next_follow_up_due
        record.flag_follow_up_overdue(first_due + timedelta(days=1))
        held = first_due + timedelta(days=2)
        next_due = record.record_follow_up(held, held, "home_visit", "stable")
        assert record.flag_follow_up_overdue(next_due + timedelta(days=1))
    flagged = [e.due_on for e in record.pending_events if type(e).__name__ == "FollowUpOverdueFlagged"]
    assert flagged == [first_due.isoformat(), next_due.isoformat()]


def test_follow_up_overdue_flag_before_the_due_date_records_nothing():
    with acting():
        record = enrol("drug_users")
        assert not record.flag_follow_up_overdue(record.next_follow_up_due)
    assert event_names(record) == ["Enrolled"]


def test_follow_up_overdue_flag_names_the_responsible_person_and_no_personal_data():
    with acting():
        record = enrol("drug_users")
        record.flag_follow_up_overdue(record.next_follow_up_due + timedelta(days=1))
    flag = record.pending_events[-1]
    assert (flag.person_id, flag.category, flag.responsible_id) == (record.person_id, "drug_users", "m-township")


@pytest.mark.parametrize("level,days", sorted(SMD_DEFAULTS.items()))
def test_mental_disorder_follow_up_interval_follows_the_risk_level(level, days):
    with acting():
        record = enrol("severe_mental_disorder", risk_level=level)
    assert record.next_follow_up_due == ENROLLED + timedelta(days=days)


def test_mental_disorder_follow_up_interval_follows_the_countys_own_table():
    county = FollowUpPolicy(mental_disorder_days={**SMD_DEFAULTS, 3: 10})
    with acting():
        record = enrol("severe_mental_disorder", risk_level=3, policy=county)
        due = record.record_follow_up(TODAY, TODAY, "home_visit", "stable", policy=county)
    assert due == TODAY + timedelta(days=10)


def test_policy_table_missing_a_level_is_refused():
    with pytest.raises(ValidationError):
        FollowUpPolicy(mental_disorder_days={0: 90, 1: 30})


def test_risk_reassessment_to_a_higher_level_brings_the_next_follow_up_closer():
    with acting():
        record = enrol("severe_mental_disorder", risk_level=0)
        record.reassess_risk(3, TODAY, TODAY)
    assert record.next_follow_up_due == TODAY + timedelta(days=14)


def test_risk_reassessment_to_a_lower_level_never_postpones_the_next_follow_up():
    with acting():
        record = enrol("severe_mental_disorder", risk_level=4)
        due = record.next_follow_up_due
        record.reassess_risk(0, TODAY, TODAY)
    assert record.next_follow_up_due == due


def test_risk_reassessment_to_the_highest_level_is_reported_once():
    with acting():
        record = enrol("released_persons", risk_level=3)
        record.reassess_risk(5, TODAY, TODAY)
        record.reassess_risk(5, TODAY, TODAY)
    reached = [e for e in record.pending_events if type(e).__name__ == "HighestRiskReached"]
    assert len(reached) == 1
    assert (reached[0].category, reached[0].level) == ("released_persons", 5)


def test_risk_reassessment_off_the_scale_is_refused():
    with acting():
        record = enrol("released_persons")
        with pytest.raises(ValidationFailed, match="0 to 5"):
            record.reassess_risk(6, TODAY, TODAY)


def test_risk_reassessment_dated_in_the_future_is_refused():
    with acting():
        record = enrol("released_persons")
        with pytest.raises(ValidationFailed, match="future"):
            record.reassess_risk(2, TODAY + timedelta(days=1), TODAY)
