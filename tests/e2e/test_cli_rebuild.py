"""`pingan rebuild` projects the whole log again and gives the same read models."""

import sqlite3
import subprocess

import pytest

from tests.e2e.processes import PINGAN, free_port

pytestmark = pytest.mark.e2e


def read_models(path):
    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                                 "AND name LIKE '%_view' ORDER BY name")]
        return {table: sorted(db.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables}


def test_rebuild_gives_same_read_models(tmp_path):
    data = tmp_path / "data"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PINGAN_DATA_DIR": str(data)}
    subprocess.run([PINGAN, "run", "--data-dir", str(data), "--port", str(free_port())], input="",
                   capture_output=True, text=True, timeout=120, env=env, check=True)
    views = data / "grid_events.views.sqlite"
    before = read_models(views)
    rebuilt = subprocess.run([PINGAN, "rebuild", "grid_events"], capture_output=True, text=True, timeout=120, env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt" in rebuilt.stdout
    assert sum(len(rows) for rows in before.values()) > 0
    assert read_models(views) == before
