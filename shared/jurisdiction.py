"""Jurisdiction codes and scope.

Codes follow China's administrative division codes, so an officer's scope is
a prefix: prefecture 433100 covers every code starting 4331, county 433101
covers 433101…, township codes have 9 digits, villages 12, and a grid is a
3-digit suffix on its village (15 digits).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator

from .errors import ValidationFailed

# ASCII digits only, the whole string: \d would take full-width digits, and $ a trailing newline.
_CODE = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,3}")

# The prefecture this deployment serves (Xiangxi): the root of every scope and the
# jurisdiction of the services' own callers (timers, consumers).
PREFECTURE = "433100"


class Level(StrEnum):
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"


def check_code(code: str) -> str:
    """Return ``code`` if it is a well-formed division or grid code."""
    # The messages never repeat the value: it may be anything a caller typed, personal data included.
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValueError(
            "not a jurisdiction code: 6 ASCII digits (prefecture/county), "
            "9 (township), 12 (village) or 15 (grid)"
        )
    if len(code) == 6 and code.endswith("0000") and code != code[:2] + "0000":
        raise ValueError("not a jurisdiction code")
    return code


JurisdictionCode = Annotated[str, AfterValidator(check_code)]


def level_of(code: str) -> Level:
    check = _validated(code)
    if len(check) == 6:
        if check.endswith("0000"):
            return Level.PROVINCE
        if check.endswith("00"):
            return Level.PREFECTURE
        return Level.COUNTY
    return {9: Level.TOWNSHIP, 12: Level.VILLAGE, 15: Level.GRID}[len(check)]


def scope_prefix(code: str) -> str:
    """The prefix every code under ``code`` starts with."""
    level = level_of(code)
    if level is Level.PROVINCE:
        return code[:2]
    if level is Level.PREFECTURE:
        return code[:4]
    return code


# The lengths ``scope_prefix`` gives: province, prefecture, county, township, village, grid.
PREFIX_LENGTHS = (2, 4, 6, 9, 12, 15)


def scope_prefixes(code: str) -> tuple[str, ...]:
    """Every scope prefix ``code`` lies under (its own among them): one of them is ``scope_prefix`` of
    any scope that covers it."""
    return tuple(_validated(code)[:length] for length in PREFIX_LENGTHS if length <= len(code))


def covers(scope: str, code: str) -> bool:
    """True when ``code`` is ``scope`` itself or lies below it."""
    return _validated(code).startswith(scope_prefix(scope))


def parent_of(code: str) -> str | None:
    """The code of the unit directly above ``code`` (None for a province)."""
    level = level_of(code)
    if level is Level.PROVINCE:
        return None
    if level is Level.PREFECTURE:
        return code[:2] + "0000"
    if level is Level.COUNTY:
        return code[:4] + "00"
    return code[:-3]


def county_of(code: str) -> str | None:
    """The county code a unit belongs to (None above county level)."""
    if level_of(code) in (Level.PROVINCE, Level.PREFECTURE):
        return None
    return code[:6]


def county_or_self(code: str) -> str:
    """The county a record is counted under in public payloads and reports: its county,
    or the code itself for a prefecture or province."""
    return county_of(code) or code


def _validated(code: str) -> str:
    try:
        return check_code(code)
    except ValueError as error:
        raise ValidationFailed(str(error)) from None
