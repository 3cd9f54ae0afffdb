"""Facts every emergency-command aggregate checks the same way: sealed personal
fields, opaque person ids, jurisdiction codes, and the dates and instants the
caller passes in (the domain never reads a clock).

Instants are stored as ISO 8601 strings with their UTC offset and whole
seconds, the form the CAP 1.2 ``dateTime`` fields need, so an event can be
rendered as a warning document without conversion.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from shared.errors import ValidationFailed
from shared.jurisdiction import Level, level_of


def require_code(name: str, code: str) -> str:
    """A division or grid code in ASCII digits (the kernel's pattern alone also takes full-width digits)."""
    if not isinstance(code, str) or not code.isascii():
        raise ValidationFailed(f"{name} must be a division code in ASCII digits")
    level_of(code)
    return code


def require_local_unit(name: str, code: str) -> str:
    """A county, township, village or grid code (a place on the ground, not a province or prefecture)."""
    if level_of(require_code(name, code)) in (Level.PROVINCE, Level.PREFECTURE):
        raise ValidationFailed(f"{name} must be a county, township, village or grid code, not {code}")
    return code


def require_unit(name: str, unit: str | None) -> str:
    """A unit id (a member unit or department) is required."""
    if not isinstance(unit, str) or not unit.strip():
        raise ValidationFailed(f"{name} must name a unit")
    return unit


def require_count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed(f"{name} must be a whole number of zero or more")
    return value


def instant(name: str, at: datetime) -> str:
    """``at`` as an ISO 8601 string with offset and whole seconds; a naive time is refused."""
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ValidationFailed(f"{name} must be a date and time with a UTC offset")
    offset = at.utcoffset()
    if offset % timedelta(minutes=1):
        raise ValidationFailed(f"{name} has a UTC offset with seconds, which CAP 1.2 cannot express")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S')}{sign}{hours:02d}:{minutes:02d}"


def parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def day(name: str, value: date) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed(f"{name} must be a calendar date")
    return value.isoformat()
