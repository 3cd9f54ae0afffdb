"""One clock for every service, timer and "today" rule, and timers whose interval is a setting.

Dates on the platform are local dates in Xiangxi: China Standard Time, UTC+8 all
year (no tz database needed in slim images). A service declares ``today = Clock()``
and passes ``self.today()`` to the commands that need the date, so a domain never
reads a clock; a test replaces the provider to move time::

    class MovableClock(DependencyProvider):
        def get_dependency(self, worker_ctx):
            return lambda: TODAY["date"]

    class GridEventsOnTestClock(GridEventsService):
        today = MovableClock()
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from shared.config import EnvSettings

CHINA_TIME = timezone(timedelta(hours=8), "CST")


def local_today() -> date:
    return datetime.now(CHINA_TIME).date()


class Clock(DependencyProvider):
    """Today's local date, as a callable. Tests replace the provider to move time."""

    def get_dependency(self, worker_ctx: Any) -> Callable[[], date]:
        return local_today


def local_now() -> datetime:
    """The local time to the whole second, the form CAP 1.2 and the domains store."""
    return datetime.now(CHINA_TIME).replace(microsecond=0)


class Now(DependencyProvider):
    """The current local time, as a callable, for rules that need an instant. Tests replace it."""

    def get_dependency(self, worker_ctx: Any) -> Callable[[], datetime]:
        return local_now


class TimerSettings(EnvSettings):
    """Seconds between runs of each service's periodic checks (``PINGAN_<NAME>``)."""

    overdue_check_interval: float = 60.0  # grid_events: work items past their due date
    follow_up_check_interval: float = 15 * 60.0  # mediation: agreements past their follow-up date
    key_population_check_interval: float = 15 * 60.0  # key_populations: follow-ups, drug tests, periods ending


class SettingTimer(Timer):
    """A timer whose interval is the ``TimerSettings`` field ``setting``, read when the container
    starts. ``eager``: it fires once at start too, so a restart checks at once."""

    def __init__(self, setting: str, eager: bool = False, **kwargs: Any):
        if setting not in TimerSettings.model_fields:
            raise ValueError(f"no timer setting {setting!r}")
        self.setting = setting
        super().__init__(interval=0, eager=eager, **kwargs)  # the interval is read in setup()

    def setup(self) -> None:
        self.interval = getattr(TimerSettings.from_env(), self.setting)
