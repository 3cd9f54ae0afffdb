"""What the juvenile_protection application and service tests share: the service over the
in-memory store on a movable clock, callers, and the commands of the main flow."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

from services.juvenile_protection import projections as views
from services.juvenile_protection.application import JuvenileProtectionApplication
from services.juvenile_protection.service import JuvenileProtectionService
from shared.context import CallerContext, Role
from shared.testing import memory_app, memory_vault, service_worker

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=CST)
VILLAGE = "433123001002"  # a village of Fenghuang
OTHER_VILLAGE = "433123001003"
MINORS = frozenset({"minors"})
CIVIL_AFFAIRS = CallerContext(actor_id="ca-1", role=Role.CIVIL_AFFAIRS, jurisdiction="433123", categories=MINORS)
EDUCATION = CallerContext(actor_id="edu-1", role=Role.EDUCATION, jurisdiction="433123", categories=MINORS)
ELSEWHERE = CallerContext(actor_id="ca-9", role=Role.CIVIL_AFFAIRS, jurisdiction="433101", categories=MINORS)
SCHOOL = CallerContext(actor_id="school-1", role=Role.VILLAGE_COMMITTEE, jurisdiction=VILLAGE)
POLICE = CallerContext(actor_id="police-1", role=Role.POLICE, jurisdiction="433123", categories=MINORS)
PROSECUTOR = CallerContext(actor_id="proc-1", role=Role.PROCURATORATE, jurisdiction="433123", categories=MINORS)
COURT = CallerContext(actor_id="court-1", role=Role.COURT, jurisdiction="433123", categories=MINORS)
CANARY = "CANARY-龙小明-7731"


class World:
    """One service instance over its own in-memory store, vault and clock."""

    def __init__(self):
        self.clock = {"now": NOW}
        self.app = memory_app(JuvenileProtectionApplication)
        self.vault = memory_vault()
        self.as_ = service_worker(JuvenileProtectionService, self.app, views.projections(), vault=self.vault,
                                  now=lambda: self.clock["now"], today=lambda: self.clock["now"].date())

    def __call__(self, caller: CallerContext):
        return self.as_(caller)

    def stored(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def advance(self, **delta) -> None:
        self.clock["now"] = self.clock["now"] + timedelta(**delta)

    def figures(self) -> dict:
        with self.as_(CIVIL_AFFAIRS).store.read() as conn:
            families = [f for p in views.projections() for f in p.gauges(conn)]
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def receive(world: World, reference: str | None = None, deadline_hours: int = 24, village: str = VILLAGE) -> str:
    return world(SCHOOL if village == VILLAGE else CIVIL_AFFAIRS).receive_report(
        source="school", reference=reference or uuid4().hex, jurisdiction=village,
        summary=f"pupil absent for a week, {CANARY}", deadline_hours=deadline_hours)["report_id"]


def accept(world: World, report_id: str, categories=("left_behind",), birth: date = date(2012, 3, 14),
           minor_id: str | None = None) -> str:
    return world(CIVIL_AFFAIRS).accept_report(
        report_id=report_id, minor_id=minor_id or f"m-{uuid4().hex[:10]}", birth_month=birth.isoformat()[:7],
        date_of_birth=birth.isoformat(), name=CANARY, id_number="433123201203140011", address=f"{CANARY} lane 3",
        categories=list(categories))["case_id"]


def open_case(world: World, reference: str | None = None, **options) -> str:
    return accept(world, receive(world, reference), **options)


def plan_with_tasks(world: World, case_id: str, departments=("civil_affairs", "education")) -> tuple[str, list[str]]:
    plan_id = world(CIVIL_AFFAIRS).draw_up_plan(case_id=case_id, lead_department="civil_affairs",
                                                first_review_on="2027-03-01")["plan_id"]
    tasks = [world(CIVIL_AFFAIRS).assign_plan_task(plan_id=plan_id, department=d, due_on="2026-12-20",
                                                   description=f"visit {CANARY}")["task_id"] for d in departments]
    return plan_id, tasks


def seal_record(world: World, case_id: str) -> None:
    world(PROSECUTOR).seal_record(case_id=case_id, ground="sentence_five_years_or_less", offence_month="2026-05",
                                  sentence_months=12, reference="decision-2026-88")


def admitted_referral(world: World, case_id: str) -> str:
    """A special-school referral proposed, assessed by both departments, the guardian heard, admitted."""
    referral_id = world(CIVIL_AFFAIRS).propose_special_school(case_id=case_id, proposed_by="education",
                                                              grounds=f"repeated fights, {CANARY}")["referral_id"]
    world(EDUCATION).assess_referral(referral_id=referral_id, by="education", recommends=True, findings="agreed")
    world(POLICE).assess_referral(referral_id=referral_id, by="public_security", recommends=True, findings="agreed")
    world(CIVIL_AFFAIRS).hear_guardian(referral_id=referral_id, view="agrees")
    world(EDUCATION).decide_referral(referral_id=referral_id, admitted=True, basis="evaluation committee, art. 6")
    return referral_id
