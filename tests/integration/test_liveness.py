"""Liveness answers from the process itself: not from the worker pool, not from the database.
A database stall does not fail it; a stopped consumer does (docs/reliability.md)."""

import eventlet
import psycopg2
import pytest
import requests
from nameko.messaging import QueueConsumer

from services.mediation.service import MediationService
from shared.context import Role

pytestmark = pytest.mark.integration

PROBE_TIMEOUT = 3  # the chart's livenessProbe timeoutSeconds


def health(port):
    return requests.get(f"http://127.0.0.1:{port}/health", timeout=PROBE_TIMEOUT)


@pytest.fixture
def mediation(container_factory, service_config, pg_url):
    container = container_factory(MediationService, {**service_config, "max_workers": 2})
    container.start()
    return container


def test_liveness_answers_while_database_locked_and_workers_busy(mediation, rpc_as, pg_url, web_config_port):
    lock = psycopg2.connect(pg_url.replace("postgresql+psycopg2", "postgresql"))
    cursor = lock.cursor()
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tables = ", ".join(f'"{name}"' for (name,) in cursor.fetchall())
    cursor.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")  # every query now waits

    def query():
        with rpc_as(role=Role.ADMIN, jurisdiction="433100") as rpc:
            return rpc.mediation.list_cases(jurisdiction="433101")["total"]

    pool = eventlet.GreenPool(4)
    calls = [pool.spawn(query) for _ in range(4)]
    try:
        for _ in range(200):  # bounded: until every worker waits on the locked tables
            if mediation._worker_pool.free() == 0:
                break
            eventlet.sleep(0.05)
        assert mediation._worker_pool.free() == 0
        answer = health(web_config_port)
        assert answer.status_code == 200 and answer.json()["ok"] is True
    finally:
        lock.rollback()
        lock.close()
    assert [call.wait() for call in calls] == [0, 0, 0, 0]


def test_liveness_fails_when_consumer_stopped(mediation, web_config_port):
    assert health(web_config_port).status_code == 200
    consumer = next(
        e for e in mediation.extensions if isinstance(e, QueueConsumer) and "reliable" in type(e).__module__
    )
    consumer._gt.kill()  # the consuming thread ends without the container noticing: wedged
    for _ in range(100):  # bounded: the thread closes its connection on the way out
        answer = health(web_config_port)
        if answer.status_code != 200:
            break
        eventlet.sleep(0.05)
    assert answer.status_code == 503
    assert answer.json()["problems"] == ["consumer stopped: QueueConsumer"]
