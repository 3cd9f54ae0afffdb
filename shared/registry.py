"""Which services exist: every ``services/<name>/service.py`` with a ServiceBase subclass.

Found when asked, so a new service joins the embedded run, the CLI and the
chart's commands by existing.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import services

from .entrypoints import ServiceBase


def service_names() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules(services.__path__)
        if module.ispkg and importlib.util.find_spec(f"services.{module.name}.service") is not None
    )


def service_class(name: str) -> type[ServiceBase]:
    if name not in service_names():
        raise LookupError(f"no service {name!r}; the services are: {', '.join(service_names())}")
    module = importlib.import_module(f"services.{name}.service")
    for _, candidate in inspect.getmembers(module, inspect.isclass):
        if (
            issubclass(candidate, ServiceBase)
            and candidate is not ServiceBase
            and candidate.__module__ == module.__name__
        ):
            return candidate
    raise LookupError(f"services/{name}/service.py defines no ServiceBase subclass")


def service_classes() -> list[type[ServiceBase]]:
    return [service_class(name) for name in service_names()]
