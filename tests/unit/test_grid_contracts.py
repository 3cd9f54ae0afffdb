"""grid_events' public contract: every published event is declared with its
schema and carries no personal data."""

import inspect

import pytest
from eventsourcing.utils import resolve_topic

from services.grid_events import contracts as c
from services.grid_events import publishing
from services.grid_events.domain import PERSONAL_FIELDS, EventReport
from services.grid_events.service import GridEventsService

PERSONAL = {field for fields in PERSONAL_FIELDS.values() for field in fields} | {"name", "title", "summary", "reason"}


def rpc_methods():
    return sorted(name for name, member in inspect.getmembers(GridEventsService)
                  if any(type(e).__name__ == "Rpc" for e in getattr(member, "nameko_entrypoints", ())))


@pytest.mark.parametrize("event_type", sorted(publishing.contracts().schemas))
def test_published_payload_has_no_personal_field(event_type):
    fields = set(publishing.contracts().schemas[event_type].model_fields)
    assert not fields & PERSONAL, fields & PERSONAL


# Every event and RPC method is documented: tests/unit/test_service_docs.py, for every service.


def test_events_stored_before_the_domain_split_still_resolve():
    # Topics are data: events stored when the domain was one module name it so.
    assert resolve_topic("services.grid_events.domain:EventReport.Reported") is EventReport.Reported


def test_stored_topics_and_event_types_name_no_sensitive_category():
    from services.grid_events import domain
    from shared.security.topics import event_topics, leaking_names

    aggregates = [getattr(domain, name) for name in domain.__all__
                  if isinstance(getattr(domain, name), type) and hasattr(getattr(domain, name), "Event")]
    names = event_topics(*aggregates) + sorted(publishing.contracts().schemas)
    assert len(names) > 40 and leaking_names(names) == []


# Queries answered without an audited read return only non-personal columns; every other query
# takes a purpose and is audited (docs/services/grid_events.md, "Calling conventions").
NON_PERSONAL_QUERIES = {"list_grids", "list_member_units", "source_report", "health"}


@pytest.mark.parametrize("method", [m for m in rpc_methods() if m.startswith(("list_", "get_", "source_", "health"))])
def test_every_query_is_audited_or_known_to_return_no_personal_data(method):
    query = getattr(c, "".join(part.title() for part in method.split("_")), None)
    if method in NON_PERSONAL_QUERIES:
        assert query is None or not issubclass(query, c.Personal)
    else:
        # That a Personal query's call is audited is observed in test_grid_history.py.
        assert query is not None and issubclass(query, c.Personal), f"{method} returns personal data unaudited"
