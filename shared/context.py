"""Who is calling: the caller context and the signed token that carries it.

Every RPC and event carries a signed, expiring token in nameko context data
(key ``caller_token``). Services verify it before any work and take actor,
role, jurisdiction and served categories from it, never from arguments.
"""

from __future__ import annotations

import contextvars
import json
import secrets
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Iterator, Mapping

import jwt
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from .errors import Unauthenticated
from .jurisdiction import JurisdictionCode, covers

TOKEN_KEY = "caller_token"
AUDIENCE = "pingan"
ALGORITHM = "HS256"


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    VILLAGE_COMMITTEE = "village_committee"
    TOWNSHIP_OFFICER = "township_officer"
    COUNTY_OFFICER = "county_officer"
    PREFECTURE_OFFICER = "prefecture_officer"
    DEPARTMENT_OFFICER = "department_officer"
    MEDIATOR = "mediator"
    POLICE = "police"
    JUSTICE = "justice"
    HEALTH = "health"
    CIVIL_AFFAIRS = "civil_affairs"
    EDUCATION = "education"
    EMERGENCY_OFFICE = "emergency_office"  # emergency management office: incidents, warnings, key areas
    AUDITOR = "auditor"
    ADMIN = "admin"
    SERVICE = "service"


class BreakGlass(BaseModel):
    """An emergency grant carried in the signed token: a stated reason and a near expiry.

    The access policy lets it widen jurisdiction and category for audited
    reads only, and flags every such read for review (shared.security.policy).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(min_length=10, max_length=500)
    expires: AwareDatetime


class CallerContext(BaseModel):
    """The verified identity behind a call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: str = Field(min_length=1, max_length=64)
    role: Role
    jurisdiction: JurisdictionCode
    categories: frozenset[str] = frozenset()
    break_glass: BreakGlass | None = None

    def covers(self, code: str) -> bool:
        return covers(self.jurisdiction, code)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str
    expires: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.expires is None or now < self.expires


class TokenKeys:
    """The keys tokens are signed with; more than one during a rotation.

    New tokens are signed with the active key; any unexpired key in the set
    verifies, so a rotation adds the new key, makes it active, and drops the
    old one once the tokens it signed have expired.
    """

    def __init__(self, keys: Mapping[str, SigningKey], active_kid: str):
        if active_kid not in keys:
            raise ValueError(f"active token key {active_kid!r} is not among the configured keys")
        self.keys = dict(keys)
        self.active_kid = active_kid

    @classmethod
    def from_config(cls, keys_json: str, active_kid: str | None = None) -> "TokenKeys":
        raw = json.loads(keys_json)
        keys = {}
        for kid, value in raw.items():
            if isinstance(value, str):
                keys[kid] = SigningKey(kid, value)
            else:
                expires = value.get("expires")
                keys[kid] = SigningKey(
                    kid,
                    value["secret"],
                    datetime.fromisoformat(expires) if expires else None,
                )
        return cls(keys, active_kid or next(iter(keys)))

    @classmethod
    def generate(cls, kid: str = "k1") -> "TokenKeys":
        return cls({kid: SigningKey(kid, secrets.token_urlsafe(32))}, kid)

    def to_config(self) -> str:
        return json.dumps({kid: key.secret for kid, key in self.keys.items()})


class TokenService:
    def __init__(self, keys: TokenKeys, ttl: timedelta = timedelta(minutes=15)):
        self.keys = keys
        self.ttl = ttl

    def issue(self, caller: CallerContext, ttl: timedelta | None = None) -> str:
        key = self.keys.keys[self.keys.active_kid]
        now = datetime.now(timezone.utc)
        claims = {
            "sub": caller.actor_id,
            "role": caller.role.value,
            "jur": caller.jurisdiction,
            "cat": sorted(caller.categories),
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + (ttl or self.ttl),
            "jti": uuid.uuid4().hex,
        }
        if caller.break_glass is not None:
            # The token never outlives the grant it carries.
            claims["exp"] = min(claims["exp"], caller.break_glass.expires)
            claims["bg"] = {"reason": caller.break_glass.reason, "exp": int(caller.break_glass.expires.timestamp())}
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: object) -> CallerContext:
        """Return the caller a token names, or raise Unauthenticated.

        The message never repeats the token, so a refusal can be logged.
        """
        if not token or not isinstance(token, str):
            raise Unauthenticated("the call carries no caller token")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthenticated("the caller token is malformed") from None
        key = self.keys.keys.get(kid)
        now = datetime.now(timezone.utc)
        if key is None or not key.usable(now):
            raise Unauthenticated("the caller token is signed with an unknown or retired key")
        try:
            claims = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["exp", "iat", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the caller token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the caller token is for another audience") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the caller token's signature is invalid") from None
        try:
            return CallerContext(
                actor_id=claims["sub"],
                role=claims["role"],
                jurisdiction=claims["jur"],
                categories=frozenset(claims.get("cat", ())),
                break_glass=_break_glass(claims.get("bg")),
            )
        except (KeyError, TypeError, ValueError, ValidationError):
            raise Unauthenticated("the caller token's claims are incomplete") from None


def _break_glass(claim: object) -> BreakGlass | None:
    if claim is None:
        return None
    if not isinstance(claim, dict):
        raise ValueError("bg claim is not an object")
    return BreakGlass(reason=claim["reason"], expires=datetime.fromtimestamp(claim["exp"], timezone.utc))


# The caller and call id of the command being executed. Set only by
# PinganApplication.execute(); read by AuditedAggregate to stamp each event.
_acting: contextvars.ContextVar[dict | None] = contextvars.ContextVar("pingan_acting", default=None)


@contextmanager
def acting_as(caller: CallerContext, call_id: str | None) -> Iterator[dict]:
    audit = {
        "actor_id": caller.actor_id,
        "role": caller.role.value,
        "jurisdiction": caller.jurisdiction,
        "call_id": call_id,
    }
    token = _acting.set(audit)
    try:
        yield audit
    finally:
        _acting.reset(token)


def current_audit() -> dict:
    audit = _acting.get()
    if audit is None:
        # A programming error, not a user's: events can only be made on behalf of a caller.
        raise RuntimeError("an event was triggered outside acting_as(): no caller to record")
    return dict(audit)
