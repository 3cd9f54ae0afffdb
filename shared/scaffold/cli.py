"""The ``pingan new-service`` command (shared/scaffold)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console

from shared.errors import ValidationFailed

from . import new_service as write_service

console = Console(soft_wrap=True)


def new_service(
    name: str = typer.Argument(..., help="the service's name, lower_snake_case, e.g. volunteers"),
    root: Path = typer.Option(Path("."), "--root", help="the repository to write it into"),
) -> None:
    """Write a new service (five rooms, docs page, tests, chart entry) that passes `make test` untouched."""
    try:
        written = write_service(root.resolve(), name)
    except ValidationFailed as refused:
        console.print(f"[red]{refused}[/red]")
        raise typer.Exit(2) from None
    for path in written:
        console.print(f"wrote {path.relative_to(root.resolve())}")
    # Its JSON Schemas and AsyncAPI document (docs/contracts/), made by that repository's own code.
    env = {**os.environ, "PYTHONPATH": str(root.resolve())}
    subprocess.run([sys.executable, "-m", "shared.contract_docs"], cwd=root.resolve(), env=env, check=True)
    console.print(f"wrote docs/contracts/{name}/")
    console.print("next: docs/adding-a-service.md; run `make test-unit`")
