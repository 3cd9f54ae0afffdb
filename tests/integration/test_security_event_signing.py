"""Published events can't be forged, and services can't mint identities.

A consumer accepts only a body its source signed, unchanged; a service accepts
only caller tokens the issuer signed, within the lifetime cap.

On real RabbitMQ and PostgreSQL: a genuine ``dispute_reported`` from grid_events
is captured as it reaches mediation, then a changed copy, a new message under
the copied signature and messages signed by another service are published;
each is refused before any work, logged without its body, counted, and
stores nothing.
"""

import copy
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from nameko.testing.services import entrypoint_waiter
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text
from structlog.testing import capture_logs

from services.grid_events.service import GridEventsService
from services.mediation.service import MediationService
from shared.dependencies import Store
from shared.errors import Unauthenticated
from shared.security.event_signing import SIGNATURE, SIGNER
from shared.security.keys import private_key
from shared.security.personal_data import generate_master_key
from tests.conftest import TEST_ISSUER_KEY, fixed_key

pytestmark = pytest.mark.integration

VILLAGE = "433101001001"
GRID = VILLAGE + "001"
CANARY = "canary-forged-7f3e1d"


@pytest.fixture
def flow(pg_url, container_factory, service_config, rpc_as, monkeypatch):
    """grid_events and mediation running, one genuine dispute relayed; returns the captured message."""
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())
    grid_events = container_factory(GridEventsService, service_config)
    mediation = container_factory(MediationService, service_config)
    grid_events.start()
    mediation.start()
    captured = []
    with rpc_as() as rpc:
        for code in ("433100", "433101", "433101001", VILLAGE):
            rpc.grid_events.register_jurisdiction(code=code, name=f"unit {code}")
        rpc.grid_events.register_grid(code=GRID, name="grid 1")
        with entrypoint_waiter(grid_events, "on_mediation_case_opened", timeout=20), \
                entrypoint_waiter(mediation, "on_dispute_reported", timeout=20,
                                  callback=lambda wc, res, exc: captured.append((wc.args[0], dict(wc.context_data)))
                                  or True):
            rpc.grid_events.report_event(grid_code=GRID, category="dispute", source="patrol", severity="medium",
                                         place="field", description="a fence")
    body, context = captured[0]
    yield {"mediation": mediation, "body": body, "headers": {f"nameko.{k}": context[k] for k in (SIGNER, SIGNATURE)},
           "config": service_config, "url": pg_url}
    for container in (grid_events, mediation):
        container.kill()
        store = next(d for d in container.dependencies if isinstance(d, Store))
        store.engine.dispose()
        store.app.recorder.datastore.engine.dispose()


def mediation_rows(url) -> dict:
    """Row counts of every table mediation writes (its events, views, inbox) and the key table."""
    engine = create_engine(url)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND (tablename LIKE 'mediation%' OR tablename = 'pingan_person_keys')")).scalars()
        counts = {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}
    engine.dispose()
    return counts


def refused(reason) -> float:
    return REGISTRY.get_sample_value("pingan_events_refused_total", {"source": "grid_events", "reason": reason}) or 0.0


def deliver(flow, body, headers, exchange="grid_events"):
    with entrypoint_waiter(flow["mediation"], "on_dispute_reported", timeout=15):
        Publisher(flow["config"]["AMQP_URI"], serializer="json").publish(
            body, exchange=get_event_exchange(exchange, flow["config"]), routing_key="dispute_reported",
            headers=headers)


def settled_rows(flow) -> dict:
    """mediation's row counts once its read models have caught up with everything it stored."""
    next(d for d in flow["mediation"].dependencies if isinstance(d, Store)).catch_up()
    return mediation_rows(flow["url"])


def assert_refused(flow, body, headers, reason):
    before_rows, before_count = settled_rows(flow), refused(reason)
    with capture_logs() as logs:
        deliver(flow, body, headers)
    assert settled_rows(flow) == before_rows
    assert refused(reason) == before_count + 1
    assert [entry for entry in logs if entry["event"] == "event_refused"]
    assert CANARY not in repr(logs)


def test_event_captured_with_body_changed_is_refused_and_stores_nothing(flow):
    changed = copy.deepcopy(flow["body"])
    changed["data"]["event_id"] = str(uuid.uuid4())  # a dispute that was never reported
    changed["audit"]["actor_id"] = CANARY
    assert_refused(flow, changed, flow["headers"], "bad_signature")


def test_event_new_message_with_copied_signature_is_refused_and_stores_nothing(flow):
    made_up = copy.deepcopy(flow["body"])
    made_up.update(notification_id=made_up["notification_id"] + 1000, aggregate_id=str(uuid.uuid4()))
    made_up["data"].update(event_id=made_up["aggregate_id"], severity="high")
    made_up["audit"]["call_id"] = CANARY
    assert_refused(flow, made_up, flow["headers"], "bad_signature")


def test_event_signed_by_another_service_is_refused_and_stores_nothing(flow, event_headers):
    """mediation's own key signs a made-up grid_events message: the signer is not the envelope's source."""
    made_up = copy.deepcopy(flow["body"])
    made_up.update(notification_id=made_up["notification_id"] + 2000, aggregate_id=str(uuid.uuid4()))
    made_up["data"]["event_id"] = made_up["aggregate_id"]
    made_up["audit"]["actor_id"] = CANARY
    assert_refused(flow, made_up, event_headers("mediation", made_up), "wrong_signer")


def test_event_whose_source_differs_from_its_signer_is_refused_and_stores_nothing(flow, event_headers):
    """Signed by mediation and saying so, but sent where grid_events publishes."""
    made_up = copy.deepcopy(flow["body"])
    made_up.update(source="mediation", notification_id=made_up["notification_id"] + 3000)
    made_up["audit"]["actor_id"] = CANARY
    headers = {**event_headers("mediation", made_up), f"nameko.{SIGNER}": "grid_events"}
    assert_refused(flow, made_up, headers, "source_mismatch")


def test_event_unsigned_is_refused_and_stores_nothing(flow):
    made_up = copy.deepcopy(flow["body"])
    made_up.update(notification_id=made_up["notification_id"] + 4000)
    made_up["audit"]["actor_id"] = CANARY
    assert_refused(flow, made_up, {}, "unsigned")


def test_event_replayed_verbatim_changes_nothing(flow):
    """The genuine message again verifies, and the consumer's inbox makes it a no-op."""
    before = settled_rows(flow)
    deliver(flow, flow["body"], flow["headers"])
    assert settled_rows(flow) == before


@pytest.fixture
def mediation_alone(pg_url, container_factory, service_config, monkeypatch):
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", generate_master_key())
    container = container_factory(MediationService, service_config)
    container.start()
    yield container
    container.kill()
    store = next(d for d in container.dependencies if isinstance(d, Store))
    store.engine.dispose()
    store.app.recorder.datastore.engine.dispose()


def minted_admin_token(key, kid, minutes):
    now = datetime.now(UTC)
    return jwt.encode({"sub": "admin-x", "role": "admin", "jur": "433100", "cat": [], "aud": "pingan", "iat": now,
                       "exp": now + timedelta(minutes=minutes)}, key, algorithm="EdDSA", headers={"kid": kid})


def test_token_minted_with_a_service_key_is_refused_by_another_service(mediation_alone, rpc_as, pg_url):
    """grid_events' own key (what its pods hold) signs an admin token: mediation refuses it, stores nothing."""
    before = mediation_rows(pg_url)
    for kid in ("test-k1", "grid_events"):
        token = minted_admin_token(private_key(fixed_key("grid_events"), "test"), kid, 5)
        with rpc_as(token=token) as rpc, pytest.raises(Unauthenticated):
            rpc.mediation.open_case(jurisdiction=VILLAGE, source="petition", subject="s",
                                    parties=[{"name": CANARY, "languages": ["mandarin"], "understands_mandarin": True}])
    assert mediation_rows(pg_url) == before


def test_token_over_long_is_refused_by_a_service(mediation_alone, rpc_as, pg_url):
    """Signed by the real issuer, but for 8 hours: over the 4-hour cap for people."""
    before = mediation_rows(pg_url)
    token = minted_admin_token(private_key(TEST_ISSUER_KEY, "test"), "test-k1", 8 * 60)
    with rpc_as(token=token) as rpc, pytest.raises(Unauthenticated):
        rpc.mediation.open_case(jurisdiction=VILLAGE, source="petition", subject="s",
                                parties=[{"name": CANARY, "languages": ["mandarin"], "understands_mandarin": True}])
    assert mediation_rows(pg_url) == before
