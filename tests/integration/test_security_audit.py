"""Audited reads on PostgreSQL: the audit event is committed before data is returned,
and a read whose audit cannot be written returns nothing."""

import psycopg2
import pytest

from shared.context import CallerContext, Role
from shared.eventstore import Call, PinganApplication
from shared.security.audit_log import AuditTrail, AuditUnavailable, audited_read

pytestmark = pytest.mark.integration

CALL = Call(CallerContext(actor_id="officer-3", role=Role.COUNTY_OFFICER, jurisdiction="433101"), "call-a")
RECORD = ({"name": "pii1:sealed"}, "433101001", None)


class ReadsApp(PinganApplication):
    name = "reads"


def committed_audits(pg_url) -> int:
    with psycopg2.connect(pg_url.replace("postgresql+psycopg2://", "postgresql://")) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM reads_events WHERE topic LIKE %s", ("%:ReadAudited.Recorded",))
        return cur.fetchone()[0]


@pytest.fixture
def trail(pg_url):
    return AuditTrail(ReadsApp(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": pg_url}))


def test_audit_read_is_committed_before_the_data_is_returned(trail, pg_url):
    seen = {}

    def load():
        seen["before"] = committed_audits(pg_url)
        return RECORD

    data = audited_read(trail, CALL, "read a person", {Role.COUNTY_OFFICER}, "person", "p-1", "case_work", load)
    assert data == RECORD[0]
    assert (seen["before"], committed_audits(pg_url)) == (0, 1)


def test_audit_unwritable_log_fails_the_read(trail, pg_url):
    trail.app.recorder.max_notification_id()  # tables exist
    with psycopg2.connect(pg_url.replace("postgresql+psycopg2://", "postgresql://")) as conn, conn.cursor() as cur:
        cur.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'log unavailable'; END $$; "
                    "CREATE TRIGGER refuse BEFORE INSERT ON reads_events FOR EACH ROW EXECUTE FUNCTION refuse()")
    returned = []
    with pytest.raises(AuditUnavailable):
        returned.append(audited_read(trail, CALL, "read a person", {Role.COUNTY_OFFICER}, "person", "p-1",
                                     "case_work", lambda: RECORD))
    assert returned == [] and committed_audits(pg_url) == 0
