"""PINGAN_FOLLOW_LOG: a service at `off` leaves relaying and projecting to a `pingan follow` process
(tests/e2e/test_follow_process.py), even when it stops; at `in-process` (the default) it does both itself."""

from sqlalchemy import create_engine, select

from services.grid_events.service import GridEventsService
from shared.projections import positions
from tests.integration.test_grid_events_service import GRID, seed_registry


def relay_position(pg_url: str) -> int:
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        found = conn.execute(select(positions.c.position).where(positions.c.name == "relay:grid_events")).scalar()
    engine.dispose()
    return found or 0


def stored_then_stopped(container_factory, service_config, rpc_as) -> None:
    container = container_factory(GridEventsService, service_config)
    container.start()
    with rpc_as() as rpc:
        seed_registry(rpc)
        rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="petition", severity="low",
                                     place="p", description="a dispute")
    container.stop()  # in-process, the last pass at stop relays whatever the loop had not


def test_follow_log_off_service_relays_nothing_even_at_stop(container_factory, service_config, rpc_as, pg_url,
                                                            monkeypatch):
    monkeypatch.setenv("PINGAN_FOLLOW_LOG", "off")
    stored_then_stopped(container_factory, service_config, rpc_as)
    assert relay_position(pg_url) == 0


def test_follow_log_in_process_service_relays_its_events_by_stop(container_factory, service_config, rpc_as, pg_url):
    stored_then_stopped(container_factory, service_config, rpc_as)
    assert relay_position(pg_url) > 0


def test_follow_log_off_service_queries_still_read_their_own_writes(container_factory, service_config, rpc_as,
                                                                    pg_url, monkeypatch):
    monkeypatch.setenv("PINGAN_FOLLOW_LOG", "off")
    container = container_factory(GridEventsService, service_config)
    container.start()
    with rpc_as() as rpc:
        seed_registry(rpc)
        event_id = rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="petition",
                                                severity="low", place="p", description="a dispute")["event_id"]
        listed = rpc.grid_events.list_events(jurisdiction="433101")
    assert [item["event_id"] for item in listed["items"]] == [event_id]
