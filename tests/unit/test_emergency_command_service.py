"""emergency_command through its nameko entrypoints (worker_factory) on the in-memory
store, its read models projected into SQLite: commands, queries and the figures."""

from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import Mock
from uuid import uuid4

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from services.emergency_command import projections as views
from services.emergency_command.service import EmergencyCommandService
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.projections import ProjectionRunner, create_view_tables
from tests.history_support import AUDITOR, as_call
from tests.unit.emergency_support import ELSEWHERE, NOW, OFFICE, TOWNSHIP, VILLAGE, info, memory_app
from tests.unit.test_emergency_command_domain_support import VAULT


class ReadModels:
    """The store's read side: the projections caught up before each read."""

    def __init__(self, app):
        self.app = app
        self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        create_view_tables(self.engine, views.projections())
        self.runners = [ProjectionRunner(app, self.engine, p) for p in views.projections()]

    @contextmanager
    def read(self):
        for runner in self.runners:
            runner.catch_up()
        with self.engine.connect() as conn:
            yield conn


@pytest.fixture
def clock():
    return {"now": NOW}


@pytest.fixture
def models():
    return ReadModels(memory_app())


@pytest.fixture
def service(models, clock):
    identity = Mock()
    store = SimpleNamespace(app=models.app, read=models.read)
    worker = worker_factory(EmergencyCommandService, store=store, vault=VAULT, caller=identity,
                            now=lambda: clock["now"])

    def as_(caller):
        identity.verify.return_value = as_call(caller)
        return worker

    return as_


def figures(models) -> dict:
    with models.read() as conn:
        families = [f for p in views.projections() for f in p.gauges(conn)]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def open_with_task(service, clock) -> tuple[str, str]:
    incident_id = service(OFFICE).open_incident(incident_ref=f"op-{uuid4().hex[:6]}", jurisdiction=VILLAGE,
                                                classification="natural_disaster", level="II",
                                                commander_unit="433101:emergency_office")["incident_id"]
    clock["now"] = NOW + timedelta(minutes=4)
    task_id = service(OFFICE).assign_task(incident_id=incident_id, unit="433101:rescue_team",
                                          instructions="Search the slope above Long's house",
                                          due_at=(NOW + timedelta(hours=2)).isoformat())["task_id"]
    return incident_id, task_id


def test_open_incident_is_listed_in_the_callers_jurisdiction(service, clock):
    incident_id, _ = open_with_task(service, clock)
    listed = service(TOWNSHIP).list_incidents(status="open")
    assert [i["incident_id"] for i in listed["items"]] == [incident_id] and "summary" not in listed["items"][0]


def test_get_incident_opens_task_instructions_for_an_audited_read(service, clock):
    incident_id, _ = open_with_task(service, clock)
    found = service(OFFICE).get_incident(incident_id=incident_id, purpose="emergency")
    assert found["task_list"][0]["instructions"] == "Search the slope above Long's house"


def test_get_incident_as_of_opening_has_no_task(service, clock):
    incident_id, _ = open_with_task(service, clock)
    found = service(AUDITOR).get_incident(incident_id=incident_id, as_of=1, purpose="audit")
    assert (found["version"], found["tasks"]) == (1, {})


def test_history_lists_every_step_of_an_incident(service, clock):
    incident_id, task_id = open_with_task(service, clock)
    service(TOWNSHIP).acknowledge_task(incident_id=incident_id, task_id=task_id)
    found = service(AUDITOR).history(kind="incident", record_id=incident_id, purpose="audit")
    assert [e["event"] for e in found["items"]] == ["Opened", "TaskAssigned", "TaskAcknowledged"]


def test_command_with_positional_arguments_is_refused(service):
    with pytest.raises(ValidationFailed):
        service(OFFICE).change_level(str(uuid4()), "I")


def test_command_with_an_unknown_level_is_refused(service):
    with pytest.raises(ValidationFailed):
        service(OFFICE).change_level(incident_id=str(uuid4()), level="V")


def test_open_incidents_figure_counts_by_county_and_level(service, models, clock):
    open_with_task(service, clock)
    open_with_task(service, clock)
    assert figures(models)[("pingan_emergency_incidents_open",
                            (("county", "433101"), ("level", "II"), ("service", "emergency_command")))] == 2


def test_first_acknowledgement_histogram_observes_minutes_from_opening(service, models, clock):
    incident_id, task_id = open_with_task(service, clock)
    clock["now"] = NOW + timedelta(minutes=12)
    service(TOWNSHIP).acknowledge_task(incident_id=incident_id, task_id=task_id)
    found = figures(models)
    labels = lambda le: (("le", le), ("service", "emergency_command"))  # noqa: E731
    name = "pingan_emergency_first_acknowledgement_seconds_bucket"
    assert (found[(name, labels("300.0"))], found[(name, labels("900.0"))]) == (0, 1)
    assert found[("pingan_emergency_first_acknowledgement_seconds_sum", (("service", "emergency_command"),))] == 720


def test_warning_cap_document_of_each_version_is_served(service, clock):
    issued = service(OFFICE).issue_warning(command_id="w-1", jurisdiction="433101", info=info())
    clock["now"] = NOW + timedelta(minutes=30)
    service(OFFICE).cancel_warning(warning_id=issued["warning_id"])
    first = service(TOWNSHIP).get_warning_cap(warning_id=issued["warning_id"], version=1)
    latest = service(TOWNSHIP).get_warning_cap(warning_id=issued["warning_id"])
    assert (first["msg_type"], latest["msg_type"]) == ("Alert", "Cancel")
    assert "<msgType>Cancel</msgType>" in latest["cap_xml"]


def test_list_warnings_in_force_leaves_out_a_cancelled_warning(service, clock):
    kept = service(OFFICE).issue_warning(command_id="w-kept", jurisdiction="433101", info=info())
    gone = service(OFFICE).issue_warning(command_id="w-gone", jurisdiction="433101", info=info())
    clock["now"] = NOW + timedelta(minutes=30)
    service(OFFICE).cancel_warning(warning_id=gone["warning_id"])
    listed = service(TOWNSHIP).list_warnings(in_force_only=True)
    assert [w["warning_id"] for w in listed["items"]] == [kept["warning_id"]]


def test_get_warning_of_another_county_is_public(service):
    issued = service(OFFICE).issue_warning(command_id="w-2", jurisdiction="433101", info=info())
    found = service(ELSEWHERE).get_warning(warning_id=issued["warning_id"])
    assert [m["msg_type"] for m in found["message_log"]] == ["Alert"]


def test_list_warnings_of_another_county_is_forbidden(service):
    with pytest.raises(Forbidden):
        service(TOWNSHIP).list_warnings(jurisdiction="433123")


def test_get_unknown_warning_cap_is_not_found(service):
    with pytest.raises(NotFound):
        service(OFFICE).get_warning_cap(warning_id=str(uuid4()))


def test_key_area_timer_flags_and_lists_an_overdue_drill(service, models, clock):
    area = service(OFFICE).register_key_area(registry_ref="jishou-square", jurisdiction=VILLAGE, kind="square",
                                             managing_unit="433101:city_admin", drill_every_days=30,
                                             registered_on="2026-09-01")
    service(OFFICE).adopt_plan(area_id=area["area_id"], version=1, approved_by="433101:gov",
                               approved_on="2026-09-05", document_ref="plan-square-1")
    assert service(OFFICE).check_key_areas() == 1
    assert service(OFFICE).check_key_areas() == 0
    listed = service(TOWNSHIP).list_key_areas(drill_overdue=True)
    assert [a["area_id"] for a in listed["items"]] == [area["area_id"]]
    assert figures(models)[("pingan_emergency_drills_overdue",
                            (("county", "433101"), ("service", "emergency_command")))] == 1


def test_recording_a_drill_clears_the_overdue_flag(service, clock):
    area = service(OFFICE).register_key_area(registry_ref="jishou-mall", jurisdiction=VILLAGE, kind="mall",
                                             managing_unit="433101:mall_co", drill_every_days=30,
                                             registered_on="2026-09-01")
    service(OFFICE).adopt_plan(area_id=area["area_id"], version=1, approved_by="433101:gov",
                               approved_on="2026-09-05", document_ref="plan-mall-1")
    service(OFFICE).check_key_areas()
    service(TOWNSHIP).record_drill(area_id=area["area_id"], held_on="2026-12-01", scenario="evacuation",
                                   participant_count=120, participant_units=["433101:fire_brigade"])
    found = service(TOWNSHIP).get_key_area(area_id=area["area_id"])
    assert (found["drill_overdue"], found["drill_due_on"], found["drills"]) == (False, "2026-12-31", 1)
