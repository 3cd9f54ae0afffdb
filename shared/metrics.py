"""Prometheus metrics: RED for every entrypoint, relay and projection lag, domain gauges.

Labels are bounded: service, entrypoint, kind, error class, event type,
county code — never a person, a case id or free text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import structlog
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

log = structlog.get_logger(__name__)


class Metrics:
    def __init__(self) -> None:
        self.calls = Counter(
            "pingan_entrypoint_calls", "Entrypoint calls", ["service", "entrypoint", "kind"]
        )
        self.errors = Counter(
            "pingan_entrypoint_errors",
            "Entrypoint calls that ended in an error",
            ["service", "entrypoint", "kind", "error"],
        )
        self.duration = Histogram(
            "pingan_entrypoint_duration_seconds",
            "Entrypoint duration",
            ["service", "entrypoint", "kind"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.dispatched = Counter(
            "pingan_relay_dispatched", "Public events published by the relay", ["service", "event_type"]
        )
        # Exposed as pingan_projection_errors_total; a rise means a read model stalled (alert in the chart).
        self.projection_errors = Counter(
            "pingan_projection_errors", "Events a projection could not apply", ["service", "projection"]
        )
        # Exposed as pingan_dead_letters_total; reason is one of a few fixed words (shared/reliable.py).
        self.dead_letters = Counter(
            "pingan_dead_letters", "Messages put in the dead-letter queue", ["service", "reason"]
        )
        # Exposed as pingan_events_refused_total: received events whose publisher signature failed.
        self.events_refused = Counter(
            "pingan_events_refused", "Received events refused before any work", ["source", "reason"]
        )
        # Exposed as pingan_tampered_rows_total: read-model rows left out because their seal failed
        # (shared/security/row_seal.py); declared here so the alert's metric exists before the first one.
        self.tampered_rows = Counter(
            "pingan_tampered_rows", "Read-model rows left out because their seal failed", ["projection"]
        )


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    """The process's metric objects, made on first use rather than at import."""
    return Metrics()


class ServiceSource:
    """What one service adds to a scrape: relay and projection lag, and its domain figures."""

    def __init__(self, relay_lag: Callable[[], int] | None = None,
                 projection_lags: Callable[[], dict[str, int]] = dict,
                 domain_gauges: Callable[[], Iterable[Any]] = tuple):
        # An edge (no store) has no relay, read models or figures: it only says it is up.
        self.relay_lag = relay_lag
        self.projection_lags = projection_lags
        self.domain_gauges = domain_gauges


class ServiceGauges:
    """One collector per process, merging every service that runs in it.

    Several services share a process in the embedded default; one collector
    keeps each metric family written once per scrape, as Prometheus requires.
    """

    def __init__(self) -> None:
        self.sources: dict[str, ServiceSource] = {}

    def add(self, service: str, source: ServiceSource) -> None:
        self.sources[service] = source

    def remove(self, service: str) -> None:
        self.sources.pop(service, None)

    def describe(self) -> list:
        return []  # families depend on which services run; computed at scrape

    def collect(self) -> Iterable[Any]:
        up = GaugeMetricFamily("pingan_up", "1 while the service runs", labels=["service"])
        relay = GaugeMetricFamily(
            "pingan_relay_lag_events", "Stored events the relay has not yet read", labels=["service"]
        )
        projection = GaugeMetricFamily(
            "pingan_projection_lag_events",
            "Stored events a projection has not yet applied",
            labels=["service", "projection"],
        )
        domain: list[Any] = []
        for service, source in list(self.sources.items()):
            up.add_metric([service], 1)
            try:
                if source.relay_lag is not None:
                    relay.add_metric([service], source.relay_lag())
                for name, lag in source.projection_lags().items():
                    projection.add_metric([service, name], lag)
                domain.extend(source.domain_gauges())
            except Exception as error:  # a scrape must not fail because a database is away
                log.warning("metrics_collection_failed", service=service, error=type(error).__name__)
        yield up
        yield relay
        yield projection
        yield from domain


@lru_cache(maxsize=1)
def service_gauges() -> ServiceGauges:
    gauges = ServiceGauges()
    REGISTRY.register(gauges)
    return gauges
