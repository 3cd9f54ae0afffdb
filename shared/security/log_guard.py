"""Keep third-party DEBUG logs that print message bodies out of the log stream.

nameko's RPC client logs every reply body at DEBUG ("RPC reply event
complete ... {'result': {...}}"), and kombu/amqp can print frames: with
PINGAN_LOG_LEVEL=DEBUG that would put names and case details in the logs
(found by the canary test). Those loggers stay at INFO or above whatever the
configured level; our own loggers never log payloads.
"""

from __future__ import annotations

import logging

PAYLOAD_LOGGERS = ("nameko", "kombu", "amqp")


def guard_payload_loggers(floor: int = logging.INFO) -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor or logger.level < floor:
            logger.setLevel(floor)
