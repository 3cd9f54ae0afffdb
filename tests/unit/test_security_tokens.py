"""Caller tokens signed by the issuer alone: forged, expired, unsigned, wrong-audience, over-long,
service-minted and rotated-out tokens are refused."""

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from structlog.testing import capture_logs
from typer.testing import CliRunner

from shared.cli import app as pingan_cli
from shared.config import Settings
from shared.context import (
    BreakGlass,
    CallerContext,
    Role,
    TokenIssuer,
    TokenKeys,
    TokenLimits,
    TokenTooLong,
    TokenVerifier,
    VerifyKey,
)
from shared.dependencies import CallVerifier
from shared.errors import Unauthenticated
from shared.security.keys import MissingSecret, private_key, public_text
from tests.conftest import TEST_ISSUER_KEY, fixed_key

CALLER = CallerContext(actor_id="officer-1", role=Role.POLICE, jurisdiction="433101",
                       categories=frozenset({"drug_users"}))
OLD = Ed25519PrivateKey.generate()
NEW = Ed25519PrivateKey.generate()
CLAIMS = {"sub": "x", "role": "admin", "jur": "433100", "aud": "pingan", "iat": 0, "exp": 9_999_999_999}


def issuer(key=NEW, kid="k-new", **limits):
    return TokenIssuer(kid, key, TokenLimits(**limits))


def verifier(*keys, **limits):
    return TokenVerifier(TokenKeys({kid: VerifyKey(kid, key.public_key(), expires) for kid, key, expires in keys}),
                         TokenLimits(**limits))


def accepting_new():
    return verifier(("k-new", NEW, None))


def test_token_round_trip_keeps_the_caller():
    assert accepting_new().verify(issuer().issue(CALLER)) == CALLER


def test_token_forged_signature_is_refused():
    forged = jwt.encode(CLAIMS, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "k-new"})
    with pytest.raises(Unauthenticated, match="signature is invalid"):
        accepting_new().verify(forged)


def test_token_hmac_over_the_public_key_is_refused():
    """The public key is no secret: an HS256 token keyed with it must not verify (algorithm confusion)."""
    public = public_text(NEW).encode()
    confused = jwt.encode(CLAIMS, public, algorithm="HS256", headers={"kid": "k-new"})
    with pytest.raises(Unauthenticated):
        accepting_new().verify(confused)


def test_token_signed_with_a_service_event_key_is_refused():
    """A service (or whoever reads its Secret) holds its event key; with it no caller token is accepted."""
    settings = Settings.from_env(
        {
            "PINGAN_TOKEN_KEYS": json.dumps({"test-k1": public_text(private_key(TEST_ISSUER_KEY, "t"))}),
            "PINGAN_DATABASE_URL": "postgresql://db/pingan_{service}",
        }
    )
    service_key = private_key(fixed_key("grid_events"), "t")
    now = datetime.now(UTC)
    claims = {**CLAIMS, "iat": now, "exp": now + timedelta(minutes=5)}
    for kid in ("test-k1", "grid_events", "service:grid_events"):
        minted = jwt.encode(claims, service_key, algorithm="EdDSA", headers={"kid": kid})
        with pytest.raises(Unauthenticated):
            settings.verifier().verify(minted)


def test_token_unsigned_is_refused():
    unsigned = jwt.encode(CLAIMS, None, algorithm="none", headers={"kid": "k-new"})
    with pytest.raises(Unauthenticated):
        accepting_new().verify(unsigned)


def test_token_missing_is_refused():
    with pytest.raises(Unauthenticated, match="no caller token"):
        accepting_new().verify(None)


def test_token_expired_is_refused():
    with pytest.raises(Unauthenticated, match="expired"):
        accepting_new().verify(issuer().issue(CALLER, ttl=timedelta(seconds=-1)))


class Later(datetime):
    """``datetime`` whose now() is ``Later.ahead`` from now: the verifier's clock moved on."""

    ahead = timedelta(0)

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + cls.ahead


def moved_on(monkeypatch, by: timedelta) -> None:
    monkeypatch.setattr("shared.context.datetime", Later)
    monkeypatch.setattr(Later, "ahead", by)


def test_token_verified_before_is_not_checked_for_its_signature_again(monkeypatch):
    check, token = accepting_new(), issuer().issue(CALLER)
    decoded = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decoded.append(1) or real_decode(*a, **k))
    assert check.verify(token) == CALLER
    assert check.verify(token) == CALLER
    assert len(decoded) == 1


def test_token_verified_before_is_refused_once_expired(monkeypatch):
    check, token = accepting_new(), issuer().issue(CALLER, ttl=timedelta(minutes=5))
    check.verify(token)
    moved_on(monkeypatch, timedelta(minutes=6))
    with pytest.raises(Unauthenticated, match="expired"):
        check.verify(token)


def test_token_verified_before_is_refused_once_its_key_is_retired(monkeypatch):
    check = verifier(("k-new", NEW, datetime.now(UTC) + timedelta(minutes=30)))
    token = issuer().issue(CALLER, ttl=timedelta(hours=2))
    check.verify(token)
    moved_on(monkeypatch, timedelta(hours=1))
    with pytest.raises(Unauthenticated, match="unknown or retired key"):
        check.verify(token)


def test_token_verified_before_differs_by_one_character_is_checked_afresh():
    check, token = accepting_new(), issuer().issue(CALLER)
    check.verify(token)
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(Unauthenticated):
        check.verify(altered)


def test_token_wrong_audience_is_refused():
    other = jwt.encode({**CLAIMS, "aud": "another-system"}, NEW, algorithm="EdDSA", headers={"kid": "k-new"})
    with pytest.raises(Unauthenticated, match="another audience"):
        accepting_new().verify(other)


def test_token_over_long_lifetime_is_refused():
    generous = issuer(person=timedelta(hours=24))
    with pytest.raises(Unauthenticated, match="longer than its role allows"):
        accepting_new().verify(generous.issue(CALLER, ttl=timedelta(hours=8)))


def test_token_over_long_service_token_is_refused():
    service = CallerContext(actor_id="service:grid_events", role=Role.SERVICE, jurisdiction="433100")
    with pytest.raises(Unauthenticated, match="longer than its role allows"):
        accepting_new().verify(issuer(service=timedelta(hours=1)).issue(service, ttl=timedelta(minutes=30)))


def test_token_issue_over_the_cap_is_refused():
    with pytest.raises(TokenTooLong, match="at most 240 minutes"):
        issuer().issue(CALLER, ttl=timedelta(minutes=241))


def test_token_cli_over_the_cap_is_refused_and_prints_no_token():
    result = CliRunner().invoke(pingan_cli, ["token", "--role", "admin", "--minutes", "600"])
    assert result.exit_code == 2
    assert "at most 240 minutes" in result.output and "eyJ" not in result.output


def test_token_cli_within_the_cap_is_accepted_by_services():
    result = CliRunner().invoke(
        pingan_cli, ["token", "--role", "county_officer", "--jurisdiction", "433101", "--minutes", "60"]
    )
    assert result.exit_code == 0
    assert (
        Settings.from_env(
            {"PINGAN_TOKEN_KEYS": json.dumps({"test-k1": public_text(private_key(TEST_ISSUER_KEY, "t"))})}
        )
        .verifier()
        .verify(result.stdout.strip())
        .role
        is Role.COUNTY_OFFICER
    )


def test_token_rotated_out_key_is_refused():
    old_token = issuer(OLD, "k-old").issue(CALLER)
    retired = datetime.now(UTC) - timedelta(seconds=1)
    with pytest.raises(Unauthenticated, match="unknown or retired key"):
        verifier(("k-old", OLD, retired), ("k-new", NEW, None)).verify(old_token)


def test_token_rotation_accepts_old_and_new_during_overlap():
    """Rotation without downtime: services hold both public keys; the issuer moves to the new private key."""
    old_token = issuer(OLD, "k-old").issue(CALLER)
    settings = Settings.from_env(
        {
            "PINGAN_TOKEN_KEYS": json.dumps(
                {
                    "k-old": {
                        "public": public_text(OLD),
                        "expires": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                    },
                    "k-new": public_text(NEW),
                }
            )
        }
    )
    new_token = issuer(NEW, "k-new").issue(CALLER)
    assert jwt.get_unverified_header(new_token)["kid"] == "k-new"
    assert settings.verifier().verify(old_token) == CALLER
    assert settings.verifier().verify(new_token) == CALLER
    assert accepting_new().verify(new_token) == CALLER  # after the old key is dropped


def test_token_keys_missing_with_a_database_refuse_to_start():
    settings = Settings.from_env({"PINGAN_DATABASE_URL": "postgresql://db/pingan_{service}"})
    with pytest.raises(MissingSecret, match="PINGAN_TOKEN_KEYS"):
        settings.verifier()
    with pytest.raises(MissingSecret, match="PINGAN_TOKEN_ISSUER_KEY"):
        settings.issuer()


def test_token_keys_missing_with_a_database_generate_no_key_file(tmp_path):
    settings = Settings.from_env(
        {"PINGAN_DATABASE_URL": "postgresql://db/pingan_{service}", "PINGAN_DATA_DIR": str(tmp_path)}
    )
    with pytest.raises(MissingSecret):
        settings.verifier()
    assert list(tmp_path.iterdir()) == []


def test_token_break_glass_grant_round_trips_and_caps_expiry():
    grant = BreakGlass(reason="flood rescue, person missing", expires=datetime.now(UTC) + timedelta(minutes=5))
    token = issuer().issue(CALLER.model_copy(update={"break_glass": grant}), ttl=timedelta(hours=3))
    verified = accepting_new().verify(token)
    assert verified.break_glass.reason == grant.reason
    assert (
        jwt.decode(token, NEW.public_key(), algorithms=["EdDSA"], audience="pingan")["exp"] <= grant.expires.timestamp()
    )


def test_token_refusal_is_logged_without_the_token():
    forged = jwt.encode(
        {"sub": "x", "aud": "pingan"}, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "k-new"}
    )
    worker_ctx = SimpleNamespace(context_data={"caller_token": forged}, call_id_stack=["c-1"], call_id="c-1")
    with capture_logs() as logs, pytest.raises(Unauthenticated):
        CallVerifier(accepting_new(), worker_ctx).verify()
    assert logs and logs[0]["event"] == "caller_refused"
    assert forged not in repr(logs) and forged.split(".")[2] not in repr(logs)


def test_serve_with_a_database_and_no_token_keys_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("PINGAN_DATABASE_URL", "postgresql+psycopg2://pingan@127.0.0.1:1/pingan_{service}")
    monkeypatch.delenv("PINGAN_TOKEN_KEYS")
    result = CliRunner().invoke(pingan_cli, ["serve", "grid_events"])
    assert result.exit_code == 2
    assert "not started" in result.output and "PINGAN_TOKEN_KEYS" in result.output
    assert not (tmp_path / "data" / "keys").exists()


def test_serve_with_a_database_and_no_event_key_refuses_to_start(monkeypatch):
    monkeypatch.setenv("PINGAN_DATABASE_URL", "postgresql+psycopg2://pingan@127.0.0.1:1/pingan_{service}")
    monkeypatch.delenv("PINGAN_EVENT_SIGNING_KEY_GRID_EVENTS")
    result = CliRunner().invoke(pingan_cli, ["serve", "grid_events"])
    assert result.exit_code == 2
    assert "PINGAN_EVENT_SIGNING_KEY_GRID_EVENTS" in result.output
