"""A projection that cannot apply a stored event stops alone: counted, named by /ready, its
queries refused with ReadModelStalled, while other read models and the write path go on."""

import pytest
import requests
from pydantic import BaseModel
from sqlalchemy import func, select

from shared.dependencies import Store
from shared.entrypoints import ServiceBase, api
from shared.errors import ReadModelStalled
from tests.integration.test_observability import scraped
from tests.unit.kernel_fixtures import TicketsApplication, TicketsView, tickets
from tests.unit.test_projections import TitlesView, titles

pytestmark = pytest.mark.integration


class OpenTicket(BaseModel):
    title: str


class Nothing(BaseModel):
    pass


class TicketsService(ServiceBase):
    name = "tickets"
    store = Store(TicketsApplication, [TicketsView(), TitlesView()])

    @api(OpenTicket)
    def open_ticket(self, call, command):
        return self.store.app.open(call, command.title)

    @api(Nothing)
    def count_tickets(self, call, query):
        with self.store.read() as conn:
            return conn.execute(select(func.count()).select_from(tickets)).scalar_one()

    @api(Nothing)
    def count_titles(self, call, query):
        with self.store.read() as conn:
            return conn.execute(select(func.count()).select_from(titles)).scalar_one()


@pytest.fixture
def stalled(pg_url, container_factory, service_config, rpc_as):
    container = container_factory(TicketsService, service_config)
    container.start()
    with rpc_as() as rpc:
        for title in ("one", "poison", "three"):  # TitlesView cannot apply "poison"
            rpc.tickets.open_ticket(title=title)
    return container


def test_query_on_stalled_projection_raises_read_model_stalled(stalled, rpc_as):
    with rpc_as() as rpc, pytest.raises(ReadModelStalled, match="titles.view"):
        rpc.tickets.count_titles()


def test_other_projections_and_writes_go_on_beside_a_stalled_one(stalled, rpc_as):
    with rpc_as() as rpc:
        rpc.tickets.open_ticket(title="four")
        assert rpc.tickets.count_tickets() == 4


def test_stalled_projection_is_counted_and_reported_not_ready(pg_url, container_factory, service_config, rpc_as,
                                                              web_config_port):
    container_factory(TicketsService, service_config).start()
    errors = dict(service="tickets", projection="titles.view")
    before = scraped(web_config_port, "pingan_projection_errors_total", **errors)
    with rpc_as() as rpc:
        rpc.tickets.open_ticket(title="poison")
        rpc.tickets.count_tickets()  # a query catches up: the stall is found by now
    ready = requests.get(f"http://127.0.0.1:{web_config_port}/ready", timeout=5)
    assert ready.status_code == 503 and list(ready.json()["stalled_projections"]) == ["titles.view"]
    assert scraped(web_config_port, "pingan_projection_errors_total", **errors) == before + 1
