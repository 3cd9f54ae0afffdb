"""The registry tells services (a store, events, migrations, the contract suite) from edges (the HTTP
gateway: services/<name>/edge.py, no store), and `pingan serve` runs either."""

from shared.dependencies import Store
from shared.entrypoints import EdgeBase, ServiceBase
from shared.registry import edge_class, edge_names, runnable_class, service_class, service_names


def test_registry_edges_are_not_services():
    assert edge_names() == ["gateway"] and not set(edge_names()) & set(service_names())


def test_registry_edges_keep_no_store():
    assert [name for name in edge_names()
            if any(isinstance(v, Store) for cls in edge_class(name).__mro__ for v in vars(cls).values())] == []


def test_registry_services_each_keep_a_store():
    assert [name for name in service_names()
            if not any(isinstance(v, Store) for v in vars(service_class(name)).values())] == []


def test_registry_runnable_finds_services_and_edges():
    assert issubclass(runnable_class("gateway"), EdgeBase)
    assert issubclass(runnable_class("grid_events"), ServiceBase)
