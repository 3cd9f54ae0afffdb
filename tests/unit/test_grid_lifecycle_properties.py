"""Property-based tests: random command sequences against small reference
models of each lifecycle. Whatever the sequence, the application agrees with
the model on which commands succeed, refuses the rest with the model's typed
error, and a refused command stores nothing."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.grid_events import contracts as c
from shared.errors import Forbidden, InvalidTransition, PinganError, ValidationFailed

from .grid_support import ADMIN, GRID, OTHER_WORKER, SERVICE, WORKER, World

LEVELS = ["blue", "yellow", "orange", "red"]
RUNS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(world, command, expected_error):
    """Run one command; check its outcome against the model's and that a refusal stored nothing."""
    before = world.stored()
    try:
        command()
    except PinganError as error:
        assert expected_error is not None, f"refused unexpectedly: {error!r}"
        assert type(error) is expected_error, f"expected {expected_error.__name__}, got {error!r}"
        assert world.stored() == before
    else:
        assert expected_error is None, f"accepted, but the model expected {expected_error.__name__}"
        assert world.stored() > before


# -- risks ---------------------------------------------------------------------------------


@dataclass
class RiskModel:
    traffic: bool
    level: str = "yellow"
    status: str = "identified"
    passed: bool = False

    def step(self, name, arg):
        closed = self.status == "closed"
        if name == "issue_warning":
            if closed or self.status != "identified":
                return InvalidTransition
            self.status, self.level = "warning_issued", arg
        elif name == "change_level":
            if closed or arg == self.level:
                return InvalidTransition
            self.level = arg
        elif name == "start_measures":
            if closed or self.status != "warning_issued":
                return InvalidTransition
            if self.traffic and not arg:
                return ValidationFailed
            self.status = "measures_under_way"
        elif name == "reinspect":
            if not self.traffic or closed or self.status != "measures_under_way":
                return InvalidTransition
            self.passed = arg
        elif name == "defuse":
            if closed or self.status != "measures_under_way" or (self.traffic and not self.passed):
                return InvalidTransition
            self.status = "defused"
        elif name == "feedback":
            if closed or self.status != "defused":
                return InvalidTransition
            self.status = "feedback_reported"
        elif name == "close":
            if self.status != "feedback_reported":
                return InvalidTransition
            self.status = "closed"
        elif name == "reassign":
            if closed:
                return InvalidTransition
        elif name == "worker_changes_level":
            return Forbidden
        return None


def risk_command(world, risk, name, arg):
    app = world.app
    return {
        "issue_warning": lambda: app.issue_warning(ADMIN, c.IssueWarning(risk_id=risk, level=arg)),
        "change_level": lambda: app.change_risk_level(ADMIN, c.ChangeRiskLevel(risk_id=risk, level=arg)),
        "start_measures": lambda: app.start_risk_measures(
            ADMIN,
            c.StartRiskMeasures(risk_id=risk, measures="m", reinspection_date=date(2026, 12, 1) if arg else None),
            world.seal,
        ),
        "reinspect": lambda: app.record_reinspection(
            ADMIN, c.RecordReinspection(risk_id=risk, passed=arg, note="n"), world.seal
        ),
        "defuse": lambda: app.defuse_risk(ADMIN, c.DefuseRisk(risk_id=risk, note="n"), world.seal),
        "feedback": lambda: app.report_risk_feedback(
            ADMIN, c.ReportRiskFeedback(risk_id=risk, feedback="f"), world.seal
        ),
        "close": lambda: app.close_risk(ADMIN, c.CloseRisk(risk_id=risk)),
        "reassign": lambda: app.assign_risk_responsibility(
            ADMIN,
            c.AssignRiskResponsibility(risk_id=risk, unit="public-security", person_id="p-2", person_name="n"),
            world.seal,
        ),
        "worker_changes_level": lambda: app.change_risk_level(
            world.worker(), c.ChangeRiskLevel(risk_id=risk, level=arg)
        ),
    }[name]


RISK_STEP = st.one_of(
    st.tuples(st.sampled_from(["issue_warning", "change_level", "worker_changes_level"]), st.sampled_from(LEVELS)),
    st.tuples(st.sampled_from(["start_measures", "reinspect"]), st.booleans()),
    st.tuples(st.sampled_from(["defuse", "feedback", "close", "reassign"]), st.none()),
)


@RUNS
@given(traffic=st.booleans(), steps=st.lists(RISK_STEP, max_size=25))
def test_risk_lifecycle_matches_reference_model(traffic, steps):
    world = World().seed()
    risk = world.risk(category="traffic_black_spot" if traffic else "telecom_fraud")
    model = RiskModel(traffic=traffic)
    for name, arg in steps:
        run(world, risk_command(world, risk, name, arg), model.step(name, arg))
    stored = world.app.repository.get(UUID(risk))
    assert (stored.status, stored.level) == (model.status, model.level)


# -- work items ------------------------------------------------------------------------------


@dataclass
class WorkItemModel:
    due: date
    every_days: int | None
    status: str = "open"
    marked: set = field(default_factory=set)

    def step(self, name, arg):
        if name == "complete_by_other_grid":
            return Forbidden
        if name == "reassign_to_other_grid":
            return ValidationFailed
        if name in ("complete", "cancel", "reassign"):
            if self.status != "open":
                return InvalidTransition
            if name == "cancel":
                self.status = "cancelled"
            elif name == "complete":
                if self.every_days:
                    self.due += timedelta(days=self.every_days)
                else:
                    self.status = "completed"
        return None

    def mark(self, today):
        due = self.due.isoformat()
        if self.status == "open" and self.due < today and due not in self.marked:
            self.marked.add(due)
            return True
        return False


START = date(2026, 11, 1)
WORK_STEP = st.one_of(
    st.tuples(
        st.sampled_from(["complete", "complete_by_other_grid", "cancel", "reassign", "reassign_to_other_grid"]),
        st.none(),
    ),
    st.tuples(st.just("mark_overdue"), st.integers(min_value=0, max_value=40)),
)


@RUNS
@given(every_days=st.one_of(st.none(), st.integers(min_value=1, max_value=10)), steps=st.lists(WORK_STEP, max_size=25))
def test_work_item_lifecycle_and_overdue_marks_match_reference_model(every_days, steps):
    world = World().seed()
    item = world.add_item(due=START, every_days=every_days)
    model = WorkItemModel(due=START, every_days=every_days)
    app = world.app
    commands = {
        "complete": lambda: app.complete_work_item(
            world.worker(), c.CompleteWorkItem(item_id=item, note="n"), world.seal
        ),
        "complete_by_other_grid": lambda: app.complete_work_item(
            world.worker(OTHER_WORKER), c.CompleteWorkItem(item_id=item, note="n"), world.seal
        ),
        "cancel": lambda: app.cancel_work_item(ADMIN, c.CancelWorkItem(item_id=item, reason="r"), world.seal),
        "reassign": lambda: app.reassign_work_item(
            ADMIN, c.ReassignWorkItem(item_id=item, assignee_kind="grid_worker", assignee_id=WORKER)
        ),
        "reassign_to_other_grid": lambda: app.reassign_work_item(
            ADMIN, c.ReassignWorkItem(item_id=item, assignee_kind="grid_worker", assignee_id=OTHER_WORKER)
        ),
    }
    for name, arg in steps:
        if name == "mark_overdue":
            today = START + timedelta(days=arg)
            before = world.stored()
            marked = app.mark_overdue(SERVICE, UUID(item), today)
            assert marked == model.mark(today)
            assert world.stored() == before + int(marked)
        else:
            run(world, commands[name], model.step(name, arg))
    stored = app.repository.get(UUID(item))
    assert (stored.status, stored.due_date) == (model.status, model.due.isoformat())
    assert sorted(stored.overdue_marked_for) == sorted(model.marked)


# -- major decisions -----------------------------------------------------------------------------


@dataclass
class DecisionModel:
    status: str = "registered"

    def step(self, name):
        if name == "assess":
            if self.status not in ("registered", "assessed"):
                return InvalidTransition
            self.status = "assessed"
        elif name in ("approve", "reject"):
            if self.status != "assessed":
                return InvalidTransition
            self.status = "approved" if name == "approve" else "registered"
        elif name == "clear":
            if self.status != "approved":
                return InvalidTransition
            self.status = "cleared"
        return None


@RUNS
@given(steps=st.lists(st.sampled_from(["assess", "approve", "reject", "clear"]), max_size=20))
def test_decision_is_cleared_only_after_an_approved_assessment(steps):
    world = World().seed()
    decision = world.decision()
    model = DecisionModel()
    app = world.app
    commands = {
        "assess": lambda: app.assess_decision(
            ADMIN, c.AssessDecision(decision_id=decision, risk_level="medium", findings="f", measures="m"), world.seal
        ),
        "approve": lambda: app.approve_assessment(ADMIN, c.ApproveAssessment(decision_id=decision)),
        "reject": lambda: app.reject_assessment(
            ADMIN, c.RejectAssessment(decision_id=decision, reason="r"), world.seal
        ),
        "clear": lambda: app.clear_decision(ADMIN, c.ClearDecision(decision_id=decision)),
    }
    for name in steps:
        run(world, commands[name], model.step(name))
    assert app.repository.get(UUID(decision)).status == model.status


# -- reported events ------------------------------------------------------------------------------


DISPUTE_STEPS = ["verify_facts", "contact_parties", "mediate", "return_visit"]
ORDER = ["reported", "accepted", "assigned", "handled", "feedback_recorded"]


@dataclass
class ReportModel:
    status: str = "reported"
    ticked: set = field(default_factory=set)

    def step(self, name, arg):
        closed = self.status == "closed"
        if name == "tick":
            if closed:
                return InvalidTransition
            if arg not in DISPUTE_STEPS:
                return ValidationFailed
            if arg in self.ticked:
                return InvalidTransition
            self.ticked.add(arg)
        elif name == "close":
            if self.status != "feedback_recorded" or self.ticked != set(DISPUTE_STEPS):
                return InvalidTransition
            self.status = "closed"
        else:
            needed = ORDER[["accept", "assign", "handle", "feedback"].index(name)]
            if closed or self.status != needed:
                return InvalidTransition
            self.status = ORDER[ORDER.index(needed) + 1]
        return None


REPORT_STEP = st.one_of(
    st.tuples(st.sampled_from(["accept", "assign", "handle", "feedback", "close"]), st.none()),
    st.tuples(st.just("tick"), st.sampled_from(DISPUTE_STEPS + ["unknown_step"])),
)


@RUNS
@given(steps=st.lists(REPORT_STEP, max_size=30))
def test_event_closes_only_after_feedback_and_every_required_step(steps):
    world = World().seed()
    event_id = world.report(grid_code=GRID, category="dispute")
    model = ReportModel()
    app = world.app
    for name, arg in steps:
        command = {
            "accept": lambda: app.accept_event(ADMIN, c.AcceptEvent(event_id=event_id)),
            "assign": lambda: app.assign_event(ADMIN, c.AssignEvent(event_id=event_id, unit="justice-bureau")),
            "handle": lambda: app.record_handling(ADMIN, c.RecordHandling(event_id=event_id, note="n"), world.seal),
            "feedback": lambda: app.record_feedback(
                ADMIN, c.RecordFeedback(event_id=event_id, feedback="f", satisfied=True), world.seal
            ),
            "close": lambda: app.close_event(ADMIN, c.CloseEvent(event_id=event_id)),
            "tick": lambda arg=arg: app.tick_checklist_step(
                ADMIN, c.TickChecklistStep(event_id=event_id, step=arg), world.seal
            ),
        }[name]
        run(world, command, model.step(name, arg))
    stored = app.repository.get(UUID(event_id))
    assert (stored.status, set(stored.ticked_steps)) == (model.status, model.ticked)
