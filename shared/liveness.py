"""``GET /health``: liveness, answered by the web server's own green thread.

Not a nameko worker (a pool busy with calls waiting on a stalled database would hold the
probe until it times out, restarting every replica at once), and nothing here touches the
database or the broker: liveness says only that the process is not wedged — its event loop
answers, the container is not dying, and its message consumers still run (reconnecting is
running). Readiness (``/ready``) is where dependencies are reported (docs/reliability.md).
"""

from __future__ import annotations

import json
from typing import Any

from nameko.messaging import QueueConsumer
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response


def wedged(container: Any) -> list[str]:
    """What keeps ``container`` from doing its work until it is restarted (empty: alive)."""
    problems = []
    if container._being_killed or container._died.ready():
        problems.append("container stopping")
    for extension in container.extensions:
        thread = getattr(extension, "_gt", None)
        if isinstance(extension, QueueConsumer) and thread is not None and thread.dead:
            problems.append(f"consumer stopped: {type(extension).__name__}")
    return problems


class LivenessHandler(HttpRequestHandler):
    def handle_request(self, request: Any) -> Response:
        request.shallow = False
        problems = wedged(self.container)
        body = json.dumps({"service": self.container.service_name, "ok": not problems, "problems": problems})
        return Response(body, status=503 if problems else 200, mimetype="application/json")


liveness = LivenessHandler.decorator
