"""Free text sealed under a per-record key and personal data erased by command
(PIPL Art. 47): a record's text or a person's fields read "[erased]", the
record's facts stay, replay and projections still work, and a refused command
creates no key and erases nothing."""

from datetime import date
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from services.grid_events import contracts as c
from services.grid_events import projections as views
from services.grid_events.domain import PERSONAL_FIELDS, Erasure
from shared.context import Role
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.projections import ProjectionRunner, create_view_tables
from shared.security.personal_data import ERASED, PersonalData, generate_master_key, is_sealed, load_master_key, person_keys

from .grid_support import ADMIN, GRID, UNIT, VILLAGE, World, call_as

REASON = "subject_request"


@pytest.fixture
def vault():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    vault = PersonalData(engine, load_master_key(generate_master_key()))
    vault.create_tables()
    return vault


@pytest.fixture
def world(vault):
    return World(seal=vault.seal).seed()


def keys(vault) -> set[str]:
    with vault.engine.connect() as conn:
        return set(conn.execute(select(person_keys.c.person_id)).scalars())


def assigned_and_handled(world, event_id):
    app = world.app
    app.accept_event(ADMIN, c.AcceptEvent(event_id=event_id))
    app.assign_event(ADMIN, c.AssignEvent(event_id=event_id, unit=UNIT))
    app.record_handling(ADMIN, c.RecordHandling(event_id=event_id, note="met Wu Mei at home"), world.seal)
    app.record_feedback(ADMIN, c.RecordFeedback(event_id=event_id, feedback="Wu Mei satisfied", satisfied=True),
                        world.seal)


def test_event_free_text_is_sealed_under_the_event_key(world, vault):
    event_id = world.report(place="Wu Mei's courtyard", description="Wu Mei and Long Jun quarrel")
    assigned_and_handled(world, event_id)
    stored = list(world.app.events.get(UUID(event_id)))
    texts = [getattr(e, name) for e in stored for name in PERSONAL_FIELDS.get(type(e), ()) if hasattr(e, name)]
    assert len(texts) == 4 and all(is_sealed(t) and t.startswith(f"pii1:event.{event_id}:") for t in texts)
    assert [vault.open(t) for t in texts] == [
        "Wu Mei's courtyard", "Wu Mei and Long Jun quarrel", "met Wu Mei at home", "Wu Mei satisfied"]


def test_work_item_title_and_risk_text_are_sealed_under_their_record_keys(world, vault):
    item = world.add_item()
    risk = world.risk(place="Long Jun's shop", description="Long Jun lends at 40%")
    item_state, risk_state = world.app.repository.get(UUID(item)), world.app.repository.get(UUID(risk))
    assert item_state.title.startswith(f"pii1:item.{item}:") and vault.open(item_state.title) == "night patrol"
    assert risk_state.place.startswith(f"pii1:risk.{risk}:") and vault.open(risk_state.description) == "Long Jun lends at 40%"
    assert risk_state.responsible_person_name.startswith("pii1:p-1:")


def test_refused_commands_create_no_key(world, vault):
    before = keys(vault)
    stored = world.stored()
    outsider = call_as(Role.GRID_WORKER, VILLAGE, "gw-9999")  # not a worker of the grid
    report = dict(grid_code=GRID, category="dispute", source="petition", severity="low", place="p", description="d")
    with pytest.raises(Forbidden):
        world.app.report_event(outsider, c.ReportEvent(**report), world.seal)
    with pytest.raises(NotFound):
        world.app.report_event(ADMIN, c.ReportEvent(**{**report, "grid_code": "433101001001009"}), world.seal)
    with pytest.raises(ValidationFailed):
        world.app.add_work_item(ADMIN, c.AddWorkItem(
            grid_code=GRID, kind="patrol", title="t", due_date=date(2026, 12, 1), assignee_kind="grid_worker",
            assignee_id="gw-9999"), world.seal)
    with pytest.raises(NotFound):
        world.risk(responsible_unit="no-such-bureau")
    event_id = world.report()
    before_handling = keys(vault)
    with pytest.raises(Exception, match="accepted|assigned"):  # not yet assigned: refused before sealing
        world.app.record_handling(ADMIN, c.RecordHandling(event_id=event_id, note="n"), world.seal)
    assert keys(vault) == before_handling == before | {f"event.{event_id}"}
    assert world.stored() == stored + 1


def test_erasing_a_record_shreds_its_text_and_keeps_its_facts(world, vault):
    event_id = world.report(place="Wu Mei's courtyard", description="Wu Mei and Long Jun quarrel")
    other = world.report(place="the bridge", description="loose railing")
    assigned_and_handled(world, event_id)
    result = world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=event_id, reason=REASON),
                                                  vault.erase)
    assert result == {"erased": "event report", "record_id": event_id, "reason": REASON}
    report = world.app.repository.get(UUID(event_id))  # replay still works
    assert (report.category, report.source, report.status) == ("dispute", "petition", "feedback_recorded")
    assert [vault.open(v) for v in (report.place, report.description, report.handling_note, report.feedback)] == [ERASED] * 4
    assert vault.open(world.app.repository.get(UUID(other)).place) == "the bridge"  # another record's key
    erasure = world.app.repository.get(Erasure.create_id(f"event.{event_id}"))
    assert (erasure.kind, erasure.record_id, erasure.places, erasure.reason) == ("event report", event_id, [GRID], REASON)
    assert "Wu Mei" not in repr(list(world.app.events.get(erasure.id)))
    with pytest.raises(Conflict):  # twice
        world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=event_id, reason=REASON),
                                             vault.erase)
    world.app.accept_event(ADMIN, c.AcceptEvent(event_id=other))
    world.app.assign_event(ADMIN, c.AssignEvent(event_id=other, unit=UNIT))
    world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=other, reason=REASON), vault.erase)
    with pytest.raises(Conflict):  # nothing more is stored under an erased key
        world.app.record_handling(ADMIN, c.RecordHandling(event_id=other, note="n"), world.seal)
    world.app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=other, step="verify_facts"))  # facts go on


def test_erasing_risk_and_work_item_text(world, vault):
    risk, item = world.risk(), world.add_item()
    for record in (risk, item):
        world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=record, reason=REASON),
                                             vault.erase)
    risk_state, item_state = world.app.repository.get(UUID(risk)), world.app.repository.get(UUID(item))
    assert vault.open(risk_state.place) == vault.open(item_state.title) == ERASED
    assert vault.open(risk_state.responsible_person_name) == "Officer Zhang"  # the person is another subject
    with pytest.raises(NotFound):
        world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=uuid4(), reason=REASON),
                                             vault.erase)


def test_erasing_a_volunteer_by_participant_id(world, vault):
    volunteer = world.app.register_participant(ADMIN, c.RegisterParticipant(
        jurisdiction=VILLAGE, kind="volunteer", name="Tian Hua"), world.seal)["participant_id"]
    organisation = world.app.register_participant(ADMIN, c.RegisterParticipant(
        jurisdiction=VILLAGE, kind="social_organisation", name="Red Cross branch"), world.seal)["participant_id"]
    county = call_as(Role.COUNTY_OFFICER, "433101", "co-1")
    result = world.app.erase_record_personal_data(county, c.EraseRecordPersonalData(record_id=volunteer, reason=REASON),
                                                  vault.erase)
    assert result["erased"] == "volunteer"
    assert vault.open(world.app.repository.get(UUID(volunteer)).name) == ERASED
    with pytest.raises(ValidationFailed):
        world.app.erase_record_personal_data(county, c.EraseRecordPersonalData(record_id=organisation, reason=REASON),
                                             vault.erase)


@pytest.mark.parametrize("caller", [
    call_as(Role.TOWNSHIP_OFFICER, "433101001", "to-1"),  # role may not erase
    call_as(Role.COUNTY_OFFICER, "433123", "co-9"),  # another county
    call_as(Role.GRID_WORKER, VILLAGE, "gw-1001"),
])
def test_erasure_is_refused_outside_role_or_jurisdiction_and_erases_nothing(world, vault, caller):
    event_id = world.report(description="Wu Mei")
    with pytest.raises(Forbidden):
        world.app.erase_record_personal_data(caller, c.EraseRecordPersonalData(record_id=event_id, reason=REASON),
                                             vault.erase)
    with pytest.raises(Forbidden):
        world.app.erase_person(caller, c.ErasePerson(person_id="p-1", reason=REASON), [VILLAGE], vault.erase)
    assert vault.open(world.app.repository.get(UUID(event_id)).description) == "Wu Mei"
    assert not vault.erased("p-1")


def test_county_officer_erases_a_person_named_in_their_county(world, vault):
    risk = world.risk(responsible_person_id="p-7", responsible_person_name="Long Jun")
    county = call_as(Role.COUNTY_OFFICER, "433101", "co-1")
    world.app.erase_person(county, c.ErasePerson(person_id="p-7", reason="retention_ended"), [VILLAGE], vault.erase)
    state = world.app.repository.get(UUID(risk))
    assert vault.open(state.responsible_person_name) == ERASED
    assert vault.open(state.place) == "village shop"  # the record's own text is another subject
    with pytest.raises(Conflict):
        world.risk(responsible_person_id="p-7", responsible_person_name="Long Jun")  # erased: nothing more stored


def test_a_person_named_nowhere_is_erased_by_an_admin_only(world, vault):
    with pytest.raises(Forbidden):
        world.app.erase_person(call_as(Role.COUNTY_OFFICER, "433101", "co-1"),
                               c.ErasePerson(person_id="p-gone", reason=REASON), [], vault.erase)
    world.app.erase_person(ADMIN, c.ErasePerson(person_id="p-gone", reason=REASON), [], vault.erase)
    assert vault.erased("p-gone")


def test_person_ids_may_not_take_a_record_key(world, vault):
    event_id = world.report()
    with pytest.raises(ValidationFailed):
        world.app.erase_person(ADMIN, c.ErasePerson(person_id=f"event.{event_id}", reason=REASON), [], vault.erase)
    with pytest.raises(ValidationFailed):
        world.risk(responsible_person_id=f"event.{event_id}")
    assert vault.open(world.app.repository.get(UUID(event_id)).place) == "courtyard"


def test_erasure_reason_is_from_the_fixed_list(world):
    with pytest.raises(Exception):
        c.ErasePerson(person_id="p-1", reason="because Wu Mei asked")


def test_projections_rebuild_after_erasure_and_queries_open_to_erased(world, vault):
    event_id = world.report(place="Wu Mei's courtyard")
    item = world.add_item()
    world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=event_id, reason=REASON),
                                         vault.erase)
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    projections = views.projections()
    create_view_tables(engine, projections)
    for projection in projections:
        runner = ProjectionRunner(world.app, engine, projection)
        runner.catch_up()
        runner.rebuild()
    with engine.connect() as conn:
        row = views.event_by_id(conn, event_id)
        listed = views.page_of(conn, views.work_items_query("433101", None, None, None), 1, 10)["items"]
    assert (row["category"], row["status"]) == ("dispute", "reported")
    assert vault.open_fields(row, views.SEALED_COLUMNS)["place"] == ERASED
    assert [vault.open_fields(i, views.SEALED_COLUMNS)["title"] for i in listed] == ["night patrol"]
    assert listed[0]["item_id"] == item
