"""What the emergency-command domain tests share: a caller, a fixed clock, a real
in-memory vault for sealed fields, and a way to count recorded events."""

from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

from shared.context import CallerContext, Role, acting_as
from shared.testing import memory_vault

CST = timezone(timedelta(hours=8))
TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=CST)
ADMIN = CallerContext(actor_id="officer-1", role=Role.ADMIN, jurisdiction="433100")
COUNTY = "433101"
TOWNSHIP = "433101001"


VAULT = memory_vault()


@contextmanager
def acting():
    with acting_as(ADMIN, "call-1"):
        yield


def events_of(aggregate) -> list:
    """Events triggered on ``aggregate`` and not yet saved (nothing is saved in these tests)."""
    return list(aggregate.pending_events)


def names_of(aggregate) -> list[str]:
    return [type(e).__name__ for e in aggregate.pending_events]
