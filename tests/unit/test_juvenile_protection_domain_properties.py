"""State machines against small reference models: whatever the command
sequence, the aggregate accepts what the model accepts (one event each),
refuses the rest with the model's typed error and no event, and ends in the
model's state."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.juvenile_protection.domain import report_key
from shared.errors import Conflict, InvalidTransition, NotFound, PinganError, ValidationFailed

from .test_juvenile_protection_domain_support import (
    NOW,
    TODAY,
    acting,
    new_case,
    new_plan,
    new_referral,
    new_report,
    note,
    seal,
)

RUNS = settings(max_examples=100, stateful_step_count=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
CATEGORIES = ["left_behind", "in_difficulty", "misconduct", "serious_misconduct", "victim", "in_conflict_with_law"]
BIRTH_MONTH = "2009-06"  # majority on 2027-07-01, 211 days after TODAY
MAJORITY = TODAY.replace(year=2027, month=7, day=1)


def run(aggregate, expected: type[PinganError] | None, command, *args, events: int = 1):
    """Run ``command`` in a call; check the outcome is the model's and count the events it triggered."""
    before = len(aggregate.pending_events)
    with acting():
        if expected is None:
            command(*args)
        else:
            with pytest.raises(expected):
                command(*args)
    assert len(aggregate.pending_events) - before == (events if expected is None else 0)


# -- minor's case ------------------------------------------------------------------------------


class MinorCaseMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        with acting():
            self.case = new_case(birth_month=BIRTH_MONTH, categories=["in_conflict_with_law", "misconduct"])
        self.today = TODAY
        self.status = "open"
        self.categories = ["in_conflict_with_law", "misconduct"]
        self.sealed = self.unsealed = False
        self.school = "school-fh-03"
        self.reports = list(self.case.report_ids)

    def open_or(self, error):
        return InvalidTransition if self.status != "open" else error

    @rule(days=st.integers(min_value=0, max_value=120))
    def advance(self, days):
        self.today += timedelta(days=days)

    @rule(category=st.sampled_from(CATEGORIES + ["runaway"]))
    def add_category(self, category):
        error = self.open_or(ValidationFailed if category not in CATEGORIES else
                             Conflict if category in self.categories else None)
        run(self.case, error, self.case.add_category, category)
        if error is None:
            self.categories.append(category)

    @rule(category=st.sampled_from(CATEGORIES + ["runaway"]))
    def remove_category(self, category):
        error = self.open_or(
            ValidationFailed if category not in CATEGORIES else
            NotFound if category not in self.categories else
            InvalidTransition if self.categories == [category] else
            InvalidTransition if category == "in_conflict_with_law" and self.sealed else None)
        run(self.case, error, self.case.remove_category, category)
        if error is None:
            self.categories.remove(category)

    @rule(ground=st.sampled_from(["sentence_five_years_or_less", "not_prosecuted", "pardon"]),
          sentence=st.sampled_from([None, 60, 61]))
    def seal(self, ground, sentence):
        error = (ValidationFailed if ground == "pardon" else
                 Conflict if self.sealed else
                 InvalidTransition if self.unsealed or "in_conflict_with_law" not in self.categories else
                 ValidationFailed if (ground == "not_prosecuted") != (sentence is None) else
                 ValidationFailed if sentence is not None and sentence > 60 else None)
        run(self.case, error, self.case.seal, ground, "2025-10", sentence, "decision-1")
        if error is None:
            self.sealed = True

    @rule(ground=st.sampled_from(["sealed_in_error", "recidivism_as_adult", "asked_nicely"]))
    def unseal(self, ground):
        error = ValidationFailed if ground == "asked_nicely" else None if self.sealed else InvalidTransition
        run(self.case, error, self.case.unseal, ground, "decision-2")
        if error is None:
            self.sealed, self.unsealed = False, True

    @rule(to=st.sampled_from([None, "justice", "civil_affairs", "orphanage"]))
    def reach_majority(self, to):
        error = self.open_or(ValidationFailed if to == "orphanage" else
                             InvalidTransition if self.today < MAJORITY else None)
        run(self.case, error, self.case.reach_majority, self.today, to)
        if error is None:
            self.status = "closed" if to is None else "handed_over"

    @rule(reason=st.sampled_from(["protected", "reached_majority", "moved", "other", "bored"]),
          plan_complete=st.booleans())
    def close(self, reason, plan_complete):
        error = self.open_or(
            ValidationFailed if reason == "bored" else
            InvalidTransition if reason == "protected" and not plan_complete else
            InvalidTransition if reason == "reached_majority" and self.today < MAJORITY else None)
        run(self.case, error, self.case.close, reason, self.today, plan_complete)
        if error is None:
            self.status = "closed"

    @rule(school=st.sampled_from([None, "school-fh-03", "school-fh-07"]))
    def record_school(self, school):
        error = self.open_or(Conflict if school == self.school else None)
        run(self.case, error, self.case.record_school, school)
        if error is None:
            self.school = school

    @rule(fresh=st.booleans())
    def link_report(self, fresh):
        report_id = uuid4() if fresh else self.reports[0]
        error = self.open_or(None if fresh else Conflict)
        run(self.case, error, self.case.link_report, report_id)
        if error is None:
            self.reports.append(str(report_id))

    @invariant()
    def agrees_with_model(self):
        case = self.case
        assert (case.status, case.categories, case.sealed, case.school_id) == (
            self.status, self.categories, self.sealed, self.school)
        assert case.due_for_majority(self.today) == (self.status == "open" and self.today >= MAJORITY)
        assert case.opens_for("case_work") == (not self.sealed)


TestMinorCaseMachine = RUNS(MinorCaseMachine).TestCase


# -- intake report -----------------------------------------------------------------------------


class ReportMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        with acting():
            self.report = new_report(deadline_hours=24)
        self.now = NOW
        self.status = "received"
        self.flagged = False

    @rule(minutes=st.integers(min_value=-60, max_value=24 * 60))
    def advance(self, minutes):
        self.now += timedelta(minutes=minutes)

    @rule()
    def flag_overdue(self):
        due = self.status == "received" and not self.flagged and self.now > NOW + timedelta(hours=24)
        before = len(self.report.pending_events)
        with acting():
            assert self.report.flag_overdue(self.now) is due
        assert len(self.report.pending_events) - before == int(due)
        self.flagged |= due

    @rule(redirect=st.booleans(), to=st.sampled_from(["health", "karaoke"]))
    def handle(self, redirect, to):
        error = (InvalidTransition if self.status != "received" else
                 ValidationFailed if redirect and to == "karaoke" else
                 ValidationFailed if self.now < NOW else None)
        if redirect:
            run(self.report, error, self.report.redirect, to, self.now, note_for(self.report))
        else:
            run(self.report, error, self.report.accept, uuid4(), self.now)
        if error is None:
            self.status = "redirected" if redirect else "accepted"

    @invariant()
    def agrees_with_model(self):
        assert (self.report.status, self.report.overdue_flagged) == (self.status, self.flagged)


def note_for(report):
    return seal(report_key(report.id), "redirected")


TestReportMachine = RUNS(ReportMachine).TestCase


# -- special-school referral --------------------------------------------------------------------


class ReferralMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        with acting():
            self.referral = new_referral()
        self.status = "proposed"
        self.assessed: set[str] = set()
        self.heard = False

    @rule(unit=st.sampled_from(["education", "public_security", "health"]))
    def assess(self, unit):
        error = (InvalidTransition if self.status != "proposed" else
                 ValidationFailed if unit == "health" else
                 Conflict if unit in self.assessed else None)
        run(self.referral, error, self.referral.record_assessment, unit, True, note(self.referral.case_id))
        if error is None:
            self.assessed.add(unit)
            if len(self.assessed) == 2:
                self.status = "assessed"

    @rule()
    def hear_guardian(self):
        error = (InvalidTransition if self.status not in ("proposed", "assessed") else
                 Conflict if self.heard else None)
        run(self.referral, error, self.referral.record_guardian_view, "agrees", None)
        self.heard |= error is None

    @rule(admitted=st.booleans())
    def decide(self, admitted):
        error = InvalidTransition if self.status != "assessed" or not self.heard else None
        run(self.referral, error, self.referral.decide, admitted, TODAY, note(self.referral.case_id))
        if error is None:
            self.status = "admitted" if admitted else "not_admitted"

    @rule()
    def place(self):
        error = None if self.status == "admitted" else InvalidTransition
        run(self.referral, error, self.referral.place, "special-1", TODAY, TODAY + timedelta(days=90))
        if error is None:
            self.status = "placed"

    @rule()
    def return_to_school(self):
        error = None if self.status == "placed" else InvalidTransition
        run(self.referral, error, self.referral.return_to_ordinary_school, "school-1", TODAY)
        if error is None:
            self.status = "returned"

    @invariant()
    def agrees_with_model(self):
        assert self.referral.status == self.status
        assert set(self.referral.assessments) == self.assessed


TestReferralMachine = RUNS(ReferralMachine).TestCase


# -- coordinated protection plan ------------------------------------------------------------------


class PlanMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        with acting():
            self.plan = new_plan()
        self.today = TODAY
        self.tasks: list[dict] = []  # the model: status, due date, flagged
        self.ended = False

    def task_error(self, index, allowed):
        if self.ended:
            return InvalidTransition
        if index >= len(self.tasks):
            return NotFound
        return None if self.tasks[index]["status"] in allowed else InvalidTransition

    @rule(days=st.integers(min_value=0, max_value=10))
    def advance(self, days):
        self.today += timedelta(days=days)

    @rule(unit=st.sampled_from(["education", "public_security", None, "bank"]), in_days=st.integers(0, 15))
    def assign(self, unit, in_days):
        error = InvalidTransition if self.ended else None if unit in ("education", "public_security") \
            else ValidationFailed
        due = self.today + timedelta(days=in_days)
        run(self.plan, error, self.plan.assign_task, unit, due, self.today, note(self.plan.case_id))
        if error is None:
            self.tasks.append({"status": "assigned", "due": due, "flagged": False})

    @rule(index=st.integers(0, 3))
    def acknowledge(self, index):
        error = self.task_error(index, ("assigned",))
        run(self.plan, error, self.plan.acknowledge_task, f"T{index + 1}")
        if error is None:
            self.tasks[index]["status"] = "acknowledged"

    @rule(index=st.integers(0, 3))
    def complete(self, index):
        error = self.task_error(index, ("acknowledged",))
        run(self.plan, error, self.plan.complete_task, f"T{index + 1}", self.today, note(self.plan.case_id))
        if error is None:
            self.tasks[index]["status"] = "done"

    @rule(index=st.integers(0, 3))
    def cancel(self, index):
        error = self.task_error(index, ("assigned", "acknowledged"))
        run(self.plan, error, self.plan.cancel_task, f"T{index + 1}", note(self.plan.case_id))
        if error is None:
            self.tasks[index]["status"] = "cancelled"

    @rule()
    def flag_overdue(self):
        due = [f"T{i + 1}" for i, task in enumerate(self.tasks)
               if not self.ended and task["status"] in ("assigned", "acknowledged") and task["due"] < self.today
               and not task["flagged"]]
        run(self.plan, None, self.plan.flag_overdue_tasks, self.today, events=len(due))
        for task_id in due:
            self.tasks[int(task_id[1:]) - 1]["flagged"] = True

    @rule()
    def end(self):
        error = InvalidTransition if self.ended else None
        run(self.plan, error, self.plan.end, self.today)
        self.ended = True

    @invariant()
    def agrees_with_model(self):
        statuses = [task["status"] for task in self.tasks]
        assert [task["status"] for task in self.plan.tasks.values()] == statuses
        assert self.plan.complete == ("done" in statuses and not {"assigned", "acknowledged"} & set(statuses))


TestPlanMachine = RUNS(PlanMachine).TestCase
