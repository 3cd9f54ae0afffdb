"""Helpers of the juvenile-protection domain tests (no tests here): a real
in-memory vault to seal personal fields, a caller to act as, and small
builders for each aggregate on a fixed clock."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.juvenile_protection.domain import (
    MinorCase,
    ProtectionPlan,
    Report,
    SpecialSchoolReferral,
    case_key,
    guardian_key,
    minor_key,
    report_id_for,
    report_key,
)
from shared.context import CallerContext, Role, acting_as
from shared.errors import PinganError
from shared.testing import memory_vault

VILLAGE = "433123001002"  # a village of Fenghuang
TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
BORN = "2012-03"  # 14 on TODAY
CIVIL_AFFAIRS = CallerContext(actor_id="ca-officer-1", role=Role.CIVIL_AFFAIRS, jurisdiction="433123",
                              categories=frozenset({"minors"}))


VAULT = memory_vault()


def seal(subject: str, text: str | None) -> str | None:
    return VAULT.seal(subject, text)


@contextmanager
def acting(caller: CallerContext = CIVIL_AFFAIRS):
    with acting_as(caller, uuid4().hex):
        yield


def changes(aggregate) -> int:
    """Events triggered so far (pending, not yet saved)."""
    return len(aggregate.pending_events)


def refused(aggregate, error: type[PinganError], command, *args, **kwargs) -> PinganError:
    """Run a command that must be refused: the typed error, and no event."""
    before = changes(aggregate)
    with pytest.raises(error) as raised:
        command(*args, **kwargs)
    assert changes(aggregate) == before
    return raised.value


def new_report(source="school", reference=None, received_at=NOW, **options) -> Report:
    reference = reference or uuid4().hex
    report_id = report_id_for(source, reference)
    return Report.receive(source=source, reference=reference, jurisdiction=VILLAGE, received_at=received_at,
                          summary=seal(report_key(report_id), "pupil absent, bruises seen"), **options)


def new_case(birth_month=BORN, categories=("left_behind",), today=TODAY, minor_id=None, **overrides) -> MinorCase:
    minor_id = minor_id or f"m-{uuid4().hex[:12]}"
    key = minor_key(minor_id)
    fields = dict(name=seal(key, "Long Xiaomei"), date_of_birth=seal(key, f"{birth_month}-17"),
                  id_number=seal(key, "433123201203170021"), address=None, school_id="school-fh-03")
    fields.update(overrides)
    return MinorCase.open(report_id=uuid4(), minor_id=minor_id, jurisdiction=VILLAGE, birth_month=birth_month,
                          categories=list(categories), today=today, **fields)


def guardian_fields(case: MinorCase, name="Long Da") -> dict:
    key = guardian_key(case.id, case.next_guardian_id())
    return {"guardian_name": seal(key, name), "guardian_phone": seal(key, "13800000000")}


def note(case_id, text="note") -> str:
    return seal(case_key(case_id), text)


def new_plan(case: MinorCase | None = None, lead="civil_affairs") -> ProtectionPlan:
    case = case or new_case()
    return ProtectionPlan.draw_up(case, lead_department=lead, first_review_on=TODAY + timedelta(days=30), today=TODAY)


def new_referral(case: MinorCase | None = None) -> SpecialSchoolReferral:
    case = case or new_case(categories=["serious_misconduct"])
    return SpecialSchoolReferral.propose(uuid4(), case, proposed_by="education", grounds=note(case.id, "grounds"))
