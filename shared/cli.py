"""``pingan``: the operators' command line.

run      every service in one process (the embedded default), seeded, with a console
serve    one service, against RabbitMQ and a database (how it runs when deployed)
follow   relay and project one service's log in its own process (PINGAN_FOLLOW_LOG=off on the service)
migrate  create a service's tables (the chart's pre-install hook)
rebuild  rebuild a service's read models from its event log
seed     load the Xiangxi demo data into a running platform
ping     check that services answer over RPC (the chart's `helm test`)
token    print a signed caller token, for nameko shell or scripts
shell    a Python console with an authenticated RPC proxy
dead-letters  list, replay or drop the messages a service could not handle
clients  register, list, revoke outside systems and issue their tokens
events   read a service's public events back from its log (catch-up)
new-service   write a new service that passes `make test` untouched (docs/adding-a-service.md)
"""

from __future__ import annotations

import gc
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from .jurisdiction import PREFECTURE

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console(soft_wrap=True)

DEMO_CALLS = [
    'n.rpc.grid_events.list_events(jurisdiction="433101")["total"]',
    'n.rpc.grid_events.report_event(grid_code="433101001001001", category="dispute", source="petition", '
    'severity="medium", place="Well by the village square", description="Two families dispute a shared well.")',
    '[(i["title"], i["due_date"], i["status"]) for i in n.rpc.grid_events.list_work_items()["items"]]',
    '[(c["tier"], c["status"]) for c in n.rpc.mediation.list_cases(jurisdiction="433101")["items"]]',
    '[(i["trigger"], i["level"], i["status"]) for i in n.rpc.emergency_command.list_incidents()["items"]]',
    'print(n.rpc.emergency_command.get_warning_cap('
    'warning_id=n.rpc.emergency_command.list_warnings()["items"][0]["warning_id"])["cap_xml"])',
    # n.officer: a Qianzhou township officer serving the four key populations (the admin serves none).
    '[(e["category"], e["risk_level"], e["next_follow_up_due"]) for e in n.officer.key_populations'
    '.list_enrolments(category="severe_mental_disorder", purpose="follow_up")["items"]]',
    # n.civil_affairs: the prefecture's civil affairs, serving minors. Reports from a school, a village
    # committee and key_populations' referral (a person with minor dependants); the case a report opened.
    '[(r["source"], r["status"]) for r in n.civil_affairs.juvenile_protection'
    '.list_reports(purpose="case_work")["items"]]',
    '[(c["categories"], c["status"], c["school_id"]) for c in n.civil_affairs.juvenile_protection'
    '.list_cases(purpose="case_work")["items"]]',
]


def main() -> None:
    """Console entry: patch eventlet before nameko, kombu or the drivers load (design §5)."""
    import os

    # eventlet's green DNS pulls in dnspython (~8 MiB resident); the services only
    # resolve the broker's and database's names when they connect.
    os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
    warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")  # pinned stack, known
    import eventlet

    eventlet.monkey_patch()
    if sys.argv[1:2] != ["serve"]:  # a serving process never runs the operators' sub-commands
        _mount_optional_commands()
    app()


def _mount_optional_commands() -> None:
    from shared.clients_cli import app as clients_app
    from shared.dead_letters import app as dead_letters_app
    from shared.events_cli import app as events_app
    app.add_typer(dead_letters_app, name="dead-letters")
    app.add_typer(clients_app, name="clients")
    app.add_typer(events_app, name="events")
    from shared.scaffold.cli import new_service
    app.command("new-service")(new_service)
    try:
        from shared.security.cli import app as audit_app
    except ImportError:
        return
    app.add_typer(audit_app, name="audit", help="Verify services' tamper-evident event logs.")
    from shared.security.history_cli import access_log_app, history_app
    app.add_typer(history_app, name="history")
    app.add_typer(access_log_app, name="access-log")


def _settings(data_dir: Path | None = None):
    from shared.config import load_settings
    from shared.logs import configure_logging

    settings = load_settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    configure_logging(settings.log_format, settings.log_level)
    return settings


@app.command()
def run(
    data_dir: Path = typer.Option(Path("data"), help="Where the SQLite files and the generated signing key live."),
    port: int = typer.Option(8000, help="First HTTP port; each service takes the next one (/metrics, /health)."),
    seed: bool = typer.Option(True, help="Load the Xiangxi demo data."),
    console_mode: bool = typer.Option(True, "--console/--no-console", help="Open the demo console after start."),
) -> None:
    """Run every service in one process: in-memory broker, SQLite, demo data."""
    import os

    from shared import demo
    from shared.embedded import (
        admin_proxy,
        civil_affairs_proxy,
        embedded_config,
        officer_proxy,
        patch_memory_transport,
        start_services,
    )
    from shared.registry import edge_class, edge_names, service_classes

    # The services read their settings from the environment when they start.
    os.environ.setdefault("PINGAN_LOG_LEVEL", "WARNING")
    os.environ["PINGAN_DATA_DIR"] = str(data_dir.resolve())
    os.environ.pop("PINGAN_DATABASE_URL", None)  # the embedded default keeps its own SQLite files
    os.environ.pop("PINGAN_PERSISTENCE", None)
    settings = _settings()
    patch_memory_transport()
    config = embedded_config(settings)
    classes = service_classes()
    edges = [edge_class(name) for name in edge_names()]  # the HTTP gateway, on the ports after the services'
    containers = start_services([*classes, *edges], config, port)

    def stop() -> None:
        for container in containers:
            container.stop()

    proxy, officer = admin_proxy(settings, config), officer_proxy(settings, config)
    civil_affairs = civil_affairs_proxy(settings, config)
    rpc, officer_rpc, civil_affairs_rpc = proxy.start(), officer.start(), civil_affairs.start()
    if seed:
        done = demo.seed(rpc, officer_rpc)
        console.print("[green]seeded[/] " + ", ".join(f"{count} {what}" for what, count in done.items()))
    _print_welcome(classes, edges, port, data_dir)
    try:
        if console_mode:
            _console({"n": _Namespace(rpc, officer_rpc, civil_affairs_rpc)})
        else:
            from shared.embedded import wait_forever

            wait_forever(stop)
    finally:
        civil_affairs.stop()
        officer.stop()
        proxy.stop()
        stop()


class _Namespace:
    """What the console calls ``n``, as in nameko shell: ``n.rpc.<service>.<method>(...)``."""

    def __init__(self, rpc, officer=None, civil_affairs=None):
        self.rpc = rpc
        self.officer = officer
        self.civil_affairs = civil_affairs


def _print_welcome(classes, edges, port: int, data_dir: Path) -> None:
    names = ", ".join(cls.name for cls in classes)
    console.print(f"[bold]pingan is running[/]: {names} in one process (in-memory broker, SQLite in {data_dir}/).")
    for offset, cls in enumerate(classes):
        console.print(f"  {cls.name}: http://127.0.0.1:{port + offset}/metrics  /health  /ready")
    for offset, cls in enumerate(edges, start=len(classes)):
        console.print(f"  {cls.name}: http://127.0.0.1:{port + offset}/v1/reports  /openapi.json  (HTTP, Bearer token)")
    if edges:
        console.print(f"  An outside system's token for it: [cyan]PINGAN_DATA_DIR={data_dir} .venv/bin/pingan clients "
                      "register hotline --name Hotline --jurisdiction 433100[/], then [cyan]… clients token hotline[/]"
                      " (docs/integration.md)")
    console.print("Try at the prompt below (you act as the prefecture's administrator):")
    for call in DEMO_CALLS:
        console.print(f"  [cyan]{call}[/]")
    console.print("Against RabbitMQ instead (services run with `pingan serve`), the same from nameko shell:")
    console.print("  [cyan].venv/bin/nameko shell --broker amqp://guest:guest@127.0.0.1:5672/[/]")
    console.print('  [cyan]>>> from nameko.standalone.rpc import ClusterRpcProxy; '
                  'rpc = ClusterRpcProxy(n.config, context_data={"caller_token": "<pingan token>"}).start()[/]')
    console.print("  (`.venv/bin/pingan token` prints a token; `.venv/bin/pingan shell` does all of this for you.)")


def _console(namespace: dict) -> None:
    """An interactive console; with input piped in, it runs the lines and exits at their end."""
    import code

    shell = code.InteractiveConsole(namespace)
    if sys.stdin.isatty():
        shell.interact(banner="pingan console — n.rpc.<service>.<method>(...); Ctrl-D to stop", exitmsg="stopping")
        return
    for line in sys.stdin:
        print(f">>> {line.rstrip()}")
        shell.push(line.rstrip("\n"))
    shell.push("")


@app.command()
def serve(service: str = typer.Argument(..., help="The service to run, e.g. grid_events, or the gateway.")) -> None:
    """Run one service against RabbitMQ (AMQP_URI) and its database (PINGAN_DATABASE_URL), or an edge (gateway)."""
    from nameko.cli.run import run as nameko_run

    from shared.errors import PinganError
    from shared.registry import edge_names, runnable_class
    from shared.security.event_signing import event_signer, event_verifier

    settings = _settings()
    if service in edge_names():
        # An edge holds no key: it forwards each caller's own token, and the services verify it.
        nameko_run([runnable_class(service)], settings.nameko_config())
        return
    try:
        # Keys first: a deployed service without its Secrets refuses to start, it never makes keys up.
        settings.verifier()
        event_verifier(settings)
        event_signer(settings, service)
    except PinganError as error:
        console.print(f"[red]{service} not started: {error.message}")
        raise typer.Exit(2) from None
    service_class = runnable_class(service)
    # What the imports made lives as long as the process: kept out of the collector's full passes,
    # which otherwise stop every call in flight for the whole heap (docs/benchmarks.md, "Reads").
    gc.collect()
    gc.freeze()
    nameko_run([service_class], settings.nameko_config())


@app.command()
def follow(service: str = typer.Argument(..., help="The service whose log to follow.")) -> None:
    """Relay and project one service's log in a process of its own (the service runs with PINGAN_FOLLOW_LOG=off)."""
    from shared.errors import PinganError
    from shared.follow import follow_service
    from shared.registry import service_names
    from shared.security.event_signing import event_signer

    if service not in service_names():
        raise typer.BadParameter(f"no service {service!r}; there are: {', '.join(service_names())}")
    settings = _settings()
    try:
        event_signer(settings, service)  # it publishes as the service: without its key it does not start
    except PinganError as error:
        console.print(f"[red]{service} not followed: {error.message}")
        raise typer.Exit(2) from None
    follow_service(service, settings)


@app.command()
def migrate(
    service: str = typer.Argument(
        None, help="One service, or `clients` (the integration client registry); all when omitted."),
    runtime_role: str | None = typer.Option(
        None, help="PostgreSQL role the service runs as: event rows become append-only for it (run as the owner)."),
) -> None:
    """Create the event store and read-model tables of a service (idempotent).

    The only command that rebuilds read models whose table shape changed
    (`pingan serve` never drops a table). Concurrent runs take turns.
    """
    from shared.clients import REGISTRY_DATABASE, migrate_registry
    from shared.dependencies import open_store
    from shared.registry import service_class, service_names
    from shared.security.links import tables_only

    settings = _settings()
    settings.create_tables = True
    for name in [service] if service else [*service_names(), REGISTRY_DATABASE]:
        if name == REGISTRY_DATABASE:
            migrate_registry(settings.events_url(name), runtime_role)
            console.print(f"[green]tables ready[/] for the integration client registry ({name})"
                          + (f", read-only for role {runtime_role}" if runtime_role else ""))
            continue
        store = service_class(name).store
        with migration_lock(settings.views_url(name)), tables_only():  # the owner never holds the chain key
            opened = open_store(name, store.application_class, store.projections, settings, migrate=True)
        if opened.unknown_shapes:
            console.print(f"[yellow]rebuilt[/] {', '.join(opened.unknown_shapes)} (shape changed)")
        console.print(f"[green]tables ready[/] for {name}")
        if runtime_role:
            from sqlalchemy import create_engine

            from shared.security.db_roles import protect_event_table
            from shared.security.personal_data import metadata as key_tables

            engine = create_engine(settings.events_url(name))
            key_tables.create_all(engine)  # the per-person key table, before the grants
            with engine.begin() as conn:
                protect_event_table(conn, name, runtime_role)
            engine.dispose()
            console.print(f"[green]event rows append-only[/] for role {runtime_role} in {name}")


@contextmanager
def migration_lock(views_url: str):
    """Hold the service's migration lock (PostgreSQL advisory lock) on its own connection:
    a second `pingan migrate` waits, then finds the tables made and succeeds."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from shared.projections import lock_key

    if not views_url.startswith("postgresql"):
        yield  # SQLite: one process owns the file
        return
    engine = create_engine(views_url, poolclass=NullPool)
    key = lock_key(f"pingan:migrate:{views_url}")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
    engine.dispose()


@app.command()
def rebuild(
    service: str = typer.Argument(..., help="The service whose read models to rebuild."),
    projection: str | None = typer.Option(None, help="Only this projection (default: all)."),
) -> None:
    """Rebuild read models from the event log: clear, then project every stored event again.

    Safe while the service runs: each batch holds the projection's position lock, positions
    only move forward, and the service's other projections are not touched; until it is
    done, queries on the rebuilt projection read it as it refills.
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from shared.dependencies import open_store
    from shared.projections import Projector
    from shared.registry import service_class

    settings = _settings()
    store = service_class(service).store
    opened = open_store(service, store.application_class, store.projections, settings)
    chosen = {name: r for name, r in opened.runners.items() if projection in (None, name)}
    if not chosen:
        raise typer.BadParameter(f"no projection {projection!r}; there are: {', '.join(opened.runners)}")
    if opened.unknown_shapes:
        console.print(f"[red]the tables of {', '.join(opened.unknown_shapes)} have another shape[/]: "
                      f"run `pingan migrate {service}` (it rebuilds them)")
        raise typer.Exit(1)
    # All chosen projections in one pass over the log (shared.projections.Projector.rebuild).
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]} events/s"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(", ".join(chosen), total=None, rate="—")
        started = time.monotonic()

        def show(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-6)
            progress.update(task, completed=done, total=total, rate=f"{rate:,.0f}")

        Projector(opened.app, opened.engine, [r.projection for r in chosen.values()]).rebuild(show)
    console.print(f"[green]rebuilt[/] {', '.join(chosen)}")


@app.command("seed")
def seed_command() -> None:
    """Load the Xiangxi demo data into a platform running against RabbitMQ (idempotent)."""
    from shared import demo
    from shared.embedded import admin_proxy, officer_proxy

    settings = _settings()
    if settings.amqp_uri.startswith("memory://"):
        raise typer.BadParameter("set AMQP_URI to the broker the services use (`pingan run` seeds itself)")
    config = settings.nameko_config()
    with admin_proxy(settings, config) as rpc, officer_proxy(settings, config) as officer:
        console.print(demo.seed(rpc, officer))


@app.command()
def ping(
    service: str | None = typer.Argument(None, help="One service; all when omitted."),
    timeout: float = typer.Option(10.0, help="Seconds to wait for each answer."),
) -> None:
    """Exit 0 when every named service answers its `health` RPC."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from shared.registry import service_names

    settings = _settings()
    failed = []
    with ClusterRpcProxy(settings.nameko_config(), timeout=timeout) as rpc:
        for name in [service] if service else service_names():
            try:
                getattr(rpc, name).health()
                console.print(f"[green]ok[/] {name}")
            except Exception as error:
                console.print(f"[red]no answer[/] {name}: {type(error).__name__}")
                failed.append(name)
    raise typer.Exit(1 if failed else 0)


@app.command()
def token(
    role: str = typer.Option("admin"),
    jurisdiction: str = typer.Option(PREFECTURE),
    actor: str = typer.Option("operator"),
    minutes: int = typer.Option(15),
    category: list[str] = typer.Option([], help="A sensitive category the caller serves (repeat for more)."),
) -> None:
    """Print a caller token signed with the issuer's key (PINGAN_TOKEN_ISSUER_KEY); refused over the role's cap."""
    from datetime import timedelta

    from shared.context import CallerContext
    from shared.errors import PinganError

    settings = _settings()
    caller = CallerContext(actor_id=actor, role=role, jurisdiction=jurisdiction, categories=frozenset(category))
    try:
        print(settings.issuer().issue(caller, ttl=timedelta(minutes=minutes)))
    except PinganError as error:
        console.print(f"[red]no token: {error.message}")
        raise typer.Exit(2) from None


@app.command()
def shell(
    role: str = typer.Option("admin"),
    jurisdiction: str = typer.Option(PREFECTURE),
    actor: str = typer.Option("operator"),
    category: list[str] = typer.Option([], help="A sensitive category the caller serves (repeat for more)."),
) -> None:
    """A console with `n.rpc` calling the services over RabbitMQ as the given caller."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from shared.context import TOKEN_KEY, CallerContext

    settings = _settings()
    caller = CallerContext(actor_id=actor, role=role, jurisdiction=jurisdiction, categories=frozenset(category))
    context = {TOKEN_KEY: settings.issuer().issue(caller, ttl=settings.token_limits.cap(caller.role))}
    with ClusterRpcProxy(settings.nameko_config(), context_data=context) as rpc:
        _console({"n": _Namespace(rpc)})
