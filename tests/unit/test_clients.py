"""Integration clients: the registry, their tokens and how verifiers treat them."""

from datetime import timedelta

import pytest
from sqlalchemy import create_engine

from shared.access import authorize
from shared.clients import ClientRegistry
from shared.context import CallerContext, Role, TokenKeys, TokenVerifier, VerifyKey
from shared.errors import Conflict, Forbidden, Unauthenticated


@pytest.fixture
def registry(tmp_path):
    return ClientRegistry(create_engine(f"sqlite:///{tmp_path / 'clients.sqlite'}"))


class Active:
    def __init__(self, *ids):
        self.ids = set(ids)

    def active(self, client_id):
        return client_id in self.ids


def verifier(tokens, clients=None):
    return TokenVerifier(TokenKeys({tokens.kid: VerifyKey(tokens.kid, tokens.key.public_key())}), clients=clients)


def register(registry, client_id="hotline", **fields):
    return registry.register("operator-1", client_id=client_id, name="Citizen hotline", jurisdiction="433100", **fields)


def test_client_token_carries_client_id_and_role(registry, tokens):
    register(registry)
    caller = verifier(tokens, Active("hotline")).verify(registry.issue(tokens, "hotline"))
    assert (caller.role, caller.client_id, caller.actor_id) == (Role.INTEGRATION, "hotline", "hotline")


def test_client_token_refused_by_verifier_without_registry(registry, tokens):
    register(registry)
    with pytest.raises(Unauthenticated):
        verifier(tokens).verify(registry.issue(tokens, "hotline"))


def test_client_token_refused_once_client_inactive(registry, tokens):
    register(registry)
    with pytest.raises(Unauthenticated):
        verifier(tokens, Active()).verify(registry.issue(tokens, "hotline"))


def test_client_token_verified_before_is_refused_once_client_revoked(registry, tokens):
    register(registry)
    clients = Active("hotline")
    check, token = verifier(tokens, clients), registry.issue(tokens, "hotline")
    check.verify(token)
    clients.ids.clear()  # revoked after the token was first accepted: the verifier remembers it all the same
    with pytest.raises(Unauthenticated, match="revoked"):
        check.verify(token)


def test_integration_token_without_client_id_refused(tokens):
    token = tokens.issue(CallerContext(actor_id="hotline", role=Role.INTEGRATION, jurisdiction="433100"))
    with pytest.raises(Unauthenticated):
        verifier(tokens, Active("hotline")).verify(token)


def test_client_token_lifetime_capped_by_client(registry, tokens):
    register(registry, max_minutes=5)
    import jwt

    claims = jwt.decode(registry.issue(tokens, "hotline", minutes=500), options={"verify_signature": False})
    assert timedelta(seconds=claims["exp"] - claims["iat"]) == timedelta(minutes=5)


def test_client_register_twice_conflicts(registry):
    register(registry)
    with pytest.raises(Conflict):
        register(registry)


def test_client_revoked_cannot_get_token(registry, tokens):
    register(registry)
    registry.revoke("operator-1", "hotline")
    assert not registry.get("hotline").active
    with pytest.raises(Conflict):
        registry.issue(tokens, "hotline")


def test_integration_role_refused_actions_outside_its_list():
    caller = CallerContext(actor_id="hotline", role=Role.INTEGRATION, jurisdiction="433100", client_id="hotline")
    with pytest.raises(Forbidden):
        authorize(caller, "erase personal data", set(Role), "433101")
