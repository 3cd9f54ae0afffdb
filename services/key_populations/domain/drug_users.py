"""Drug users under a community measure (Art. 7(4), served by police, health
departments and townships).

Rules:
- Enrolment needs the measure (community drug rehabilitation or community
  rehabilitation), its start (on or before enrolment), its end (default three
  years after the start) and the drug-test interval.
- Tests follow the schedule: the first is due one interval after enrolment,
  each later one an interval after the last test. A test is dated between the
  last test (or enrolment) and today.
- A positive test, or a missed test (recorded once per scheduled date, only
  after that date has passed), raises the risk by one level, up to 5.
- The record ends when the measure is over, or by revocation.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict, Field

from shared.errors import InvalidTransition, ValidationFailed

from ..contracts import (  # the public vocabulary
    Category,
    ExitReason,
    TestResult,  # the public vocabulary
)
from .common import RiskLevel, check_dated, member_of
from .enrolment import Enrolment
from .policy import FollowUpPolicy, default_policy
from .released_persons import years_after

MEASURE_YEARS = 3


class Measure(StrEnum):
    COMMUNITY_DRUG_REHABILITATION = "community_drug_rehabilitation"
    COMMUNITY_REHABILITATION = "community_rehabilitation"


class DrugUserFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    measure: Measure
    measure_start: date
    measure_end: date | None = None
    test_every_days: int = Field(ge=1, le=180)


class DrugUser(Enrolment):
    CATEGORY = Category.DRUG_USERS
    FACTS = DrugUserFacts
    EXIT_REASONS = Enrolment.EXIT_REASONS | {ExitReason.REVOKED}

    @classmethod
    def _check_facts(cls, person_id: str, facts: DrugUserFacts, enrolled_on: date) -> None:
        end = facts.measure_end or years_after(facts.measure_start, MEASURE_YEARS)
        if not facts.measure_start <= enrolled_on < end:
            raise ValidationFailed("a person is enrolled during their measure", {"field": "enrolled_on"})

    @classmethod
    def _stored_facts(cls, facts: DrugUserFacts, enrolled_on: date, policy: FollowUpPolicy) -> dict:
        end = facts.measure_end or years_after(facts.measure_start, MEASURE_YEARS)
        return {**facts.model_dump(mode="json"), "measure_end": end.isoformat(),
                "next_test_due": (enrolled_on + timedelta(days=facts.test_every_days)).isoformat()}

    def _apply_facts(self, facts: dict) -> None:
        super()._apply_facts(facts)
        self.measure_end = date.fromisoformat(facts["measure_end"])
        self.test_every_days = facts["test_every_days"]
        self.next_test_due = date.fromisoformat(facts["next_test_due"])
        self.last_test_on: date | None = None

    @property
    def period_ends_on(self) -> date:
        return self.measure_end

    def drug_test_overdue(self, today: date) -> bool:
        return self.active and self.next_test_due < today

    def record_drug_test(self, taken_on: date, result: str, today: date, policy: FollowUpPolicy | None = None) -> None:
        self._require_active("record a drug test on")
        check_dated(taken_on, today, self.last_test_on or self.enrolled_on, "taken_on")
        result = member_of(TestResult, result, "result")
        next_due = taken_on + timedelta(days=self.test_every_days)
        self._drug_test_recorded(taken_on=taken_on.isoformat(), result=result, next_test_due=next_due.isoformat())
        if result == TestResult.POSITIVE:
            self._raise_risk(taken_on, "positive_test", policy)

    def record_missed_test(self, today: date, policy: FollowUpPolicy | None = None) -> None:
        """Record that the scheduled test was missed (the timer's command, once per scheduled date)."""
        self._require_active("record a missed test on")
        if not self.drug_test_overdue(today):
            raise InvalidTransition(f"the next test is due on {self.next_test_due.isoformat()}; it is not missed")
        missed = self.next_test_due
        self._drug_test_missed(due_on=missed.isoformat(),
                               next_test_due=(missed + timedelta(days=self.test_every_days)).isoformat())
        self._raise_risk(missed, "missed_test", policy)

    def _raise_risk(self, on: date, reason: str, policy: FollowUpPolicy | None) -> None:
        if self.risk_level < RiskLevel.HIGHEST:
            self._reassess(self.risk_level + 1, on, reason, policy or default_policy())

    @event("DrugTestRecorded")
    def _drug_test_recorded(self, taken_on: str, result: str, next_test_due: str) -> None:
        self.last_test_on = date.fromisoformat(taken_on)
        self.next_test_due = date.fromisoformat(next_test_due)

    @event("DrugTestMissed")
    def _drug_test_missed(self, due_on: str, next_test_due: str) -> None:
        self.next_test_due = date.fromisoformat(next_test_due)
