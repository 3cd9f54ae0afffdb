"""The audit log as a feature in grid_events, on the in-memory store through the service's entrypoints
(nameko's worker_factory): a record's history, a record as of a past moment, who read a person."""

from datetime import datetime

import pytest

from services.grid_events import contracts as c
from services.grid_events import projections as views
from services.grid_events.service import GridEventsService
from shared.context import CallerContext, Role
from shared.errors import Forbidden, NotFound
from shared.security.audit_log import AuditTrail
from shared.security.personal_data import ERASED
from shared.testing import memory_vault, service_worker
from tests.history_support import AUDITOR, OUTSIDER, as_call, rescuer

from .grid_support import ADMIN, COUNTY, GRID, UNIT, VILLAGE, World

WORKER = CallerContext(actor_id="gw-1001", role=Role.GRID_WORKER, jurisdiction=VILLAGE)
TOWNSHIP = CallerContext(actor_id="township-2", role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001")
COUNTY_OFFICER = CallerContext(actor_id="county-3", role=Role.COUNTY_OFFICER, jurisdiction=COUNTY)


@pytest.fixture
def vault():
    return memory_vault()


@pytest.fixture
def world(vault):
    return World(seal=vault.seal).seed()


@pytest.fixture
def service(world, vault):
    """The service's entrypoints over the world's log and read models; ``service(caller)`` picks the caller."""
    return service_worker(GridEventsService, world.app, views.projections(), vault)


def event_through_three_hands(world) -> str:
    """Reported by the grid worker, accepted by the township, assigned and handled by the county."""
    app = world.app
    event_id = app.report_event(as_call(WORKER), c.ReportEvent(
        grid_code=GRID, category="dispute", source="petition", severity="medium", place="Wu Mei's courtyard",
        description="boundary wall"), world.seal)["event_id"]
    app.accept_event(as_call(TOWNSHIP), c.AcceptEvent(event_id=event_id))
    app.assign_event(as_call(COUNTY_OFFICER), c.AssignEvent(event_id=event_id, unit=UNIT))
    app.record_handling(as_call(COUNTY_OFFICER), c.RecordHandling(event_id=event_id, note="met Wu Mei"), world.seal)
    return event_id


def test_history_lists_each_step_with_its_actor_and_time(world, service):
    event_id = event_through_three_hands(world)
    found = service(AUDITOR).history(kind="event", record_id=event_id, purpose="audit")
    steps = [(e["event"], e["actor_id"]) for e in found["items"]]
    assert steps == [("Reported", "gw-1001"), ("Accepted", "township-2"), ("Assigned", "county-3"),
                     ("Handled", "county-3")]
    times = [datetime.fromisoformat(e["at"]) for e in found["items"]]
    assert times == sorted(times)
    assert found["items"][0]["changes"]["place"] == "Wu Mei's courtyard"


def test_get_event_as_of_a_time_between_two_steps_returns_the_earlier_state(world, service):
    event_id = event_through_three_hands(world)
    events = service(AUDITOR).history(kind="event", record_id=event_id, purpose="audit")["items"]
    accepted, assigned = (datetime.fromisoformat(events[i]["at"]) for i in (1, 2))
    then = service(AUDITOR).get_event(event_id=event_id, as_of=(accepted + (assigned - accepted) / 2).isoformat(),
                                      purpose="audit")
    assert (then["event_id"], then["version"], then["status"]) == (event_id, 2, "accepted")
    assert then["description"] == "boundary wall"


def test_get_risk_as_of_a_version_returns_that_version(world, service):
    risk_id = world.risk()
    world.app.change_risk_level(ADMIN, c.ChangeRiskLevel(risk_id=risk_id, level="orange"))
    then = service(AUDITOR).get_risk(risk_id=risk_id, as_of=1, purpose="audit")
    assert (then["version"], then["level"], then["responsible_person_name"]) == (1, "yellow", "Officer Zhang")


def test_history_after_erasure_reads_erased_for_personal_fields(world, service, vault):
    event_id = event_through_three_hands(world)
    world.app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=event_id, reason="subject_request"),
                                         vault.erase)
    events = service(AUDITOR).history(kind="event", record_id=event_id, purpose="audit")["items"]
    assert (events[0]["changes"]["place"], events[0]["changes"]["description"]) == (ERASED, ERASED)
    assert (events[0]["changes"]["category"], events[3]["changes"]["note"]) == ("dispute", ERASED)


def test_history_for_an_officer_outside_the_record_subtree_is_refused_and_audited(world, service):
    event_id = event_through_three_hands(world)
    with pytest.raises(Forbidden):
        service(OUTSIDER).history(kind="event", record_id=event_id, purpose="audit")
    last = list(AuditTrail(world.app).entries())[-1]
    assert (last.record_ids, last.outcome, last.audit["actor_id"]) == ([event_id], "denied", "officer-5")


def test_access_log_lists_exactly_the_reads_of_the_person(world, service):
    mine = world.risk(responsible_person_id="p-1")
    others = world.risk(responsible_person_id="p-2")
    service(COUNTY_OFFICER).get_risk(risk_id=mine, purpose="case_work")
    with pytest.raises(Forbidden):
        service(OUTSIDER).get_risk(risk_id=mine, purpose="audit")
    service(rescuer()).history(kind="risk", record_id=mine, purpose="emergency")
    service(COUNTY_OFFICER).list_risks(purpose="supervision")  # a listing names both risks
    service(COUNTY_OFFICER).get_risk(risk_id=others, purpose="case_work")
    found = service(AUDITOR).access_log(person_id="p-1")
    reads = [(r["actor_id"], r["action"], r["outcome"], r["break_glass"], r["records"]) for r in found["items"]]
    assert reads == [("county-3", "read a risk", "allowed", False, [mine]),
                     ("officer-5", "read a risk", "denied", False, [mine]),
                     ("officer-6", "read the history of a risk", "allowed", True, [mine]),
                     ("county-3", "list risks", "allowed", False, [mine])]


def test_access_log_for_an_auditor_outside_the_person_records_is_refused(world, service):
    world.risk(responsible_person_id="p-1")
    elsewhere = CallerContext(actor_id="auditor-9", role=Role.AUDITOR, jurisdiction="433102")
    with pytest.raises(Forbidden):
        service(elsewhere).access_log(person_id="p-1")
    assert list(AuditTrail(world.app).entries())[-1].outcome == "denied"


def test_family_assessment_history_opens_text_sealed_twice(world, service):
    assessment_id = world.app.record_family_assessment(ADMIN, c.RecordFamilyAssessment(
        grid_code=GRID, household_id="h-1", risk_level="low", findings="Wu Mei's son skips school",
        measures="weekly visits"), world.seal)["assessment_id"]
    found = service(AUDITOR).history(kind="family_assessment", record_id=assessment_id, purpose="audit")
    changes = found["items"][0]["changes"]
    assert (changes["findings"], changes["measures"]) == ("Wu Mei's son skips school", "weekly visits")


def test_get_event_as_of_with_a_risk_id_is_not_found(world, service):
    risk_id = world.risk()
    with pytest.raises(NotFound):
        service(AUDITOR).get_event(event_id=risk_id, as_of=1, purpose="audit")


# Every query that returns personal data is audited: observed as the audit event its call leaves,
# for each such RPC method (docs/services/grid_events.md, "Calling conventions").
def personal_queries() -> list[str]:
    from tests.unit.test_grid_contracts import rpc_methods

    models = {m: getattr(c, "".join(part.title() for part in m.split("_")), None) for m in rpc_methods()}
    return sorted(m for m, model in models.items() if model is not None and issubclass(model, c.Personal))


def query_arguments(world, method: str) -> dict:
    made = {"get_event": lambda: {"event_id": world.report()}, "get_work_item": lambda: {"item_id": world.add_item()},
            "get_risk": lambda: {"risk_id": world.risk()}, "list_contact_points": lambda: {"grid_code": GRID}}
    return made.get(method, dict)()


@pytest.mark.parametrize("method", personal_queries())
def test_personal_query_leaves_an_audit_event(world, service, method):
    arguments = query_arguments(world, method)
    before = len(list(AuditTrail(world.app).entries()))

    getattr(service(AUDITOR), method)(purpose="audit", **arguments)

    entries = list(AuditTrail(world.app).entries())
    assert len(entries) == before + 1 and (entries[-1].outcome, entries[-1].audit["actor_id"]) == (
        "allowed", AUDITOR.actor_id)


def test_every_personal_query_is_checked_for_its_audit_event():
    assert {"get_event", "get_risk", "get_work_item", "list_events", "list_risks"} <= set(personal_queries())
