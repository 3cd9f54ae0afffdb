"""grid_events opens sealed columns only after the access decision: a denied read decrypts
nothing (a vault that counts what it opens, through the service's own entrypoints)."""

import pytest

from services.grid_events import projections as views
from services.grid_events.service import GridEventsService
from shared.context import CallerContext, Role
from shared.errors import Forbidden
from shared.testing import CountingVault, service_worker

from .grid_support import World

OUTSIDER = CallerContext(actor_id="officer-5", role=Role.COUNTY_OFFICER, jurisdiction="433102")
COUNTY_OFFICER = CallerContext(actor_id="officer-3", role=Role.COUNTY_OFFICER, jurisdiction="433101")


@pytest.fixture
def vault():
    return CountingVault.in_memory()


@pytest.fixture
def world(vault):
    return World(seal=vault.seal).seed()


@pytest.fixture
def service(world, vault):
    return service_worker(GridEventsService, world.app, views.projections(), vault)


def test_denied_risk_read_opens_no_sealed_value(world, vault, service):
    risk_id = world.risk(place="Wu Mei's bend", description="Wu Mei's lorry")
    with pytest.raises(Forbidden):
        service(OUTSIDER).get_risk(risk_id=risk_id, purpose="case_work")
    assert vault.opened == 0


def test_denied_risk_listing_opens_no_sealed_value(world, vault, service):
    world.risk(place="Wu Mei's bend", description="Wu Mei's lorry")
    with pytest.raises(Forbidden):
        service(OUTSIDER).list_risks(jurisdiction="433101", purpose="case_work")
    assert vault.opened == 0


def test_permitted_risk_read_opens_its_sealed_values(world, vault, service):
    risk_id = world.risk(place="Wu Mei's bend", description="Wu Mei's lorry")
    risk = service(COUNTY_OFFICER).get_risk(risk_id=risk_id, purpose="case_work")
    assert (risk["place"], risk["description"]) == ("Wu Mei's bend", "Wu Mei's lorry")
    assert vault.opened >= 2
