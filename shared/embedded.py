"""The embedded default: every service in one process, on kombu's in-memory
transport, with SQLite files under a local data folder. Nothing to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcProxy

from .config import Settings
from .context import TOKEN_KEY, CallerContext, Role
from .jurisdiction import PREFECTURE

MEMORY_URI = "memory://localhost/"


def patch_memory_transport(polling_interval: float = 0.002) -> None:
    """Two small fixes that make nameko work on kombu's in-memory transport (design §5).

    nameko's RPC responder reads ``message.properties['content_type']``, which
    only real AMQP fills (virtual transports set ``message.content_type``); and
    kombu polls virtual transports every second, which would make each RPC
    take a second.
    """
    from kombu.transport import memory
    from nameko.rpc import Responder

    memory.Transport.polling_interval = polling_interval
    if getattr(Responder.send_response, "pingan_patched", False):
        return
    original = Responder.send_response

    def send_response(self: Any, result: Any, exc_info: Any) -> Any:
        self.message.properties.setdefault("content_type", self.message.content_type)
        return original(self, result, exc_info)

    send_response.pingan_patched = True  # type: ignore[attr-defined]
    Responder.send_response = send_response


def start_services(service_classes: list[type], config: dict, first_port: int) -> list[ServiceContainer]:
    """One container per service, each with its own HTTP port for /metrics and /health."""
    host = config.get("WEB_SERVER_ADDRESS", "127.0.0.1:8000").rsplit(":", 1)[0]
    containers = []
    for offset, service_class in enumerate(service_classes):
        container = ServiceContainer(service_class, {**config, "WEB_SERVER_ADDRESS": f"{host}:{first_port + offset}"})
        container.start()
        containers.append(container)
    return containers


def admin_proxy(settings: Settings, config: dict) -> ClusterRpcProxy:
    """An RPC proxy acting as the prefecture's administrator, for seeding and the demo console."""
    admin = CallerContext(actor_id="demo-admin", role=Role.ADMIN, jurisdiction=PREFECTURE)
    token = settings.issuer().issue(admin, ttl=settings.token_limits.cap(admin.role))
    return ClusterRpcProxy(config, context_data={TOKEN_KEY: token}, timeout=30)


def officer_proxy(settings: Settings, config: dict) -> ClusterRpcProxy:
    """An RPC proxy acting as a township officer of Qianzhou (Jishou) serving the four key populations:
    the records of those categories are not the administrator's to read (shared/security/policy.py)."""
    from shared.security.policy import KEY_POPULATIONS

    officer = CallerContext(actor_id="demo-township-officer", role=Role.TOWNSHIP_OFFICER, jurisdiction="433101001",
                            categories=frozenset(KEY_POPULATIONS))
    token = settings.issuer().issue(officer, ttl=settings.token_limits.cap(officer.role))
    return ClusterRpcProxy(config, context_data={TOKEN_KEY: token}, timeout=30)


def civil_affairs_proxy(settings: Settings, config: dict) -> ClusterRpcProxy:
    """An RPC proxy acting as the prefecture's civil affairs, serving minors: juvenile protection's
    records are not the administrator's to read either (shared/security/policy.py)."""
    from shared.security.policy import Category

    civil_affairs = CallerContext(actor_id="demo-civil-affairs", role=Role.CIVIL_AFFAIRS, jurisdiction=PREFECTURE,
                                  categories=frozenset({Category.MINORS}))
    token = settings.issuer().issue(civil_affairs, ttl=settings.token_limits.cap(civil_affairs.role))
    return ClusterRpcProxy(config, context_data={TOKEN_KEY: token}, timeout=30)


def embedded_config(settings: Settings) -> dict:
    return {**settings.nameko_config(), "AMQP_URI": MEMORY_URI}


def wait_forever(stop: Callable[[], None]) -> None:
    import eventlet

    try:
        while True:
            eventlet.sleep(3600)
    except KeyboardInterrupt:
        stop()
