"""emergency_command decides access on sealed rows only: an incident, key area or warning whose place
was edited in the read model behind the service's back is neither read nor listed."""

import pytest
from sqlalchemy import update

from services.emergency_command import projections as views
from services.emergency_command.application import EmergencyCommandApplication
from services.emergency_command.service import EmergencyCommandService
from shared.context import CallerContext, Role
from shared.errors import NotFound
from shared.testing import CountingVault, memory_app, service_worker
from tests.unit.emergency_support import NOW, OFFICE, VILLAGE, info

# The office of the county the rows are moved into: it must not see them.
OTHER_OFFICE = CallerContext(actor_id="eoc-2", role=Role.EMERGENCY_OFFICE, jurisdiction="433102")
MOVED = "433102001001"


@pytest.fixture
def service():
    return service_worker(EmergencyCommandService, memory_app(EmergencyCommandApplication), views.projections(),
                          CountingVault.in_memory(), now=lambda: NOW)


def move(service, table, **where):
    store = service(OFFICE).store
    store.catch_up()
    with store.engine.begin() as conn:
        key, value = next(iter(where.items()))
        conn.execute(update(table).where(table.c[key] == value).values(jurisdiction=MOVED))


def opened(service) -> str:
    return service(OFFICE).open_incident(incident_ref="op-seal", jurisdiction=VILLAGE, level="II",
                                         classification="natural_disaster",
                                         commander_unit="433101:emergency_office")["incident_id"]


def test_row_seal_moved_incident_is_not_read(service):
    incident_id = opened(service)
    move(service, views.incidents, incident_id=incident_id)
    with pytest.raises(NotFound):
        service(OTHER_OFFICE).get_incident(incident_id=incident_id, purpose="emergency")


def test_row_seal_moved_incident_is_not_listed(service):
    incident_id = opened(service)
    move(service, views.incidents, incident_id=incident_id)
    assert service(OTHER_OFFICE).list_incidents()["items"] == []


def test_row_seal_moved_warning_is_not_read(service):
    """Warnings are public to every reader, so a tampered one reads as missing for everyone."""
    warning_id = service(OFFICE).issue_warning(command_id="w-seal", jurisdiction="433101", info=info())["warning_id"]
    move(service, views.warnings_table, warning_id=warning_id)
    with pytest.raises(NotFound):
        service(OTHER_OFFICE).get_warning(warning_id=warning_id)
