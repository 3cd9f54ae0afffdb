"""Signed caller tokens: forged, expired, unsigned, wrong-audience and rotated-out keys are refused."""

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import jwt
import pytest
from structlog.testing import capture_logs

from shared.context import BreakGlass, CallerContext, Role, SigningKey, TokenKeys, TokenService
from shared.dependencies import CallVerifier
from shared.errors import Unauthenticated

CALLER = CallerContext(actor_id="officer-1", role=Role.POLICE, jurisdiction="433101",
                       categories=frozenset({"drug_users"}))
OLD = SigningKey("k-old", "old-secret-that-is-long-enough-for-hs256-0001")
NEW = SigningKey("k-new", "new-secret-that-is-long-enough-for-hs256-0002")


def service(*keys, active):
    return TokenService(TokenKeys({k.kid: k for k in keys}, active))


def test_token_round_trip_keeps_the_caller():
    tokens = service(NEW, active="k-new")
    assert tokens.verify(tokens.issue(CALLER)) == CALLER


def test_token_forged_signature_is_refused():
    forged = jwt.encode({"sub": "x", "role": "admin", "jur": "433100", "aud": "pingan", "iat": 0,
                         "exp": 9_999_999_999}, "attacker-secret-long-enough-for-hs256-000", headers={"kid": "k-new"})
    with pytest.raises(Unauthenticated, match="signature is invalid"):
        service(NEW, active="k-new").verify(forged)


def test_token_unsigned_is_refused():
    unsigned = jwt.encode({"sub": "x", "role": "admin", "jur": "433100", "aud": "pingan", "iat": 0,
                           "exp": 9_999_999_999}, None, algorithm="none", headers={"kid": "k-new"})
    with pytest.raises(Unauthenticated):
        service(NEW, active="k-new").verify(unsigned)


def test_token_missing_is_refused():
    with pytest.raises(Unauthenticated, match="no caller token"):
        service(NEW, active="k-new").verify(None)


def test_token_expired_is_refused():
    tokens = service(NEW, active="k-new")
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(tokens.issue(CALLER, ttl=timedelta(seconds=-1)))


def test_token_wrong_audience_is_refused():
    other = jwt.encode({"sub": "x", "role": "admin", "jur": "433100", "aud": "another-system", "iat": 0,
                        "exp": 9_999_999_999}, NEW.secret, headers={"kid": "k-new"})
    with pytest.raises(Unauthenticated, match="another audience"):
        service(NEW, active="k-new").verify(other)


def test_token_rotated_out_key_is_refused():
    old_token = service(OLD, active="k-old").issue(CALLER)
    retired = SigningKey("k-old", OLD.secret, expires=datetime.now(timezone.utc) - timedelta(seconds=1))
    with pytest.raises(Unauthenticated, match="unknown or retired key"):
        service(retired, NEW, active="k-new").verify(old_token)


def test_token_rotation_accepts_old_and_new_during_overlap():
    """Rotation without downtime: during the overlap both keys verify, new tokens use the new key."""
    old_token = service(OLD, active="k-old").issue(CALLER)
    overlap = TokenKeys.from_config(json.dumps({
        "k-old": {"secret": OLD.secret, "expires": (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()},
        "k-new": NEW.secret,
    }), "k-new")
    rotating = TokenService(overlap)
    new_token = rotating.issue(CALLER)
    assert jwt.get_unverified_header(new_token)["kid"] == "k-new"
    assert rotating.verify(old_token) == CALLER
    assert rotating.verify(new_token) == CALLER
    assert service(NEW, active="k-new").verify(new_token) == CALLER  # after the old key is dropped


def test_token_break_glass_grant_round_trips_and_caps_expiry():
    grant = BreakGlass(reason="flood rescue, person missing", expires=datetime.now(timezone.utc) + timedelta(minutes=5))
    tokens = service(NEW, active="k-new")
    token = tokens.issue(CALLER.model_copy(update={"break_glass": grant}), ttl=timedelta(hours=8))
    verified = tokens.verify(token)
    assert verified.break_glass.reason == grant.reason
    assert jwt.decode(token, NEW.secret, algorithms=["HS256"], audience="pingan")["exp"] <= grant.expires.timestamp()


def test_token_refusal_is_logged_without_the_token():
    forged = jwt.encode({"sub": "x", "aud": "pingan"}, "attacker-secret-long-enough-for-hs256-000",
                        headers={"kid": "k-new"})
    worker_ctx = SimpleNamespace(context_data={"caller_token": forged}, call_id_stack=["c-1"], call_id="c-1")
    with capture_logs() as logs, pytest.raises(Unauthenticated):
        CallVerifier(service(NEW, active="k-new"), worker_ctx).verify()
    assert logs and logs[0]["event"] == "caller_refused"
    assert forged not in repr(logs) and forged.split(".")[2] not in repr(logs)
