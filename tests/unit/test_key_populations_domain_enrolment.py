"""Person records and enrolment: required facts, sealed personal fields, opaque
ids, jurisdictions, helper teams, the events other services consume, exit."""

from datetime import timedelta

import pytest

from services.key_populations.domain import (
    ENROLMENT_CLASSES,
    CommunityCorrection,
    Person,
    enrolment_class,
    person_key,
)
from shared.errors import InvalidTransition, ValidationFailed
from shared.security.policy import KEY_POPULATIONS

from .test_key_populations_domain_support import (
    CATEGORIES,
    ENROLLED,
    OTHER_VILLAGE,
    PERSON,
    SENDER,
    TODAY,
    VILLAGE,
    acting,
    enrol,
    event_names,
    facts,
    opened,
    sealed,
    team,
)

PUBLIC_EVENTS = ["MinorDependantsReported", "HighestRiskReached", "JointHandlingRequired", "FollowUpOverdueFlagged",
                 "TransferInitiated", "TransferAccepted", "TransferRefused", "Exited"]


# -- person ------------------------------------------------------------------------------


def test_person_register_keeps_identity_sealed_under_the_person_key():
    with acting():
        person = Person.register(PERSON, VILLAGE, name=sealed("Wu Mei"), id_number=sealed("433101199001011234"))
    assert person.name.split(":")[1] == person_key(PERSON)
    assert opened(person.id_number) == "433101199001011234"


def test_person_register_refuses_a_plaintext_name():
    with acting(), pytest.raises(ValidationFailed, match="'name'"):
        Person.register(PERSON, VILLAGE, name="Wu Mei")


def test_person_register_refuses_a_field_sealed_under_another_person():
    with acting(), pytest.raises(ValidationFailed, match="'address'"):
        Person.register(PERSON, VILLAGE, name=sealed("Wu Mei"), address=sealed("somewhere", "kp-other"))


@pytest.mark.parametrize("person_id", ["433101199001011234", "43310119900101123X", "433101900101123"])
def test_person_register_refuses_an_id_shaped_like_a_resident_id_number(person_id):
    with acting(), pytest.raises(ValidationFailed, match="resident ID"):
        Person.register(person_id, VILLAGE, name=sealed("Wu Mei", "kp-x"))


@pytest.mark.parametrize("person_id", ["kp\x00001", "x" * 1_000_000, "ｋｐ-0001", ""])
def test_person_register_refuses_a_hostile_person_id(person_id):
    with acting(), pytest.raises(ValidationFailed):
        Person.register(person_id, VILLAGE, name=sealed("Wu Mei"))


@pytest.mark.parametrize("code", ["433101001", "４３３１０１００１００１", "430101001001", "43310100100A"])
def test_person_register_refuses_a_place_that_is_not_a_village_of_the_prefecture(code):
    with acting(), pytest.raises(ValidationFailed, match="village code"):
        Person.register(PERSON, code, name=sealed("Wu Mei"))


def test_person_correct_identity_records_the_new_sealed_value():
    with acting():
        person = Person.register(PERSON, VILLAGE, name=sealed("Wu Mei"))
        person.correct_identity(contact=sealed("139 0000 0000"))
    assert opened(person.contact) == "139 0000 0000"
    assert event_names(person) == ["Registered", "IdentityCorrected"]


def test_person_move_refuses_the_village_they_live_in():
    with acting():
        person = Person.register(PERSON, VILLAGE, name=sealed("Wu Mei"))
        with pytest.raises(InvalidTransition):
            person.move(VILLAGE)


# -- enrolment -----------------------------------------------------------------------------


def test_enrolment_class_refuses_an_unknown_category():
    with pytest.raises(ValidationFailed, match="not a key-population category"):
        enrolment_class("minors")


def test_enrolment_categories_are_the_policys_key_populations():
    assert {c.value for c in ENROLMENT_CLASSES} == {c.value for c in KEY_POPULATIONS}


@pytest.mark.parametrize("category", CATEGORIES)
def test_enrolment_exposes_its_sensitive_category_for_the_policy(category):
    with acting():
        enrolment = enrol(category)
    assert enrolment.sensitive_category == category


@pytest.mark.parametrize("category", CATEGORIES)
def test_enrolment_without_the_categorys_facts_is_refused(category):
    with acting(), pytest.raises(ValidationFailed, match=f"a {category} enrolment needs valid facts"):
        enrol(category, facts={})


def test_enrolment_with_another_categorys_facts_is_refused():
    with acting(), pytest.raises(ValidationFailed):
        enrol("drug_users", facts=facts("community_correction"))


def test_enrolment_dated_in_the_future_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="future"):
        enrol("drug_users", enrolled_on=TODAY + timedelta(days=1), facts={**facts("drug_users"),
                                                                          "measure_start": TODAY})


def test_enrolment_outside_the_prefecture_is_refused():
    with acting(), pytest.raises(ValidationFailed, match="prefecture"):
        enrol("drug_users", jurisdiction="500101001001")


def test_enrolment_refuses_a_team_without_a_police_officer():
    members = [m for m in team() if m["role"] != "police_officer"]
    with acting(), pytest.raises(ValidationFailed, match="police officer"):
        enrol("drug_users", team=members)


def test_enrolment_refuses_a_family_member_as_the_responsible_person():
    with acting(), pytest.raises(ValidationFailed, match="responsible"):
        enrol("drug_users", responsible_id="m-family")


def test_enrolment_refuses_a_plaintext_team_member_name():
    members = [{**m, "name": "Tian Hua"} if m["role"] == "township_official" else m for m in team()]
    with acting(), pytest.raises(ValidationFailed, match="'name'"):
        enrol("drug_users", team=members)


@pytest.mark.parametrize("level", [-1, 6, True, "3"])
def test_enrolment_refuses_a_risk_level_off_the_scale(level):
    with acting(), pytest.raises(ValidationFailed, match="0 to 5"):
        enrol("drug_users", risk_level=level)


def test_enrolment_with_minor_dependants_reports_them_for_juvenile_protection():
    with acting():
        enrolment = enrol("released_persons", minor_dependants=2)
    reported = enrolment.pending_events[1]
    assert type(reported).__name__ == "MinorDependantsReported"
    assert (reported.person_id, reported.jurisdiction, reported.category, reported.minor_dependants) == (
        PERSON, VILLAGE, "released_persons", 2)


def test_enrolment_without_minor_dependants_reports_nothing_for_juvenile_protection():
    with acting():
        enrolment = enrol("released_persons")
    assert "MinorDependantsReported" not in event_names(enrolment)


def test_enrolment_at_the_highest_risk_level_reports_it_for_emergency_command():
    with acting():
        enrolment = enrol("drug_users", risk_level=5)
    assert "HighestRiskReached" in event_names(enrolment)


def test_enrolment_twice_on_the_same_day_gets_the_same_id():
    with acting():
        assert enrol("drug_users").id == enrol("drug_users").id


@pytest.mark.parametrize("category", CATEGORIES)
def test_public_events_carry_no_sealed_value(category):
    with acting():
        enrolment = enrol(category, risk_level=5, minor_dependants=1)
        enrolment.initiate_transfer(OTHER_VILLAGE, SENDER)
        enrolment.refuse_transfer("433122002", "not_resident")
        enrolment.flag_follow_up_overdue(ENROLLED + timedelta(days=400))
        enrolment.exit("died", TODAY, TODAY)
    public = [e for e in enrolment.pending_events if type(e).__name__ in PUBLIC_EVENTS]
    assert len(public) >= 5
    for published in public:
        values = [v for k, v in vars(published).items() if k != "audit"]
        assert not any(isinstance(v, str) and v.startswith("pii1:") for v in values), type(published).__name__


# -- exit -----------------------------------------------------------------------------------


def test_exit_makes_every_command_an_invalid_transition():
    with acting():
        enrolment = enrol("community_correction")
        enrolment.exit("revoked", TODAY, TODAY)
        commands = [
            lambda: enrolment.record_follow_up(TODAY, TODAY, "home_visit", "stable"),
            lambda: enrolment.reassess_risk(2, TODAY, TODAY),
            lambda: enrolment.assign_team(team(), "m-police"),
            lambda: enrolment.initiate_transfer(OTHER_VILLAGE, SENDER),
            lambda: enrolment.flag_follow_up_overdue(TODAY + timedelta(days=400)),
            lambda: enrolment.exit("died", TODAY, TODAY),
            lambda: enrolment.request_leave("L1", TODAY, TODAY, TODAY),
            lambda: enrolment.record_violation(TODAY, TODAY, "missed_report", "warning"),
        ]
        for command in commands:
            with pytest.raises(InvalidTransition):
                command()
    assert event_names(enrolment)[-1] == "Exited"


def test_exit_dated_before_enrolment_is_refused():
    with acting():
        enrolment = enrol("drug_users")
        with pytest.raises(ValidationFailed, match="before"):
            enrolment.exit("died", ENROLLED - timedelta(days=1), TODAY)


def test_exit_by_revocation_is_refused_for_a_mental_disorder_record():
    with acting():
        enrolment = enrol("severe_mental_disorder")
        with pytest.raises(ValidationFailed, match="does not end by revoked"):
            enrolment.exit("revoked", TODAY, TODAY)


def test_exit_as_completed_before_the_period_ends_is_refused():
    with acting():
        enrolment = enrol("community_correction")
        with pytest.raises(InvalidTransition, match="period ends"):
            enrolment.exit("period_completed", TODAY, TODAY)


def test_exit_by_moving_out_ends_a_pending_transfer():
    with acting():
        enrolment = enrol("drug_users")
        enrolment.initiate_transfer(OTHER_VILLAGE, SENDER)
        enrolment.exit("moved_out", TODAY, TODAY)
    assert enrolment.visible_to_jurisdictions == [VILLAGE]


def test_exit_record_is_still_a_community_correction_after_replay():
    with acting():
        enrolment = enrol("community_correction")
        enrolment.exit("died", TODAY, TODAY)
    replayed = None
    for stored in enrolment.collect_events():
        replayed = stored.mutate(replayed)
    assert isinstance(replayed, CommunityCorrection) and replayed.exit_reason == "died"
