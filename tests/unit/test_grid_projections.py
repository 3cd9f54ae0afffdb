"""grid_events read models: what operators' queries and the per-county gauges
see, projected from the in-memory store into SQLite."""

from datetime import date
from uuid import UUID

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.pool import StaticPool

from services.grid_events import contracts as c
from services.grid_events import projections as views
from services.grid_events.projections.reports import EventReportsView, report_counts
from shared.projections import ProjectionRunner, create_view_tables

from .grid_support import ADMIN, COUNTY, GRID, OTHER_GRID, SERVICE, TOWNSHIP, VILLAGE, World


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


# -- a list's total (docs/services/grid_events.md, "Lists") ------------------------------------------


def reported(world, grids):
    for grid in grids:
        world.report(grid_code=grid)


def total(engine, scope, grid_code=None, status=None):
    with engine.connect() as conn:
        return views.page_of(conn, views.events_query(scope, grid_code, status), 1, 2)["total"]


def kept_counts(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(report_counts.c.prefix, report_counts.c.reports)).all())


def test_list_events_total_of_a_full_page_is_exact_in_every_scope(world, engine):
    reported(world, [GRID, GRID, GRID, OTHER_GRID, OTHER_GRID])
    project(world, engine)
    assert [total(engine, scope) for scope in ("433100", COUNTY, TOWNSHIP, VILLAGE, "433102")] == [5, 5, 5, 5, 0]
    assert total(engine, "433100", grid_code=GRID) == 3


def test_list_events_total_of_a_whole_scope_is_the_kept_count(world, engine):
    reported(world, [GRID, GRID, OTHER_GRID])
    project(world, engine)
    with engine.begin() as conn:  # the kept count, not the rows, answers a full page's total
        conn.execute(update(report_counts).where(report_counts.c.prefix == "4331").values(reports=41))
        conn.execute(update(report_counts).where(report_counts.c.prefix == GRID).values(reports=42))
    assert (total(engine, "433100"), total(engine, "433100", grid_code=GRID)) == (41, 42)


def test_list_events_total_with_a_filter_counts_the_matching_rows(world, engine):
    reported(world, [GRID, GRID, OTHER_GRID])
    project(world, engine)
    with engine.begin() as conn:
        conn.execute(update(report_counts).values(reports=99))
    assert total(engine, "433100", status="reported") == 3


def test_list_events_total_of_a_unit_code_as_grid_code_is_zero(world, engine):
    reported(world, [GRID, GRID, OTHER_GRID])
    project(world, engine)
    assert total(engine, "433100", grid_code=VILLAGE) == 0  # no report's grid code is a village's


def test_report_counts_kept_one_by_one_equal_those_kept_by_batch(world, engine):
    reported(world, [GRID, GRID, OTHER_GRID])
    events = [world.app.mapper.to_domain_event(n) for n in world.app.recorder.select_notifications(1, 1000)]
    view = EventReportsView()
    create_view_tables(engine, [view])
    with engine.begin() as conn:
        view.apply_batch(events, conn)
    batched = kept_counts(engine)
    with engine.begin() as conn:
        view.clear(conn)
        for event in events:
            view.apply(event, conn)
    assert kept_counts(engine) == batched
    assert batched == {"43": 3, "4331": 3, COUNTY: 3, TOWNSHIP: 3, VILLAGE: 3, GRID: 2, OTHER_GRID: 1}


def test_list_events_page_past_the_end_is_empty_with_the_exact_total(world, engine):
    reported(world, [GRID, GRID, OTHER_GRID])
    project(world, engine)
    with engine.connect() as conn:
        past = views.page_of(conn, views.events_query("433100", None, None), 5, 2)
    assert (past["items"], past["total"]) == ([], 3)


def test_list_events_items_carry_no_total_column(world, engine):
    reported(world, [GRID, GRID, OTHER_GRID])
    project(world, engine)
    with engine.connect() as conn:
        items = views.page_of(conn, views.events_query("433100", None, None), 1, 2)["items"]
    assert len(items) == 2 and all("pingan_total" not in item and "event_id" in item for item in items)
