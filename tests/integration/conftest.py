"""Fixtures of the integration tier that several files share."""

import pytest

from services.grid_events.service import GridEventsService
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
