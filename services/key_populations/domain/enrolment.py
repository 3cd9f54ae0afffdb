"""One enrolment of one person in one key-population category (Art. 7(4)):
the rules every category shares. Each category is a subclass with its own
facts and commands (community_correction.py, released_persons.py,
severe_mental_disorder.py, drug_users.py).

One aggregate per enrolment, not one per person: each stream stays small,
and each record carries exactly one sensitive category, which is what the
access policy decides on (a health worker loads a mental-disorder record
without loading anyone's drug tests).

Rules:
- Enrolment needs the category's facts, a complete helper team with a
  responsible official, and a risk level 0–5; minor dependants at enrolment
  are reported for juvenile protection (Art. 7(5)).
- Follow-ups are dated between enrolment (and the last follow-up) and today;
  each sets the next due date, at most one policy interval ahead. A record is
  overdue the day after its due date, and is flagged once per due date.
- Reassessing the risk may bring the next follow-up closer (never later);
  reaching the highest level is reported for emergency command (Art. 6(3)).
- A transfer goes to a village of the prefecture; the receiving township
  accepts with its own team, or refuses. Until then both townships see the
  record, the sending one stays responsible, and follow-ups go on as before.
- Exit (period completed, revocation, death, moving out of the prefecture)
  makes the record read-only: every later command is an InvalidTransition.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from shared.errors import Forbidden, InvalidTransition, ValidationFailed
from shared.eventstore import AuditedAggregate, stable_id
from shared.jurisdiction import covers

from ..contracts import (  # the public vocabulary
    ExitReason,
    FollowUpKind,
    FollowUpOutcome,
    TransferRefusal,
)
from .common import (
    RiskLevel,
    check_dated,
    check_opaque_person_id,
    check_risk_level,
    check_team,
    check_village,
    member_of,
    parse_facts,
    person_key,
    require_sealed,
    township_of,
)
from .policy import FollowUpPolicy, default_policy


class Enrolment(AuditedAggregate):
    """The shared part of every enrolment; use a category's subclass (``enrolment_class``)."""

    # Set by each category's subclass. No annotations here: eventsourcing turns an
    # annotated aggregate class (and its subclasses) into a dataclass with its own __init__.
    CATEGORY = None  # the Category
    FACTS = None  # the pydantic model of the category's required facts
    # Event attributes sealed under person_key(person_id); "a[].b" is field b of each item of list a.
    PERSONAL_FIELDS = ("team[].name", "note")
    EXIT_REASONS = frozenset({ExitReason.PERIOD_COMPLETED, ExitReason.DIED, ExitReason.MOVED_OUT})

    @staticmethod
    def create_id(person_id: str, category: str, enrolled_on: date) -> UUID:
        return stable_id("key-population-enrolment", f"{person_id}/{category}/{enrolled_on.isoformat()}")

    @classmethod
    def enrol(cls, *, person_id: str, jurisdiction: str, enrolled_on: date, today: date, facts: Any,
              team: list[dict], responsible_id: str, risk_level: int, minor_dependants: int = 0,
              policy: FollowUpPolicy | None = None) -> Enrolment:
        policy = policy or default_policy()
        check_opaque_person_id(person_id)
        check_village(jurisdiction)
        if enrolled_on > today:
            raise ValidationFailed("enrolled_on is in the future", {"field": "enrolled_on"})
        parsed = parse_facts(cls.FACTS, facts, cls.CATEGORY.value)
        cls._check_facts(person_id, parsed, enrolled_on)
        stored_team = check_team(person_id, team, responsible_id)
        check_risk_level(risk_level)
        if isinstance(minor_dependants, bool) or not isinstance(minor_dependants, int) or minor_dependants < 0:
            raise ValidationFailed("minor_dependants is a count", {"field": "minor_dependants"})
        next_due = enrolled_on + timedelta(days=policy.interval_days(cls.CATEGORY, risk_level))
        enrolment = cls.create_with_id(
            cls.Enrolled, id=cls.create_id(person_id, cls.CATEGORY, enrolled_on), person_id=person_id,
            category=cls.CATEGORY.value, jurisdiction=jurisdiction, enrolled_on=enrolled_on.isoformat(),
            facts=cls._stored_facts(parsed, enrolled_on, policy), team=stored_team, responsible_id=responsible_id,
            risk_level=risk_level, minor_dependants=minor_dependants, next_follow_up_due=next_due.isoformat())
        if minor_dependants:
            enrolment._minor_dependants_reported(**enrolment._public(), minor_dependants=minor_dependants)
        enrolment._after_risk_change(RiskLevel.NONE - 1, risk_level, policy)
        return enrolment

    @event("Enrolled")
    def __init__(self, person_id: str, category: str, jurisdiction: str, enrolled_on: str, facts: dict,
                 team: list[dict], responsible_id: str, risk_level: int, minor_dependants: int,
                 next_follow_up_due: str):
        self.person_id = person_id
        self.category = category
        self.jurisdiction = jurisdiction
        self.enrolled_on = date.fromisoformat(enrolled_on)
        self.team = team
        self.responsible_id = responsible_id
        self.risk_level = risk_level
        self.minor_dependants = minor_dependants
        self.next_follow_up_due = date.fromisoformat(next_follow_up_due)
        self.last_follow_up_on: date | None = None
        self.overdue_flagged: list[str] = []
        self.transfer_to: str | None = None
        self.exit_reason: str | None = None
        self.exited_on: date | None = None
        self._apply_facts(facts)

    # -- per category (overridden) -------------------------------------------------

    @classmethod
    def _check_facts(cls, person_id: str, facts: Any, enrolled_on: date) -> None:
        """Domain rules on the parsed facts (dates in order, sealed fields)."""

    @classmethod
    def _stored_facts(cls, facts: Any, enrolled_on: date, policy: FollowUpPolicy) -> dict:
        return facts.model_dump(mode="json")

    def _apply_facts(self, facts: dict) -> None:
        self.facts = facts

    @property
    def period_ends_on(self) -> date | None:
        """The day the category's period ends (None where it has none)."""
        return None

    # -- what the access policy and timers read -----------------------------------------

    @property
    def sensitive_category(self) -> str:
        return self.category

    @property
    def visible_to_jurisdictions(self) -> list[str]:
        """Villages whose officers see the record: during a transfer, both ends."""
        return [self.jurisdiction] + ([self.transfer_to] if self.transfer_to else [])

    @property
    def responsible_jurisdiction(self) -> str:
        return self.jurisdiction  # the sender, until the receiver accepts

    @property
    def active(self) -> bool:
        return self.exit_reason is None

    def follow_up_overdue(self, today: date) -> bool:
        return self.active and self.next_follow_up_due < today

    def period_due_to_end(self, today: date) -> bool:
        return self.active and self.period_ends_on is not None and today >= self.period_ends_on

    # -- commands ---------------------------------------------------------------------

    def record_follow_up(self, held_on: date, today: date, kind: str, outcome: str, note: str | None = None,
                         next_due: date | None = None, policy: FollowUpPolicy | None = None) -> date:
        """Record a visit or check-in; returns the next due date."""
        self._require_active("record a follow-up on")
        policy = policy or default_policy()
        check_dated(held_on, today, self.last_follow_up_on or self.enrolled_on, "held_on")
        kind, outcome = member_of(FollowUpKind, kind, "kind"), member_of(FollowUpOutcome, outcome, "outcome")
        require_sealed(person_key(self.person_id), note=note)
        latest = held_on + timedelta(days=policy.interval_days(self.category, self.risk_level))
        next_due = next_due or latest
        if not held_on < next_due <= latest:
            raise ValidationFailed(f"the next follow-up is due after {held_on.isoformat()} and by {latest.isoformat()}",
                                   {"field": "next_due"})
        self._followed_up(held_on=held_on.isoformat(), kind=kind, outcome=outcome, note=note,
                          next_due=next_due.isoformat())
        return next_due

    def flag_follow_up_overdue(self, today: date) -> bool:
        """Flag an overdue follow-up, once per due date (a timer may run this any number of times)."""
        self._require_active("flag")
        due = self.next_follow_up_due.isoformat()
        if not self.follow_up_overdue(today) or due in self.overdue_flagged:
            return False
        self._follow_up_overdue_flagged(**self._public(), due_on=due, responsible_id=self.responsible_id)
        return True

    def reassess_risk(self, level: int, assessed_on: date, today: date, policy: FollowUpPolicy | None = None) -> None:
        self._require_active("reassess")
        check_dated(assessed_on, today, self.enrolled_on, "assessed_on")
        check_risk_level(level)
        self._reassess(level, assessed_on, "assessment", policy or default_policy())

    def assign_team(self, team: list[dict], responsible_id: str) -> None:
        self._require_active("assign a team to")
        self._team_assigned(team=check_team(self.person_id, team, responsible_id), responsible_id=responsible_id)

    def initiate_transfer(self, to_jurisdiction: str, by: str) -> None:
        """The sending township hands the record to another village of the prefecture."""
        self._require_active("transfer")
        if self.transfer_to is not None:
            raise InvalidTransition(f"a transfer to {self.transfer_to} is already pending")
        check_village(to_jurisdiction, "to_jurisdiction")
        if to_jurisdiction == self.jurisdiction:
            raise ValidationFailed("a transfer goes to another village", {"field": "to_jurisdiction"})
        if not covers(by, self.jurisdiction):
            raise Forbidden("only the sending township initiates a transfer")
        self._transfer_initiated(**self._public(), to_jurisdiction=to_jurisdiction)

    def accept_transfer(self, by: str, team: list[dict], responsible_id: str) -> None:
        """The receiving township takes the record over with its own team."""
        self._require_receiver(by, "accept")
        stored = check_team(self.person_id, team, responsible_id)
        self._transfer_accepted(**self._public(), to_jurisdiction=self.transfer_to, team=stored,
                                responsible_id=responsible_id)

    def refuse_transfer(self, by: str, reason: str) -> None:
        self._require_receiver(by, "refuse")
        reason = member_of(TransferRefusal, reason, "reason")
        self._transfer_refused(**self._public(), to_jurisdiction=self.transfer_to, reason=reason)

    def exit(self, reason: str, on: date, today: date) -> None:
        self._require_active("exit")
        reason = ExitReason(member_of(ExitReason, reason, "reason"))
        if reason not in self.EXIT_REASONS:
            raise ValidationFailed(f"a {self.category} record does not end by {reason.value}", {"field": "reason"})
        check_dated(on, today, self.enrolled_on, "on")
        if reason is ExitReason.PERIOD_COMPLETED and on < self.period_ends_on:
            raise InvalidTransition(f"the period ends on {self.period_ends_on.isoformat()}")
        self._exited(**self._public(), reason=reason.value, on=on.isoformat())

    def complete_period(self, today: date) -> None:
        """End the record on the last day of its period (the timer's command)."""
        self._require_active("complete")
        if not self.period_due_to_end(today):
            raise InvalidTransition("the period has not ended")
        self.exit(ExitReason.PERIOD_COMPLETED, self.period_ends_on, today)

    # -- rules ------------------------------------------------------------------------

    def _require_active(self, action: str) -> None:
        if not self.active:
            raise InvalidTransition(f"cannot {action} a record that ended ({self.exit_reason}); it is read-only")

    def _require_receiver(self, by: str, action: str) -> None:
        self._require_active(f"{action} a transfer of")
        if self.transfer_to is None:
            raise InvalidTransition(f"no transfer is pending to {action}")
        receiver, sender = township_of(self.transfer_to), township_of(self.jurisdiction)
        # The receiving township decides: a unit covering the sender too (a county) cannot decide for it.
        if not covers(by, receiver) or (receiver != sender and covers(by, sender)):
            raise Forbidden(f"only the receiving township {receiver} may {action} the transfer")

    def _reassess(self, level: int, on: date, reason: str, policy: FollowUpPolicy) -> None:
        previous = self.risk_level
        start = max(on, self.last_follow_up_on or self.enrolled_on)
        due = min(self.next_follow_up_due, start + timedelta(days=policy.interval_days(self.category, level)))
        self._risk_reassessed(**self._public(), level=level, previous_level=previous, assessed_on=on.isoformat(),
                              reason=reason, next_due=due.isoformat())
        self._after_risk_change(previous, level, policy)

    def _after_risk_change(self, previous: int, level: int, policy: FollowUpPolicy) -> None:
        if level == RiskLevel.HIGHEST and previous < RiskLevel.HIGHEST:
            self._highest_risk_reached(**self._public(), level=level)
        if policy.joint_handling(self.category, level) and not policy.joint_handling(self.category, previous):
            self._joint_handling_required(**self._public(), level=level)

    def _public(self) -> dict:
        """What events others consume carry: ids, place, category — no personal data."""
        return {"person_id": self.person_id, "jurisdiction": self.jurisdiction, "category": self.category}

    # -- events (mutate only) ---------------------------------------------------------

    @event("MinorDependantsReported")
    def _minor_dependants_reported(self, person_id: str, jurisdiction: str, category: str,
                                   minor_dependants: int) -> None:
        pass

    @event("FollowedUp")
    def _followed_up(self, held_on: str, kind: str, outcome: str, note: str | None, next_due: str) -> None:
        self.last_follow_up_on = date.fromisoformat(held_on)
        self.next_follow_up_due = date.fromisoformat(next_due)

    @event("FollowUpOverdueFlagged")
    def _follow_up_overdue_flagged(self, person_id: str, jurisdiction: str, category: str, due_on: str,
                                   responsible_id: str) -> None:
        self.overdue_flagged.append(due_on)

    @event("RiskReassessed")
    def _risk_reassessed(self, person_id: str, jurisdiction: str, category: str, level: int, previous_level: int,
                         assessed_on: str, reason: str, next_due: str) -> None:
        self.risk_level = level
        self.next_follow_up_due = date.fromisoformat(next_due)

    @event("HighestRiskReached")
    def _highest_risk_reached(self, person_id: str, jurisdiction: str, category: str, level: int) -> None:
        pass

    @event("JointHandlingRequired")
    def _joint_handling_required(self, person_id: str, jurisdiction: str, category: str, level: int) -> None:
        pass

    @event("TeamAssigned")
    def _team_assigned(self, team: list[dict], responsible_id: str) -> None:
        self.team = team
        self.responsible_id = responsible_id

    @event("TransferInitiated")
    def _transfer_initiated(self, person_id: str, jurisdiction: str, category: str, to_jurisdiction: str) -> None:
        self.transfer_to = to_jurisdiction

    @event("TransferAccepted")
    def _transfer_accepted(self, person_id: str, jurisdiction: str, category: str, to_jurisdiction: str,
                           team: list[dict], responsible_id: str) -> None:
        self.jurisdiction = to_jurisdiction
        self.transfer_to = None
        self.team = team
        self.responsible_id = responsible_id

    @event("TransferRefused")
    def _transfer_refused(self, person_id: str, jurisdiction: str, category: str, to_jurisdiction: str,
                          reason: str) -> None:
        self.transfer_to = None

    @event("Exited")
    def _exited(self, person_id: str, jurisdiction: str, category: str, reason: str, on: str) -> None:
        self.exit_reason = reason
        self.exited_on = date.fromisoformat(on)
        self.transfer_to = None

