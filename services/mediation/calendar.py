"""The Xiangxi calendar the mediation rules count days on.

Apart from the domain so the public contract (which refuses future dates) can read it
without importing the domain (docs/architecture.md, "The contract split").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# Attempt, agreement and follow-up dates are days on the Xiangxi calendar: China
# Standard Time, UTC+8 all year (no tz database needed in slim images).
XIANGXI_TIME = timezone(timedelta(hours=8), "CST")


def local_today() -> date:
    return datetime.now(XIANGXI_TIME).date()
