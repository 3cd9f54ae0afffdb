"""Who is calling: the caller context and the signed token that carries it.

Every RPC carries an expiring token in nameko context data (key
``caller_token``), signed with EdDSA by the token issuer. Services hold only
the issuer's public keys: they verify a token before any work and take actor,
role, jurisdiction and served categories from it, never from arguments.
Events carry their publisher's signature instead (shared.security.event_signing).
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from .errors import PinganError, Unauthenticated
from .jurisdiction import JurisdictionCode, covers

TOKEN_KEY = "caller_token"
AUDIENCE = "pingan"
ALGORITHM = "EdDSA"


class TokenTooLong(PinganError):
    """Asked for a token that would outlive its role's cap."""

    code = "token_too_long"


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
    PROCURATORATE = "procuratorate"  # prosecution; may read a sealed minor's record for it
    COURT = "court"  # trial; may read a sealed minor's record for it
    AUDITOR = "auditor"
    ADMIN = "admin"
    SERVICE = "service"
    # An outside system (hotline, courts', police case systems) registered with `pingan clients`:
    # reports and follows its own reports only (shared.security.policy.INTEGRATION_ACTIONS).
    INTEGRATION = "integration"


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
    client_id: str | None = Field(default=None, max_length=64)  # the registered outside system, for INTEGRATION

    def covers(self, code: str) -> bool:
        return covers(self.jurisdiction, code)


@dataclass(frozen=True)
class VerifyKey:
    """A public key of the token issuer; ``expires`` retires it after a rotation."""

    kid: str
    public: Ed25519PublicKey
    expires: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.expires is None or now < self.expires


@dataclass(frozen=True)
class TokenLimits:
    """The longest a token may live: people's sessions, service identities and outside systems."""

    person: timedelta = timedelta(minutes=240)
    service: timedelta = timedelta(minutes=10)
    integration: timedelta = timedelta(minutes=60)

    def cap(self, role: Role) -> timedelta:
        if role is Role.INTEGRATION:
            return self.integration
        return self.service if role is Role.SERVICE else self.person


# A token's exp - iat may exceed its cap by this much (issuers' clocks and rounding to seconds).
_CAP_SLACK = timedelta(seconds=5)


class TokenIssuer:
    """Mints caller tokens: only ``pingan token`` and the other operator tools hold its key.

    Services never get the private key; they hold the issuer's public keys
    (TokenVerifier), so a service, or anyone who reads a service's Secrets,
    cannot mint an identity.
    """

    def __init__(self, kid: str, key: Ed25519PrivateKey, limits: TokenLimits = TokenLimits(),
                 ttl: timedelta = timedelta(minutes=15)):
        self.kid = kid
        self.key = key
        self.limits = limits
        self.ttl = ttl

    def issue(self, caller: CallerContext, ttl: timedelta | None = None) -> str:
        ttl = min(self.ttl, self.limits.cap(caller.role)) if ttl is None else ttl
        if ttl > self.limits.cap(caller.role):
            raise TokenTooLong(f"a {caller.role.value} token may live at most "
                               f"{int(self.limits.cap(caller.role).total_seconds() // 60)} minutes")
        now = datetime.now(UTC)
        claims = {
            "sub": caller.actor_id,
            "role": caller.role.value,
            "jur": caller.jurisdiction,
            "cat": sorted(caller.categories),
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if caller.client_id is not None:
            claims["cid"] = caller.client_id
        if caller.break_glass is not None:
            # The token never outlives the grant it carries.
            claims["exp"] = min(claims["exp"], caller.break_glass.expires)
            claims["bg"] = {"reason": caller.break_glass.reason, "exp": int(caller.break_glass.expires.timestamp())}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": self.kid})


class TokenKeys:
    """The issuer's public keys tokens are verified with; more than one during a rotation.

    The issuer signs with its active key; any unexpired key in the set
    verifies, so a rotation adds the new public key everywhere, moves the
    issuer to the new private key, and retires the old public key once the
    tokens it signed have expired.
    """

    def __init__(self, keys: Mapping[str, VerifyKey]):
        self.keys = dict(keys)

    def get(self, kid: object) -> VerifyKey | None:
        return self.keys.get(kid) if isinstance(kid, str) else None


class ClientCheck(Protocol):
    """Whether a registered outside system may still call (shared.clients.ClientStatus)."""

    def active(self, client_id: str) -> bool: ...


@dataclass(frozen=True)
class _Verified:
    kid: str
    caller: CallerContext
    expires: float  # the token's exp, seconds since the epoch


class TokenVerifier:
    # Tokens whose signature and claims have held, by their exact text: a caller sends the same token
    # with every call, and checking its signature again was a tenth of a command's CPU
    # (docs/benchmarks.md). What can change after issue is checked on every call all the same: expiry,
    # the signing key's retirement, an outside system's registration. Bounded; emptied when full.
    VERIFIED_LIMIT = 4096

    def __init__(self, keys: TokenKeys, limits: TokenLimits = TokenLimits(), clients: ClientCheck | None = None):
        self.keys = keys
        self.limits = limits
        self.clients = clients
        self._verified: dict[str, _Verified] = {}

    def verify(self, token: object) -> CallerContext:
        """Return the caller a token names, or raise Unauthenticated.

        The message never repeats the token, so a refusal can be logged.
        """
        if not token or not isinstance(token, str):
            raise Unauthenticated("the call carries no caller token")
        now = datetime.now(UTC)
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify_signed(token, now)
        key = self.keys.get(verified.kid)
        if key is None or not key.usable(now):
            self._verified.pop(token, None)
            raise Unauthenticated("the caller token is signed with an unknown or retired key")
        if now.timestamp() >= verified.expires:
            self._verified.pop(token, None)
            raise Unauthenticated("the caller token has expired")
        if verified.caller.role is Role.INTEGRATION:
            self._check_client(verified.caller)
        return verified.caller

    def _verify_signed(self, token: str, now: datetime) -> _Verified:
        """Check the token's signature and claims, and remember it once they hold."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthenticated("the caller token is malformed") from None
        key = self.keys.get(kid)
        if key is None or not key.usable(now):
            raise Unauthenticated("the caller token is signed with an unknown or retired key")
        try:
            claims = jwt.decode(
                token,
                key.public,
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
            caller = CallerContext(
                actor_id=claims["sub"],
                role=claims["role"],
                jurisdiction=claims["jur"],
                categories=frozenset(claims.get("cat", ())),
                break_glass=_break_glass(claims.get("bg")),
                client_id=claims.get("cid"),
            )
            lifetime = timedelta(seconds=float(claims["exp"]) - float(claims["iat"]))
        except (KeyError, TypeError, ValueError, ValidationError):
            raise Unauthenticated("the caller token's claims are incomplete") from None
        if lifetime > self.limits.cap(caller.role) + _CAP_SLACK:
            raise Unauthenticated("the caller token lives longer than its role allows")
        if len(self._verified) >= self.VERIFIED_LIMIT:
            self._verified.clear()
        verified = _Verified(kid=kid, caller=caller, expires=float(claims["exp"]))
        self._verified[token] = verified
        return verified

    def _check_client(self, caller: CallerContext) -> None:
        """An outside system's token holds only while its client is registered and not revoked;
        a verifier without the client registry accepts none (fail closed)."""
        if caller.client_id is None or caller.client_id != caller.actor_id:
            raise Unauthenticated("the integration token names no registered client")
        if self.clients is None or not self.clients.active(caller.client_id):
            raise Unauthenticated("the integration client is unknown or revoked")


def _break_glass(claim: object) -> BreakGlass | None:
    if claim is None:
        return None
    if not isinstance(claim, dict):
        raise ValueError("bg claim is not an object")
    return BreakGlass(reason=claim["reason"], expires=datetime.fromtimestamp(claim["exp"], UTC))


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
