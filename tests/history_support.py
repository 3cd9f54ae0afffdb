"""Callers shared by the history tests of every service (tests/*/test_*_history.py)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from shared.context import BreakGlass, CallerContext, Role
from shared.eventstore import Call

AUDITOR = CallerContext(actor_id="auditor-4", role=Role.AUDITOR, jurisdiction="433100")
# A county officer of the neighbouring county: outside every record the tests make (all in 433101).
OUTSIDER = CallerContext(actor_id="officer-5", role=Role.COUNTY_OFFICER, jurisdiction="433102")


def rescuer() -> CallerContext:
    """The outsider again, holding a valid break-glass grant."""
    grant = BreakGlass(reason="flood evacuation of the village", expires=datetime.now(UTC) + timedelta(hours=1))
    return CallerContext(actor_id="officer-6", role=Role.COUNTY_OFFICER, jurisdiction="433102", break_glass=grant)


def as_call(caller: CallerContext) -> Call:
    return Call(caller, call_id=f"call-{uuid4().hex[:8]}")
