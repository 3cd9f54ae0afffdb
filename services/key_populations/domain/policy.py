"""The follow-up policy a county sets (Art. 7(4)): how often each record is
followed up, when joint handling starts, and how long a township has to
acknowledge a released person's hand-over.

Rules:
- Severe mental disorder: the follow-up interval follows the risk level;
  defaults level 0 every 90 days, 1–2 every 30, 3 every 14, 4–5 every 7,
  and from level 4 joint handling starts at once.
- The other categories have one interval each (defaults 30 days; released
  persons 90 days).
- A county may set its own table; the domain takes the policy as an argument.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..contracts import Category  # the public vocabulary
from .common import RiskLevel

LEVELS = range(RiskLevel.NONE, RiskLevel.HIGHEST + 1)


class FollowUpPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mental_disorder_days: dict[int, int] = Field(default_factory=lambda: {0: 90, 1: 30, 2: 30, 3: 14, 4: 7, 5: 7})
    category_days: dict[Category, int] = Field(default_factory=lambda: {
        Category.COMMUNITY_CORRECTION: 30, Category.RELEASED_PERSONS: 90, Category.DRUG_USERS: 30})
    joint_handling_from: int = Field(default=4, ge=0, le=5)
    handover_acknowledge_days: int = Field(default=7, ge=1, le=60)

    @model_validator(mode="after")
    def _complete(self) -> FollowUpPolicy:
        if set(self.mental_disorder_days) != set(LEVELS):
            raise ValueError("the mental disorder table needs an interval for every level 0-5")
        others = set(Category) - {Category.SEVERE_MENTAL_DISORDER}
        if set(self.category_days) != others:
            raise ValueError("every category other than severe mental disorder needs an interval")
        if any(days < 1 for days in [*self.mental_disorder_days.values(), *self.category_days.values()]):
            raise ValueError("follow-up intervals are at least one day")
        return self

    def interval_days(self, category: str, level: int) -> int:
        if category == Category.SEVERE_MENTAL_DISORDER:
            return self.mental_disorder_days[level]
        return self.category_days[Category(category)]

    def joint_handling(self, category: str, level: int) -> bool:
        return category == Category.SEVERE_MENTAL_DISORDER and level >= self.joint_handling_from

    def handover_due_on(self, released_on: date) -> date:
        return released_on + timedelta(days=self.handover_acknowledge_days)


@lru_cache(maxsize=1)
def default_policy() -> FollowUpPolicy:
    """The regulation's defaults, for counties that set no table of their own."""
    return FollowUpPolicy()
