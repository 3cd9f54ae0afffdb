"""Shared facts of the juvenile-protection domain: the closed sets, the vault
key subjects of personal fields, and the age rule.

Rules:
- Art. 7(5) names minors' protection as a focus of prevention run by civil
  affairs and education with other departments: ``Department`` is the closed
  set of units a case, a plan or a referral may name.
- Minors' records are sensitive personal information (``docs/security.md``):
  identity fields arrive sealed by the vault; the domain refuses plaintext and
  never reads a sealed value, so no rule depends on it.
- The age rule works on the birth *month*, kept plain, never on the sealed
  date of birth. In doubt the child stays a minor: a child counts as born on
  the first day of the month after the birth month, so majority falls on the
  first day of the month after the 18th-birthday month (at most one month
  late, never early).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from shared.errors import ValidationFailed
from shared.jurisdiction import Level, level_of
from shared.security.policy import Category as RecordCategory
from shared.security.sealing import check_opaque_id, check_person_id

ADULT_AGE = 18
# The access-policy category of every record here: reads need a stated purpose and a role serving minors.
RECORD_CATEGORY = RecordCategory.MINORS.value
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")  # ASCII digits: \d would take full-width ones


class Department(StrEnum):
    """Units that work together on a minor's protection (Art. 7(5), Art. 2 member units)."""

    CIVIL_AFFAIRS = "civil_affairs"
    EDUCATION = "education"
    PUBLIC_SECURITY = "public_security"
    PROCURATORATE = "procuratorate"
    COURT = "court"
    JUSTICE = "justice"
    HEALTH = "health"
    WOMENS_FEDERATION = "womens_federation"
    YOUTH_LEAGUE = "youth_league"
    SCHOOL = "school"
    TOWNSHIP = "township"
    VILLAGE_COMMITTEE = "village_committee"


def department(value: object, what: str = "department") -> str:
    """``value`` as a Department value, or ValidationFailed (a missing department too)."""
    if not value:
        raise ValidationFailed(f"a {what} is required")
    try:
        return Department(value).value
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a department") from None


def member(enum: type[StrEnum], value: object, what: str) -> str:
    """``value`` as a member of ``enum``, or ValidationFailed naming ``what``."""
    try:
        return enum(value).value
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a {what}") from None


# -- identifiers and key subjects of the vault ----------------------------------------------


def check_minor_id(minor_id: str) -> str:
    """An opaque person id, usable inside a vault subject, never a resident ID number."""
    check_opaque_id(minor_id, "minor_id")
    check_person_id(minor_key(minor_id if isinstance(minor_id, str) else ""))
    return minor_id


def minor_key(minor_id: str) -> str:
    """The child's own key: identity fields, so erasing the child erases them everywhere."""
    return f"minor.{minor_id}"


def guardian_key(case_id: UUID | str, guardian_id: str) -> str:
    """One key per guardian, so one guardian's data can be erased without the child's."""
    return f"guardian.{case_id}.{guardian_id}"


def case_key(case_id: UUID | str) -> str:
    """The case's free text (notes, findings, grounds), which may name the child or others."""
    return f"jpcase.{case_id}"


def report_key(report_id: UUID | str) -> str:
    """A report's summary, sealed before a case (and so the child's id) may be known."""
    return f"jpreport.{report_id}"


def check_village(code: str) -> str:
    """A case and a report belong to the child's village or residents' community (12 digits)."""
    # level_of refuses anything but ASCII digits (full-width digits are not division codes).
    if not isinstance(code, str) or level_of(code) is not Level.VILLAGE:
        raise ValidationFailed("a minor's case belongs to a village or residents' community: a 12-digit code")
    return code


# -- the age rule ---------------------------------------------------------------------------


def check_month(value: str, what: str) -> str:
    if not isinstance(value, str) or not _MONTH.match(value):
        raise ValidationFailed(f"the {what} is YYYY-MM")
    return value


def check_birth_month(birth_month: str, today: date) -> str:
    """A ``YYYY-MM`` month not after ``today``'s month."""
    if check_month(birth_month, "birth month") > iso_day(today, "today")[:7]:
        raise ValidationFailed("the date of birth lies in the future")
    return birth_month


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def majority_on(birth_month: str) -> date:
    """The day the child counts as 18: the first day after the 18th-birthday month."""
    year, month = (int(part) for part in birth_month.split("-"))
    return _month_after(year + ADULT_AGE, month)


def age_on(birth_month: str, today: date) -> int:
    """Completed years on ``today``, counting from the first day after the birth month."""
    year, month = (int(part) for part in birth_month.split("-"))
    start = _month_after(year, month)
    years = today.year - start.year - ((today.month, today.day) < (start.month, start.day))
    return max(years, 0)


def iso_day(value: date, what: str) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed(f"{what} is a date")
    return value.isoformat()
