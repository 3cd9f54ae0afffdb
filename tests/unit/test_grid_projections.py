"""grid_events read models: what operators' queries and the per-county gauges
see, projected from the in-memory store into SQLite."""

from datetime import date
from uuid import UUID

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from services.grid_events import contracts as c
from services.grid_events import projections as views
from shared.projections import ProjectionRunner, create_view_tables

from .grid_support import ADMIN, SERVICE, World


@pytest.fixture
def world():
    return World().seed()


@pytest.fixture
def engine():
    return create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})


def project(world, engine):
    projections = views.projections()
    create_view_tables(engine, projections)
    runners = [ProjectionRunner(world.app, engine, p) for p in projections]
    for runner in runners:
        runner.catch_up()
    return projections, runners


def gauge(projections, engine, name):
    with engine.connect() as conn:
        families = [f for p in projections for f in p.gauges(conn) if f.name == name]
    return {tuple(s.labels.values()): s.value for f in families for s in f.samples}


def test_completed_recurring_item_leaves_the_overdue_list(world, engine):
    item = world.add_item(due=date(2026, 11, 1), every_days=7)
    world.app.mark_overdue(SERVICE, UUID(item), date(2026, 11, 3))
    project(world, engine)
    with engine.connect() as conn:
        assert views.overdue_candidates(conn, date(2026, 11, 3)) == []
        assert views.page_of(conn, views.work_items_query("433101", None, None, True), 1, 10)["total"] == 1
    world.app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="done late"), world.seal)
    project(world, engine)
    with engine.connect() as conn:
        listed = views.page_of(conn, views.work_items_query("433101", None, None, None), 1, 10)["items"]
    assert [(i["due_date"], i["overdue"], i["completions"]) for i in listed] == [("2026-11-08", False, 1)]


def test_work_items_overdue_gauge_counts_marked_open_items_per_county(world, engine):
    items = [world.add_item(due=date(2026, 11, 1)) for _ in range(2)]
    world.add_item(due=date(2026, 12, 1))
    for item in items:
        world.app.mark_overdue(SERVICE, UUID(item), date(2026, 11, 5))
    projections, _ = project(world, engine)
    assert gauge(projections, engine, "pingan_work_items_overdue") == {("grid_events", "433101"): 2.0}


def test_risks_open_gauge_drops_closed_risks(world, engine):
    world.risk(level="red")
    closed = world.risk(level="blue")
    app = world.app
    app.issue_warning(ADMIN, c.IssueWarning(risk_id=closed, level="blue"))
    app.start_risk_measures(ADMIN, c.StartRiskMeasures(risk_id=closed, measures="m"), world.seal)
    app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=closed, note="n"), world.seal)
    app.report_risk_feedback(ADMIN, c.ReportRiskFeedback(risk_id=closed, feedback="f"), world.seal)
    app.close_risk(ADMIN, c.CloseRisk(risk_id=closed))
    projections, _ = project(world, engine)
    assert gauge(projections, engine, "pingan_risks_open") == {("grid_events", "433101", "red"): 1.0}
    assert gauge(projections, engine, "pingan_risks_by_source") == {
        ("grid_events", "433101", "risk", "village", "open"): 1.0,
        ("grid_events", "433101", "risk", "village", "closed"): 1.0,
    }


def test_rebuild_gives_the_same_read_models(world, engine):
    world.add_item()
    world.report()
    world.risk()
    world.app.name_township_responsible(ADMIN, c.NameTownshipResponsible(
        code="433101001", office="Ping'an office", person_id="tp-1", person_name="Director Tian"), world.seal)
    projections, runners = project(world, engine)

    def snapshot():
        with engine.connect() as conn:
            return {t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=str)
                    for p in projections for t in p.tables}

    before = snapshot()
    for runner in runners:
        runner.rebuild()
    assert snapshot() == before
    assert any(row[5] == "Ping'an office" for row in before["grid_jurisdictions_view"])
