"""The one access policy: jurisdiction subtree × role × category × purpose, with break-glass.

Every service asks ``default_policy().decide(...)`` (or ``shared.access.authorize``,
which delegates here) before it loads or returns anything.

- Role: the action names the roles that may perform it; nothing overrides this.
- Jurisdiction: the record lies in the caller's unit or below (code prefix).
- Category (sensitive personal records, Art. 7(4)(5)): the caller's token must
  list the category *and* the caller's role must be one that serves it;
  reading one needs a stated purpose.
- Break-glass: for an audited read (one with a purpose), a valid grant in the
  caller's signed token (reason, expiry no more than MAX_BREAK_GLASS away)
  lifts the jurisdiction and category limits; the read is allowed and flagged
  for review. Expired or over-long grants lift nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from shared.context import BreakGlass, CallerContext, Role
from shared.errors import ValidationFailed


class Category(StrEnum):
    """Sensitive categories of personal records (Art. 7(4) key populations, 7(5) minors)."""

    DRUG_USERS = "drug_users"
    COMMUNITY_CORRECTION = "community_correction"
    RELEASED_PERSONS = "released_persons"
    SEVERE_MENTAL_DISORDER = "severe_mental_disorder"
    MINORS = "minors"


class Purpose(StrEnum):
    CASE_WORK = "case_work"
    FOLLOW_UP = "follow_up"
    SUPERVISION = "supervision"
    AUDIT = "audit"
    EMERGENCY = "emergency"
    # Answering a person's request to know how their data is handled (PIPL Art. 45): the only
    # purpose under which "who read this person" is answered (shared.security.history).
    DATA_SUBJECT_REQUEST = "data_subject_request"


KEY_POPULATIONS = frozenset(
    {Category.DRUG_USERS, Category.COMMUNITY_CORRECTION, Category.RELEASED_PERSONS, Category.SEVERE_MENTAL_DISORDER}
)

# Art. 7(4): police, justice, health and townships serve key populations;
# Art. 7(5): civil affairs and education run minors' protection.
ROLE_CATEGORIES: Mapping[Role, frozenset[Category]] = {
    Role.POLICE: frozenset({Category.DRUG_USERS, Category.COMMUNITY_CORRECTION}),
    Role.JUSTICE: frozenset({Category.COMMUNITY_CORRECTION, Category.RELEASED_PERSONS}),
    Role.HEALTH: frozenset({Category.SEVERE_MENTAL_DISORDER, Category.DRUG_USERS}),
    Role.TOWNSHIP_OFFICER: KEY_POPULATIONS,
    Role.CIVIL_AFFAIRS: frozenset({Category.MINORS}),
    Role.EDUCATION: frozenset({Category.MINORS}),
}

MAX_BREAK_GLASS = timedelta(hours=4)

# Who answers a data-subject request ("who has read my file"): the auditor, who handles no
# case and so has no interest in hiding a colleague's reads; a new role would need a new
# token claim in every caller. Always with the purpose DATA_SUBJECT_REQUEST.
DATA_SUBJECT_ANSWERERS: frozenset[Role] = frozenset({Role.AUDITOR})


# What an outside system (Role.INTEGRATION) may do, by action name, whatever a service's role lists
# say: report, read back its own reports (each service narrows the read to the caller's records),
# and read public events. Never erase, never read others' records (docs/integration.md).
INTEGRATION_ACTIONS: frozenset[str] = frozenset({
    "report an event",
    "read an event",
    "list events",  # grid_events narrows the listing to the client's own reports
    "read public events",
})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    break_glass: bool = False
    review: bool = False  # a person must look at this access later


def _category(value: str | None) -> Category | None:
    if value is None:
        return None
    try:
        return Category(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a record category") from None


def _purpose(value: str | None) -> Purpose | None:
    if value is None:
        return None
    try:
        return Purpose(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a purpose of access") from None


class Policy:
    def __init__(self, role_categories: Mapping[Role, frozenset[Category]] = ROLE_CATEGORIES,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.role_categories = role_categories
        self.clock = clock

    def serves(self, caller: CallerContext, category: Category) -> bool:
        return category in caller.categories and category in self.role_categories.get(caller.role, frozenset())

    def decide(self, caller: CallerContext, action: str, roles: Collection[Role], jurisdiction: str,
               category: str | None = None, purpose: str | None = None,
               break_glass: BreakGlass | None = None) -> Decision:
        """Whether ``caller`` may ``action`` a record in ``jurisdiction`` (of ``category``, for ``purpose``)."""
        sensitive = _category(category)
        why = _purpose(purpose)
        if caller.role not in roles:
            return Decision(False, f"the role {caller.role.value!r} may not {action}")
        if caller.role is Role.INTEGRATION and action not in INTEGRATION_ACTIONS:
            return Decision(False, f"an integration client may not {action}")
        if sensitive is not None and why is None:
            return Decision(False, f"{action}: a {sensitive.value} record is read only for a stated purpose")
        refusal = None
        if not caller.covers(jurisdiction):
            refusal = (f"{action}: jurisdiction {jurisdiction} is outside the caller's "
                       f"jurisdiction {caller.jurisdiction}")
        elif sensitive is not None and not self.serves(caller, sensitive):
            refusal = f"{action}: the caller does not serve {sensitive.value} records"
        if refusal is None:
            return Decision(True, "allowed")
        grant = break_glass or caller.break_glass
        if why is None or grant is None or caller.role is Role.INTEGRATION:  # no emergency grant for a machine
            return Decision(False, refusal)
        now = self.clock()
        if grant.expires <= now:
            return Decision(False, refusal + " (the break-glass grant has expired)")
        if grant.expires - now > MAX_BREAK_GLASS:
            return Decision(False, refusal + " (a break-glass grant may last at most "
                                             f"{int(MAX_BREAK_GLASS.total_seconds() // 3600)} hours)")
        return Decision(True, f"break-glass: {grant.reason}", break_glass=True, review=True)


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    return Policy()
