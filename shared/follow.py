"""Following a service's log: the relay (publish stored events) and the projector (read models).

One ``LogFollowing`` per service runs either on the service's own hub (``Store``, the default:
``PINGAN_FOLLOW_LOG=in-process``) or in a process of its own (``pingan follow <service>``, with
the service at ``PINGAN_FOLLOW_LOG=off``). Both take the same position locks
(``shared.projections.LogFollower``, ``Projector``), so any number of them — replicas following
in-process and followers alike — handle each notification once between them
(docs/benchmarks.md, "Command path").
"""

from __future__ import annotations

import json
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from .config import Settings
from .contracts import Contracts
from .metrics import metrics
from .projections import Projection, Projector
from .relay import AmqpPublisher, Relay
from .security.event_signing import event_signer

log = structlog.get_logger(__name__)

IN_PROCESS = "in-process"
OFF = "off"
FOLLOW_MODES = (IN_PROCESS, OFF)


class LogFollowing:
    """The relay and projector of one service, and the loop that keeps them following its log."""

    def __init__(self, service: str, app: Any, engine: Engine, projections: Sequence[Projection],
                 contracts: Contracts | None, settings: Settings, amqp_config: dict,
                 on_stall: Callable[[str], None] | None = None, unknown_shapes: Sequence[str] = ()):
        self.settings = settings
        self.app = app
        self.projector = Projector(app, engine, projections, on_stall=on_stall)
        self.publisher: AmqpPublisher | None = None
        self.relay: Relay | None = None
        if contracts is not None:
            self.publisher = AmqpPublisher(service, amqp_config, event_signer(settings, service))
            self.relay = Relay(service, app, engine, contracts, self.publisher, confirm=self.publisher.confirm)
            self.relay.on_dispatched = lambda event_type: metrics().dispatched.labels(service, event_type).inc()
        for name in unknown_shapes:
            # Never dropped here (other replicas may be serving them): not followed until migrated.
            self.projector.mark_unavailable(name, f"tables have a shape this build does not know; "
                                                  f"run `pingan migrate {service}`")
            log.error("read_model_shape_unknown", projection=name)
        self._wake = threading.Event()
        self.last_turn = time.monotonic()  # when the loop last went round (liveness)
        self._stopped = False  # set once, before or during ``run``

    def wake(self) -> None:
        self._wake.set()

    def follow_once(self) -> None:
        """Relay, then project, everything stored so far."""
        if self.relay is not None:
            self.relay.relay_pending()
        self.projector.catch_up()

    def run(self, interval: float, newest: Callable[[], int | None] | None = None) -> None:
        """Follow until ``stop``: a pass when woken or every ``interval`` seconds; a failed pass
        (broker or database away) is tried again with a growing pause. With ``newest`` (the log's
        newest id), an interval that finds nothing new costs that one look-up, not a pass."""
        pause = interval
        seen: int | None = None
        while not self._stopped:
            self.last_turn = time.monotonic()
            woken = self._wake.wait(timeout=pause)
            if woken:
                # Let saves gather for a moment: under load one relay and one projection pass
                # then serve many commands, instead of a pair of transactions per command.
                time.sleep(self.settings.follow_delay)
            self._wake.clear()
            if self._stopped:
                break
            try:
                if newest is not None and not woken and pause == interval:
                    latest = newest()
                    if latest == seen:
                        continue
                    seen = latest
                self.follow_once()
                pause = interval
            except Exception as error:
                seen = None
                log.warning("log_follow_failed", error=type(error).__name__, detail=str(error)[:200])
                pause = min(pause * 2, 10.0)

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop_soon(self) -> None:
        """``stop`` for a signal handler: only the flag, seen by the loop within one interval."""
        self._stopped = True

    def finish(self) -> None:
        """A last pass for what was stored before stopping (best effort: whatever is left is picked
        up from the stored positions by the next follower), then the broker connection closed."""
        try:
            self.follow_once()
        except Exception as error:
            log.warning("final_follow_failed", error=type(error).__name__)
        self.close()

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()


def notify_channel(service: str) -> str:
    return f"pingan_follow_{service}"


class SaveNotifier:
    """A service at PINGAN_FOLLOW_LOG=off on PostgreSQL tells its followers that saves were stored
    (one NOTIFY for the saves of ``delay`` seconds), so they wake as the in-process loop does instead
    of polling fast. Best effort: a follower still polls every PINGAN_RELAY_INTERVAL."""

    def __init__(self, engine: Engine, service: str, delay: float):
        self.engine = engine
        self.channel = notify_channel(service)
        self.delay = delay
        self._wake = threading.Event()
        self._stopped = False

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        raw = None  # a connection of its own, held: one round trip a NOTIFY, no pool check-out
        while not self._stopped:
            if not self._wake.wait(timeout=1.0):
                continue
            time.sleep(self.delay)  # the saves of this moment, told once
            self._wake.clear()
            try:
                if raw is None:
                    raw = self.engine.raw_connection()
                    raw.driver_connection.autocommit = True  # type: ignore[union-attr]
                raw.driver_connection.cursor().execute(f"NOTIFY {self.channel}")  # type: ignore[union-attr]
            except Exception as error:
                log.warning("follow_notify_failed", error=type(error).__name__)
                if raw is not None:
                    raw.invalidate()
                raw = None
        if raw is not None:
            raw.invalidate()  # never back to the pool in autocommit

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()


def listen_for_saves(engine: Engine, service: str, following: LogFollowing) -> None:
    """Wake ``following`` on each NOTIFY of the service's ``SaveNotifier``, until it stops; a lost
    connection is opened again after a pause (meanwhile the loop polls)."""
    while not following.stopped:
        raw = None
        try:
            raw = engine.raw_connection()
            conn: Any = raw.driver_connection
            conn.autocommit = True
            conn.cursor().execute(f"LISTEN {notify_channel(service)}")
            while not following.stopped:
                if select.select([conn], [], [], 1.0)[0]:
                    conn.poll()
                    if conn.notifies:
                        conn.notifies.clear()
                        following.wake()
        except Exception as error:
            log.warning("follow_listen_failed", error=type(error).__name__)
            time.sleep(1.0)
        finally:
            if raw is not None:
                raw.invalidate()  # never back to the pool still listening


def follow_service(service: str, settings: Settings) -> None:
    """``pingan follow <service>``: relay and project ``service``'s log until SIGTERM, with no nameko
    workers; serves ``/metrics`` (relay and projection lag, ``pingan_up``) and ``/health`` on
    ``PINGAN_HTTP_ADDRESS``. Woken by the service's NOTIFY after saves (PostgreSQL), polling every
    PINGAN_RELAY_INTERVAL besides. SIGTERM: the pass under way finishes, one last pass, then exit."""
    from .dependencies import open_store
    from .metrics import ServiceSource, service_gauges
    from .registry import service_class

    store = service_class(service).store  # type: ignore[attr-defined]  # a plain class attribute of every service
    opened = open_store(service, store.application_class, store.projections, settings)
    following = LogFollowing(service, opened.app, opened.engine, store.projections, store.contracts, settings,
                             settings.nameko_config(), on_stall=lambda name: metrics().projection_errors
                             .labels(service, name).inc(), unknown_shapes=opened.unknown_shapes)
    relay = following.relay
    service_gauges().add(service, ServiceSource(
        relay_lag=lambda: relay.lag() if relay else 0,
        projection_lags=lambda: {name: runner.lag() for name, runner in opened.runners.items()}))
    _serve_http(settings.http_address, following)
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: following.stop_soon())
    if opened.engine.dialect.name == "postgresql":
        threading.Thread(target=listen_for_saves, args=(opened.engine, service, following), daemon=True).start()
    log.info("following", service=service, relay=relay is not None, projections=len(store.projections))
    following.wake()  # a first pass at once: what was stored while no one followed
    following.run(settings.relay_interval, newest=opened.app.recorder.max_notification_id)
    following.finish()
    service_gauges().remove(service)
    log.info("followed", service=service)


ALIVE_SECONDS = 60.0  # a loop that has not gone round for this long is wedged (passes wait at most 10 s)


def _serve_http(address: str, following: LogFollowing) -> None:
    """``/metrics`` and ``/health`` on a green thread (the process is eventlet-patched, psycopg2 too)."""
    import eventlet
    import eventlet.wsgi
    from prometheus_client import make_wsgi_app

    exposition = make_wsgi_app()

    def app(environ: dict, start_response: Callable) -> Any:
        if environ.get("PATH_INFO") == "/health":
            alive = time.monotonic() - following.last_turn < ALIVE_SECONDS
            start_response("200 OK" if alive else "503 Service Unavailable", [("Content-Type", "application/json")])
            return [json.dumps({"ok": alive}).encode()]
        return exposition(environ, start_response)

    host, port = address.rsplit(":", 1)
    eventlet.spawn(eventlet.wsgi.server, eventlet.listen((host, int(port))), app, log_output=False)
