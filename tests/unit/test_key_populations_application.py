"""The key_populations application on the in-memory store: sealing happens inside the command and
after the checks, so a refused command stores neither an event nor a key; each category's commands
reach only that category's records; the timer's check acts once per due date."""

from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select

from services.key_populations import contracts as c
from services.key_populations.application import KeyPopulationsApplication
from shared.commands import service_call
from shared.errors import ValidationFailed
from shared.security.personal_data import person_keys
from shared.testing import call_as, memory_app, memory_vault
from tests.unit.key_populations_support import CANARY, ENROLLED, TODAY, TOWNSHIP, enrol_args


@pytest.fixture
def app():
    return memory_app(KeyPopulationsApplication)


@pytest.fixture
def vault():
    return memory_vault()


def keys(vault) -> int:
    with vault.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(person_keys)).scalar_one()


def events(app) -> int:
    return len(app.recorder.select_notifications(1, 10_000))


def test_register_under_a_resident_id_number_stores_no_event_and_no_key(app, vault):
    # Sealed first (under the would-be key), then refused by the domain: the key row is never written.
    command = c.RegisterPerson(person_id="433101199001010012", jurisdiction="433101001001", name=CANARY)
    with pytest.raises(ValidationFailed):
        app.register_person(call_as(TOWNSHIP), command, vault.seal)
    assert (events(app), keys(vault)) == (0, 0)


def test_register_seals_every_identity_field_under_the_person_key(app, vault):
    app.register_person(call_as(TOWNSHIP), c.RegisterPerson(person_id="kp-1", jurisdiction="433101001001",
                                                            name=CANARY, address="Lane 3"), vault.seal)
    stored = app.recorder.select_notifications(1, 10)
    assert keys(vault) == 1 and CANARY.encode() not in stored[0].state and b"pii1:person.kp-1:" in stored[0].state


def test_enrol_with_a_guardian_but_a_wrong_diagnosis_stores_nothing(app, vault):
    app.register_person(call_as(TOWNSHIP), c.RegisterPerson(person_id="kp-1", jurisdiction="433101001001",
                                                            name="Long Wei"), vault.seal)
    before = events(app)
    facts = {"diagnosis": "melancholy", "guardian_name": CANARY, "treatment_status": "outpatient"}
    command = c.Enrol(**enrol_args("kp-1", "severe_mental_disorder", facts=facts))
    with pytest.raises(ValidationFailed):
        app.enrol(call_as(TOWNSHIP), command, vault.seal, TODAY)
    assert events(app) == before


def test_timer_check_flags_an_overdue_follow_up_once(app, vault):
    app.register_person(call_as(TOWNSHIP), c.RegisterPerson(person_id="kp-1", jurisdiction="433101001001",
                                                            name="Long Wei"), vault.seal)
    enrolment = app.enrol(call_as(TOWNSHIP), c.Enrol(**enrol_args("kp-1", "released_persons")), vault.seal, TODAY)
    later = ENROLLED + timedelta(days=91)
    call = service_call("key_populations", "check-1")
    first = app.check_enrolment(call, UUID(enrolment["enrolment_id"]), later)
    second = app.check_enrolment(call, UUID(enrolment["enrolment_id"]), later)
    assert (first, second) == (["follow_up_overdue"], [])
