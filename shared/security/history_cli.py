"""``pingan history export`` and ``pingan access-log export``: a record's history, or who read a person,
written as JSON lines (or CSV) for a case file or a data-subject answer.

Both page through the service's own RPC (``history``, ``access_log``) as the caller named by the options,
so every page is an audited read under the same policy as any other caller's.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..jurisdiction import PREFECTURE
from .history import MAX_PAGE

history_app = typer.Typer(name="history", no_args_is_help=True)
access_log_app = typer.Typer(name="access-log", no_args_is_help=True)
console = Console(stderr=True)


# A callback keeps each a group of commands (``export`` today), whether mounted on ``pingan`` or run alone.
@history_app.callback()
def _history() -> None:
    """A record's history: every event, who, when."""


@access_log_app.callback()
def _access_log() -> None:
    """Who read a person's data (PIPL Art. 45)."""

HISTORY_COLUMNS = ("version", "event", "at", "actor_id", "role", "jurisdiction", "call_id", "changes")
ACCESS_COLUMNS = ("at", "actor_id", "role", "jurisdiction", "call_id", "action", "record_kind", "records",
                  "purpose", "outcome", "break_glass", "review")


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def export(fetch: Callable[[int], dict], out: TextIO, fmt: Format, columns: tuple[str, ...],
           quiet: bool = False) -> int:
    """Write every item of the pages ``fetch(page)`` returns; returns how many were written."""
    writer = csv.DictWriter(out, columns, extrasaction="ignore") if fmt is Format.CSV else None
    if writer:
        writer.writeheader()
    written, page = 0, 1
    columns_shown = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns_shown, console=console, disable=quiet, transient=True) as bar:
        task = bar.add_task("exporting", total=None)
        while True:
            answer = fetch(page)
            bar.update(task, total=answer["total"])
            for item in answer["items"]:
                if writer:
                    writer.writerow({k: _cell(v) for k, v in item.items()})
                else:
                    out.write(json.dumps(item, ensure_ascii=False) + "\n")
            written += len(answer["items"])
            bar.update(task, completed=written)
            if not answer["items"] or written >= answer["total"]:
                return written
            page += 1


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


@contextmanager
def _service(service: str, role: str, jurisdiction: str, actor: str) -> Iterator[Any]:
    from nameko.standalone.rpc import ClusterRpcProxy

    from shared.config import load_settings
    from shared.context import TOKEN_KEY, CallerContext

    settings = load_settings()
    try:
        caller = CallerContext(actor_id=actor, role=role, jurisdiction=jurisdiction)
    except ValueError:
        raise typer.BadParameter("--role, --jurisdiction or --actor is not valid") from None
    context = {TOKEN_KEY: settings.issuer().issue(caller)}
    with ClusterRpcProxy(settings.nameko_config(), context_data=context) as rpc:
        yield getattr(rpc, service)


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


def _run(fetch_from: Callable[[Any], Callable[[int], dict]], service: str, role: str, jurisdiction: str,
         actor: str, output: Path | None, fmt: Format, columns: tuple[str, ...], quiet: bool) -> None:
    from shared.errors import PinganError

    try:
        with _service(service, role, jurisdiction, actor) as rpc, _output(output) as out:
            count = export(fetch_from(rpc), out, fmt, columns, quiet)
    except PinganError as refusal:
        console.print(f"[red]{type(refusal).__name__}[/]: {refusal.message}")
        raise typer.Exit(1) from None
    if not quiet:
        console.print(f"{count} lines written")


_ROLE = typer.Option("auditor", help="The caller's role (the token is signed with the configured key).")
_JURISDICTION = typer.Option(PREFECTURE, help="The caller's jurisdiction code.")
_ACTOR = typer.Option("operator", help="The caller's actor id, as the audit trail will name it.")
_OUTPUT = typer.Option(None, "--output", "-o", help="File to write; standard output when omitted.")
_FORMAT = typer.Option(Format.JSONL, "--format", help="jsonl (one JSON object a line) or csv.")
_QUIET = typer.Option(False, "--quiet", help="No progress bar.")


@history_app.command("export")
def export_history(
    service: str = typer.Argument(..., help="The service, e.g. mediation."),
    kind: str = typer.Argument(..., help="The record kind, e.g. case, event, risk."),
    record_id: str = typer.Argument(...),
    purpose: str = typer.Option("audit", help="Why the history is read; kept in the audit trail."),
    role: str = _ROLE, jurisdiction: str = _JURISDICTION, actor: str = _ACTOR,
    output: Path | None = _OUTPUT, fmt: Format = _FORMAT, quiet: bool = _QUIET,
) -> None:
    """Write a record's events (who, when, through which call, what changed)."""
    _run(lambda rpc: lambda page: rpc.history(kind=kind, record_id=record_id, page=page, page_size=MAX_PAGE,
                                              purpose=purpose),
         service, role, jurisdiction, actor, output, fmt, HISTORY_COLUMNS, quiet)


@access_log_app.command("export")
def export_access_log(
    service: str = typer.Argument(..., help="The service, e.g. grid_events."),
    person_id: str = typer.Argument(..., help="The person as the service names them."),
    role: str = _ROLE, jurisdiction: str = _JURISDICTION, actor: str = _ACTOR,
    output: Path | None = _OUTPUT, fmt: Format = _FORMAT, quiet: bool = _QUIET,
) -> None:
    """Write every audited read of the person's records, for a data-subject request."""
    _run(lambda rpc: lambda page: rpc.access_log(person_id=person_id, page=page, page_size=MAX_PAGE),
         service, role, jurisdiction, actor, output, fmt, ACCESS_COLUMNS, quiet)
