"""Structured logs: JSON in deployment, readable on a terminal.

The call id is bound per worker (see dependencies.Observability) and so
follows a call across RPC and events. Log event names and ids, never
personal fields: names, ID numbers, addresses and free text stay out.
"""

from __future__ import annotations

import logging
import sys

import structlog


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at each write: a stream bound once would outlive a caller that
    swapped stderr and closed it (an embedded CLI run, a test runner), and every later log would fail."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    # Tracebacks (unexpected errors only) without local variables: frames hold payload values.
    renderer = (
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False))
        if fmt == "console" else structlog.processors.JSONRenderer()
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        # Not cached: a cached logger keeps the configuration of its first use, so a later
        # reconfiguration (a test capturing logs, the CLI setting a level) would not reach it.
        cache_logger_on_first_use=False,
    )
    # nameko and kombu log through the standard library: same format, same stream.
    handler = logging.StreamHandler(_CurrentStderr())  # type: ignore[arg-type]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer], foreign_pre_chain=shared
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # nameko logs RPC reply bodies at DEBUG: keep them out whatever the level (docs/security.md)
    from .security.log_guard import guard_payload_loggers

    guard_payload_loggers()
