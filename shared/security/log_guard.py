"""Keep third-party DEBUG logs that print message bodies out of the log stream.

nameko's RPC client logs every reply body at DEBUG ("RPC reply event
complete ... {'result': {...}}"), and kombu/amqp can print frames: with
PINGAN_LOG_LEVEL=DEBUG that would put names and case details in the logs
(found by the canary test). Those loggers stay at INFO or above whatever the
configured level; our own loggers never log payloads.

nameko also logs every expected error (a refused call: validation, forbidden,
not found, invalid transition) with its traceback, whose frames hold the
payload; the kernel logs those as one line instead (dependencies.Observability),
so nameko's copy is dropped.

The web server's access log line names the request's path and query; a query string is the
caller's (the HTTP gateway's ``?external_ref=...``), so the line keeps the path only.
"""

from __future__ import annotations

import logging
import re

PAYLOAD_LOGGERS = ("nameko", "kombu", "amqp")


def _not_an_expected_error(record: logging.LogRecord) -> bool:
    return not (isinstance(record.msg, str) and record.msg.startswith("(expected)"))


_QUERY = re.compile(r'("[A-Z]+ [^ ?"]*)\?[^ "]*')


def _without_query(record: logging.LogRecord) -> bool:
    if isinstance(record.msg, str):
        record.msg = _QUERY.sub(r"\1", record.msg)
    return True


def guard_payload_loggers(floor: int = logging.INFO) -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor or logger.level < floor:
            logger.setLevel(floor)
    containers = logging.getLogger("nameko.containers")
    if _not_an_expected_error not in containers.filters:
        containers.addFilter(_not_an_expected_error)
    access = logging.getLogger("nameko.web.server")
    if _without_query not in access.filters:
        access.addFilter(_without_query)
