"""Property-based tests: random command sequences on an incident, a warning and a key area, each checked
against a small reference model. Whatever the sequence, the aggregate accepts what the model
accepts, refuses the rest with the model's typed error, and a refused command triggers no event."""

from datetime import date, timedelta
from functools import partial
from uuid import uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from services.emergency_command.domain import PLAN_GRACE_DAYS, EmergencyWarning, Incident, KeyArea, incident_subject
from shared.errors import Conflict, InvalidTransition, NotFound, PinganError, ValidationFailed

from .test_emergency_command_domain_support import COUNTY, NOW, VAULT, acting, names_of

RUNS = settings(max_examples=60, stateful_step_count=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
RANK = {"I": 1, "II": 2, "III": 3, "IV": 4}
STEP = st.integers(min_value=-30, max_value=120)  # minutes after the last accepted step; negative: out of order
TASK = st.integers(min_value=1, max_value=4)


def run(aggregate, command, expected_error) -> bool:
    """Run one command in a call; check its outcome against the model's. True when it was accepted."""
    before = len(names_of(aggregate))
    try:
        with acting():
            command()
    except PinganError as error:
        assert expected_error is not None, f"refused unexpectedly: {error!r}"
        assert type(error) is expected_error, f"expected {expected_error.__name__}, got {error!r}"
        assert len(names_of(aggregate)) == before, "a refused command triggered an event"
        return False
    assert expected_error is None, f"accepted, but the model expected {expected_error.__name__}"
    assert len(names_of(aggregate)) == before + 1
    return True


class IncidentMachine(RuleBasedStateMachine):
    """The model: open or closed, level, whether a report was made since the last level change,
    task statuses, and the minute of the last accepted step."""

    @initialize(level=st.sampled_from(list(RANK)))
    def open_incident(self, level):
        with acting():
            self.incident = Incident.intake(None, "severe_grid_event", str(uuid4()), COUNTY, "accident", level,
                                            "county-emergency-office", NOW)
        self.text = VAULT.seal(incident_subject(self.incident.id), "situation")
        self.closed, self.level, self.reported, self.tasks, self.last = False, level, False, {}, 0

    def at(self, step):
        return NOW + timedelta(minutes=self.last + step)

    def accepted(self, step):
        self.last += step

    @rule(unit=st.sampled_from(["police", "fire-brigade", "", None]), step=STEP,
          due_in=st.integers(min_value=-60, max_value=240))
    def assign_task(self, unit, step, due_in):
        error = None
        if self.closed:
            error = InvalidTransition
        elif not unit or step < 0 or due_in <= 0:
            error = ValidationFailed
        due_at = self.at(step) + timedelta(minutes=due_in)
        if run(self.incident, lambda: self.incident.assign_task(unit, self.text, due_at, self.at(step)), error):
            self.tasks[f"T{len(self.tasks) + 1}"] = "assigned"
            self.accepted(step)

    def task_error(self, task, allowed, step):
        if self.closed:
            return InvalidTransition
        if task not in self.tasks:
            return NotFound
        if self.tasks[task] not in allowed:
            return InvalidTransition
        return ValidationFailed if step < 0 else None

    @rule(number=TASK, step=STEP)
    def acknowledge_task(self, number, step):
        task = f"T{number}"
        error = self.task_error(task, ("assigned",), step)
        if run(self.incident, lambda: self.incident.acknowledge_task(task, self.at(step)), error):
            self.tasks[task] = "acknowledged"
            self.accepted(step)

    @rule(number=TASK, step=STEP, cancel=st.booleans())
    def finish_task(self, number, step, cancel):
        task = f"T{number}"
        error = self.task_error(task, ("assigned", "acknowledged"), step)
        command = self.incident.cancel_task if cancel else self.incident.complete_task
        if run(self.incident, lambda: command(task, None, self.at(step)), error):
            self.tasks[task] = "cancelled" if cancel else "completed"
            self.accepted(step)

    @rule(step=STEP)
    def report_situation(self, step):
        error = InvalidTransition if self.closed else ValidationFailed if step < 0 else None
        if run(self.incident, lambda: self.incident.report_situation(self.text, self.at(step)), error):
            self.reported = True
            self.accepted(step)

    @rule(level=st.sampled_from([*RANK, "V"]), step=STEP)
    def change_level(self, level, step):
        if self.closed:
            error = InvalidTransition
        elif level not in RANK or step < 0:
            error = ValidationFailed
        elif level == self.level or (RANK[level] > RANK[self.level] and not self.reported):
            error = InvalidTransition
        else:
            error = None
        if run(self.incident, lambda: self.incident.change_level(level, self.at(step)), error):
            self.level, self.reported = level, False
            self.accepted(step)

    @rule(step=STEP, with_summary=st.booleans())
    def close(self, step, with_summary):
        if self.closed:
            error = InvalidTransition
        elif step < 0:
            error = ValidationFailed
        elif any(status in ("assigned", "acknowledged") for status in self.tasks.values()):
            error = InvalidTransition
        else:
            error = None if with_summary else ValidationFailed
        summary = self.text if with_summary else ""
        if run(self.incident, lambda: self.incident.close(summary, self.at(step)), error):
            self.closed = True
            self.accepted(step)

    @invariant()
    def agrees_with_model(self):
        if hasattr(self, "incident"):
            assert (self.incident.status == "closed", self.incident.level) == (self.closed, self.level)
            assert {task_id: task["status"] for task_id, task in self.incident.tasks.items()} == self.tasks


class WarningMachine(RuleBasedStateMachine):
    """The model: active or cancelled, and the minute of the last message sent."""

    @initialize()
    def issue(self):
        with acting():
            self.warning = EmergencyWarning.issue(str(uuid4()), "433100", "pingan.433100", "Exercise",
                                                  self.info(0, 60), NOW)
        self.cancelled, self.last, self.sent = False, 0, 1

    @staticmethod
    def info(effective, lasting):
        return {"categories": ["Safety"], "event": "drill", "urgency": "Future", "severity": "Minor",
                "certainty": "Possible", "level": "blue", "effective": NOW + timedelta(minutes=effective),
                "expires": NOW + timedelta(minutes=effective + lasting), "areas": ["433101"]}

    @rule(step=STEP, lasting=st.integers(min_value=-30, max_value=600))
    def update(self, step, lasting):
        error = InvalidTransition if self.cancelled else ValidationFailed if step < 0 or lasting <= 0 else None
        at = NOW + timedelta(minutes=self.last + step)
        if run(self.warning, lambda: self.warning.update(self.info(self.last + step, lasting), at), error):
            self.last, self.sent = self.last + step, self.sent + 1

    @rule(step=STEP)
    def cancel(self, step):
        error = InvalidTransition if self.cancelled else ValidationFailed if step < 0 else None
        at = NOW + timedelta(minutes=self.last + step)
        if run(self.warning, lambda: self.warning.cancel(at), error):
            self.cancelled, self.last, self.sent = True, self.last + step, self.sent + 1

    @invariant()
    def agrees_with_model(self):
        if hasattr(self, "warning"):
            messages = self.warning.messages
            assert (self.warning.status == "cancelled", len(messages)) == (self.cancelled, self.sent)
            assert all(len(m["references"]) == i for i, m in enumerate(messages))


class KeyAreaMachine(RuleBasedStateMachine):
    """The model: plan version, last drill, today (moving forward only), due dates already flagged."""

    REGISTERED = date(2026, 1, 5)

    @initialize(every_days=st.integers(min_value=7, max_value=60))
    def register(self, every_days):
        with acting():
            self.area = KeyArea.register(str(uuid4()), "433101001", "station", "station-unit", every_days,
                                         self.REGISTERED)
        self.every, self.today, self.plan, self.last_drill = every_days, self.REGISTERED, 0, None
        self.drill_flags, self.plan_flags = set(), set()

    @rule(days=st.integers(min_value=0, max_value=45))
    def time_passes(self, days):
        self.today += timedelta(days=days)

    @rule(delta=st.integers(min_value=-1, max_value=1))
    def adopt_plan(self, delta):
        version = self.plan + delta
        error = (ValidationFailed if version < 1 else Conflict if version == self.plan
                 else ValidationFailed if version < self.plan else None)
        if run(self.area, partial(self.area.adopt_plan, version, "county-office", self.today, "doc", None, self.today),
               error):
            self.plan = version

    @rule(days_ago=st.integers(min_value=-2, max_value=60))
    def record_drill(self, days_ago):
        held = self.today - timedelta(days=days_ago)
        error = (ValidationFailed if held > self.today or held < self.REGISTERED
                 else InvalidTransition if not self.plan else None)
        if run(self.area, partial(self.area.record_drill, held, "evacuation", 30, ["station-unit"], None, self.today),
               error):
            self.last_drill = max(held, self.last_drill or held)

    @rule()
    def flag_overdue(self):
        expected = []
        drill_due = (self.last_drill or self.REGISTERED) + timedelta(days=self.every)
        if drill_due < self.today and drill_due not in self.drill_flags:
            self.drill_flags.add(drill_due)
            expected.append("drill")
        plan_due = self.REGISTERED + timedelta(days=PLAN_GRACE_DAYS)
        if not self.plan and plan_due < self.today and plan_due not in self.plan_flags:
            self.plan_flags.add(plan_due)
            expected.append("plan")
        before = len(names_of(self.area))
        with acting():
            assert self.area.flag_overdue(self.today) == expected
        assert len(names_of(self.area)) == before + len(expected)

    @invariant()
    def agrees_with_model(self):
        if hasattr(self, "area"):
            assert sorted(self.area.drill_overdue_flagged) == sorted(d.isoformat() for d in self.drill_flags)
            assert (self.area.plan_version, self.area.last_drill_on) == (
                self.plan, self.last_drill and self.last_drill.isoformat())


IncidentMachine.TestCase.settings = RUNS
WarningMachine.TestCase.settings = RUNS
KeyAreaMachine.TestCase.settings = RUNS
test_incident_commands_match_reference_model = IncidentMachine.TestCase
test_warning_commands_match_reference_model = WarningMachine.TestCase
test_key_area_drills_and_flags_match_reference_model = KeyAreaMachine.TestCase
