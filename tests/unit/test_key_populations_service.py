"""key_populations through its nameko entrypoints on the in-memory kit (shared/testing.py):
enrolment, follow-ups, risk, transfer, exit, category access and audited reads."""

from datetime import timedelta

import pytest

from services.key_populations import contracts as c
from shared.context import Role
from shared.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from shared.security.audit_log import AuditTrail
from tests.unit.key_populations_support import (
    ADMIN,
    CANARY,
    ENROLLED,
    HEALTH,
    OTHER_VILLAGE,
    POLICE,
    RECEIVING,
    TODAY,
    TOWNSHIP,
    Kit,
    caller,
    enrol_args,
    team,
)


@pytest.fixture
def kit():
    return Kit()


def audit_count(kit) -> int:
    return len(list(AuditTrail(kit.app).entries()))


def test_enrol_returns_the_record_with_its_first_follow_up_due(kit):
    enrolment_id = kit.enrolled("drug_users")
    found = kit(POLICE).get_enrolment(enrolment_id=enrolment_id, purpose="supervision")
    assert found["category"] == "drug_users"
    assert found["next_follow_up_due"] == str(ENROLLED + timedelta(days=30))
    assert [m["name"] for m in found["team"]] == ["Tian Hua", "Peng Jun", "Xiang Li"]


def test_enrol_in_an_unknown_category_is_refused_and_stores_nothing(kit):
    kit.person()
    before = len(kit.stored_events())
    with pytest.raises(ValidationFailed):
        kit(TOWNSHIP).enrol(**{**enrol_args("kp-1", "drug_users"), "category": "gamblers"})
    assert len(kit.stored_events()) == before


def test_enrol_without_required_facts_is_refused_and_stores_nothing(kit):
    kit.person()
    before = len(kit.stored_events())
    with pytest.raises(ValidationFailed):
        kit(TOWNSHIP).enrol(**enrol_args("kp-1", "severe_mental_disorder", facts={"diagnosis": "schizophrenia"}))
    assert len(kit.stored_events()) == before


def test_enrol_by_a_role_not_serving_the_category_is_forbidden(kit):
    kit.person()
    with pytest.raises(Forbidden):
        kit(HEALTH).enrol(**enrol_args("kp-1", "community_correction"))


def test_follow_up_dated_in_the_future_is_refused(kit):
    enrolment_id = kit.enrolled("released_persons")
    with pytest.raises(ValidationFailed):
        kit(TOWNSHIP).record_follow_up(enrolment_id=enrolment_id, held_on=str(TODAY + timedelta(days=1)),
                                       kind="home_visit", outcome="stable")


def test_follow_up_before_enrolment_is_refused(kit):
    enrolment_id = kit.enrolled("released_persons")
    with pytest.raises(ValidationFailed):
        kit(TOWNSHIP).record_follow_up(enrolment_id=enrolment_id, held_on=str(ENROLLED - timedelta(days=1)),
                                       kind="home_visit", outcome="stable")


def test_follow_up_sets_the_next_due_date_and_its_note_is_opened_for_a_reader(kit):
    enrolment_id = kit.enrolled("released_persons")
    result = kit(TOWNSHIP).record_follow_up(enrolment_id=enrolment_id, held_on=str(TODAY), kind="home_visit",
                                            outcome="stable", note="found at home")
    assert result["next_due"] == str(TODAY + timedelta(days=90))
    found = kit(TOWNSHIP).get_enrolment(enrolment_id=enrolment_id, purpose="follow_up")
    assert [f["note"] for f in found["follow_up_log"]] == ["found at home"]


def test_health_worker_reads_a_mental_disorder_record_but_not_a_drug_users_list(kit):
    mental = kit.enrolled("severe_mental_disorder")
    assert kit(HEALTH).get_enrolment(enrolment_id=mental, purpose="follow_up")["facts"]["guardian_name"] == "Peng Lan"
    justice = caller(Role.JUSTICE, actor_id="justice-1")
    opened = kit.vault.opened
    with pytest.raises(Forbidden):
        kit(justice).get_enrolment(enrolment_id=mental, purpose="case_work")
    assert kit.vault.opened == opened


def test_read_without_a_purpose_is_denied_and_audited(kit):
    enrolment_id = kit.enrolled("drug_users")
    before = audit_count(kit)
    with pytest.raises(Forbidden):
        kit(POLICE).get_enrolment(enrolment_id=enrolment_id)
    assert audit_count(kit) == before + 1


def test_read_outside_the_jurisdiction_is_denied_and_audited_and_opens_nothing(kit):
    enrolment_id = kit.enrolled("drug_users")
    before, opened = audit_count(kit), kit.vault.opened
    with pytest.raises(Forbidden):
        kit(RECEIVING).get_enrolment(enrolment_id=enrolment_id, purpose="supervision")
    assert (audit_count(kit), kit.vault.opened) == (before + 1, opened)


def test_token_without_the_category_cannot_read_it(kit):
    enrolment_id = kit.enrolled("drug_users")
    narrow = caller(Role.POLICE, categories={"community_correction"})
    with pytest.raises(Forbidden):
        kit(narrow).get_enrolment(enrolment_id=enrolment_id, purpose="supervision")


def test_get_person_through_a_category_opens_the_identity_once_audited(kit):
    kit.enrolled("severe_mental_disorder")
    before = audit_count(kit)
    person = kit(HEALTH).get_person(person_id="kp-1", category="severe_mental_disorder", purpose="follow_up")
    assert (person["name"], person["contact"], audit_count(kit)) == ("Long Wei", "139-0000", before + 1)


def test_get_person_through_a_category_they_are_not_in_is_not_found(kit):
    kit.enrolled("severe_mental_disorder")
    with pytest.raises(NotFound):
        kit(POLICE).get_person(person_id="kp-1", category="drug_users", purpose="supervision")


def test_list_enrolments_is_scoped_to_the_category_and_audited(kit):
    drug = kit.enrolled("drug_users")
    kit.enrolled("severe_mental_disorder")
    before = audit_count(kit)
    page = kit(POLICE).list_enrolments(category="drug_users", purpose="supervision")
    assert ([row["enrolment_id"] for row in page["items"]], audit_count(kit)) == ([drug], before + 1)
    assert "team" not in page["items"][0]


def test_highest_risk_reassessment_is_recorded(kit):
    enrolment_id = kit.enrolled("drug_users")
    kit(POLICE).reassess_risk(enrolment_id=enrolment_id, level=5, assessed_on=str(TODAY))
    page = kit(POLICE).list_enrolments(category="drug_users", purpose="supervision", risk_level=5)
    assert [row["enrolment_id"] for row in page["items"]] == [enrolment_id]


def test_transfer_is_seen_by_both_townships_until_accepted(kit):
    enrolment_id = kit.enrolled("released_persons")
    kit(TOWNSHIP).initiate_transfer(enrolment_id=enrolment_id, to_jurisdiction=OTHER_VILLAGE)
    for who in (TOWNSHIP, RECEIVING):
        assert kit(who).get_enrolment(enrolment_id=enrolment_id, purpose="case_work")["transfer_to"] == OTHER_VILLAGE
    kit(TOWNSHIP).record_follow_up(enrolment_id=enrolment_id, held_on=str(TODAY), kind="phone", outcome="stable")
    kit(RECEIVING).accept_transfer(enrolment_id=enrolment_id, team=team("r"), responsible_id="r-township")
    assert kit(RECEIVING).get_enrolment(enrolment_id=enrolment_id, purpose="case_work")["jurisdiction"] == OTHER_VILLAGE
    with pytest.raises(Forbidden):
        kit(TOWNSHIP).get_enrolment(enrolment_id=enrolment_id, purpose="case_work")


def test_transfer_outside_the_prefecture_is_refused(kit):
    enrolment_id = kit.enrolled("released_persons")
    with pytest.raises(ValidationFailed):
        kit(TOWNSHIP).initiate_transfer(enrolment_id=enrolment_id, to_jurisdiction="431101001001")


def test_sender_cannot_accept_its_own_transfer(kit):
    enrolment_id = kit.enrolled("released_persons")
    kit(TOWNSHIP).initiate_transfer(enrolment_id=enrolment_id, to_jurisdiction=OTHER_VILLAGE)
    with pytest.raises(Forbidden):
        kit(TOWNSHIP).accept_transfer(enrolment_id=enrolment_id, team=team("r"), responsible_id="r-township")


def test_exited_record_is_read_only(kit):
    enrolment_id = kit.enrolled("drug_users")
    kit(POLICE).exit_enrolment(enrolment_id=enrolment_id, reason="died", on=str(TODAY))
    with pytest.raises(InvalidTransition):
        kit(POLICE).record_drug_test(enrolment_id=enrolment_id, taken_on=str(TODAY), result="negative")


def test_category_command_on_another_category_is_not_found(kit):
    enrolment_id = kit.enrolled("drug_users")
    with pytest.raises(NotFound):
        kit(POLICE).request_leave(enrolment_id=enrolment_id, request_id="l1", starts_on=str(TODAY),
                                  ends_on=str(TODAY))


def test_overdue_timer_flags_once_per_due_date(kit):
    enrolment_id = kit.enrolled("drug_users")
    kit.clock["today"] = ENROLLED + timedelta(days=31)
    worker = kit(TOWNSHIP)
    assert worker.check_enrolments() == 1
    assert worker.check_enrolments() == 0
    page = kit(POLICE).list_enrolments(category="drug_users", purpose="supervision", overdue_only=True)
    assert [row["enrolment_id"] for row in page["items"]] == [enrolment_id]


def test_figures_count_by_category_county_and_level(kit):
    kit.enrolled("drug_users")
    kit.enrolled("severe_mental_disorder", risk_level=3)
    from services.key_populations import projections as views
    with kit.worker(TOWNSHIP).store.read() as conn:
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for p in views.projections() for f in p.gauges(conn) for s in f.samples}
    assert samples[("pingan_key_population_enrolled", (("category", "drug_users"), ("county", "433101"),
                                                         ("service", "key_populations")))] == 1
    assert samples[("pingan_key_population_risk_level", (("category", "severe_mental_disorder"), ("level", "3"),
                                                           ("service", "key_populations")))] == 1


def test_canary_name_is_sealed_in_every_stored_event(kit):
    kit.person("kp-9", name=CANARY)
    kit.enrolled("severe_mental_disorder", person_id="kp-9")
    stored = b"".join(n.state for n in kit.stored_events())
    assert kit.stored_events() and CANARY.encode() not in stored


def test_erased_person_reads_as_erased(kit):
    kit.enrolled("severe_mental_disorder")
    kit(ADMIN).erase_person(person_id="kp-1", reason="subject_request")
    person = kit(HEALTH).get_person(person_id="kp-1", category="severe_mental_disorder", purpose="follow_up")
    assert person["name"] != "Long Wei"


def test_highest_risk_payload_is_what_emergency_command_consumes(kit):
    from services.emergency_command import contracts as emergency
    from services.key_populations.publishing import contracts

    enrolment_id = kit.enrolled("drug_users", risk_level=5)
    published = [payload for n in kit.stored_events()
                 for event_type, payload in contracts().public_events(kit.app.mapper.to_domain_event(n))
                 if event_type == emergency.PERSON_AT_HIGHEST_RISK]
    assert (emergency.KEY_POPULATIONS, emergency.PERSON_AT_HIGHEST_RISK) == (c.SERVICE, c.PERSON_ASSESSED_HIGHEST_RISK)
    consumed = emergency.PersonAtHighestRisk.model_validate(published[0].model_dump(mode="json"))
    assert (consumed.person_id, str(published[0].enrolment_id)) == ("kp-1", enrolment_id)


def test_late_handover_counts_until_acknowledged(kit):
    from services.key_populations import projections as views

    enrolment_id = kit.enrolled("released_persons")  # released 12 days ago: the 7-day deadline has passed

    def late() -> float:
        with kit.worker(TOWNSHIP).store.read() as conn:
            return sum(s.value for p in views.projections() for f in p.gauges(conn) for s in f.samples
                       if s.name == "pingan_key_population_handovers_late")

    before = late()
    kit(TOWNSHIP).acknowledge_handover(enrolment_id=enrolment_id, on=str(TODAY))
    assert (before, late()) == (1, 0)
