"""``pingan history export`` / ``access-log export`` writing: every page, as JSON lines or CSV."""

import csv
import io
import json

from shared.security.history_cli import ACCESS_COLUMNS, HISTORY_COLUMNS, Format, export

EVENTS = [{"version": n, "event": "Noted", "at": f"2026-12-0{n}T00:00:00+00:00", "actor_id": "a-1", "role": "mediator",
           "jurisdiction": "433101", "call_id": f"c-{n}", "changes": {"note": f"n{n}"}} for n in range(1, 6)]


def pages(items, size):
    def fetch(page):
        return {"items": items[(page - 1) * size:page * size], "page": page, "page_size": size, "total": len(items)}

    return fetch


def test_export_writes_every_page_as_json_lines():
    out = io.StringIO()
    assert export(pages(EVENTS, 2), out, Format.JSONL, HISTORY_COLUMNS, quiet=True) == 5
    assert [json.loads(line) for line in out.getvalue().splitlines()] == EVENTS


def test_export_writes_csv_with_nested_fields_as_json():
    out = io.StringIO()
    export(pages(EVENTS, 2), out, Format.CSV, HISTORY_COLUMNS, quiet=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["version"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert json.loads(rows[0]["changes"]) == {"note": "n1"}


def test_export_of_an_empty_log_writes_only_the_csv_header():
    out = io.StringIO()
    assert export(pages([], 2), out, Format.CSV, ACCESS_COLUMNS, quiet=True) == 0
    assert out.getvalue().strip() == ",".join(ACCESS_COLUMNS)
