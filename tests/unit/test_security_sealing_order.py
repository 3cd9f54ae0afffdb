"""Key rows are written only for a command that passed every check (PinganApplication.execute):
a refused command stores no key; a key another writer made meanwhile is used on the retry."""

import threading

import pytest
from sqlalchemy import func, select

from shared.errors import ValidationFailed
from shared.security.personal_data import person_keys
from shared.testing import CountingVault, call_as

from .kernel_fixtures import Ticket, TicketsApplication


def key_rows(vault) -> int:
    with vault.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(person_keys)).scalar_one()


def test_sealing_in_a_refused_command_stores_no_key():
    app, vault = TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), CountingVault.in_memory()

    def act():
        vault.seal("p-1", "Wu Mei")
        raise ValidationFailed("refused after sealing")

    with pytest.raises(ValidationFailed):
        app.execute(call_as(), act)
    assert key_rows(vault) == 0


def test_a_key_made_meanwhile_by_another_writer_is_used_on_the_retry():
    app, vault = TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), CountingVault.in_memory()
    tries = []

    def act():
        sealed = vault.seal("p-1", "Wu Mei")
        if not tries:  # another replica seals for the same new person first (its own thread, its own command)
            other = threading.Thread(target=vault.seal, args=("p-1", "Long Mei"))
            other.start()
            other.join()
        tries.append(sealed)
        ticket = Ticket(title=sealed)
        return [ticket], {"ticket_id": str(ticket.id)}

    app.execute(call_as(), act)
    assert len(tries) == 2 and key_rows(vault) == 1
    assert vault.open(tries[-1]) == "Wu Mei"


def test_an_unsealed_personal_field_is_refused_before_anything_is_stored():
    from services.grid_events import contracts as c

    from .grid_support import ADMIN, World

    world = World().seed()
    before = world.stored()

    def keep_plain(subject, value):
        return value

    with pytest.raises(ValidationFailed, match="'place' must be sealed"):
        world.app.report_event(ADMIN, c.ReportEvent(grid_code="433101001001001", category="dispute", source="petition",
                                                    severity="low", place="Wu Mei's yard", description="a wall"),
                               keep_plain)
    assert world.stored() == before
