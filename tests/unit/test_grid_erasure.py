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
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from shared.projections import ProjectionRunner, create_view_tables
from shared.security.personal_data import (
    ERASED,
    PersonalData,
    generate_master_key,
    is_sealed,
    load_master_key,
    person_keys,
)
from shared.validation import parse

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
    assert (
        risk_state.place.startswith(f"pii1:risk.{risk}:")
        and vault.open(risk_state.description) == "Long Jun lends at 40%"
    )
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
        world.app.add_work_item(
            ADMIN,
            c.AddWorkItem(
                grid_code=GRID,
                kind="patrol",
                title="t",
                due_date=date(2026, 12, 1),
                assignee_kind="grid_worker",
                assignee_id="gw-9999",
            ),
            world.seal,
        )
    with pytest.raises(NotFound):
        world.risk(responsible_unit="no-such-bureau")
    event_id = world.report()
    before_handling = keys(vault)
    with pytest.raises(InvalidTransition, match="accepted|assigned"):  # not yet assigned: refused before sealing
        world.app.record_handling(ADMIN, c.RecordHandling(event_id=event_id, note="n"), world.seal)
    assert keys(vault) == before_handling == before | {f"event.{event_id}"}
    assert world.stored() == stored + 1


def test_erasing_a_record_shreds_its_text_and_keeps_its_facts(world, vault):
    event_id = world.report(place="Wu Mei's courtyard", description="Wu Mei and Long Jun quarrel")
    other = world.report(place="the bridge", description="loose railing")
    assigned_and_handled(world, event_id)
    result = world.app.erase_record_personal_data(
        ADMIN, c.EraseRecordPersonalData(record_id=event_id, reason=REASON), vault.erase
    )
    assert result == {"erased": "event report", "record_id": event_id, "reason": REASON}
    report = world.app.repository.get(UUID(event_id))  # replay still works
    assert (report.category, report.source, report.status) == ("dispute", "petition", "feedback_recorded")
    assert [vault.open(v) for v in (report.place, report.description, report.handling_note, report.feedback)] == [
        ERASED
    ] * 4
    assert vault.open(world.app.repository.get(UUID(other)).place) == "the bridge"  # another record's key
    erasure = world.app.repository.get(Erasure.create_id(f"event.{event_id}"))
    assert (erasure.kind, erasure.record_id, erasure.places, erasure.reason) == (
        "event report",
        event_id,
        [GRID],
        REASON,
    )
    assert "Wu Mei" not in repr(list(world.app.events.get(erasure.id)))
    with pytest.raises(Conflict):  # twice
        world.app.erase_record_personal_data(
            ADMIN, c.EraseRecordPersonalData(record_id=event_id, reason=REASON), vault.erase
        )
    world.app.accept_event(ADMIN, c.AcceptEvent(event_id=other))
    world.app.assign_event(ADMIN, c.AssignEvent(event_id=other, unit=UNIT))
    world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=other, reason=REASON), vault.erase)
    with pytest.raises(Conflict):  # nothing more is stored under an erased key
        world.app.record_handling(ADMIN, c.RecordHandling(event_id=other, note="n"), world.seal)
    world.app.tick_checklist_step(
        ADMIN, c.TickChecklistStep(event_id=other, step="verify_facts"), world.seal
    )  # facts go on


def test_erasing_risk_and_work_item_text(world, vault):
    risk, item = world.risk(), world.add_item()
    for record in (risk, item):
        world.app.erase_record_personal_data(
            ADMIN, c.EraseRecordPersonalData(record_id=record, reason=REASON), vault.erase
        )
    risk_state, item_state = world.app.repository.get(UUID(risk)), world.app.repository.get(UUID(item))
    assert vault.open(risk_state.place) == vault.open(item_state.title) == ERASED
    assert vault.open(risk_state.responsible_person_name) == "Officer Zhang"  # the person is another subject
    with pytest.raises(NotFound):
        world.app.erase_record_personal_data(
            ADMIN, c.EraseRecordPersonalData(record_id=uuid4(), reason=REASON), vault.erase
        )


def test_erasing_a_volunteer_by_participant_id(world, vault):
    volunteer = world.app.register_participant(
        ADMIN, c.RegisterParticipant(jurisdiction=VILLAGE, kind="volunteer", name="Tian Hua"), world.seal
    )["participant_id"]
    organisation = world.app.register_participant(
        ADMIN,
        c.RegisterParticipant(jurisdiction=VILLAGE, kind="social_organisation", name="Red Cross branch"),
        world.seal,
    )["participant_id"]
    county = call_as(Role.COUNTY_OFFICER, "433101", "co-1")
    result = world.app.erase_record_personal_data(
        county, c.EraseRecordPersonalData(record_id=volunteer, reason=REASON), vault.erase
    )
    assert result["erased"] == "volunteer"
    assert vault.open(world.app.repository.get(UUID(volunteer)).name) == ERASED
    with pytest.raises(ValidationFailed):
        world.app.erase_record_personal_data(
            county, c.EraseRecordPersonalData(record_id=organisation, reason=REASON), vault.erase
        )


@pytest.mark.parametrize(
    "caller",
    [
        call_as(Role.TOWNSHIP_OFFICER, "433101001", "to-1"),  # role may not erase
        call_as(Role.COUNTY_OFFICER, "433123", "co-9"),  # another county
        call_as(Role.GRID_WORKER, VILLAGE, "gw-1001"),
    ],
)
def test_erasure_is_refused_outside_role_or_jurisdiction_and_erases_nothing(world, vault, caller):
    event_id = world.report(description="Wu Mei")
    with pytest.raises(Forbidden):
        world.app.erase_record_personal_data(
            caller, c.EraseRecordPersonalData(record_id=event_id, reason=REASON), vault.erase
        )
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
        world.app.erase_person(
            call_as(Role.COUNTY_OFFICER, "433101", "co-1"),
            c.ErasePerson(person_id="p-gone", reason=REASON),
            [],
            vault.erase,
        )
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
    with pytest.raises(ValidationFailed, match="reason"):
        parse(c.ErasePerson, {"person_id": "p-1", "reason": "because Wu Mei asked"})


def test_projections_rebuild_after_erasure_and_queries_open_to_erased(world, vault):
    event_id = world.report(place="Wu Mei's courtyard")
    item = world.add_item()
    world.app.erase_record_personal_data(
        ADMIN, c.EraseRecordPersonalData(record_id=event_id, reason=REASON), vault.erase
    )
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


# -- every free text of every record kind --------------------------------------------------------


def stored_personal_values(world) -> list[tuple[str, str, object]]:
    """(event class, field, stored value) of every personal field in the whole log."""
    found = []
    for notification in world.app.recorder.select_notifications(start=1, limit=10_000):
        event = world.app.mapper.to_domain_event(notification)
        for name in PERSONAL_FIELDS.get(type(event), ()):
            found.append((type(event).__qualname__, name, getattr(event, name, None)))
    return found


def full_lifecycles(world) -> dict[str, str]:
    """Every command that takes free text, each text naming Wu Mei; returns the records' ids."""
    app, seal = world.app, world.seal
    event_id = world.report(place="Wu Mei's yard", description="Wu Mei quarrels")
    app.tick_checklist_step(
        ADMIN, c.TickChecklistStep(event_id=event_id, step="verify_facts", note="Wu Mei confirmed"), seal
    )
    item = world.add_item()
    app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="visited Wu Mei"), seal)
    cancelled = world.add_item()
    app.cancel_work_item(ADMIN, c.CancelWorkItem(item_id=cancelled, reason="Wu Mei moved away"), seal)
    risk = world.risk(category="traffic_black_spot", place="Wu Mei's bend", description="Wu Mei's lorry")
    app.issue_warning(ADMIN, c.IssueWarning(risk_id=risk, level="orange"))
    app.start_risk_measures(
        ADMIN,
        c.StartRiskMeasures(risk_id=risk, measures="Wu Mei to fit mirrors", reinspection_date=date(2026, 12, 1)),
        seal,
    )
    app.record_reinspection(ADMIN, c.RecordReinspection(risk_id=risk, passed=True, note="Wu Mei fitted them"), seal)
    app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=risk, note="Wu Mei thanked"), seal)
    app.report_risk_feedback(ADMIN, c.ReportRiskFeedback(risk_id=risk, feedback="Wu Mei content"), seal)
    decision = app.register_decision(
        ADMIN,
        c.RegisterDecision(jurisdiction="433101", title="move Wu Mei's market", summary="Wu Mei's stall moves"),
        seal,
    )["decision_id"]
    app.assess_decision(
        ADMIN,
        c.AssessDecision(decision_id=decision, risk_level="high", findings="Wu Mei objects", measures="talk to Wu Mei"),
        seal,
    )
    app.reject_assessment(ADMIN, c.RejectAssessment(decision_id=decision, reason="Wu Mei not heard"), seal)
    family = app.record_family_assessment(
        ADMIN,
        c.RecordFamilyAssessment(
            grid_code=GRID,
            household_id="hh-17",
            risk_level="medium",
            findings="Wu Mei drinks",
            measures="visit Wu Mei weekly",
        ),
        seal,
    )["assessment_id"]
    volunteer = app.register_participant(
        ADMIN, c.RegisterParticipant(jurisdiction=VILLAGE, kind="volunteer", name="Wu Mei"), seal
    )["participant_id"]
    app.recognise_participant(ADMIN, c.RecogniseParticipant(participant_id=volunteer, note="Wu Mei helped"), seal)
    organisation = app.register_participant(
        ADMIN, c.RegisterParticipant(jurisdiction=VILLAGE, kind="social_organisation", name="Red Cross branch"), seal
    )["participant_id"]
    app.recognise_participant(
        ADMIN, c.RecogniseParticipant(participant_id=organisation, note="its Wu Mei led the relief"), seal
    )
    return dict(
        event=event_id,
        item=item,
        cancelled=cancelled,
        risk=risk,
        decision=decision,
        family=family,
        volunteer=volunteer,
        organisation=organisation,
    )


def test_every_free_text_is_stored_sealed_under_its_record_key(world, vault):
    ids = full_lifecycles(world)
    values = stored_personal_values(world)
    assert "Wu Mei" not in repr(
        [world.app.mapper.to_domain_event(n) for n in world.app.recorder.select_notifications(start=1, limit=10_000)]
    )
    by_event = {(cls, name): value for cls, name, value in values}
    expected = {
        ("EventReport.StepTicked", "note"): f"event.{ids['event']}",
        ("WorkItem.Completed", "note"): f"item.{ids['item']}",
        ("WorkItem.Cancelled", "reason"): f"item.{ids['cancelled']}",
        ("Risk.MeasuresStarted", "measures"): f"risk.{ids['risk']}",
        ("Risk.Reinspected", "note"): f"risk.{ids['risk']}",
        ("Risk.Defused", "note"): f"risk.{ids['risk']}",
        ("Risk.FeedbackReported", "feedback"): f"risk.{ids['risk']}",
        ("MajorDecision.Registered", "title"): f"decision.{ids['decision']}",
        ("MajorDecision.Registered", "summary"): f"decision.{ids['decision']}",
        ("MajorDecision.Assessed", "findings"): f"decision.{ids['decision']}",
        ("MajorDecision.Assessed", "measures"): f"decision.{ids['decision']}",
        ("MajorDecision.AssessmentRejected", "reason"): f"decision.{ids['decision']}",
        ("FamilySafetyAssessment.Recorded", "findings"): f"family.{ids['family']}",
        ("FamilySafetyAssessment.Recorded", "measures"): f"family.{ids['family']}",
        ("Participant.Recognised", "note"): None,  # checked below: two participants
    }
    for (cls, name), subject in expected.items():
        if subject:
            assert str(by_event[(cls, name)]).startswith(f"pii1:{subject}:"), (cls, name)
    organisation_name = ("Participant.Registered", "name", "Red Cross branch")  # not personal: stored as given
    assert all(is_sealed(value) for entry in values if entry != organisation_name for value in entry[2:] if value)
    notes = [value for cls, name, value in values if cls == "Participant.Recognised"]
    volunteer_name = world.app.repository.get(UUID(ids["volunteer"])).name
    assert notes[0].split(":")[1] == volunteer_name.split(":")[1]  # a volunteer's notes go with the name
    assert notes[1].startswith(f"pii1:participant.{ids['organisation']}:")
    # A family assessment's texts: the household's seal inside the assessment's.
    inner = vault.open(by_event[("FamilySafetyAssessment.Recorded", "findings")])
    assert inner.startswith("pii1:hh-17:") and vault.open(inner) == "Wu Mei drinks"
    assert vault.open(by_event[("Risk.MeasuresStarted", "measures")]) == "Wu Mei to fit mirrors"
    assert vault.open(by_event[("MajorDecision.Registered", "title")]) == "move Wu Mei's market"


class Spy:
    """A seal that records each call (a refused command must make none)."""

    def __init__(self, seal):
        self.seal, self.calls = seal, []

    def __call__(self, subject, value):
        self.calls.append(subject)
        return self.seal(subject, value)


def test_refused_free_text_commands_seal_nothing_and_store_nothing(world, vault):
    app = world.app
    event_id = world.report()
    item = world.add_item()
    app.cancel_work_item(ADMIN, c.CancelWorkItem(item_id=item, reason="r"), world.seal)
    risk = world.risk(category="traffic_black_spot")
    decision = app.register_decision(
        ADMIN, c.RegisterDecision(jurisdiction="433101", title="t", summary="s"), world.seal
    )["decision_id"]
    organisation = app.register_participant(
        ADMIN, c.RegisterParticipant(jurisdiction=VILLAGE, kind="enterprise", name="Tea Co."), world.seal
    )["participant_id"]
    app.erase_person(ADMIN, c.ErasePerson(person_id="hh-gone", reason=REASON), [], vault.erase)
    before_keys, before = keys(vault), world.stored()
    spy = Spy(world.seal)
    refused = [
        lambda: app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=event_id, step="pray", note="n"), spy),
        lambda: app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="n"), spy),  # cancelled
        lambda: app.cancel_work_item(ADMIN, c.CancelWorkItem(item_id=item, reason="n"), spy),
        lambda: app.start_risk_measures(ADMIN, c.StartRiskMeasures(risk_id=risk, measures="m"), spy),  # no warning
        lambda: app.record_reinspection(ADMIN, c.RecordReinspection(risk_id=risk, passed=True, note="n"), spy),
        lambda: app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=risk, note="n"), spy),
        lambda: app.report_risk_feedback(ADMIN, c.ReportRiskFeedback(risk_id=risk, feedback="f"), spy),
        lambda: app.register_decision(ADMIN, c.RegisterDecision(jurisdiction="433102", title="t", summary="s"), spy),
        lambda: app.register_decision(
            world.worker(), c.RegisterDecision(jurisdiction="433101", title="t", summary="s"), spy
        ),
        lambda: app.reject_assessment(ADMIN, c.RejectAssessment(decision_id=decision, reason="r"), spy),  # not assessed
        lambda: app.assess_decision(
            world.worker(), c.AssessDecision(decision_id=decision, risk_level="low", findings="f", measures="m"), spy
        ),
        lambda: app.recognise_participant(
            call_as(Role.COUNTY_OFFICER, "433123", "co-9"),
            c.RecogniseParticipant(participant_id=organisation, note="n"),
            spy,
        ),
        lambda: app.recognise_participant(
            world.worker(), c.RecogniseParticipant(participant_id=organisation, note="n"), spy
        ),
        lambda: app.record_family_assessment(
            call_as(Role.GRID_WORKER, VILLAGE, "gw-1002"),
            c.RecordFamilyAssessment(grid_code=GRID, household_id="hh-1", risk_level="low", findings="f", measures="m"),
            spy,
        ),
    ]
    for command in refused:
        with pytest.raises((Forbidden, NotFound, ValidationFailed, Conflict, InvalidTransition)):
            command()
    assert spy.calls == [] and keys(vault) == before_keys and world.stored() == before
    # An erased household: refused at its own seal, before the assessment's key exists.
    with pytest.raises(Conflict):
        app.record_family_assessment(
            ADMIN,
            c.RecordFamilyAssessment(
                grid_code=GRID, household_id="hh-gone", risk_level="low", findings="f", measures="m"
            ),
            world.seal,
        )
    assert keys(vault) == before_keys and world.stored() == before


def test_erasing_a_decision_or_a_family_assessment_shreds_its_text(world, vault):
    ids = full_lifecycles(world)
    other = world.app.record_family_assessment(
        ADMIN,
        c.RecordFamilyAssessment(
            grid_code=GRID, household_id="hh-17", risk_level="low", findings="later visit", measures="none"
        ),
        world.seal,
    )["assessment_id"]
    county = call_as(Role.COUNTY_OFFICER, "433101", "co-1")
    for record, kind in (
        (ids["decision"], "major decision"),
        (ids["family"], "family assessment"),
        (ids["organisation"], "participant"),
        (ids["volunteer"], "volunteer"),
    ):
        result = world.app.erase_record_personal_data(
            county, c.EraseRecordPersonalData(record_id=record, reason=REASON), vault.erase
        )
        assert result == {"erased": kind, "record_id": record, "reason": REASON}
    decision = world.app.repository.get(UUID(ids["decision"]))
    assert (decision.status, decision.risk_level) == ("registered", "high")  # the facts stay
    assert [vault.open(decision.title), vault.open(decision.summary)] == [ERASED, ERASED]
    assert all(
        value is None or vault.open(value) == ERASED
        for cls, _, value in stored_personal_values(world)
        if cls.startswith(("MajorDecision", "Participant.Recognised"))
    )
    family = world.app.repository.get(UUID(ids["family"]))
    assert vault.open(family.findings) == vault.open(family.measures) == ERASED
    later = world.app.repository.get(UUID(other))  # the household's other assessment: its own key
    assert vault.open(vault.open(later.findings)) == "later visit"
    world.app.erase_person(county, c.ErasePerson(person_id="hh-17", reason=REASON), [GRID], vault.erase)
    assert vault.open(vault.open(later.findings)) == ERASED  # the household's key, inside
    with pytest.raises(Conflict):  # nothing more is stored under an erased decision key
        world.app.assess_decision(
            ADMIN,
            c.AssessDecision(decision_id=ids["decision"], risk_level="low", findings="f", measures="m"),
            world.seal,
        )
    with pytest.raises(Forbidden):  # another county's officer
        world.app.erase_record_personal_data(
            call_as(Role.COUNTY_OFFICER, "433123", "co-9"),
            c.EraseRecordPersonalData(record_id=other, reason=REASON),
            vault.erase,
        )


def projected(world):
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    projections = views.projections()
    create_view_tables(engine, projections)
    for projection in projections:
        ProjectionRunner(world.app, engine, projection).catch_up()
    return engine, projections


def erased_flags(engine) -> dict[str, dict[str, bool]]:
    tables = {
        "events": (views.reports, "event_id"),
        "items": (views.work_items, "item_id"),
        "risks": (views.risks, "risk_id"),
        "decisions": (views.decisions, "decision_id"),
        "families": (views.family_assessments, "assessment_id"),
        "participants": (views.participants, "participant_id"),
    }
    with engine.connect() as conn:
        return {
            name: dict(conn.execute(select(table.c[key], table.c.personal_data_erased)).all())
            for name, (table, key) in tables.items()
        }


def test_read_models_flag_erased_records_and_rebuild_the_same(world, vault):
    ids = full_lifecycles(world)
    engine, projections = projected(world)
    assert not any(flag for flags in erased_flags(engine).values() for flag in flags.values())
    for record in ("event", "item", "risk", "decision", "volunteer"):
        world.app.erase_record_personal_data(
            ADMIN, c.EraseRecordPersonalData(record_id=ids[record], reason=REASON), vault.erase
        )
    world.app.erase_person(ADMIN, c.ErasePerson(person_id="hh-17", reason=REASON), [GRID], vault.erase)
    for projection in projections:
        ProjectionRunner(world.app, engine, projection).catch_up()
    flags = erased_flags(engine)
    erased = {record_id for table in flags.values() for record_id, flag in table.items() if flag}
    assert erased == {ids[r] for r in ("event", "item", "risk", "decision", "volunteer", "family")}
    with engine.connect() as conn:
        risk = views.risk_by_id(conn, ids["risk"])
        decision = views.page_of(conn, views.decisions_query("433101", None), 1, 10)["items"][0]
    assert risk["version"] == world.app.repository.get(UUID(ids["risk"])).version  # the erasure is not the risk's
    assert vault.open_fields(risk, views.SEALED_COLUMNS)["measures"] == ERASED
    assert vault.open_fields(decision, views.SEALED_COLUMNS)["title"] == ERASED
    for projection in projections:
        ProjectionRunner(world.app, engine, projection).rebuild()
    assert erased_flags(engine) == flags


def test_the_service_opens_a_family_assessment_twice_and_other_rows_once(world, vault):
    from services.grid_events.service import PERSONAL
    from shared.queries import Reads

    ids = full_lifecycles(world)
    engine, _ = projected(world)
    with engine.connect() as conn:
        [family] = views.page_of(conn, views.family_assessments_query("433101", None), 1, 10)["items"]
        risk = views.risk_by_id(conn, ids["risk"])
    reads = Reads(store=None, vault=vault, page_of=views.page_of, personal=PERSONAL, readers=())
    opened = reads.opened(family)
    assert (opened["findings"], opened["measures"]) == ("Wu Mei drinks", "visit Wu Mei weekly")
    assert reads.opened(risk)["measures"] == "Wu Mei to fit mirrors"
    world.app.erase_person(ADMIN, c.ErasePerson(person_id="hh-17", reason=REASON), [GRID], vault.erase)
    assert reads.opened(family)["findings"] == ERASED
