"""The deployed database role cannot change or remove event rows (PostgreSQL).

Run by the migration/owner role (a Helm hook or init job), never by the service:

    protect_event_table(owner_conn, "grid_events", runtime_role="grid_events_app")

Why UPDATE is granted at all: eventsourcing-sqlalchemy takes
``LOCK TABLE <events> IN EXCLUSIVE MODE`` on every insert (to keep
notification order = commit order), and PostgreSQL before 17 allows that lock
only to a role with UPDATE, DELETE or TRUNCATE on the table (17+: MAINTAIN,
which we grant instead). So the runtime role gets SELECT, INSERT and, on
PostgreSQL < 17, UPDATE — and a trigger owned by the table owner refuses every
UPDATE, DELETE and TRUNCATE, whoever runs it. The runtime role cannot drop or
disable the trigger (that needs ownership). A table owner or superuser still
can: that is what the hash chain and the verifier are for.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

from shared.errors import ValidationFailed

from .chain import events_table
from .links import links_table_name

_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,62}")

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION pingan_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'pingan: % on % refused: event rows are append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$
"""


def _ident(name: str) -> str:
    if not _IDENT.fullmatch(name):
        raise ValidationFailed(f"{name!r} is not a plain SQL identifier")
    return f'"{name}"'


def append_only_sql(table: str) -> list[str]:
    t = _ident(table)
    return [
        REFUSE_FUNCTION,
        f"DROP TRIGGER IF EXISTS pingan_append_only ON {t}",
        f"CREATE TRIGGER pingan_append_only BEFORE UPDATE OR DELETE ON {t} "
        "FOR EACH ROW EXECUTE FUNCTION pingan_refuse_change()",
        f"DROP TRIGGER IF EXISTS pingan_no_truncate ON {t}",
        f"CREATE TRIGGER pingan_no_truncate BEFORE TRUNCATE ON {t} "
        "FOR EACH STATEMENT EXECUTE FUNCTION pingan_refuse_change()",
    ]


def runtime_grants_sql(service: str, runtime_role: str, server_version_num: int) -> list[str]:
    """Grants for the service's runtime role: read models freely, event rows append-only."""
    events, role = _ident(events_table(service)), _ident(runtime_role)
    links = _ident(links_table_name(events_table(service)))
    tracking = _ident(f"{service.lower()}_tracking")
    sequence = _ident(f"{events_table(service)}_id_seq")
    lock_privilege = "MAINTAIN" if server_version_num >= 170000 else "UPDATE"
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",  # read models, keys
        f"REVOKE ALL ON {events} FROM {role}",
        f"GRANT SELECT, INSERT, {lock_privilege} ON {events} TO {role}",  # the lock privilege: see module doc
        f"REVOKE ALL ON {links} FROM {role}",
        f"GRANT SELECT, INSERT ON {links} TO {role}",  # chain links (links.py): append-only as the events
        f"REVOKE ALL ON {tracking} FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE ON {tracking} TO {role}",
        f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]


def read_only_grants_sql(table: str, runtime_role: str) -> list[str]:
    """Grants for a role that may only read ``table`` (e.g. the services on the clients registry)."""
    t, role = _ident(table), _ident(runtime_role)
    return [f"GRANT USAGE ON SCHEMA public TO {role}", f"REVOKE ALL ON {t} FROM {role}",
            f"GRANT SELECT ON {t} TO {role}"]


def protect_event_table(conn: Connection, service: str, runtime_role: str) -> None:
    """Install the append-only triggers (events and their chain links) and the runtime role's grants (as the owner)."""
    version = conn.execute(text("SHOW server_version_num")).scalar_one()
    tables = [events_table(service), links_table_name(events_table(service))]
    for statement in [*(sql for table in tables for sql in append_only_sql(table)),
                      *runtime_grants_sql(service, runtime_role, int(version))]:
        conn.execute(text(statement))
