"""Which services exist: every ``services/<name>/service.py`` with a ServiceBase subclass.

Found when asked, so a new service joins the embedded run, the CLI and the
chart's commands by existing. A package with ``edge.py`` instead is an edge process (the HTTP
gateway): it keeps no store and publishes no events, so it is not among the services that the
migrations, the contract suite, catch-up and the chart's per-service objects iterate over; it is
run, deployed and documented as an edge (``edge_names``, docs/integration.md).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import services

from .entrypoints import EdgeBase, ServiceBase


def _packages_with(module: str) -> list[str]:
    return sorted(
        found.name
        for found in pkgutil.iter_modules(services.__path__)
        if found.ispkg and importlib.util.find_spec(f"services.{found.name}.{module}") is not None
    )


def service_names() -> list[str]:
    return _packages_with("service")


def edge_names() -> list[str]:
    return _packages_with("edge")


def _defined(name: str, module_name: str, base: type) -> type:
    module = importlib.import_module(f"services.{name}.{module_name}")
    for _, candidate in inspect.getmembers(module, inspect.isclass):
        if issubclass(candidate, base) and candidate is not base and candidate.__module__ == module.__name__:
            return candidate
    raise LookupError(f"services/{name}/{module_name}.py defines no {base.__name__} subclass")


def service_class(name: str) -> type[ServiceBase]:
    if name not in service_names():
        raise LookupError(f"no service {name!r}; the services are: {', '.join(service_names())}")
    return _defined(name, "service", ServiceBase)


def edge_class(name: str) -> type[EdgeBase]:
    if name not in edge_names():
        raise LookupError(f"no edge {name!r}; the edges are: {', '.join(edge_names())}")
    return _defined(name, "edge", EdgeBase)


def runnable_class(name: str) -> type[ServiceBase] | type[EdgeBase]:
    """What ``pingan serve <name>`` runs: a service or an edge."""
    if name in edge_names():
        return edge_class(name)
    if name not in service_names():
        raise LookupError(f"no service or edge {name!r}; they are: {', '.join(service_names() + edge_names())}")
    return service_class(name)


def service_classes() -> list[type[ServiceBase]]:
    return [service_class(name) for name in service_names()]
