"""``pingan events since``: read a service's public events back from its log (catch-up).

Prints one JSON object per line, ``{"body": envelope, "headers": signature headers}``, then
``{"position": N, "more": bool}`` to ask from next. The caller is PINGAN_CALLER_TOKEN, else an
administrator's token from the issuer's key (operators only).
"""

from __future__ import annotations

import json
import os

import typer

app = typer.Typer(help="Public events read back from a service's log (docs/integration.md).", no_args_is_help=True)


@app.command("since")
def since(
    service: str = typer.Argument(..., help="e.g. grid_events"),
    position: int = typer.Option(0, help="the last notification_id already handled"),
    limit: int = typer.Option(100, help="log entries to read (at most 500)"),
    follow: bool = typer.Option(False, help="keep reading pages until the log ends"),
) -> None:
    from nameko.standalone.rpc import ClusterRpcProxy

    from .config import load_settings
    from .context import TOKEN_KEY, CallerContext, Role
    from .jurisdiction import PREFECTURE

    settings = load_settings()
    token = os.environ.get("PINGAN_CALLER_TOKEN") or settings.issuer().issue(
        CallerContext(actor_id="operator", role=Role.ADMIN, jurisdiction=PREFECTURE))
    with ClusterRpcProxy(settings.nameko_config(), context_data={TOKEN_KEY: token}, timeout=30) as rpc:
        while True:
            page = getattr(rpc, service).events_since(position=position, limit=limit)
            for item in page["items"]:
                typer.echo(json.dumps(item))
            position = page["position"]
            if not (follow and page["more"]):
                break
    typer.echo(json.dumps({"position": position, "more": page["more"]}))
