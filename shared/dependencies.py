"""The nameko dependency providers every service declares.

They build their parts in ``setup()`` — after eventlet has monkey-patched
the process; built earlier, saves fail with "cannot wait/notify on
un-acquired lock" (design §5).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from .config import Settings, load_settings
from .context import TOKEN_KEY, CallerContext, Role, TokenVerifier
from .contracts import Contracts
from .errors import PinganError, Unauthenticated
from .eventstore import Call, PinganApplication, application_env, payload_digest
from .follow import IN_PROCESS, LogFollowing, SaveNotifier
from .metrics import ServiceSource, metrics, service_gauges
from .projections import Projection, ProjectionRunner, create_view_tables, views_engine
from .relay import SERVICE_JURISDICTION
from .security.event_signing import EventRefused, EventVerifier, event_verifier

log = structlog.get_logger(__name__)

# The service's own application class, so that `store.app` type-checks its commands.
App = TypeVar("App", bound=PinganApplication)


@dataclass
class OpenedStore(Generic[App]):
    app: App
    engine: Engine
    runners: dict[str, ProjectionRunner]
    unknown_shapes: list[str] = field(default_factory=list)  # projections `pingan migrate` must rebuild


def open_store(
    service: str,
    application_class: type[App],
    projections: Sequence[Projection],
    settings: Settings,
    migrate: bool | None = None,
) -> OpenedStore[App]:
    """The application, read-model engine and projection runners of ``service``.

    Used by the nameko provider below and, without nameko, by the
    command-line tools (migrate, rebuild) and the benchmarks. Only ``migrate``
    rebuilds read-model tables whose shape changed; by default that is done
    only by the embedded, single-process setups (in memory, SQLite), where no
    other replica serves the tables.
    """
    app = application_class(env=application_env(service, settings))
    if settings.persistence == "memory":
        engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = views_engine(settings.views_url(service))
    if migrate is None:
        migrate = settings.persistence == "memory" or engine.dialect.name == "sqlite"
    unknown: list[str] = []
    if settings.create_tables or settings.persistence == "memory":
        changed = create_view_tables(engine, projections, rebuild=migrate)
        unknown = [] if migrate else changed
    runners = {p.name: ProjectionRunner(app, engine, p) for p in projections}
    return OpenedStore(app, engine, runners, unknown)


class Store(DependencyProvider, Generic[App]):
    """The service's event store, read models and relay, built once per container.

    A worker gets this provider itself: ``store.app`` for commands,
    ``store.read()`` for queries (after a catch-up, so a caller reads their
    own writes).
    """

    def __init__(
        self,
        application_class: type[App],
        projections: Sequence[Projection] = (),
        contracts: Contracts | None = None,
    ):
        self.application_class = application_class
        self.projections = list(projections)
        self.contracts = contracts

    def setup(self) -> None:
        self.settings: Settings = load_settings()
        service = self.container.service_name
        opened = open_store(service, self.application_class, self.projections, self.settings)
        self.app, self.engine, self.runners = opened.app, opened.engine, opened.runners
        self.following = LogFollowing(service, self.app, self.engine, self.projections, self.contracts,
                                      self.settings, self.container.config, on_stall=self._count_stall,
                                      unknown_shapes=opened.unknown_shapes)
        self.projector, self.relay, self.publisher = \
            self.following.projector, self.following.relay, self.following.publisher
        for projection in self.projections:  # exposed at 0 from the start, so a first stall is an increase
            metrics().projection_errors.labels(service, projection.name)
        # Off: a `pingan follow` process relays and projects this log (shared/follow.py); queries
        # still catch up before reading.
        self.follows_log = self.settings.follow_log == IN_PROCESS
        self.notifier = None
        if self.follows_log:
            self.app.saved_listeners.append(self.following.wake)
        elif self.engine.dialect.name == "postgresql":
            self.notifier = SaveNotifier(self.engine, service, self.settings.follow_delay)
            self.app.saved_listeners.append(self.notifier.wake)
        service_gauges().add(
            service,
            ServiceSource(
                relay_lag=lambda: self.relay.lag() if self.relay else 0,
                projection_lags=lambda: {name: r.lag() for name, r in self.runners.items()},
                domain_gauges=self._domain_gauges,
            ),
        )

    def start(self) -> None:
        if self.follows_log:
            self.container.spawn_managed_thread(
                lambda: self.following.run(self.settings.relay_interval))
        if self.notifier is not None:
            self.container.spawn_managed_thread(self.notifier.run)

    def stop(self) -> None:
        # Workers have finished: relay and project what they stored before going (best effort;
        # whatever is left is picked up from the stored positions by the next start).
        self.following.stop()
        if self.notifier is not None:
            self.notifier.stop()
        if self.follows_log:
            self.following.finish()
        else:
            self.following.close()
        service_gauges().remove(self.container.service_name)

    def kill(self) -> None:
        self.following.stop()
        if self.notifier is not None:
            self.notifier.stop()
        service_gauges().remove(self.container.service_name)

    def get_dependency(self, worker_ctx: Any) -> Store[App]:
        return self

    # -- used by workers ------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to the read models, caught up; reading a stalled one raises ReadModelStalled."""
        conn = self.engine.connect()
        try:
            if not self.projector.current_for_query(conn):
                conn.close()  # a pass takes its own connections: none is held while it waits for one
                self.projector.catch_up()
                conn = self.engine.connect()
            with self.projector.guard(conn):
                yield conn
        finally:
            conn.close()

    def catch_up(self) -> None:
        self.projector.catch_up()

    def relay_pending(self) -> int:
        return self.relay.relay_pending() if self.relay else 0

    def projections_ready(self) -> dict[str, str]:
        """Each projection that cannot follow the log, with why (empty when all can)."""
        return dict(self.projector.stalled)

    def _count_stall(self, projection: str) -> None:
        metrics().projection_errors.labels(self.container.service_name, projection).inc()

    def database_ok(self) -> bool:
        try:
            self.app.recorder.max_notification_id()
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def _domain_gauges(self) -> list:
        families: list = []
        with self.engine.connect() as conn:
            for projection in self.projections:
                families.extend(projection.gauges(conn))
        return families


class Presence(DependencyProvider):
    """An edge process's ``pingan_up``: what the service-down alert reads, for a process with no store."""

    def setup(self) -> None:
        service_gauges().add(self.container.service_name, ServiceSource())

    def stop(self) -> None:
        service_gauges().remove(self.container.service_name)

    def kill(self) -> None:
        service_gauges().remove(self.container.service_name)


class CallerIdentity(DependencyProvider):
    """Verifies the signed caller token, or an event's publisher signature, in the worker's context data."""

    def setup(self) -> None:
        settings = load_settings()
        self.tokens = settings.verifier()
        self.events = event_verifier(settings)

    def get_dependency(self, worker_ctx: Any) -> CallVerifier:
        return CallVerifier(self.tokens, worker_ctx, self.events)


class CallVerifier:
    def __init__(self, tokens: TokenVerifier, worker_ctx: Any, events: EventVerifier | None = None):
        self.tokens = tokens
        self.worker_ctx = worker_ctx
        self.events = events

    def verify(self) -> Call:
        try:
            caller = self.tokens.verify(self.worker_ctx.context_data.get(TOKEN_KEY))
        except Unauthenticated as refusal:
            log.warning("caller_refused", reason=refusal.message)  # never the token itself
            raise
        return self._call(caller)

    def verify_event(self, source: str, event_type: str, body: Any) -> Call:
        """The publishing service as the caller, once its signature over ``body`` holds (else EventRefused)."""
        try:
            self.events.verify(source, body, self.worker_ctx.context_data)
        except EventRefused as refusal:
            # Logged by @consumes with the subscription's names, never the body or signature.
            metrics().events_refused.labels(source, refusal.reason).inc()
            raise
        return self._call(CallerContext(actor_id=f"service:{source}", role=Role.SERVICE,
                                        jurisdiction=SERVICE_JURISDICTION))

    def _call(self, caller: CallerContext) -> Call:
        stack = self.worker_ctx.call_id_stack or [self.worker_ctx.call_id]
        structlog.contextvars.bind_contextvars(actor_id=caller.actor_id, role=caller.role.value)
        # The method and its arguments scope a command id to what was asked (eventstore.CommandRecord).
        return Call(caller=caller, call_id=stack[0], method=self.worker_ctx.entrypoint.method_name,
                    payload_digest=payload_digest(self.worker_ctx.kwargs or {}))


_KINDS = {"Rpc": "rpc", "EventHandler": "event", "Timer": "timer", "HttpRequestHandler": "http"}


class Observability(DependencyProvider):
    """RED metrics and a bound call id for every worker, whatever its entrypoint."""

    def setup(self) -> None:
        self._started: dict[int, float] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[id(worker_ctx)] = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            service=self.container.service_name,
            entrypoint=worker_ctx.entrypoint.method_name,
            call_id=(worker_ctx.call_id_stack or [worker_ctx.call_id])[0],
        )

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(id(worker_ctx), None)
        labels = (
            self.container.service_name,
            worker_ctx.entrypoint.method_name,
            # by the nearest known base: the gateway's route is an HttpRequestHandler
            next((_KINDS[c.__name__] for c in type(worker_ctx.entrypoint).__mro__ if c.__name__ in _KINDS), "other"),
        )
        m = metrics()
        m.calls.labels(*labels).inc()
        if started is not None:
            m.duration.labels(*labels).observe(time.perf_counter() - started)
        if exc_info is not None:
            error = exc_info[1]
            m.errors.labels(*labels, type(error).__name__).inc()
            if isinstance(error, PinganError):
                log.info("refused", error=type(error).__name__, reason=error.message)
            else:
                log.error("failed", error=type(error).__name__, exc_info=exc_info)

    def worker_teardown(self, worker_ctx: Any) -> None:
        structlog.contextvars.clear_contextvars()

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
