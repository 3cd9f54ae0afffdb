"""``pingan audit``: verify a service's event log, checkpoint it, make keys.

Exit codes: 0 the log verifies; 1 the verifier found a bad record; 2 the
configuration (keys, database, checkpoint directory) is unusable, or records
are stored with no signed checkpoint at all (fail closed).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import SQLAlchemyError

from shared.errors import PinganError

app = typer.Typer(name="audit", help="Tamper-evident event logs: verify, checkpoint, keys.", no_args_is_help=True)
console = Console(stderr=True)


def _parts(service: str, database_url: str | None, checkpoint_dir: Path | None):
    from shared.config import load_settings

    from .chain import CheckpointStore, EventRows
    from .settings import load_security_settings

    security = load_security_settings()
    url = database_url or load_settings().events_url(service)
    return security, EventRows(url, service), CheckpointStore(checkpoint_dir or security.checkpoint_dir, service)


def _run_verify(service: str, database_url: str | None, checkpoint_dir: Path | None, quiet: bool):
    from .chain import load_public_key
    from .links import configured_link_key
    from .verifier import verify

    security, rows, store = _parts(service, database_url, checkpoint_dir)
    public_key = load_public_key(security.checkpoint_public_key, security.checkpoint_key)
    link_key = configured_link_key(service, security.chain_key, generate=False)
    total = rows.count()
    columns = [TextColumn(f"verify {service}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=quiet, transient=True) as bar:
        task = bar.add_task("verify", total=total)
        report = verify(rows, store, public_key, link_key, progress=lambda n: bar.update(task, completed=n))
    return report


@app.command("verify")
def verify_command(
    service: str = typer.Argument(..., help="service whose event log to check, e.g. grid_events"),
    database_url: str | None = typer.Option(None, help="defaults to PINGAN_DATABASE_URL for the service"),
    checkpoint_dir: Path | None = typer.Option(None, help="defaults to PINGAN_CHECKPOINT_DIR"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON (for the scheduled job)"),
    quiet: bool = typer.Option(False, help="no progress bar"),
    accept_unanchored: bool = typer.Option(
        False, "--accept-unanchored",
        help="accept stored records with no signed checkpoint at all (only for a brand-new database)"),
) -> None:
    """Check the log against its signed checkpoints; name the first bad record.

    Fails closed: records stored but no checkpoint found (a missing or
    mistyped checkpoint directory, or checkpoints removed) is exit 2, since
    nothing then vouches for any record.
    """
    try:
        report = _run_verify(service, database_url, checkpoint_dir, quiet or as_json)
    except PinganError as error:
        console.print(f"[red]cannot verify {service}: {error.message}")
        raise typer.Exit(2) from None
    except SQLAlchemyError as error:
        # Exit 1 means tampering; an unreachable database must not look like it.
        console.print(f"[red]cannot verify {service}: database unavailable ({type(error).__name__})")
        raise typer.Exit(2) from None
    if report.ok and report.checked and not report.checkpoints and not accept_unanchored:
        console.print(f"[red]cannot verify {service}: {report.checked} records stored but no signed checkpoint "
                      f"found in {checkpoint_dir or 'PINGAN_CHECKPOINT_DIR'}; check the checkpoint directory "
                      "(--accept-unanchored only for a brand-new database)")
        if as_json:
            finding = {"kind": "no_checkpoint", "notification_id": None,
                       "detail": "no signed checkpoint vouches for the log"}
            typer.echo(json.dumps({"service": report.service, "ok": False, "checked": report.checked,
                                   "checkpoints": 0, "finding": finding}))
        raise typer.Exit(2)
    summary = {
        "service": report.service, "ok": report.ok, "checked": report.checked, "anchored": report.anchored,
        "unanchored": report.unanchored, "checkpoints": report.checkpoints,
        "finding": None if report.ok else {
            "kind": report.finding.kind, "notification_id": report.finding.notification_id,
            "detail": report.finding.detail,
        },
    }
    if as_json:
        typer.echo(json.dumps(summary))
    elif report.ok:
        console.print(f"[green]{service}: {report.checked} records verified, {report.anchored} under "
                      f"{report.checkpoints} signed checkpoints, {report.unanchored} after the last checkpoint")
    else:
        console.print(f"[red]{service}: TAMPERED at record {report.finding.notification_id} "
                      f"({report.finding.kind}): {report.finding.detail}")
    raise typer.Exit(0 if report.ok else 1)


@app.command("checkpoint")
def checkpoint_command(
    service: str = typer.Argument(...),
    database_url: str | None = typer.Option(None),
    checkpoint_dir: Path | None = typer.Option(None),
    quiet: bool = typer.Option(False),
) -> None:
    """Verify, then sign a checkpoint over everything stored so far (refused if verification fails)."""
    from .chain import load_private_key, make_checkpoint

    try:
        report = _run_verify(service, database_url, checkpoint_dir, quiet)
        if not report.ok:
            console.print(f"[red]{service}: not checkpointed, record {report.finding.notification_id} "
                          f"is bad: {report.finding.detail}")
            raise typer.Exit(1)
        security, rows, store = _parts(service, database_url, checkpoint_dir)
        checkpoint = make_checkpoint(rows, store, load_private_key(security.checkpoint_key), upto=report.last_id)
    except PinganError as error:
        console.print(f"[red]cannot checkpoint {service}: {error.message}")
        raise typer.Exit(2) from None
    except SQLAlchemyError as error:
        console.print(f"[red]cannot checkpoint {service}: database unavailable ({type(error).__name__})")
        raise typer.Exit(2) from None
    typer.echo(json.dumps({"service": service, "seq": checkpoint.seq, "last_id": checkpoint.last_id,
                           "count": checkpoint.count, "head": checkpoint.head}))


@app.command("keygen")
def keygen_command() -> None:
    """Print a new Ed25519 checkpoint key pair (private for the checkpoint job, public for verifiers)."""
    from .chain import generate_signing_key

    private, public = generate_signing_key()
    typer.echo(json.dumps({"PINGAN_CHECKPOINT_KEY": private, "PINGAN_CHECKPOINT_PUBLIC_KEY": public}))
