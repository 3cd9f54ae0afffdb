"""Property-based test: random command sequences on an enrolment of each
category against a small reference model. Whatever the sequence, the
aggregate accepts what the model accepts, refuses the rest with the model's
typed error, and a refused command triggers no event and changes nothing."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, PinganError, ValidationFailed

from .test_key_populations_domain_support import (
    CATEGORIES,
    ENROLLED,
    OTHER_VILLAGE,
    SAME_TOWNSHIP_VILLAGE,
    TODAY,
    VILLAGE,
    acting,
    enrol,
    team,
)

RUNS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IT, VF = InvalidTransition, ValidationFailed

# The regulation's defaults, written out again so the model does not borrow the code under test.
MENTAL_DISORDER_DAYS = {0: 90, 1: 30, 2: 30, 3: 14, 4: 7, 5: 7}
CATEGORY_DAYS = {"community_correction": 30, "released_persons": 90, "drug_users": 30}
TARGETS = [OTHER_VILLAGE, SAME_TOWNSHIP_VILLAGE, VILLAGE, "433123001001", "500101001001"]
UNRELATED_TOWNSHIP = "433130009"
EXITS = {"community_correction": {"period_completed", "revoked", "died", "moved_out"},
         "released_persons": {"period_completed", "died", "moved_out"},
         "severe_mental_disorder": {"died", "moved_out"},
         "drug_users": {"period_completed", "revoked", "died", "moved_out"}}


def years_later(day: date, years: int) -> date:
    return day.replace(year=day.year + years) if (day.month, day.day) != (2, 29) else date(day.year + years, 2, 28)


@dataclass
class Model:
    category: str
    level: int
    today: date = TODAY
    jurisdiction: str = VILLAGE
    transfer_to: str | None = None
    exited: bool = False
    last_follow_up: date | None = None
    next_due: date | None = None
    flagged: set = field(default_factory=set)
    leaves: dict = field(default_factory=dict)
    acknowledged: bool = False
    treatment: str = "outpatient"
    last_test: date | None = None
    next_test: date | None = None

    def __post_init__(self):
        self.next_due = ENROLLED + timedelta(days=self.interval(self.level))
        self.next_test = ENROLLED + timedelta(days=30)
        released = ENROLLED - timedelta(days=2)
        self.period_end = {"community_correction": ENROLLED + timedelta(days=365),
                           "released_persons": years_later(released, 5),
                           "drug_users": years_later(ENROLLED, 3)}.get(self.category)

    def interval(self, level):
        if self.category == "severe_mental_disorder":
            return MENTAL_DISORDER_DAYS[level]
        return CATEGORY_DAYS[self.category]

    def dated(self, on, not_before):
        return VF if on > self.today or on < not_before else None

    def reassess(self, level, on):
        start = max(on, self.last_follow_up or ENROLLED)
        self.next_due = min(self.next_due, start + timedelta(days=self.interval(level)))
        self.level = level

    def step(self, name, a, b):  # noqa: C901 - one branch per command, as the rules read
        if name == "advance":
            self.today += timedelta(days=a)
            return None
        if self.exited:
            return IT
        if name == "follow_up":
            held = self.today - timedelta(days=a)
            error = self.dated(held, self.last_follow_up or ENROLLED)
            if error:
                return error
            latest = held + timedelta(days=self.interval(self.level))
            due = held + timedelta(days=b) if b else latest
            if not held < due <= latest:
                return VF
            self.last_follow_up, self.next_due = held, due
        elif name == "reassess":
            on = self.today - timedelta(days=b)
            if self.dated(on, ENROLLED) or a > 5:
                return VF
            self.reassess(a, on)
        elif name == "initiate":
            target, by_sender = TARGETS[a], b
            if self.transfer_to:
                return IT
            if not target.startswith("4331") or target == self.jurisdiction:
                return VF
            if not by_sender:
                return Forbidden
            self.transfer_to = target
        elif name in ("accept", "refuse"):
            if not self.transfer_to:
                return IT
            if not a and self.transfer_to[:9] != self.jurisdiction[:9]:
                return Forbidden  # the sender decides only inside its own township
            if not b:
                return VF  # incomplete team, or unknown reason
            if name == "accept":
                self.jurisdiction = self.transfer_to
            self.transfer_to = None
        elif name == "exit":
            reason = ["period_completed", "revoked", "died", "moved_out", "eloped"][a]
            on = self.today - timedelta(days=b)
            if reason not in EXITS[self.category] or self.dated(on, ENROLLED):
                return VF
            if reason == "period_completed" and on < self.period_end:
                return IT
            self.exited, self.transfer_to = True, None
        elif name == "complete":
            if self.period_end is None or self.today < self.period_end:
                return IT
            self.exited, self.transfer_to = True, None
        elif name == "leave":
            request, start = f"L{a % 3}", self.today + timedelta(days=a - 1)
            end = start + timedelta(days=b - 1)
            if request in self.leaves:
                return Conflict
            if start < self.today or b > 30 or end > self.period_end:
                return VF
            self.leaves[request] = None
        elif name == "decide":
            request = f"L{a % 3}"
            if request not in self.leaves:
                return NotFound
            if self.leaves[request] is not None:
                return IT
            self.leaves[request] = b
        elif name == "violation":
            return self.dated(self.today - timedelta(days=a), ENROLLED)
        elif name == "acknowledge":
            if self.acknowledged:
                return Conflict
            error = self.dated(self.today - timedelta(days=a), ENROLLED - timedelta(days=2))
            if error:
                return error
            self.acknowledged = True
        elif name == "assist":
            on = self.today - timedelta(days=a)
            if not b or self.dated(on, ENROLLED) or on > self.period_end:
                return VF
        elif name == "treatment":
            status = ["outpatient", "inpatient", "interrupted", "cured"][a]
            if status == "cured":
                return VF
            if status == self.treatment:
                return IT
            self.treatment = status
        elif name == "drug_test":
            taken = self.today - timedelta(days=a)
            error = self.dated(taken, self.last_test or ENROLLED)
            if error:
                return error
            self.last_test, self.next_test = taken, taken + timedelta(days=30)
            if b and self.level < 5:
                self.reassess(self.level + 1, taken)
        elif name == "missed_test":
            if self.next_test >= self.today:
                return IT
            missed = self.next_test
            self.next_test = missed + timedelta(days=30)
            if self.level < 5:
                self.reassess(self.level + 1, missed)
        return None

    def flag(self):
        due = self.next_due
        if self.exited:
            return IT
        if due < self.today and due not in self.flagged:
            self.flagged.add(due)
            return True
        return False


CATEGORY_COMMANDS = {
    "community_correction": {"leave", "decide", "violation", "complete"},
    "released_persons": {"acknowledge", "assist", "complete"},
    "severe_mental_disorder": {"treatment"},
    "drug_users": {"drug_test", "missed_test", "complete"},
}
COMMON = ["advance", "follow_up", "reassess", "initiate", "accept", "refuse", "flag"]


def steps_for(category):
    # Exit ends everything after it, so it is drawn less often than the rest.
    names = COMMON * 3 + sorted(CATEGORY_COMMANDS[category]) * 3 + ["exit"]
    step = st.tuples(st.sampled_from(names), st.integers(min_value=-1, max_value=4),
                     st.integers(min_value=0, max_value=40))
    return st.lists(step, min_size=15, max_size=40)


def command(record, model, name, a, b):
    today = model.today
    by = record.jurisdiction[:9]
    receiver = (record.transfer_to or VILLAGE)[:9]
    reasons = ["period_completed", "revoked", "died", "moved_out", "eloped"]
    return {
        "follow_up": lambda: record.record_follow_up(today - timedelta(days=a), today, "home_visit", "stable",
                                                     next_due=today + timedelta(days=b - a) if b else None),
        "reassess": lambda: record.reassess_risk(a, today - timedelta(days=b), today),
        "initiate": lambda: record.initiate_transfer(TARGETS[a], by if b else UNRELATED_TOWNSHIP),
        "accept": lambda: record.accept_transfer(receiver if a else by, team(prefix="r") if b else team()[:1],
                                                 "r-police"),
        "refuse": lambda: record.refuse_transfer(receiver if a else by, "not_resident" if b else "no room"),
        "exit": lambda: record.exit(reasons[a], today - timedelta(days=b), today),
        "complete": lambda: record.complete_period(today),
        "leave": lambda: record.request_leave(f"L{a % 3}", today + timedelta(days=a - 1),
                                              today + timedelta(days=a - 1 + b - 1), today),
        "decide": lambda: record.decide_leave(f"L{a % 3}", approved=bool(b)),
        "violation": lambda: record.record_violation(today - timedelta(days=a), today, "missed_report", "warning"),
        "acknowledge": lambda: record.acknowledge_handover(today - timedelta(days=a), today),
        "assist": lambda: record.record_assistance("housing" if b else "cash", today - timedelta(days=a), today),
        "treatment": lambda: record.change_treatment(["outpatient", "inpatient", "interrupted", "cured"][a]),
        "drug_test": lambda: record.record_drug_test(today - timedelta(days=a), "positive" if b else "negative", today),
        "missed_test": lambda: record.record_missed_test(today),
    }[name]


# How each command reads the two drawn numbers: indices, flags, days back (-1 is tomorrow), day counts.
ARGUMENTS = {
    "advance": lambda a, b: (max(b, 1), None),
    "follow_up": lambda a, b: (a, b % 16),  # days back, days to the next due date (0: the default)
    "reassess": lambda a, b: (a + 2, b % 3),  # level 1-6 (6 is off the scale), days back
    "initiate": lambda a, b: (a % len(TARGETS), b % 2),  # target, by the sender
    "accept": lambda a, b: (a % 2, b % 2),  # by the receiver, complete team
    "refuse": lambda a, b: (a % 2, b % 2),  # by the receiver, known reason
    "exit": lambda a, b: (a % 5, b % 3),  # reason, days back
    "leave": lambda a, b: (a % 5, max(b, 1)),  # request and start, length in days
    "decide": lambda a, b: (a % 3, b % 2),
    "assist": lambda a, b: (a, b % 2),
    "treatment": lambda a, b: (a % 4, b),
    "drug_test": lambda a, b: (a, b % 2),
}


@pytest.mark.parametrize("category", CATEGORIES)
@RUNS
@given(data=st.data(), level=st.integers(min_value=0, max_value=5))
def test_enrolment_commands_match_the_reference_model(category, data, level):
    steps = data.draw(steps_for(category), label="steps")
    with acting():
        record = enrol(category, risk_level=level)
        record.collect_events()
        model = Model(category=category, level=level)
        for name, a, b in steps:
            a, b = ARGUMENTS.get(name, lambda *drawn: drawn)(a, b)
            if name == "flag":
                expected = model.flag()
                try:
                    flagged = record.flag_follow_up_overdue(model.today)
                except PinganError as error:
                    assert type(error) is expected
                    assert not record.pending_events
                else:
                    assert flagged is expected
                    assert len(record.collect_events()) == int(flagged)
                continue
            if name == "advance":
                model.step(name, a, b)
                continue
            run(record, command(record, model, name, a, b), model.step(name, a, b))
    assert (record.jurisdiction, record.transfer_to, record.active, record.risk_level, record.next_follow_up_due) == (
        model.jurisdiction, model.transfer_to, not model.exited, model.level, model.next_due)


def run(record, act, expected):
    version = record.version
    try:
        act()
    except PinganError as error:
        assert expected is not None, f"refused unexpectedly: {error!r}"
        assert type(error) is expected, f"expected {expected.__name__}, got {error!r}"
        assert not record.pending_events and record.version == version
    else:
        assert expected is None, f"accepted, but the model expected {expected.__name__}"
        assert record.collect_events()
