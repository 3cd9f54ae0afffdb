"""A PostgreSQL login made for one test and removed after it, with whatever it was granted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

SUPERUSER_DSN = "dbname={db} user=postgres host=127.0.0.1 port=5432"


@contextmanager
def login_role(database: str) -> Iterator[str]:
    """A new login role (password ``runtime``) owning nothing; dropped, grants included, afterwards."""
    role = f"pingan_rt_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(SUPERUSER_DSN.format(db="postgres"))
    admin.autocommit = True
    admin.cursor().execute(f"CREATE ROLE {role} LOGIN PASSWORD 'runtime'")
    try:
        yield role
    finally:
        cursor = admin.cursor()
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        with psycopg2.connect(SUPERUSER_DSN.format(db=database)) as superuser:
            superuser.cursor().execute(f"DROP OWNED BY {role}")
        superuser.close()
        cursor.execute(f"DROP ROLE {role}")
        admin.close()
