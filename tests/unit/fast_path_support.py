"""A varied grid_events history, projected twice: incrementally (a pass per event) and by a rebuild
(large batches, bulk inserts, COPY on PostgreSQL). Both must give the same read-model rows."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.grid_events import contracts as c
from services.grid_events import projections as views
from services.grid_events.application import GridEventsApplication
from shared.projections import Projector, create_view_tables

from .grid_support import ADMIN, UNIT, World

REPORTS = 150  # more than one bulk write's threshold, so the rebuild takes the COPY path
REASON = "subject_request"
ALL_REPORTS = REPORTS + 2  # the long run, the one taken through its lifecycle, one after the erasures


def varied_history(app: GridEventsApplication) -> None:
    """Inserts and updates of every read model interleaved, with texts that need quoting."""
    world = World()
    world.app = app
    seal = world.seal  # the application refuses plaintext personal fields
    world.seed()
    for number in range(REPORTS):
        event_id = world.report(place=f'yard "{number}", east', description="plain" if number % 7 else "a, \"b\"\nc")
        if number >= 120 and number % 10 == 0:  # a long run of inserts first, then interleaved updates
            app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=event_id, step="verify_facts",
                                                               note="checked"), seal)
            app.accept_event(ADMIN, c.AcceptEvent(event_id=event_id))
    # A whole lifecycle (every report event), on a report inside the long run of inserts, and erasures
    # of each kind of record: updates of rows a rebuild has only just written, in the same batch.
    lifecycle = world.report()
    app.accept_event(ADMIN, c.AcceptEvent(event_id=lifecycle))
    app.assign_event(ADMIN, c.AssignEvent(event_id=lifecycle, unit=UNIT))
    app.record_handling(ADMIN, c.RecordHandling(event_id=lifecycle, note="met both households"), seal)
    app.record_feedback(ADMIN, c.RecordFeedback(event_id=lifecycle, feedback="satisfied", satisfied=True), seal)
    for step in ("verify_facts", "contact_parties", "mediate", "return_visit"):
        app.tick_checklist_step(ADMIN, c.TickChecklistStep(event_id=lifecycle, step=step), seal)
    app.close_event(ADMIN, c.CloseEvent(event_id=lifecycle))
    erase = world.vault.erase
    app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=lifecycle, reason=REASON), erase)
    item = world.add_item(due=date(2026, 11, 1), every_days=7)
    app.complete_work_item(ADMIN, c.CompleteWorkItem(item_id=item, note="done"), seal)
    risk = world.risk(level="orange")
    for record in (item, risk):
        app.erase_record_personal_data(ADMIN, c.EraseRecordPersonalData(record_id=record, reason=REASON), erase)
    world.report()  # inserts after the erasures
    app.issue_warning(ADMIN, c.IssueWarning(risk_id=risk, level="red"))
    world.decision()
    app.name_township_responsible(ADMIN, c.NameTownshipResponsible(
        code="433101001", office="Ping'an office", person_id="tp-1", person_name="Director Tian"), seal)
    app.register_participant(ADMIN, c.RegisterParticipant(jurisdiction="433101001001", kind="volunteer",
                                                          name="Wu Mei"), seal)


def snapshot(engine: Any, projections: list) -> dict[str, list]:
    with engine.connect() as conn:
        return {table.name: sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
                for projection in projections for table in projection.tables}


def incremental_then_rebuilt(app: GridEventsApplication, engine: Any) -> tuple[dict, dict]:
    projections = views.projections()
    create_view_tables(engine, projections)
    one_at_a_time = Projector(app, engine, projections)
    one_at_a_time.batch_size = one_at_a_time.behind_batch_size = 1  # as a service keeping up, event by event
    one_at_a_time.catch_up()
    incremental = snapshot(engine, projections)
    Projector(app, engine, projections).rebuild()
    return incremental, snapshot(engine, projections)
