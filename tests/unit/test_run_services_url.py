"""`make run-services` URL handling: scripts/database-url.sh, sourced by scripts/run-services.sh."""

import os
import subprocess
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _service_url(service: str, database_url: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PINGAN_DATABASE_URL"}
    if database_url is not None:
        env["PINGAN_DATABASE_URL"] = database_url
    result = subprocess.run(
        ["bash", "-c", 'set -euo pipefail; source "$1"; service_database_url "$2"', "bash",
         str(SCRIPTS / "database-url.sh"), service],
        env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_run_services_set_database_url_gets_service_name_without_stray_brace():
    url = _service_url("grid_events", "postgresql+psycopg2://u:p@db:5432/records_{service}")
    assert url == "postgresql+psycopg2://u:p@db:5432/records_grid_events"


def test_run_services_unset_database_url_uses_local_default():
    assert _service_url("mediation", None) == "postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/pingan_mediation"


def test_run_services_sources_the_url_helper():
    script = (SCRIPTS / "run-services.sh").read_text()
    assert 'source "$(dirname "$0")/database-url.sh"' in script
    assert "{service}}" not in script
