"""A grid_events application on the in-memory store, with a small registry:
one county, one village with two grids, a worker on each, two member units."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.grid_events import contracts as c
from services.grid_events.application import GridEventsApplication
from shared.context import CallerContext, Role
from shared.eventstore import Call
from shared.testing import memory_vault

COUNTY = "433101"
TOWNSHIP = "433101001"
VILLAGE = "433101001001"
GRID = "433101001001001"
OTHER_GRID = "433101001001002"
WORKER = "gw-1001"
OTHER_WORKER = "gw-1002"
UNIT = "justice-bureau"
PREFECTURE_UNIT = "public-security"


def call_as(role: Role = Role.ADMIN, jurisdiction: str = "433100", actor_id: str = "admin-1") -> Call:
    return Call(caller=CallerContext(actor_id=actor_id, role=role, jurisdiction=jurisdiction), call_id="test-call")


ADMIN = call_as()
SERVICE = call_as(Role.SERVICE, actor_id="service:grid_events")


class World:
    def __init__(self, seal: Any = None) -> None:
        self.app = GridEventsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.vault = memory_vault()
        self.seal = seal or self.vault.seal  # the application refuses plaintext personal fields

    def stored(self) -> int:
        """How many events the store holds: a refused command must not change it."""
        return self.app.recorder.max_notification_id() or 0

    def seed(self) -> World:
        app = self.app
        for code in ("433100", COUNTY, TOWNSHIP, VILLAGE):
            app.register_jurisdiction(ADMIN, c.RegisterJurisdiction(code=code, name=f"unit {code}"))
        for grid, worker in ((GRID, WORKER), (OTHER_GRID, OTHER_WORKER)):
            app.register_grid(ADMIN, c.RegisterGrid(code=grid, name=f"grid {grid}"))
            app.assign_worker(ADMIN, c.AssignWorker(grid_code=grid, worker_id=worker))
        app.register_member_unit(ADMIN, c.RegisterMemberUnit(
            body_code=COUNTY, unit_code=UNIT, name="County Justice Bureau", duties=["mediation", "legal aid"]))
        app.register_member_unit(ADMIN, c.RegisterMemberUnit(
            body_code="433100", unit_code=PREFECTURE_UNIT, name="Prefecture Public Security", duties=["policing"]))
        return self

    def worker(self, actor_id: str = WORKER) -> Call:
        return call_as(Role.GRID_WORKER, VILLAGE, actor_id)

    def add_item(self, grid: str = GRID, due: date = date(2026, 11, 1), every_days: int | None = None,
                 assignee_kind: str = "grid_worker", assignee_id: str = WORKER) -> str:
        return self.app.add_work_item(ADMIN, c.AddWorkItem(
            grid_code=grid, kind="patrol", title="night patrol", due_date=due, every_days=every_days,
            assignee_kind=assignee_kind, assignee_id=assignee_id), self.seal)["item_id"]

    def report(self, **change: Any) -> str:
        payload = dict(grid_code=GRID, category="dispute", source="petition", severity="medium",
                       place="courtyard", description="boundary wall")
        return self.app.report_event(ADMIN, c.ReportEvent(**{**payload, **change}), self.seal)["event_id"]

    def risk(self, **change: Any) -> str:
        payload = dict(jurisdiction=VILLAGE, category="lending", source="risk", level="yellow",
                       place="village shop", description="illegal lending circle", responsible_unit=UNIT,
                       responsible_person_id="p-1", responsible_person_name="Officer Zhang")
        return self.app.register_risk(ADMIN, c.RegisterRisk(**{**payload, **change}), self.seal)["risk_id"]

    def decision(self) -> str:
        return self.app.register_decision(
            ADMIN,
            c.RegisterDecision(
                jurisdiction=COUNTY, title="relocate the market", summary="move the market to the new site"
            ),
            self.seal,
        )["decision_id"]

    def events_of(self, aggregate_id: Any) -> list[str]:
        from uuid import UUID

        return [type(e).__name__ for e in self.app.events.get(UUID(str(aggregate_id)))]
