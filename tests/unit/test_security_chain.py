"""The hash chain and checkpoint signatures, on the embedded (SQLite) store."""

import os

import pytest
from sqlalchemy import text

from shared.security.chain import (
    ChainConfigError,
    Checkpoint,
    CheckpointStore,
    EventRows,
    generate_signing_key,
    genesis,
    link,
    load_private_key,
    load_public_key,
    make_checkpoint,
)
from shared.security.links import configured_link_key, tables_only
from shared.security.verifier import verify
from tests.unit.kernel_fixtures import CALL, TicketsApplication

OID = "6d038a14-5ed7-5ef4-9b31-79ea5ec7c180"


def test_chain_link_separates_fields():
    start = genesis("tickets")
    assert link(start, 1, OID, 1, "ab", b"c") != link(start, 1, OID, 1, "a", b"bc")


def test_chain_checkpoint_signed_with_another_key_fails():
    private, _ = generate_signing_key()
    _, other_public = generate_signing_key()
    store_key = load_private_key(private)
    checkpoint = Checkpoint("tickets", 1, 1, 1, 1, "00", "00", "t", "k").signed(store_key)
    assert checkpoint.signature_ok(store_key.public_key())
    assert not checkpoint.signature_ok(load_public_key(other_public))


def test_chain_sqlite_log_verifies_and_names_an_altered_row(tmp_path):
    url = f"sqlite:///{tmp_path / 'tickets.sqlite'}"
    app = TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url})
    for n in range(5):
        app.open(CALL, f"ticket {n}")
    private, public = generate_signing_key()
    rows, store = EventRows(url, "tickets"), CheckpointStore(tmp_path / "cp", "tickets")
    make_checkpoint(rows, store, load_private_key(private))
    key = configured_link_key("tickets", os.environ["PINGAN_CHAIN_KEY"])
    assert verify(rows, store, load_public_key(public), key).ok
    with rows.engine.begin() as conn:
        conn.execute(text("UPDATE tickets_events SET topic = topic || 'x' WHERE id = 3"))
    finding = verify(rows, store, load_public_key(public), key).finding
    assert (finding.kind, finding.notification_id) == ("altered", 3)


def test_chain_key_missing_with_a_database_url_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("PINGAN_CHAIN_KEY")
    monkeypatch.setenv("PINGAN_DATABASE_URL", f"sqlite:///{tmp_path / 'deployed.sqlite'}")
    with pytest.raises(ChainConfigError, match="PINGAN_CHAIN_KEY"):
        TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
                                "SQLALCHEMY_URL": f"sqlite:///{tmp_path / 'deployed.sqlite'}"})


def test_chain_tables_only_application_refuses_to_store(tmp_path, monkeypatch):
    """``pingan migrate`` (the owner, never holding the key) creates the tables and cannot write events."""
    monkeypatch.delenv("PINGAN_CHAIN_KEY")
    monkeypatch.setenv("PINGAN_DATABASE_URL", f"sqlite:///{tmp_path / 'deployed.sqlite'}")
    with tables_only():
        app = TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
                                      "SQLALCHEMY_URL": f"sqlite:///{tmp_path / 'deployed.sqlite'}"})
    with pytest.raises(ChainConfigError):
        app.open(CALL, "no key, no event")
    assert app.recorder.max_notification_id() is None
