"""A registered integration client and its token, in a test's database."""

from sqlalchemy import create_engine

from shared.clients import ClientRegistry


def client_token(pg_url, tokens, client_id="hotline", jurisdiction="433100") -> str:
    engine = create_engine(pg_url)
    registry = ClientRegistry(engine)
    registry.register("operator-1", client_id=client_id, name=f"client {client_id}", jurisdiction=jurisdiction)
    token = registry.issue(tokens, client_id)
    engine.dispose()
    return token
