"""`pingan serve` keeps what its imports made out of the collector's full passes (docs/benchmarks.md, "Reads")."""

import gc

import nameko.cli.run
from typer.testing import CliRunner

from shared.cli import app as pingan_cli


def test_serve_freezes_the_objects_of_its_imports_before_running(monkeypatch):
    frozen: list[int] = []
    monkeypatch.setattr(nameko.cli.run, "run", lambda services, config: frozen.append(gc.get_freeze_count()))
    try:
        result = CliRunner().invoke(pingan_cli, ["serve", "grid_events"])
    finally:
        gc.unfreeze()
    assert result.exit_code == 0, result.output
    assert frozen and frozen[0] > 0
