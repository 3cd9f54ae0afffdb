"""A mediation case holds typed value objects (parties, attempts, agreements, referrals) while
its stored events keep the plain shapes they always had, so events stored before still replay."""

import json
from datetime import date
from uuid import uuid4

import pytest

from services.mediation.application import MediationApplication
from services.mediation.domain import (
    Agreement,
    Attempt,
    HeldAttempt,
    InterpreterAssignment,
    MediationCase,
    Party,
    Referral,
    case_key,
    party_key,
)
from shared.context import CallerContext, Role, acting_as

VILLAGE = "433101001001"
HELD_ON = date(2026, 1, 5)


def sealed(key: str) -> str:
    return f"pii1:{key}:c2VhbGVk"  # the sealed-value format; the domain checks only the key it names


def ready_case() -> MediationCase:
    case_id = uuid4()
    case = MediationCase.open(case_id, jurisdiction=VILLAGE, source="petition", subject=sealed(case_key(case_id)),
                              grid_event_id=None, reported_source=None)
    case.add_party(sealed(party_key(case_id, "P1")), None, ["tujia"], False, None)
    case.add_party(sealed(party_key(case_id, "P2")), None, ["mandarin"], True, None)
    case.record_risk_check("low", sealed(case_key(case_id)))
    case.accept()
    return case


def attempt_fields(case: MediationCase, outcome: str) -> dict:
    # As the application hands them over: lists and dicts, the way an RPC payload dumps.
    return {"mode": "peoples", "mediator_ids": ["med-1"], "place": sealed(case_key(case.id)), "on_site": True,
            "place_code": None, "held_on": HELD_ON, "outcome": outcome,
            "interpreters": [{"party_id": "P1", "language": "tujia", "interpreter_id": "interp-1"}]}


@pytest.fixture(autouse=True)
def acting():
    # Every event carries its audit stamp, so the aggregate is driven as a caller would.
    with acting_as(CallerContext(actor_id="med-1", role=Role.MEDIATOR, jurisdiction=VILLAGE), "call-1"):
        yield


@pytest.fixture
def app():
    return MediationApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_case_state_holds_value_objects_after_replay(app):
    case = ready_case()
    terms = sealed(case_key(case.id))
    case.record_attempt("village", attempt_fields(case, "agreement"),
                        {"terms": terms, "follow_up_on": date(2026, 2, 1)}, None)
    app.save(case)

    replayed = app.repository.get(case.id)

    assert replayed.parties["P1"] == Party(name=case.parties["P1"].name, id_number=None, languages=("tujia",),
                                           understands_mandarin=False, residence=None)
    assert replayed.attempts == [HeldAttempt(tier="village", mode="peoples", held_on=HELD_ON, outcome="agreement")]
    assert replayed.agreement == Agreement(terms=terms, follow_up_on=date(2026, 2, 1), tier="village")


def test_attempt_event_is_stored_in_its_plain_shape(app):
    case = ready_case()
    case.record_attempt("village", attempt_fields(case, "agreement"),
                        {"terms": sealed(case_key(case.id)), "follow_up_on": date(2026, 2, 1)}, None)
    app.save(case)

    recorded = [item for item in app.recorder.select_events(case.id) if item.topic.endswith("AttemptRecorded")]
    state = json.loads(recorded[0].state)

    assert (state["mediator_ids"], state["interpreters"]) == (
        ["med-1"], [{"party_id": "P1", "language": "tujia", "interpreter_id": "interp-1"}])


def test_attempt_from_fields_and_from_value_object_record_the_same_event():
    by_fields, by_value = ready_case(), ready_case()
    fields = attempt_fields(by_fields, "failed")
    by_fields.record_attempt("village", fields, None, None)
    value = Attempt(mode="peoples", mediator_ids=("med-1",), place=sealed(case_key(by_value.id)), on_site=True,
                    place_code=None, held_on=HELD_ON, outcome="failed",
                    interpreters=(InterpreterAssignment("P1", "tujia", "interp-1"),))
    by_value.record_attempt("village", value, None, None)

    def recorded(case):
        event = [e for e in case.collect_events() if type(e).__name__ == "AttemptRecorded"][0]
        return {k: v for k, v in vars(event).items() if k not in ("originator_id", "timestamp", "audit", "place")}

    assert recorded(by_fields) == recorded(by_value)


def test_party_erasure_replaces_the_party_with_an_erased_copy():
    case = ready_case()
    before = case.parties["P1"]

    case.erase_party("P1", "subject_request")

    assert case.parties["P1"].erased and not before.erased and case.parties["P1"].name == before.name


def test_referral_from_fields_is_a_referral_value():
    assert Referral.of({"route": "litigation", "note": "n"}) == Referral(route="litigation", note="n")
