"""grid_events over nameko: thin entrypoints, each verify → parse → application."""

from __future__ import annotations


from shared.access import authorize
from shared.dependencies import Store
from shared.contracts import Envelope
from shared.entrypoints import ServiceBase, api, consumes
from shared.errors import NotFound
from shared.eventstore import Call

from services.mediation import contracts as mediation

from . import contracts as c
from . import projections as views
from .application import READERS, GridEventsApplication


class GridEventsService(ServiceBase):
    name = c.SERVICE

    store = Store(GridEventsApplication, views.projections(), c.contracts())

    # -- commands -------------------------------------------------------------

    @api(c.RegisterJurisdiction)
    def register_jurisdiction(self, call: Call, command: c.RegisterJurisdiction) -> dict:
        return self.store.app.register_jurisdiction(call, command)

    @api(c.RegisterGrid)
    def register_grid(self, call: Call, command: c.RegisterGrid) -> dict:
        return self.store.app.register_grid(call, command)

    @api(c.AssignWorker)
    def assign_worker(self, call: Call, command: c.AssignWorker) -> dict:
        return self.store.app.assign_worker(call, command)

    @api(c.UnassignWorker)
    def unassign_worker(self, call: Call, command: c.UnassignWorker) -> dict:
        return self.store.app.unassign_worker(call, command)

    @api(c.ReportEvent)
    def report_event(self, call: Call, command: c.ReportEvent) -> dict:
        return self.store.app.report_event(call, command)

    @api(c.AcceptEvent)
    def accept_event(self, call: Call, command: c.AcceptEvent) -> dict:
        return self.store.app.accept_event(call, command)

    @api(c.AssignEvent)
    def assign_event(self, call: Call, command: c.AssignEvent) -> dict:
        return self.store.app.assign_event(call, command)

    @api(c.RecordHandling)
    def record_handling(self, call: Call, command: c.RecordHandling) -> dict:
        return self.store.app.record_handling(call, command)

    @api(c.RecordFeedback)
    def record_feedback(self, call: Call, command: c.RecordFeedback) -> dict:
        return self.store.app.record_feedback(call, command)

    @api(c.CloseEvent)
    def close_event(self, call: Call, command: c.CloseEvent) -> dict:
        return self.store.app.close_event(call, command)

    # -- events from other services ------------------------------------------

    @consumes(mediation.SERVICE, mediation.CASE_OPENED, mediation.CaseOpened)
    def on_mediation_case_opened(self, call: Call, envelope: Envelope, case: mediation.CaseOpened) -> None:
        if case.grid_event_id is not None:
            self.store.app.link_mediation_case(call, envelope, case)

    # -- queries (read models, never replays) ---------------------------------

    @api(c.ListEvents)
    def list_events(self, call: Call, query: c.ListEvents) -> dict:
        scope = query.jurisdiction or call.caller.jurisdiction
        authorize(call.caller, "list events", READERS, scope)
        with self.store.read() as conn:
            return views.page_of(conn, views.events_query(scope, query.grid_code, query.status),
                                 query.page, query.page_size)

    @api(c.GetEvent)
    def get_event(self, call: Call, query: c.GetEvent) -> dict:
        with self.store.read() as conn:
            found = views.event_by_id(conn, str(query.event_id))
        if found is None:
            raise NotFound(f"no event report with id {query.event_id}")
        authorize(call.caller, "read an event", READERS, found["jurisdiction"])
        return found

    @api(c.ListGrids)
    def list_grids(self, call: Call, query: c.ListGrids) -> dict:
        scope = query.jurisdiction or call.caller.jurisdiction
        authorize(call.caller, "list grids", READERS, scope)
        with self.store.read() as conn:
            return views.page_of(conn, views.grids_query(scope), query.page, query.page_size)

    @api(c.ListJurisdictions)
    def list_jurisdictions(self, call: Call, query: c.ListJurisdictions) -> dict:
        authorize(call.caller, "list jurisdictions", READERS, query.parent_code or call.caller.jurisdiction)
        with self.store.read() as conn:
            return views.page_of(conn, views.jurisdictions_query(call.caller.jurisdiction, query.parent_code),
                                 query.page, query.page_size)
