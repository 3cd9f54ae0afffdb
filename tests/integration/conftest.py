"""Fixtures of the integration tier that several files share."""

import pytest
from sqlalchemy import create_engine

from services.grid_events.service import GridEventsService
from shared.clients import ClientRegistry
from tests.integration.test_grid_events_service import seed_registry


@pytest.fixture
def grid_seeded(pg_url, container_factory, service_config, rpc_as):
    """grid_events running on RabbitMQ and PostgreSQL, with its registry seeded (pg_url first: the
    database outlives the container)."""
    container = container_factory(GridEventsService, service_config)
    container.start()
    with rpc_as() as rpc:
        seed_registry(rpc)
    return container


@pytest.fixture
def registry(pg_url):
    """The integration-client registry in the test's database (as `pingan clients` keeps it)."""
    engine = create_engine(pg_url)
    yield ClientRegistry(engine)
    engine.dispose()
