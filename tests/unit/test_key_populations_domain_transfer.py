"""Transfer between jurisdictions: the sender initiates, the receiver accepts or
refuses; both see the record meanwhile, and follow-ups go on with no gap."""

from datetime import timedelta

import pytest

from shared.errors import Forbidden, InvalidTransition, ValidationFailed

from .test_key_populations_domain_support import (
    OTHER_VILLAGE,
    RECEIVER,
    SAME_TOWNSHIP_VILLAGE,
    SENDER,
    TODAY,
    VILLAGE,
    acting,
    enrol,
    event_names,
    team,
)


def pending(category="severe_mental_disorder", to=OTHER_VILLAGE, **changes):
    with acting():
        record = enrol(category, **changes)
        record.initiate_transfer(to, SENDER)
    return record


def test_transfer_pending_is_visible_to_both_jurisdictions():
    assert pending().visible_to_jurisdictions == [VILLAGE, OTHER_VILLAGE]


def test_transfer_pending_leaves_the_sender_responsible():
    record = pending()
    assert (record.responsible_jurisdiction, record.responsible_id) == (VILLAGE, "m-township")


def test_transfer_pending_keeps_follow_ups_due_and_recordable():
    record = pending(risk_level=4)
    due = record.next_follow_up_due
    with acting():
        assert record.follow_up_overdue(due + timedelta(days=1))
        next_due = record.record_follow_up(TODAY, TODAY, "home_visit", "stable")
    assert next_due == TODAY + timedelta(days=7) and record.transfer_to == OTHER_VILLAGE


def test_transfer_pending_overdue_flag_is_recorded_for_the_sender():
    record = pending()
    with acting():
        record.flag_follow_up_overdue(record.next_follow_up_due + timedelta(days=1))
    assert record.pending_events[-1].jurisdiction == VILLAGE


def test_transfer_accepted_hands_over_jurisdiction_team_and_due_date_with_no_gap():
    record = pending()
    due = record.next_follow_up_due
    with acting(RECEIVER):
        record.accept_transfer(RECEIVER, team(prefix="r"), "r-police")
    assert (record.jurisdiction, record.responsible_id, record.next_follow_up_due) == (OTHER_VILLAGE, "r-police", due)
    assert record.visible_to_jurisdictions == [OTHER_VILLAGE]


def test_transfer_refused_leaves_the_record_with_the_sender():
    record = pending()
    with acting(RECEIVER):
        record.refuse_transfer(RECEIVER, "not_resident")
    assert (record.jurisdiction, record.visible_to_jurisdictions) == (VILLAGE, [VILLAGE])


def test_transfer_accepted_by_the_sender_is_forbidden():
    record = pending()
    with acting(), pytest.raises(Forbidden):
        record.accept_transfer(SENDER, team(prefix="r"), "r-police")


def test_transfer_accepted_by_a_county_above_both_townships_is_forbidden():
    record = pending(to="433101002001")
    with acting("433101"), pytest.raises(Forbidden):
        record.accept_transfer("433101", team(prefix="r"), "r-police")


def test_transfer_within_a_township_is_accepted_by_that_township():
    record = pending(to=SAME_TOWNSHIP_VILLAGE)
    with acting():
        record.accept_transfer(SENDER, team(prefix="r"), "r-police")
    assert record.jurisdiction == SAME_TOWNSHIP_VILLAGE


def test_transfer_initiated_by_another_township_is_forbidden():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(Forbidden):
            record.initiate_transfer(OTHER_VILLAGE, RECEIVER)
    assert event_names(record) == ["Enrolled"]


@pytest.mark.parametrize("target", ["500101001001", "433122002", "４３３１２２００２００３", "433100"])
def test_transfer_outside_the_prefecture_or_not_to_a_village_is_refused(target):
    with acting():
        record = enrol("drug_users")
        with pytest.raises(ValidationFailed, match="to_jurisdiction"):
            record.initiate_transfer(target, SENDER)
    assert event_names(record) == ["Enrolled"]


def test_transfer_to_the_same_village_is_refused():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(ValidationFailed, match="another village"):
            record.initiate_transfer(VILLAGE, SENDER)


def test_transfer_while_one_is_pending_is_an_invalid_transition():
    record = pending()
    with acting(), pytest.raises(InvalidTransition, match="already pending"):
        record.initiate_transfer(SAME_TOWNSHIP_VILLAGE, SENDER)


def test_transfer_accept_without_a_pending_transfer_is_an_invalid_transition():
    with acting():
        record = enrol("drug_users")
        with pytest.raises(InvalidTransition):
            record.accept_transfer(RECEIVER, team(prefix="r"), "r-police")


def test_transfer_accept_with_an_incomplete_team_is_refused():
    record = pending()
    with acting(RECEIVER), pytest.raises(ValidationFailed):
        record.accept_transfer(RECEIVER, team(prefix="r")[:1], "r-township")
    assert record.transfer_to == OTHER_VILLAGE


def test_transfer_refusal_needs_a_known_reason():
    record = pending()
    with acting(RECEIVER), pytest.raises(ValidationFailed, match="reason"):
        record.refuse_transfer(RECEIVER, "no room")
