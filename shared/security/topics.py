"""Stored topics and public event types must not name a sensitive category.

A topic such as ``services.key_populations.domain:DrugUser.Enrolled`` sits in
plaintext in every stored row, and an AMQP routing key such as
``drug_user_enrolled`` in every message header: either reveals that a person
is a drug user without decrypting anything. Services keep one neutral
aggregate (``Person``, ``Case``) with the category sealed inside, and test
their names with ``leaking_names``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

SENSITIVE_WORDS = ("drug", "correction", "released", "prison", "mental", "psychi", "minor", "juvenile",
                   "criminal", "offender", "addict", "hiv", "disorder")


def event_topics(*aggregate_classes: type) -> list[str]:
    """The stored topics of every event class nested in the given aggregates."""
    topics = []
    for aggregate in aggregate_classes:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, CanMutateAggregate):
                topics.append(get_topic(value))
    return topics


def leaking_names(names: Iterable[str]) -> list[str]:
    """The names (topics, event types, exchange names) that carry a sensitive word."""
    return [name for name in names if any(word.startswith(sensitive) for word in _words(name)
                                          for sensitive in SENSITIVE_WORDS)]


def _words(name: str) -> list[str]:
    """``services.x:MinorCase.Archived`` → services, x, minor, case, archived: whole words, so that
    "hiv" is found in "hiv_test" but not in "Archived"."""
    return re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower())
