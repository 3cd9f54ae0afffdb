"""The one way a test waits: poll an observable condition, bounded, never a fixed sleep.

Every tier uses it (tests run under eventlet's monkey patching, so the pause lets
other green threads run: consumers, relays, projections).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class NotReached(AssertionError):
    """The condition did not hold within the time allowed (a failed test, not an error)."""


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, what: str = "the condition", *,
               interval: float = 0.05, ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """Call ``predicate`` until it returns something truthy and return that; raise NotReached,
    naming ``what``, after ``timeout`` seconds. Exceptions of the ``ignoring`` types count as
    "not yet" (a service still starting refuses connections); the last one is reported."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            found = predicate()
            if found:
                return found
        except ignoring as error:
            last = error
        if time.monotonic() >= deadline:
            raise NotReached(f"timed out after {timeout}s waiting for {what}"
                             + (f" (last error: {last!r})" if last else ""))
        time.sleep(interval)
