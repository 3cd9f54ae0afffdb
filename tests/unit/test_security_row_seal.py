"""Read-model row seals on SQLite: a row keeps its seal through the projection's own updates and loses it
when a covered column is edited behind the service's back."""

from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select, update

from shared.security.row_seal import checked_page, checked_row, checked_rows, seal_column

RECORDS = Table("sealcheck_records_view", MetaData(), Column("record_id", String(36), primary_key=True),
                Column("jurisdiction", String(15), nullable=False), Column("status", String(20)),
                Column("count", Integer), seal_column("record_id", "jurisdiction"))


def stored(*rows):
    engine = create_engine("sqlite://")
    RECORDS.create(engine)
    with engine.begin() as conn:
        for record_id, jurisdiction in rows:
            conn.execute(insert(RECORDS).values(record_id=record_id, jurisdiction=jurisdiction, status="open", count=0))
    return engine


def read_all(engine):
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(RECORDS).order_by(RECORDS.c.record_id)).mappings()]


def tampered():
    return REGISTRY.get_sample_value("pingan_tampered_rows_total", {"projection": RECORDS.name}) or 0


def test_row_seal_survives_updates_of_uncovered_columns():
    engine = stored(("r-1", "433101001"))
    with engine.begin() as conn:
        conn.execute(update(RECORDS).values(status="closed", count=RECORDS.c.count + 1))
    assert checked_rows(RECORDS, read_all(engine)) == [
        {"record_id": "r-1", "jurisdiction": "433101001", "status": "closed", "count": 1}]


def test_row_seal_edited_jurisdiction_is_dropped_and_counted():
    engine = stored(("r-1", "433101001"), ("r-2", "433101002"))
    before = tampered()
    with engine.begin() as conn:
        conn.execute(update(RECORDS).where(RECORDS.c.record_id == "r-2").values(jurisdiction="433101001"))
    assert [row["record_id"] for row in checked_rows(RECORDS, read_all(engine))] == ["r-1"]
    assert tampered() == before + 1


def test_row_seal_copied_seal_does_not_vouch_for_another_id():
    engine = stored(("r-1", "433101001"))
    with engine.begin() as conn:
        conn.execute(insert(RECORDS).from_select(
            ["record_id", "jurisdiction", "status", "count", "row_seal"],
            select(RECORDS.c.record_id + "x", RECORDS.c.jurisdiction, RECORDS.c.status, RECORDS.c.count,
                   RECORDS.c.row_seal)))
    query = select(RECORDS).order_by(RECORDS.c.record_id)
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    page = checked_page(query, {"items": rows, "page": 1, "page_size": 50, "total": 2})
    assert ([row["record_id"] for row in page["items"]], page["total"]) == (["r-1"], 1)


def test_row_seal_tampered_single_row_reads_as_missing():
    engine = stored(("r-1", "433101001"))
    with engine.begin() as conn:
        conn.execute(update(RECORDS).values(row_seal="0" * 64))
    assert checked_row(RECORDS, read_all(engine)[0]) is None
