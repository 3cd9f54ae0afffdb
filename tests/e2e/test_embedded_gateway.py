"""`make run` serves the HTTP gateway: the URL it prints answers a client registered with
`pingan clients` against the same data folder, over HTTP only, with nothing configured."""

import re
import signal
import subprocess

import pytest
import requests

from tests.e2e.processes import PINGAN, free_port
from tests.polling import wait_until

pytestmark = pytest.mark.e2e

REPORT = {"grid_code": "433101001001001", "category": "dispute", "source": "petition", "severity": "medium",
          "place": "the shared well", "description": "Two families dispute the well.", "external_ref": "t-1"}


def test_embedded_run_prints_a_gateway_url_that_takes_a_report(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "250"}  # nothing configured
    data, out = tmp_path / "data", tmp_path / "run.out"
    with open(out, "wb") as log:
        run = subprocess.Popen([PINGAN, "run", "--no-console", "--data-dir", str(data), "--port", str(free_port())],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def printed():
            if run.poll() is not None:
                raise RuntimeError(out.read_text()[-2000:])
            return re.search(r"gateway: (http://127\.0\.0\.1:\d+)/v1/reports", out.read_text())

        base = wait_until(printed, 120, "the gateway's URL").group(1)
        operator = {**env, "PINGAN_DATA_DIR": str(data)}
        subprocess.run([PINGAN, "clients", "register", "hotline", "--name", "Hotline", "--jurisdiction", "433100"],
                       env=operator, check=True, capture_output=True, timeout=60)
        token = subprocess.run([PINGAN, "clients", "token", "hotline"], env=operator, check=True,
                               capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[-1]
        answer = requests.post(f"{base}/v1/reports", json=REPORT, timeout=30,
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "hotline:t-1"})
        assert answer.status_code == 201, answer.text
        assert answer.json()["external_ref"] == "t-1"
    finally:
        run.send_signal(signal.SIGINT)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
