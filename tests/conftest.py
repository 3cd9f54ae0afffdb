"""Fixtures shared by every tier.

eventlet must patch the process before nameko, kombu or the database drivers
are imported (design §5), so it happens first, here.
"""

import warnings

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402  (must precede the imports below)

import base64  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import uuid  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import psycopg2  # noqa: E402
import pytest  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from shared.context import CallerContext, Role, TokenIssuer  # noqa: E402
from shared.security.event_signing import EventSigner  # noqa: E402
from shared.security.keys import private_key, public_text  # noqa: E402
from shared.security.log_guard import guard_payload_loggers  # noqa: E402


def fixed_key(name: str) -> str:
    """A fixed Ed25519 private key per name (base64 seed): tests only."""
    return base64.b64encode(hashlib.sha256(f"pingan-test-key:{name}".encode()).digest()).decode()


TEST_ISSUER_KEY = fixed_key("issuer")
TEST_KEYS = {"test-k1": public_text(private_key(TEST_ISSUER_KEY, "test"))}
# Services whose events the tests publish: the real ones and the kernel-only stand-ins.
TEST_EVENT_SIGNERS = ("emergency_command", "grid_events", "juvenile_protection", "key_populations", "mediation",
                      "people", "tickets", "exactly_once", "dispute_inbox", "reads", "auditcheck")
TEST_PERSONAL_DATA_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # base64 of 32 zero bytes: tests only
TEST_CHAIN_KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="  # base64 of 32 bytes of 1: tests only
PG_ADMIN_DSN = "dbname=postgres user=pingan password=pingan host=127.0.0.1 port=5432"


@pytest.fixture(autouse=True)
def signing_keys(monkeypatch, tmp_path):
    """Every test signs and verifies with a known key, and keeps files in its own folder."""
    monkeypatch.setenv("PINGAN_TOKEN_KEYS", json.dumps(TEST_KEYS))
    monkeypatch.setenv("PINGAN_ACTIVE_TOKEN_KID", "test-k1")
    monkeypatch.setenv("PINGAN_TOKEN_ISSUER_KEY", TEST_ISSUER_KEY)
    monkeypatch.setenv("PINGAN_EVENT_PUBLIC_KEYS", json.dumps(
        {name: public_text(private_key(fixed_key(name), "test")) for name in TEST_EVENT_SIGNERS}))
    for name in TEST_EVENT_SIGNERS:
        monkeypatch.setenv(f"PINGAN_EVENT_SIGNING_KEY_{name.upper()}", fixed_key(name))
    monkeypatch.setenv("PINGAN_PERSONAL_DATA_KEY", TEST_PERSONAL_DATA_KEY)
    monkeypatch.setenv("PINGAN_CHAIN_KEY", TEST_CHAIN_KEY)
    monkeypatch.setenv("PINGAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PINGAN_RELAY_INTERVAL", "0.05")
    monkeypatch.delenv("PINGAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("PINGAN_PERSISTENCE", raising=False)


@pytest.fixture
def tokens():
    """The test token issuer (what `pingan token` holds deployed)."""
    return TokenIssuer("test-k1", private_key(TEST_ISSUER_KEY, "test"))


def signed_headers(source, body):
    """The message headers ``source``'s relay would sign ``body`` with (the tests' fixed keys)."""
    return EventSigner(source, private_key(fixed_key(source), "test")).headers(body)


@pytest.fixture
def event_headers():
    """``event_headers(source, body)``: as ``signed_headers``, for tests that take fixtures."""
    return signed_headers


@pytest.fixture
def token_for(tokens):
    def issue(role=Role.ADMIN, jurisdiction="433100", actor_id="admin-1", categories=()):
        return tokens.issue(
            CallerContext(actor_id=actor_id, role=role, jurisdiction=jurisdiction, categories=frozenset(categories))
        )

    return issue


@pytest.fixture
def memory_store(monkeypatch):
    monkeypatch.setenv("PINGAN_PERSISTENCE", "memory")


@pytest.fixture
def pg_url(monkeypatch):
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"pingan_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/{name}"
    monkeypatch.setenv("PINGAN_DATABASE_URL", url)
    yield url
    cursor = admin.cursor()
    cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def service_config(rabbit_config, web_config):
    return {**rabbit_config, **web_config, "serializer": "json"}


@pytest.fixture
def rpc_as(service_config, token_for):
    """``with rpc_as(role=..., jurisdiction=...) as rpc: rpc.grid_events.report_event(...)``"""

    @contextmanager
    def connect(token=None, **caller):
        context = {} if token is False else {"caller_token": token or token_for(**caller)}
        with ClusterRpcProxy(service_config, context_data=context, timeout=15) as proxy:
            yield proxy

    return connect


@pytest.fixture
def debug_logs(caplog):
    """The most verbose setting an operator could choose, with the kernel's guard on (as configure_logging does)."""
    names = ("nameko", "kombu", "amqp")
    before = {name: logging.getLogger(name).level for name in names}
    caplog.set_level(logging.DEBUG)
    guard_payload_loggers()
    yield caplog
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)
