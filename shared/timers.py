"""The periodic check every service's overdue timer runs on."""

from __future__ import annotations

from typing import Any

from nameko.timer import Timer

from .config import EnvSettings


class TimerSettings(EnvSettings):
    overdue_check_interval: float = 60.0  # seconds between overdue checks


class OverdueTimer(Timer):
    """A timer whose interval comes from PINGAN_OVERDUE_CHECK_INTERVAL, read when
    the container starts; it fires once at start, so a restart checks at once."""

    def __init__(self, **kwargs: Any):
        super().__init__(interval=0, eager=True, **kwargs)  # the interval is read in setup()

    def setup(self) -> None:
        self.interval = TimerSettings.from_env().overdue_check_interval
