"""Outside systems' credentials against real RabbitMQ and PostgreSQL: a registered client reports
and reads back its own report; it is refused others' records, erasure, listings, and once revoked."""

from uuid import uuid4

import pytest

from services.grid_events.service import GridEventsService
from shared.context import Role
from shared.errors import Conflict, Forbidden, NotFound, Unauthenticated
from tests.integration.test_grid_events_service import DISPUTE, seed_registry, stored_events
from tests.polling import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def grid_events(pg_url, monkeypatch, container_factory, service_config, rpc_as):
    monkeypatch.setenv("PINGAN_CLIENT_CACHE_SECONDS", "0.2")
    container = container_factory(GridEventsService, service_config)
    container.start()
    with rpc_as() as rpc:
        seed_registry(rpc)
    return container


@pytest.fixture
def hotline(registry, tokens):
    registry.register("operator-1", client_id="hotline", name="Citizen hotline", jurisdiction="433100")
    return registry.issue(tokens, "hotline")


def test_integration_client_reads_back_its_own_report(grid_events, hotline, rpc_as):
    with rpc_as(token=hotline) as rpc:
        reported = rpc.grid_events.report_event(**DISPUTE)
        found = rpc.grid_events.get_event(event_id=reported["event_id"])
    assert found["reporter_id"] == "hotline"
    assert found["description"] == DISPUTE["description"]


def test_integration_client_cannot_read_another_reporters_event(grid_events, hotline, rpc_as):
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101", actor_id="officer-1") as rpc:
        theirs = rpc.grid_events.report_event(**DISPUTE)
    with rpc_as(token=hotline) as rpc, pytest.raises(NotFound):
        rpc.grid_events.get_event(event_id=theirs["event_id"])


def test_integration_client_cannot_list_risks(grid_events, hotline, rpc_as):
    with rpc_as(token=hotline) as rpc, pytest.raises(Forbidden):
        rpc.grid_events.list_risks()


def test_integration_client_cannot_erase(grid_events, hotline, rpc_as):
    with rpc_as(token=hotline) as rpc:
        reported = rpc.grid_events.report_event(**DISPUTE)
        with pytest.raises(Forbidden):
            rpc.grid_events.erase_record_personal_data(record_id=reported["event_id"], reason="subject_request")


def test_revoked_client_token_is_refused(grid_events, hotline, registry, rpc_as):
    with rpc_as(token=hotline) as rpc:
        rpc.grid_events.report_event(**DISPUTE)
    registry.revoke("operator-1", "hotline")

    def refused() -> bool:
        with rpc_as(token=hotline) as rpc:
            try:
                rpc.grid_events.report_event(**DISPUTE, command_id=str(uuid4()))
            except Unauthenticated:
                return True
        return False

    assert wait_until(refused, timeout=10, what="the revoked client refused")


def test_report_retried_with_same_external_ref_stores_one_event(grid_events, hotline, rpc_as, pg_url):
    with rpc_as(token=hotline) as rpc:
        first = rpc.grid_events.report_event(**DISPUTE, external_ref="ticket-8841")
        before = stored_events(pg_url)
        again = rpc.grid_events.report_event(**DISPUTE, external_ref="ticket-8841")
        after = stored_events(pg_url)
        listed = rpc.grid_events.list_events(external_ref="ticket-8841")
    assert again == first and after == before
    assert [row["event_id"] for row in listed["items"]] == [first["event_id"]]


def test_external_ref_reused_for_another_matter_conflicts(grid_events, hotline, rpc_as, pg_url):
    with rpc_as(token=hotline) as rpc:
        rpc.grid_events.report_event(**DISPUTE, external_ref="ticket-8842")
        before = stored_events(pg_url)
        with pytest.raises(Conflict):
            rpc.grid_events.report_event(**{**DISPUTE, "category": "fire"}, external_ref="ticket-8842")
    assert stored_events(pg_url) == before


def test_integration_client_lists_only_its_own_reports(grid_events, hotline, rpc_as):
    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101", actor_id="officer-1") as rpc:
        rpc.grid_events.report_event(**DISPUTE)
    with rpc_as(token=hotline) as rpc:
        mine = rpc.grid_events.report_event(**DISPUTE)
        listed = rpc.grid_events.list_events(reporter_id="officer-1")
    assert [row["event_id"] for row in listed["items"]] == [mine["event_id"]]
