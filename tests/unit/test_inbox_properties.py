"""Any interleaving of deliveries, redeliveries, failed tries, races and restarts gives
exactly one effect per message, checked against a reference model (the set of effects)."""

import contextlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.kernel_fixtures import CALL, Ticket, sqlite_app

MESSAGES = 6
steps = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(1, MESSAGES)),
        st.tuples(st.just("fail"), st.integers(1, MESSAGES)),  # the handler fails mid-effect: requeued
        st.tuples(st.just("race"), st.integers(1, MESSAGES)),  # another replica finishes it meanwhile
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=30,
)


def key(message: int) -> str:
    return f"upstream.thing_happened:{message}"


def deliver(app, message: int) -> None:
    app.open(CALL, f"m{message}", inbox=key(message))


def fail(app, message: int) -> None:
    def act():
        Ticket(title=f"m{message}")
        raise RuntimeError("lost the connection before saving")

    with contextlib.suppress(RuntimeError):
        app.execute(CALL, act, inbox=key(message))


def race(app, message: int) -> None:
    def act():
        deliver(app, message)  # the other replica's copy, saved while this one is acting
        ticket = Ticket(title=f"m{message}")
        return [ticket], {}

    app.execute(CALL, act, inbox=key(message))


def effects(app) -> list[str]:
    found = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        domain_event = app.mapper.to_domain_event(notification)
        if isinstance(domain_event, Ticket.Opened):
            found.append(domain_event.title)
    return sorted(found)


@settings(max_examples=30, deadline=None)
@given(steps)
def test_any_interleaving_of_deliveries_gives_each_effect_exactly_once(plan):
    path = Path(tempfile.mkdtemp()) / "events.sqlite"
    app = sqlite_app(path)
    expected: set[str] = set()  # the reference model
    for step, message in plan:
        if step == "restart":
            app = sqlite_app(path)
        elif step == "fail":
            fail(app, message)
        else:
            {"deliver": deliver, "race": race}[step](app, message)
            expected.add(f"m{message}")
    # The broker finally delivers every message again (unacknowledged, requeued, or duplicated).
    for message in range(1, MESSAGES + 1):
        deliver(app, message)
        expected.add(f"m{message}")
    assert effects(app) == sorted(expected)
