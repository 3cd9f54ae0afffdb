"""The audit log as a feature in mediation, on the in-memory store through the service's entrypoints
(nameko's worker_factory): a case's history, the case as of a past moment, who read a party."""

from datetime import datetime

import pytest

from services.mediation import contracts as c
from services.mediation.application import MediationApplication
from services.mediation.domain import party_key
from services.mediation.service import MediationService
from shared.context import CallerContext, Role
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.security.audit_log import AuditTrail
from shared.security.personal_data import ERASED
from shared.testing import service_worker
from shared.validation import parse
from tests.history_support import AUDITOR, OUTSIDER, as_call, rescuer
from tests.unit.test_mediation_domain import VAULT, VILLAGE

MEDIATOR = CallerContext(actor_id="mediator-1", role=Role.MEDIATOR, jurisdiction=VILLAGE)
TOWNSHIP = CallerContext(actor_id="township-2", role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001")
JUSTICE = CallerContext(actor_id="justice-3", role=Role.JUSTICE, jurisdiction="433101")


@pytest.fixture
def app():
    return MediationApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def service(app):
    """The service's entrypoints, with the call's caller chosen by ``service(caller)``."""
    return service_worker(MediationService, app, vault=VAULT)


def case_through_three_hands(app) -> str:
    """Opened with two parties by a village mediator, risk-checked by the township, accepted by justice."""
    case_id = app.open_case(as_call(MEDIATOR), parse(c.OpenCase, {
        "jurisdiction": VILLAGE, "source": "petition", "subject": "Long Wei's fence",
        "parties": [{"name": "Long Wei", "languages": ["mandarin"], "understands_mandarin": True},
                    {"name": "Tian Mei", "languages": ["mandarin"], "understands_mandarin": True}]}),
        VAULT.seal)["case_id"]
    app.record_risk_check(as_call(TOWNSHIP), parse(c.RecordRiskCheck, {"case_id": case_id, "level": "low",
                                                                      "note": "calm"}), VAULT.seal)
    app.accept_case(as_call(JUSTICE), parse(c.AcceptCase, {"case_id": case_id}))
    return case_id


def test_history_lists_each_step_with_its_actor_time_and_call(app, service):
    case_id = case_through_three_hands(app)
    found = service(AUDITOR).history(kind="case", record_id=case_id, purpose="audit")
    steps = [(e["event"], e["actor_id"], e["role"]) for e in found["items"]]
    assert steps == [("Opened", "mediator-1", "mediator"), ("PartyAdded", "mediator-1", "mediator"),
                     ("PartyAdded", "mediator-1", "mediator"), ("RiskChecked", "township-2", "township_officer"),
                     ("Accepted", "justice-3", "justice")]
    times = [datetime.fromisoformat(e["at"]) for e in found["items"]]
    assert times == sorted(times) and found["total"] == 5
    assert found["items"][1]["changes"]["name"] == "Long Wei" and found["items"][0]["call_id"].startswith("call-")


def test_history_pages_follow_the_versions(app, service):
    case_id = case_through_three_hands(app)
    second = service(AUDITOR).history(kind="case", record_id=case_id, page=2, page_size=2, purpose="audit")
    assert [e["version"] for e in second["items"]] == [3, 4] and second["total"] == 5


def test_get_case_as_of_a_time_between_two_steps_returns_the_earlier_state(app, service):
    case_id = case_through_three_hands(app)
    events = service(AUDITOR).history(kind="case", record_id=case_id, purpose="audit")["items"]
    risk_checked = datetime.fromisoformat(events[3]["at"])
    accepted = datetime.fromisoformat(events[4]["at"])
    between = risk_checked + (accepted - risk_checked) / 2
    then = service(AUDITOR).get_case(case_id=case_id, as_of=between.isoformat(), purpose="audit")
    assert (then["case_id"], then["version"], then["steps"]) == (case_id, 4, ["intake", "risk_check"])
    assert then["parties"]["P1"]["name"] == "Long Wei" and then["subject"] == "Long Wei's fence"


def test_get_case_as_of_a_version_returns_that_version(app, service):
    case_id = case_through_three_hands(app)
    then = service(AUDITOR).get_case(case_id=case_id, as_of=1, purpose="audit")
    assert (then["version"], then["parties"]) == (1, {})


def test_get_case_as_of_before_the_case_existed_is_not_found(app, service):
    case_id = case_through_three_hands(app)
    with pytest.raises(NotFound):
        service(AUDITOR).get_case(case_id=case_id, as_of="2020-01-01T00:00:00+00:00", purpose="audit")


def test_get_case_as_of_a_naive_time_is_refused(app, service):
    case_id = case_through_three_hands(app)
    with pytest.raises(ValidationFailed):
        service(AUDITOR).get_case(case_id=case_id, as_of="2026-01-01T00:00:00", purpose="audit")


def test_history_after_erasure_reads_erased_for_personal_fields(app, service):
    case_id = case_through_three_hands(app)
    app.erase_party(as_call(JUSTICE), parse(c.ErasePartyData, {"case_id": case_id, "party_id": "P1",
                                                               "reason": "consent_withdrawn"}), VAULT.erase)
    events = service(AUDITOR).history(kind="case", record_id=case_id, purpose="audit")["items"]
    names = [e["changes"]["name"] for e in events if e["event"] == "PartyAdded"]
    assert names == [ERASED, "Tian Mei"]
    assert events[-1]["event"] == "PartyErased" and events[-1]["actor_id"] == "justice-3"


def test_history_for_an_officer_outside_the_case_subtree_is_refused_and_audited(app, service):
    case_id = case_through_three_hands(app)
    with pytest.raises(Forbidden):
        service(OUTSIDER).history(kind="case", record_id=case_id, purpose="audit")
    last = list(AuditTrail(app).entries())[-1]
    assert (last.record_ids, last.outcome, last.audit["actor_id"]) == ([case_id], "denied", "officer-5")


def test_history_of_an_unknown_kind_is_bad_input(app, service):
    case_id = case_through_three_hands(app)
    with pytest.raises(ValidationFailed):
        service(AUDITOR).history(kind="party", record_id=case_id, purpose="audit")


def test_access_log_lists_exactly_the_reads_of_the_person(app, service):
    case_id = case_through_three_hands(app)
    other = case_through_three_hands(app)
    service(TOWNSHIP).get_case(case_id=case_id, as_of=2, purpose="case_work")
    with pytest.raises(Forbidden):
        service(OUTSIDER).history(kind="case", record_id=case_id, purpose="audit")
    service(rescuer()).history(kind="case", record_id=case_id, purpose="emergency")
    service(TOWNSHIP).history(kind="case", record_id=other, purpose="case_work")  # another person's case
    found = service(AUDITOR).access_log(person_id=party_key(case_id, "P1"))
    reads = [(r["actor_id"], r["outcome"], r["purpose"], r["break_glass"], r["records"]) for r in found["items"]]
    assert reads == [("township-2", "allowed", "case_work", False, [case_id]),
                     ("officer-5", "denied", "audit", False, [case_id]),
                     ("officer-6", "allowed", "emergency", True, [case_id])]


def test_access_log_is_itself_audited(app, service):
    case_id = case_through_three_hands(app)
    service(AUDITOR).access_log(person_id=party_key(case_id, "P2"))
    last = list(AuditTrail(app).entries())[-1]
    assert (last.record_kind, last.purpose, last.outcome) == ("access log", "data_subject_request", "allowed")
    assert last.record_ids == [f"person:{party_key(case_id, 'P2')}", case_id]


def test_access_log_for_a_case_handler_is_refused_and_audited(app, service):
    case_id = case_through_three_hands(app)
    with pytest.raises(Forbidden):
        service(JUSTICE).access_log(person_id=party_key(case_id, "P1"))
    assert list(AuditTrail(app).entries())[-1].outcome == "denied"


def test_access_log_for_another_purpose_is_refused(app, service):
    case_id = case_through_three_hands(app)
    with pytest.raises(Forbidden):
        service(AUDITOR).access_log(person_id=party_key(case_id, "P1"), purpose="audit")


@pytest.mark.parametrize("record_id", ["not-a-uuid", "\x00" * 10, "１２３"])
def test_history_of_a_malformed_record_id_is_bad_input(app, service, record_id):
    with pytest.raises(ValidationFailed):
        service(AUDITOR).history(kind="case", record_id=record_id, purpose="audit")


@pytest.mark.parametrize("person_id", ["p\x00", "x" * 65, "p 1", ""])
def test_access_log_for_a_malformed_person_id_is_bad_input(app, service, person_id):
    with pytest.raises(ValidationFailed):
        service(AUDITOR).access_log(person_id=person_id)


@pytest.mark.parametrize("as_of", [0, -1, "yesterday", "2026-13-01T00:00:00+00:00"])
def test_get_case_as_of_a_malformed_moment_is_bad_input(app, service, as_of):
    case_id = case_through_three_hands(app)
    with pytest.raises(ValidationFailed):
        service(AUDITOR).get_case(case_id=case_id, as_of=as_of, purpose="audit")


def test_get_case_as_of_a_version_after_the_last_is_not_found(app, service):
    case_id = case_through_three_hands(app)
    with pytest.raises(NotFound):
        service(AUDITOR).get_case(case_id=case_id, as_of=6, purpose="audit")


def test_history_of_an_id_of_another_kind_is_not_found_and_audited(app, service):
    case_id = case_through_three_hands(app)
    service(AUDITOR).history(kind="case", record_id=case_id, purpose="audit")
    audit_id = list(AuditTrail(app).entries())[-1].originator_id
    with pytest.raises(NotFound):
        service(AUDITOR).history(kind="case", record_id=str(audit_id), purpose="audit")
    assert list(AuditTrail(app).entries())[-1].outcome == "not_found"
