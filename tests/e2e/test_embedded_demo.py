"""The README's first command: every service in one process, seeded, and the printed calls work."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli import DEMO_CALLS
from tests.e2e.processes import free_port

pytestmark = pytest.mark.e2e

PINGAN = str(Path(sys.executable).with_name("pingan"))
# Prints nothing (None), whether the case came or the 200 tries ran out; the assertions say which.
CASE_OPENED = ('next((None for _ in range(200) if n.rpc.mediation.list_cases(jurisdiction="433101")["total"] '
               'or __import__("time").sleep(0.05)), None)')


def test_embedded_run_seeds_and_answers_the_printed_calls(tmp_path):
    # The dispute seeded becomes a mediation case through the relay: the session polls for it, bounded
    # (10 s), before listing cases. (It runs in the demo's own process, so it cannot import tests.polling.)
    calls = "\n".join(DEMO_CALLS[:3] + [CASE_OPENED] + DEMO_CALLS[3:] + [DEMO_CALLS[0]]) + "\n"
    finished = subprocess.run(
        [PINGAN, "run", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())],
        input=calls,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "COLUMNS": "200",
        },  # nothing configured: the embedded default
    )
    out = finished.stdout
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "Traceback" not in out + finished.stderr
    assert (
        "seeded 15 jurisdictions, 4 grids, 4 events, 2 work items, 1 risks, 2 key areas, 1 incidents, 1 warnings, "
        "2 minors' reports, 1 minors' cases, 4 key-population records"
    ) in out
    for call in DEMO_CALLS:
        assert call in out  # printed for the user to copy
    totals = [int(n) for n in re.findall(r"^(\d+)$", out, re.MULTILINE)]
    assert totals[0] >= 2 and totals[-1] == totals[0] + 1  # the reported event shows up in the listing
    assert re.search(r"'event_id': '[0-9a-f-]{36}', 'status': 'reported'", out)
    assert "('Check the slope above the bridge road'," in out  # the demo's work items
    assert "('village', 'open')" in out  # the demo dispute became a mediation case at village tier
    assert "('severe_grid_event', 'III', 'open')" in out  # the severe grid event opened an incident
    # The township officer's console lists the seeded mental-disorder record (joint handling from level 4).
    assert re.search(r"\('severe_mental_disorder', 4, '\d{4}-\d{2}-\d{2}'\)", out)
    # Civil affairs' console: the school's report accepted into the left-behind child's case, its school recorded.
    assert "('school', 'accepted')" in out and "('village_committee', 'received')" in out
    assert "(['left_behind'], 'open', 'fenghuang-primary-2')" in out
    assert "<msgType>Update</msgType>" in out and "urn:oasis:names:tc:emergency:cap:1.2" in out  # the CAP update
    assert (tmp_path / "data" / "grid_events.events.sqlite").exists()
