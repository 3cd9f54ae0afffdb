"""``pingan clients``: register, list, revoke outside systems and issue their tokens.

Run where the token issuer's key is (``token`` needs it; the others only the
registry's database). Exit 2 when refused (unknown, taken or revoked client).
"""

from __future__ import annotations

import json

import typer
from rich.console import Console

from .errors import PinganError

app = typer.Typer(help="Outside systems' credentials (docs/integration.md).", no_args_is_help=True)
console = Console(stderr=True)


def _registry(create: bool = True):
    from .clients import REGISTRY_DATABASE, ClientRegistry
    from .config import load_settings

    settings = load_settings()
    return settings, ClientRegistry.at(settings.events_url(REGISTRY_DATABASE), create)


def _refused(error: PinganError) -> typer.Exit:
    console.print(f"[red]refused: {error.message}")
    return typer.Exit(2)


@app.command("register")
def register(
    client_id: str = typer.Argument(..., help="the client's id, e.g. hotline-12345"),
    name: str = typer.Option(..., help="who the client is, e.g. 'Citizen hotline'"),
    jurisdiction: str = typer.Option(..., help="the jurisdiction it reports into, e.g. 433100"),
    max_minutes: int = typer.Option(60, help="the longest one of its tokens may live"),
    actor: str = typer.Option("operator", help="who registers it (recorded)"),
) -> None:
    """Register an outside system; prints it as JSON."""
    _, registry = _registry()
    try:
        client = registry.register(actor, client_id=client_id, name=name, jurisdiction=jurisdiction,
                                   max_minutes=max_minutes)
    except PinganError as error:
        raise _refused(error) from None
    typer.echo(json.dumps(client.as_dict()))


@app.command("list")
def list_clients() -> None:
    """Every client, registered and revoked, one JSON object per line."""
    _, registry = _registry()
    for client in registry.clients().values():
        typer.echo(json.dumps(client.as_dict()))


@app.command("revoke")
def revoke(client_id: str = typer.Argument(...), actor: str = typer.Option("operator")) -> None:
    """Revoke a client: services refuse its tokens within PINGAN_CLIENT_CACHE_SECONDS."""
    _, registry = _registry()
    try:
        client = registry.revoke(actor, client_id)
    except PinganError as error:
        raise _refused(error) from None
    typer.echo(json.dumps(client.as_dict()))


@app.command("token")
def token(client_id: str = typer.Argument(...),
          minutes: int = typer.Option(None, help="default and maximum: the client's max_minutes")) -> None:
    """Print a token for an active client (role integration), signed by the issuer."""
    settings, registry = _registry(create=False)  # reads only: the services' role will do (the chart's issuer pod)
    try:
        print(registry.issue(settings.issuer(), client_id, minutes))
    except PinganError as error:
        raise _refused(error) from None
