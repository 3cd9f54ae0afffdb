"""grid_events on real PostgreSQL and RabbitMQ: a random canary planted in every free text the service
takes — a reported event's place, description, checklist tick note, handling note and feedback; work
items' titles, completion notes and cancel reasons; a risk's place, description, measures, defuse note and
feedback; a major decision's title, summary, assessment findings and measures and rejection reason; family
assessments' findings and measures; participants' recognition notes — and a township responsible person,
contact point and volunteer named by another canary, are read back through audited reads, relayed, then
erased (records and persons). Afterwards neither canary is found anywhere — database dump, messages still
in the test vhost's queues, logs at DEBUG, read models (also rebuilt from the log), /metrics — the records'
facts remain, flagged `personal_data_erased`, and the log verifies against signed checkpoints taken before
and after the erasure."""

import json
import os
import subprocess
import uuid
from datetime import date, timedelta
from urllib.request import urlopen

import pytest
from sqlalchemy import create_engine, text
from structlog.testing import capture_logs

from services.grid_events import projections as views
from services.grid_events.application import GridEventsApplication
from services.grid_events.service import GridEventsService
from shared.context import Role
from shared.dependencies import Store
from shared.errors import Conflict, Forbidden
from shared.projections import ProjectionRunner
from shared.security.audit_log import AuditTrail
from shared.security.chain import (
    CheckpointStore,
    EventRows,
    generate_signing_key,
    load_private_key,
    load_public_key,
    make_checkpoint,
)
from shared.security.personal_data import ERASED, PersonalData, generate_master_key, load_master_key
from shared.security.verifier import verify
from tests.canary import unconsumed_queue, vhost_messages, wait_for_in_flight

pytestmark = pytest.mark.integration

CANARY = f"Canary{uuid.uuid4().hex[:12]}"  # in a record's free text
PERSON = f"Person{uuid.uuid4().hex[:12]}"  # a named person
PHONE = f"139{uuid.uuid4().int % 10**8:08d}"
TOWNSHIP, VILLAGE, GRID = "433101001", "433101001001", "433101001001001"
COUNTY_OFFICER = dict(role=Role.COUNTY_OFFICER, jurisdiction="433101", actor_id="county-7")
PUBLISHED = ("dispute_reported", "severe_event_reported", "event_assigned", "risk_registered", "risk_level_changed",
             "decision_cleared")
VIEWS = ("grid_jurisdictions_view", "grid_contact_points_view", "grid_event_reports_view", "grid_work_items_view",
         "grid_risks_view", "grid_decisions_view", "grid_family_assessments_view", "grid_participants_view")


@pytest.fixture(autouse=True)
def master_key(monkeypatch):
    key = generate_master_key()
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", key)
    return key


@pytest.fixture
def in_flight(service_config):
    with unconsumed_queue(service_config, "grid_events") as queue:
        yield queue


def read_models(pg_url) -> dict[str, list[dict]]:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = {table: sorted((dict(r) for r in conn.execute(text(f"SELECT * FROM {table}")).mappings()), key=repr)
                for table in VIEWS}
    engine.dispose()
    return rows


def rebuild(pg_url) -> None:
    """Project the whole log again, as `pingan rebuild grid_events` does."""
    app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url})
    engine = create_engine(pg_url)
    for projection in views.projections():
        ProjectionRunner(app, engine, projection).rebuild()
    engine.dispose()


def seed(g):
    for code in ("433100", "433101", TOWNSHIP, VILLAGE):
        g.register_jurisdiction(code=code, name=f"unit {code}")
    g.register_grid(code=GRID, name="grid 1")
    g.register_member_unit(body_code="433101", unit_code="justice-bureau", name="Jishou Justice Bureau",
                           duties=["mediation"])


def test_canaries_are_found_nowhere_after_erasure(container_factory, service_config, pg_url, rpc_as, in_flight,
                                                  debug_logs, rabbit_config, tmp_path, master_key):
    private, public = generate_signing_key()
    checkpoints = CheckpointStore(tmp_path / "checkpoints", "grid_events")
    rows = EventRows(create_engine(pg_url), "grid_events")
    with capture_logs() as structured:
        container = container_factory(GridEventsService, service_config)
        container.start()
        store = next(d for d in container.dependencies if isinstance(d, Store))
        with rpc_as() as rpc:
            g = rpc.grid_events
            seed(g)
            g.name_township_responsible(code=TOWNSHIP, office="Ping'an office", person_id="p-canary",
                                        person_name=PERSON)
            g.name_contact_point(grid_code=GRID, unit="justice-bureau", contact_id="c-canary", contact_name=PERSON,
                                 contact_phone=PHONE)
            event_id = g.report_event(grid_code=GRID, category="dispute", source="petition", severity="severe",
                                      place=f"{CANARY}'s courtyard", description=f"{CANARY} and a neighbour quarrel")[
                "event_id"]
            g.accept_event(event_id=event_id)
            g.assign_event(event_id=event_id, unit="justice-bureau")
            g.tick_checklist_step(event_id=event_id, step="verify_facts", note=f"{CANARY} confirmed it")
            g.record_handling(event_id=event_id, note=f"met {CANARY} at home")
            g.record_feedback(event_id=event_id, feedback=f"{CANARY} is satisfied", satisfied=True)
            due = (date.today() + timedelta(days=7)).isoformat()
            item_id = g.add_work_item(grid_code=GRID, kind="home_visit", title=f"visit {CANARY}", due_date=due,
                                      every_days=7, assignee_kind="member_unit",
                                      assignee_id="justice-bureau")["item_id"]
            g.complete_work_item(item_id=item_id, note=f"{CANARY} was at home")  # recurring: stays open
            cancelled_id = g.add_work_item(grid_code=GRID, kind="patrol", title="patrol", due_date=due,
                                           assignee_kind="member_unit", assignee_id="justice-bureau")["item_id"]
            g.cancel_work_item(item_id=cancelled_id, reason=f"{CANARY} moved away")
            risk_id = g.register_risk(jurisdiction=VILLAGE, category="lending", source="risk", level="yellow",
                                      place=f"{CANARY}'s shop", description=f"{CANARY} lends at 40%",
                                      responsible_unit="justice-bureau", responsible_person_id="p-canary",
                                      responsible_person_name=PERSON)["risk_id"]
            g.issue_warning(risk_id=risk_id, level="yellow")
            g.start_risk_measures(risk_id=risk_id, measures=f"talk {CANARY} out of it")
            g.defuse_risk(risk_id=risk_id, note=f"{CANARY} stopped lending")
            g.report_risk_feedback(risk_id=risk_id, feedback=f"{CANARY}'s debtors relieved")
            decision_id = g.register_decision(jurisdiction="433101", title=f"move {CANARY}'s market",
                                              summary=f"{CANARY}'s stall moves")["decision_id"]
            g.assess_decision(decision_id=decision_id, risk_level="high", findings=f"{CANARY} objects",
                              measures=f"consult {CANARY}")
            g.reject_assessment(decision_id=decision_id, reason=f"{CANARY} was not heard")
            g.assess_decision(decision_id=decision_id, risk_level="low", findings=f"{CANARY} agrees",
                              measures=f"compensate {CANARY}")
            g.approve_assessment(decision_id=decision_id)
            g.clear_decision(decision_id=decision_id)
            family_id = g.record_family_assessment(grid_code=GRID, household_id="hh-canary", risk_level="medium",
                                                   findings=f"{CANARY} drinks", measures=f"visit {CANARY} weekly")[
                "assessment_id"]
            g.record_family_assessment(grid_code=GRID, household_id="hh-canary", risk_level="low",
                                       findings=f"{CANARY} sober", measures=f"praise {CANARY}")  # erased by person
            volunteer_id = g.register_participant(jurisdiction=VILLAGE, kind="volunteer", name=PERSON)[
                "participant_id"]
            g.recognise_participant(participant_id=volunteer_id, note=f"{CANARY} led the patrol")
            organisation_id = g.register_participant(jurisdiction=VILLAGE, kind="social_organisation",
                                                     name="Red Cross branch")["participant_id"]
            g.recognise_participant(participant_id=organisation_id, note=f"its {CANARY} ran the relief")
            shown = {
                "event": g.get_event(event_id=event_id, purpose="case_work"),
                "item": g.get_work_item(item_id=item_id, purpose="case_work"),
                "risk": g.get_risk(risk_id=risk_id, purpose="case_work"),
                "township": g.list_jurisdictions(parent_code="433101")["items"],
                "contacts": g.list_contact_points(grid_code=GRID, purpose="case_work")["items"],
                "items": g.list_work_items(grid_code=GRID)["items"],
                "decisions": g.list_decisions(purpose="case_work")["items"],
                "families": g.list_family_assessments(household_id="hh-canary")["items"],
                "participants": g.list_participants()["items"],
            }
            unaudited = [g.list_grids(), g.list_member_units(), g.source_report()]
            wait_for_in_flight(in_flight, len(PUBLISHED))
            make_checkpoint(rows, checkpoints, load_private_key(private))  # the log as it was before erasure

        with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433123") as elsewhere, pytest.raises(Forbidden):
            elsewhere.grid_events.erase_record_personal_data(record_id=event_id, reason="subject_request")
        with rpc_as(role=Role.TOWNSHIP_OFFICER, jurisdiction=TOWNSHIP) as township, pytest.raises(Forbidden):
            township.grid_events.erase_person(person_id="p-canary", reason="subject_request")
        with rpc_as(**COUNTY_OFFICER) as rpc:
            g = rpc.grid_events
            for record in (event_id, item_id, cancelled_id, risk_id, decision_id, family_id, volunteer_id,
                           organisation_id):
                g.erase_record_personal_data(record_id=record, reason="subject_request")
            for person in ("p-canary", "c-canary", "hh-canary"):
                g.erase_person(person_id=person, reason="subject_request")
            with pytest.raises(Conflict):
                g.erase_person(person_id="p-canary", reason="subject_request")
            erased = {
                "event": g.get_event(event_id=event_id, purpose="audit"),
                "item": g.get_work_item(item_id=item_id, purpose="audit"),
                "risk": g.get_risk(risk_id=risk_id, purpose="audit"),
                "township": g.list_jurisdictions(parent_code="433101")["items"],
                "contacts": g.list_contact_points(grid_code=GRID, purpose="audit")["items"],
                "events": g.list_events(grid_code=GRID)["items"],
                "items": g.list_work_items(grid_code=GRID)["items"],
                "decisions": g.list_decisions(purpose="audit")["items"],
                "families": g.list_family_assessments(household_id="hh-canary")["items"],
                "participants": g.list_participants()["items"],
            }
        with urlopen(f"http://{service_config['WEB_SERVER_ADDRESS']}/metrics", timeout=5) as answer:
            metrics_text = answer.read().decode()
        audits = [(e.action, e.purpose, e.outcome) for e in AuditTrail(store.app).entries() if event_id in e.record_ids]
        container.stop()

    make_checkpoint(rows, checkpoints, load_private_key(private))
    report = verify(rows, checkpoints, load_public_key(public))
    rows.engine.dispose()
    projected = read_models(pg_url)
    rebuild(pg_url)
    rebuilt = read_models(pg_url)

    # read back while alive, through audited reads
    assert (shown["event"]["place"], shown["event"]["description"]) == (f"{CANARY}'s courtyard",
                                                                          f"{CANARY} and a neighbour quarrel")
    assert shown["item"]["title"] == f"visit {CANARY}" and f"visit {CANARY}" in [i["title"] for i in shown["items"]]
    assert shown["risk"]["place"] == f"{CANARY}'s shop" and shown["risk"]["responsible_person_name"] == PERSON
    assert shown["risk"]["measures"] == f"talk {CANARY} out of it"
    assert [(d["title"], d["status"]) for d in shown["decisions"]] == [(f"move {CANARY}'s market", "cleared")]
    assert sorted((f["findings"], f["measures"]) for f in shown["families"]) == [
        (f"{CANARY} drinks", f"visit {CANARY} weekly"), (f"{CANARY} sober", f"praise {CANARY}")]
    assert sorted(p["name"] for p in shown["participants"]) == sorted([PERSON, "Red Cross branch"])
    assert not any(row["personal_data_erased"] for key in ("decisions", "families", "participants", "items")
                   for row in shown[key]) and not shown["event"]["personal_data_erased"]
    assert [t["responsible_person_name"] for t in shown["township"] if t["code"] == TOWNSHIP] == [PERSON]
    assert [(c["contact_name"], c["contact_phone"]) for c in shown["contacts"]] == [(PERSON, PHONE)]
    assert not any(secret in json.dumps(unaudited) for secret in (CANARY, PERSON, PHONE, "pii1:"))
    assert ("read an event", "case_work", "allowed") in audits and ("read an event", "audit", "allowed") in audits
    # erased: personal text reads [erased], the facts stay
    assert (erased["event"]["place"], erased["event"]["description"]) == (ERASED, ERASED)
    assert (erased["event"]["category"], erased["event"]["status"], erased["event"]["source"]) == (
        "dispute", "feedback_recorded", "petition")
    assert erased["item"]["title"] == ERASED and erased["item"]["status"] == "open"
    assert (erased["risk"]["place"], erased["risk"]["responsible_person_name"], erased["risk"]["level"]) == (
        ERASED, ERASED, "yellow")
    assert [t["responsible_person_name"] for t in erased["township"] if t["code"] == TOWNSHIP] == [ERASED]
    assert [(c["contact_name"], c["contact_phone"]) for c in erased["contacts"]] == [(ERASED, ERASED)]
    assert [e["place"] for e in erased["events"]] == [ERASED]
    assert erased["risk"]["measures"] == ERASED and erased["risk"]["status"] == "feedback_reported"
    assert [(d["title"], d["status"], d["risk_level"]) for d in erased["decisions"]] == [(ERASED, "cleared", "low")]
    assert [(f["findings"], f["measures"]) for f in erased["families"]] == [(ERASED, ERASED)] * 2
    assert sorted(p["name"] for p in erased["participants"]) == sorted([ERASED, "Red Cross branch"])
    flagged = [erased["event"], erased["item"], erased["risk"], *erased["items"], *erased["decisions"],
               *erased["families"], *erased["participants"]]
    assert all(row["personal_data_erased"] is True for row in flagged), flagged
    # the log still verifies; a rebuild from it gives the same read models, which open to [erased]
    assert report.ok and report.anchored == report.checked > 20, report
    assert rebuilt == projected
    vault = PersonalData(create_engine(pg_url), load_master_key(master_key))
    [event_row] = rebuilt["grid_event_reports_view"]
    assert vault.open_fields(event_row, views.SEALED_COLUMNS)["description"] == ERASED
    vault.engine.dispose()

    db = pg_url.rsplit("/", 1)[1]
    dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "pingan", db], capture_output=True, check=True,
                          env={**os.environ, "PGPASSWORD": "pingan"}).stdout.decode()
    queues, in_vhost = vhost_messages(rabbit_config["vhost"])
    assert "grid_event_reports_view" in dump and "pingan_person_keys" in dump and "pii1:event." in dump
    assert in_flight.name in queues and [t for t in PUBLISHED if f'"event_type": "{t}"' not in in_vhost] == []
    places = {"database dump": dump, "messages in the vhost": in_vhost, "structured logs": repr(structured),
              "stdlib logs": debug_logs.text, "read models": json.dumps(rebuilt, default=str),
              "metrics": metrics_text}
    leaks = [(secret, where) for where, found in places.items() for secret in (CANARY, PERSON, PHONE)
             if secret in found]
    assert leaks == []
