"""Shared facts of every key-population record (Art. 7(4)): the four categories,
the 0–5 risk scale, the helper team, exit reasons, and the checks on ids,
jurisdictions, dates and sealed personal fields.

Rules:
- A person id is opaque, never a resident ID number: an id shaped like one
  (18 characters of digits ending in a digit or X, or 15 digits) is refused.
- Personal fields arrive sealed under the person's key (``person_key``); a
  plaintext or wrongly keyed value is refused, so no event can carry one.
- A record lies in a village (12 ASCII digits) of the prefecture 433100.
- The helper team (Art. 7(4): townships, police, health and social work,
  and the family) has a township official, a police officer and a health or
  social worker; its responsible person is one of its officials.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.errors import ValidationFailed
from shared.jurisdiction import PREFECTURE, Level, check_code, covers, level_of
from shared.security.sealing import check_opaque_id, check_person_id, require_sealed

from ..contracts import TeamRole  # the public vocabulary


class RiskLevel(IntEnum):
    """0 (none) to 5 (highest) in every category; each category reads the levels its own way."""

    NONE = 0
    HIGHEST = 5


# -- personal data ----------------------------------------------------------------------


def person_key(person_id: str) -> str:
    """The vault subject every personal field of a person's records is sealed under."""
    return f"person.{person_id}"


def check_opaque_person_id(person_id: str) -> str:
    check_opaque_id(person_id, "person_id")
    check_person_id(person_key(person_id))  # the vault's own limits on a key subject
    return person_id


# -- places and dates ---------------------------------------------------------------------


def check_village(code: str, field: str = "jurisdiction") -> str:
    """A village code (12 ASCII digits) inside the prefecture."""
    try:  # check_code takes ASCII digits only (full-width digits are not division codes)
        ok = isinstance(code, str) and level_of(check_code(code)) is Level.VILLAGE
    except (ValueError, ValidationFailed):
        ok = False
    if not ok or not covers(PREFECTURE, code):
        raise ValidationFailed(f"{field} must be a village code (12 digits) inside the prefecture {PREFECTURE}",
                               {"field": field})
    return code


def township_of(village: str) -> str:
    return village[:9]


def check_dated(on: date, today: date, not_before: date, field: str) -> None:
    """A recorded day lies between ``not_before`` and today."""
    if on > today:
        raise ValidationFailed(f"{field} {on.isoformat()} is in the future", {"field": field})
    if on < not_before:
        raise ValidationFailed(f"{field} {on.isoformat()} is before {not_before.isoformat()}", {"field": field})


def member_of(enum: type[StrEnum], value: Any, field: str) -> str:
    """``value`` as a member of ``enum``, or ValidationFailed naming the field."""
    try:
        return enum(value).value
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a valid {field}", {"field": field}) from None


def check_risk_level(level: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or not RiskLevel.NONE <= level <= RiskLevel.HIGHEST:
        raise ValidationFailed("a risk level is a whole number from 0 to 5", {"field": "risk_level"})
    return level


def parse_facts(model: type[BaseModel], facts: Any, category: str) -> Any:
    """The category's required facts, or ValidationFailed naming what is missing or wrong."""
    try:
        return model.model_validate(facts)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        raise ValidationFailed(f"a {category} enrolment needs valid facts: {', '.join(fields)}",
                               {"fields": fields}) from None


# -- helper team ----------------------------------------------------------------------------

OFFICIALS = frozenset(TeamRole) - {TeamRole.FAMILY_MEMBER}


def check_team(person_id: str, members: list[dict], responsible_id: str) -> list[dict]:
    """The team as stored: member id, role and sealed name; refused unless complete."""
    if not isinstance(members, list):
        raise ValidationFailed("a helper team is a list of members", {"field": "team"})
    team = []
    for member in members:
        try:
            member_id, role, name = member["member_id"], TeamRole(member["role"]), member["name"]
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed("a team member has a member_id, a role and a sealed name",
                                   {"field": "team"}) from None
        if not isinstance(member_id, str) or not member_id:
            raise ValidationFailed("a team member needs a member_id", {"field": "team"})
        require_sealed(person_key(person_id), name=name)
        team.append({"member_id": member_id, "role": role.value, "name": name})
    ids = [m["member_id"] for m in team]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("team member ids must be distinct", {"field": "team"})
    roles = {m["role"] for m in team}
    if TeamRole.TOWNSHIP_OFFICIAL not in roles or TeamRole.POLICE_OFFICER not in roles or not (
            roles & {TeamRole.HEALTH_WORKER, TeamRole.SOCIAL_WORKER}):
        raise ValidationFailed("a helper team has a township official, a police officer and a health or social worker",
                               {"field": "team"})
    responsible = next((m for m in team if m["member_id"] == responsible_id), None)
    if responsible is None or responsible["role"] not in OFFICIALS:
        raise ValidationFailed("the responsible person is an official member of the team", {"field": "responsible_id"})
    return team
